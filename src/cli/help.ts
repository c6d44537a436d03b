/** @file Help texts for `dlc --help` and `dlc help CMD`. */

export const VERSION = '0.1.0';

export const MAIN_HELP = `dlc ${VERSION} — a compiler for deep-learning models written in .dl

Usage: dlc <command> FILE [options]

Commands:
  check      report every error in a .dl file (exit 0: clean, 1: errors)
  ir         print the IR graph of one function
  run        run a function (reference interpreter, or --backend js|webgpu) and print its results
  verify     run functions on every backend and compare them with the interpreter
  kernels    the kernels a function compiles to: sources, primitives, flops, bytes, fusion, memory
  build      write a bundle (JS module, WGSL kernels, manifests, weights) to a directory
  serve      serve a directory (a web page and its bundle) on localhost, under a strict CSP
  gradcheck  check the gradients of functions against finite differences
  train      train a model declared with \`train\` on .npy data; checkpoints, weights, metrics
  help       explain a command: dlc help run

Common options:
  --dim NAME=SIZE     size of a dimension variable, e.g. --dim B=32 (repeatable)
  --format text|json  how diagnostics are printed (json is for editors)
  -h, --help          this help

Examples:
  dlc check examples/mlp.dl
  dlc run examples/mlp.dl --fn MLP.loss --dim B=4
  dlc ir examples/mlp.dl --fn MLP.forward --dim B=2
  dlc run examples/cnn.dl --fn CNN.forward --dim B=2 --backend webgpu
  dlc gradcheck examples/wgan-gp.dl --dim B=3
  dlc train examples/digits-mlp.dl --data x=data/digits/train_x.npy,y=data/digits/train_y.npy
        --val x=data/digits/val_x.npy,y=data/digits/val_y.npy --epochs 20 --batch 32

Documentation: README.md, docs/language.md (the language), docs/training.md (training),
docs/errors.md (every error code).
`;

export const COMMAND_HELP: Record<string, string> = {
  check: `dlc check FILE [--dim NAME=SIZE]... [--format text|json]

Parses FILE and lowers every function that can run on its own (top-level functions,
functions of models whose arguments all have defaults, and of top-level instances such as
\`let net = MLP(784, 10)\`) and every \`train\` declaration (listed as \`train NAME\`), reporting
every error with its line, column and a caret. Dimension variables not fixed by --dim get small
example sizes.

Exit status: 0 when there are no errors, 1 when there are, 2 for a usage error.
`,
  ir: `dlc ir FILE (--fn NAME | --train NAME) [--after PASS] [--dim NAME=SIZE]... [--spans] [--format text|json]

Prints the IR graph of one function: one line per operation with its result type. NAME is
\`f\`, \`Model.f\` or \`instance.f\`. The first line gives the number of operations after each pass.
With --train NAME it prints the training step of the declaration \`train NAME\`: forward, backward
and optimizer update in one graph, whose \`update\` line lists every state it writes (parameters,
optimizer state \`NAME/<param>/<slot>\`, the step counter \`NAME/step\`).

  --after PASS  show the graph after this pass: lower (inlined and unrolled, as written) or
                simplify (CSE, constant folding, algebraic identities, dead code removed; default)
  --spans       add the source location of each operation
`,
  run: `dlc run FILE --fn NAME [--backend interp|js|webgpu] [--precision f32|f64]
        [--input NAME=FILE.npy]... [--params W.safetensors] [--dim NAME=SIZE]... [--seed N] [--out DIR]
        [--out-dtype f32|f64] [--full] [--format text|json]

Runs a function and prints each result's dtype, shape and values (a summary for large
tensors; --full prints everything).

  --backend B         interp: the reference interpreter in float64 (default);
                      js: generated JavaScript; webgpu: generated WGSL on a WebGPU device
  --precision P       f32 (default for js and webgpu) or f64 (js only)

  --input x=data.npy  the value of parameter x, from a NumPy .npy file; its shape binds the
                      dimension variables of x's type. i32 values must fit in 32 bits, and
                      class labels and indices (an i32 input used by one_hot, cross_entropy,
                      take or an embedding) must be in 0..n-1: anything else is DL0605
  --params W.safetensors
                      trained weights for the parameters (a safetensors file, e.g. the
                      weights.safetensors of \`dlc train\`): every parameter must be there,
                      by its path (\`hidden.W\`), with its shape; F32 or F64 for f32. A missing
                      or mis-shaped one is DL0602; tensors the function does not use, a warning
  --seed N            seed for parameter initialization and for inputs not given (default 0);
                      random inputs are N(0, 1) for f32, uniform over 0..n-1 for labels and
                      indices, 0 or 1 for other i32 and for bool
  --out DIR           also write each result to DIR/NAME.npy, in the precision computed:
                      float64 for interp and --precision f64, float32 for js f32 and webgpu
  --out-dtype T       write float results as f32 or f64 instead
`,
  gradcheck: `dlc gradcheck FILE [--fn NAME] [--wrt NAME,...] [--runs N] [--seed S] [--dim NAME=SIZE]...
        [--backend interp|js|webgpu] [--precision f32|f64] [--format text|json]

Checks reverse-mode gradients against central finite differences in float64. What is checked
is the program that ships, after simplification (and, with --backend js or webgpu, fusion and
code generation): the gradient program runs on the backend asked for (interp by default; js in
f64 unless --precision f32); finite differences run on the simplified graph (interp) or on the
fused JS program in f64 (js, webgpu). Without --fn,
every function returning an f32 scalar is checked, with respect to all its float inputs and
the parameters it uses (--wrt picks some by name). Each run draws sizes 1..3 for the free
dimension variables (unless --dim fixes them) and random inputs, parameters and directions;
a failure is shrunk to the smallest sizes and reported with a command that replays it.

For every tensor the report gives the largest absolute and relative error over the runs.
Exit status: 0 when every gradient agrees, 1 otherwise.
`,
  verify: `dlc verify FILE [--fn NAME] [--dim NAME=SIZE]... [--seed N] [--format text|json]

Runs functions (all standalone ones unless --fn) on the reference interpreter, the JS backend
in f64 and f32, and WebGPU, with the same seeded inputs and parameters, and prints the largest
difference of every output from the interpreter's. Functions returning an f32 scalar are
checked with their gradients too. Free dimension variables get small example sizes.

An output agrees when max |a - b| <= atol + rtol * max |b| over its elements (b: the
interpreter's values): js f64 rtol 1e-9, atol 1e-12; js f32 and webgpu rtol 1e-4, atol 1e-6
(both 10× more for gradients). The table gives max abs and max rel (max abs / max |b|); the last
line counts the outputs checked and failed and names the worst. Exit status 1 on a mismatch.
`,
  build: `dlc build FILE --fn NAME -o DIR [--backend js|webgpu|all] [--precision f32|f64]
        [--params W.safetensors] [--dim NAME=SIZE]...

Compiles one function and writes a bundle directory: DIR/js/ (program.js, an ES module with no
imports) and/or DIR/webgpu/ (one .wgsl file per distinct shader), each with a versioned
manifest.json describing memory, parameters (with initializers), inputs, outputs and kernels, and
listing its files with their sizes and SHA-256; DIR/bundle.json (the backends and files),
DIR/README.md and DIR/index.d.ts (the inputs and outputs). loadProgram(DIR) in dlc/runtime loads
it in Node or a browser (WebGPU when available, else JS) and refuses a changed or corrupt file.

  --params W.safetensors  trained weights: the bundle carries them as weights.safetensors next
                          to each manifest.json (which names it), and the runtime's loaders
                          (loadProgram, loadJsBundle, loadWebGpuBundle) load them in place of
                          the initializers. Checked as for \`dlc run --params\`.
`,
  serve: `dlc serve [DIR] [--port N] [--host H] [--quiet]

Serves the files under DIR (default: the current directory) at http://localhost:N/ (default
8080; 0 picks a free port) until Ctrl-C: GET and HEAD only, a directory's index.html, MIME types
for .html, .js, .json, .wgsl, .safetensors, .npy and the rest, and a strict content-security
policy on every response (script-src 'self', no inline script, no eval). Each request is logged
to stderr unless --quiet. For trying a bundle in a browser: examples/web/ (see examples/README.md).
`,
  kernels: `dlc kernels FILE (--fn NAME | --train NAME) [--dim NAME=SIZE]... [--input NAME=FILE.npy]...
        [--format text|json] [--memory-svg OUT.svg]

Lists the kernels one function (or, with --train, the training step of a \`train\` declaration)
compiles to, in execution order: the source lines each came from, the primitives inside it, the
values it writes, its flops and the bytes it moves. Row kernels compute per-row reductions
(softmax, layer norm, cross-entropy) once per row. The first line compares the number of kernels
with and without fusion; after the kernels, every value stored in a buffer of its own instead of
being fused into its readers is listed with the reason.
At the end comes the memory plan of the arena (the temporaries): the planned peak, the lower
bound (the most bytes live at one kernel) and the bytes with no reuse, then each temporary's
bytes, offset and the kernels it is live for (--format json: under \`memory\`).
--input x=FILE.npy binds the dimension variables of x from the file's shape, as in \`dlc run\`.
--memory-svg OUT.svg writes the memory timeline: kernels left to right, bytes bottom to top, a
rectangle per temporary.
`,
  train: `dlc train FILE [--train NAME | --steps A:N,B:M] --data NAME=FILE.npy,... [--val NAME=FILE.npy,...]
        [--epochs N] [--batch B] [--backend interp|js|webgpu] [--seed S] [--patience P]
        [--run-dir DIR] [--resume CKPT] [--params W.safetensors]

Trains with the \`train\` declaration NAME of FILE (the only one when FILE has one): each step
runs forward, backward and the optimizer update as one compiled program.

  --data x=a.npy,y=b.npy  the training set: one .npy file per parameter of the loss function,
                      all with the same first axis (one row per example)
  --val ...           a validation set, evaluated after every epoch: the loss, and the accuracy
                      when the model defines \`accuracy(...) -> f32\` next to its loss
  --steps A:N,B:M     alternate several train declarations over one state (a GAN: critic:5,gen:1):
                      each round runs A N times, then B M times. A run of a step with data
                      parameters takes the next batch; a step without them (drawing its own
                      noise) takes none. The first step with data is the one reported/validated
  --epochs N          passes over the training set (default 10)
  --batch B           examples per step (default 32). The step is compiled for B, so each epoch
                      runs floor(n / B) batches and drops the last n mod B examples of its order
  --backend B         js (default), webgpu, or interp (the f64 reference interpreter; slow)
  --seed S            seed of the initial parameters and of the data order (default 0); each
                      epoch's order is a pure function of S and the epoch
  --patience P        stop when the validation loss has not improved for P epochs; the best
                      weights are kept in best.safetensors
  --run-dir DIR       where the outputs go (default runs/NAME-YYYYMMDD-HHMMSS)
  --resume CKPT       continue a run from its checkpoint.safetensors (same --data, --batch,
                      --seed); the final weights are bit-identical to an uninterrupted run
  --params W          start from these weights (a .safetensors file of the model's parameters)

The run directory gets weights.safetensors (the final parameters, for \`dlc run --params\`),
best.safetensors (with --val: the parameters of the epoch with the lowest validation loss),
checkpoint.safetensors (every state tensor and the position in the data, after each epoch),
metrics.csv, metrics.json and loss.svg. On a terminal, a live line shows epoch, step, loss,
examples/s and the time left; otherwise one line per epoch is printed. Ctrl-C finishes the
current step, saves a checkpoint and exits with status 130. See docs/training.md.
`,
};
