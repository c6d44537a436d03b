/**
 * Loops that stay loops (src/frontend/lower/loop.ts, src/ir/ops/scan.ts): a `for` over a range of
 * at least LOOP_MIN_TRIPS iterations lowers to one `scan` node whose body is lowered once; the
 * same program lowered with `loops: 'unroll'` is the reference. Every stage after the whole
 * pipeline (interpreter on the simplified graph, JS f64 and f32, WebGPU where present) agrees
 * with the unrolled program on the interpreter; gradients through loops are checked against
 * finite differences, first and second order.
 */
import { describe, expect, it } from 'vitest';
import { compile, type Graph } from '../../src/index.js';
import { makeExecutable, type ExecOptions } from '../../src/exec.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';
import { initParams, interpret } from '../../src/interp/interpret.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { readFileSync } from 'node:fs';
import { runPipeline } from '../../src/passes/pipeline.js';
import { compileGraph } from '../../src/codegen/compile.js';
import { loopSchedule } from '../../src/runtime/webgpu-loops.js';
import { LOOP_MIN_TRIPS } from '../../src/frontend/lower/loop.js';
import { compareOutput, differentialInputs } from '../helpers/differential.js';
import { WEBGPU } from '../helpers/webgpu.js';

const scans = (g: Graph) => g.nodes.filter((n) => n.op === 'scan').length;

const RNN = `fn f(x: f32[20, 3], w: f32[3, 3]) -> f32[3] {
  let h = zeros([3])
  for i in 0..20 {
    h = tanh(h @ w + x[i] * float(i) * 0.1)
  }
  return h
}`;

// Two carries, the stdlib LSTM cell, a per-step slice along axis 1 (x[:, t]), a capture.
const LSTM = `model Net(d: int = 4, hidden: int = 5) {
  layer cell = LSTMCell(d, hidden)
  fn f(x: f32[2, 17, 4]) -> f32[2, 5] {
    let h = zeros([2, hidden])
    let c = zeros([2, hidden])
    for t in 0..17 {
      let (h2, c2) = cell(x[:, t], h, c)
      h = h2
      c = c2
    }
    return h
  }
  fn loss(x: f32[2, 17, 4]) -> f32 {
    let y = f(x)
    return sum(y * y)
  }
  fn grads(x: f32[2, 17, 4]) {
    let (l, g) = value_and_grad(loss(x), self)
    return l, g.cell.W, g.cell.b
  }
}`;

// A loop inside a loop; the inner loop's carry is a local of the outer body.
const NESTED = `fn f(x: f32[16, 2], w: f32[2, 2]) -> f32[2] {
  let h = zeros([2])
  for i in 0..16 {
    let s = h
    for j in 0..16 {
      s = sin(s @ w) + x[j] * 0.01
    }
    h = 0.5 * h + s + x[i]
  }
  return h
}`;

// The loop variable in a compile-time condition: falls back to unrolling.
const STATIC_IF = `fn f(x: f32[20, 3]) -> f32[3] {
  let h = zeros([3])
  for i in 0..20 {
    if i % 2 == 0 {
      h = h + x[i]
    }
  }
  return h
}`;

const SMALL = `fn f(x: f32[4, 3]) -> f32[3] {
  let h = zeros([3])
  for i in 0..4 {
    h = h * 0.5 + x[i]
  }
  return h
}`;

function reference(src: string, entry: string): { loop: Graph; unrolled: Graph } {
  return { loop: compile(src, entry, { path: 'loop.dl' }), unrolled: compile(src, entry, { path: 'loop.dl', loops: 'unroll' }) };
}

const STAGES: { name: string; opts?: ExecOptions; tol: number }[] = [
  { name: 'interp', tol: 1e-9 },
  { name: 'js-f64', opts: { backend: 'js', precision: 'f64' }, tol: 1e-9 },
  { name: 'js-f64-unfused', opts: { backend: 'js', precision: 'f64', fuse: false }, tol: 1e-9 },
  { name: 'js-f32', opts: { backend: 'js', precision: 'f32' }, tol: 2e-3 },
  ...(WEBGPU ? [{ name: 'webgpu', opts: { backend: 'webgpu' as const }, tol: 2e-3 }] : []),
];

/** The program after the whole pipeline, on the interpreter and every backend, agrees with the unrolled program's reference values. */
async function stagesAgree(simplified: Graph, unrolled: Graph, inputs: Map<string, NDArray>, params: Map<string, NDArray>, ref: Map<string, NDArray>): Promise<void> {
  for (const s of STAGES) {
    let got: Map<string, NDArray>;
    if (!s.opts) got = interpret(simplified, inputs, params);
    else {
      const exe = await makeExecutable(simplified, s.opts);
      for (const [k, v] of params) exe.setParam(k, v.data);
      got = await exe.run(inputs);
    }
    for (const o of unrolled.outputs) expect(compareOutput(o.node.type.dtype, ref.get(o.name)!, got.get(o.name), s.tol), `${s.name}: ${o.name}`).toBeUndefined();
  }
}

async function agree(src: string, entry: string, want: { scans: number }): Promise<void> {
  const { loop, unrolled } = reference(src, entry);
  // After simplify: a gradient's forward scan that also stores intermediates is merged with the primal one.
  const simplified = runPipeline(loop, { verify: true }).graph;
  expect(scans(simplified)).toBe(want.scans);
  expect(scans(unrolled)).toBe(0);
  const inputs = differentialInputs(loop, 3);
  const params = initParams(unrolled, 5);
  const ref = interpret(unrolled, inputs, params);
  // The lowered graph (forward scans not merged yet) on the interpreter too.
  const lowered = interpret(loop, inputs, params);
  for (const o of unrolled.outputs) expect(compareOutput(o.node.type.dtype, ref.get(o.name)!, lowered.get(o.name), 1e-9), `lowered: ${o.name}`).toBeUndefined();
  await stagesAgree(simplified, unrolled, inputs, params, ref);
}

describe('loops that stay loops', () => {
  it(`keeps a loop of ${LOOP_MIN_TRIPS} or more iterations as one scan, unrolls shorter ones`, () => {
    expect(scans(compile(RNN, 'f'))).toBe(1);
    expect(scans(compile(SMALL, 'f'))).toBe(0);
    expect(scans(compile(SMALL, 'f', { loops: 'keep' }))).toBe(1);
    expect(scans(compile(RNN, 'f', { loops: 'unroll' }))).toBe(0);
  });

  it('falls back to unrolling when the body needs the loop variable at compile time', async () => {
    expect(scans(compile(STATIC_IF, 'f'))).toBe(0);
    await agree(STATIC_IF, 'f', { scans: 0 });
  });

  it('compiles the body once: the lowered graph does not grow with the trip count', () => {
    const sizes = [20, 200, 2000].map((T) => compile(RNN.replace(/20/g, String(T)), 'f').nodes.length);
    expect(new Set(sizes).size).toBe(1);
  });

  it('drops the stored carries when no gradient reads them', () => {
    const g = runPipeline(compile(RNN, 'f'), { verify: true }).graph;
    const scan = g.nodes.find((n) => n.op === 'scan')!;
    expect(scan.body!.outputs.map((o) => o.name)).toEqual(['h']);
  });

  it('an RNN agrees with its unrolled version on every backend', async () => {
    await agree(RNN, 'f', { scans: 1 });
  });

  it('an LSTM and its gradients (BPTT as a reverse scan) agree with the unrolled version', async () => {
    await agree(LSTM, 'Net.f', { scans: 1 });
    await agree(LSTM, 'Net.grads', { scans: 2 });
  });

  it("sums a capture's gradient over the steps after the loop: one product and one reduction, no accumulating carry", () => {
    const g = runPipeline(compile(LSTM, 'Net.grads', { path: 'loop.dl' }), { verify: true }).graph;
    const rev = g.nodes.find((n) => n.op === 'scan' && n.attrs['reverse'])!;
    // The reverse scan carries ∂h and ∂c only; ∂W and ∂b are not carried.
    expect(rev.attrs['carries']).toBe(2);
    expect(rev.body!.nodes.filter((n) => n.op === 'dot_general')).toHaveLength(1);
    // ∂W: one product over all 17·2 rows (steps × batch) of the stored [x, h] and the gates' cotangents.
    const gW = g.outputs[1]!.node;
    expect(gW.op).toBe('dot_general');
    expect(gW.inputs.map((x) => x.type.shape[0])).toEqual([34, 34]);
    const gB = g.outputs[2]!.node;
    expect(gB.op).toBe('reduce_sum');
    expect(gB.inputs[0]!.type.shape[0]).toBe(34);
  });

  it("sums the gradient of slices of a capture after the loop, through differences and negations (the real and imaginary parts of a complex weight)", async () => {
    const SLICED = `fn f(x: f32[20, 4, 3], w: f32[3, 5, 2]) -> f32 {
  let h = zeros([4, 5])
  for t in 0..20 {
    h = tanh(h * 0.5 + x[t] @ w[..., 0] - x[t] @ w[..., 1])
  }
  return sum(h * h)
}
fn g(x: f32[20, 4, 3], w: f32[3, 5, 2]) -> f32[3, 5, 2] {
  return grad(f(x, w), w)
}`;
    const g = runPipeline(compile(SLICED, 'g', { path: 'loop.dl' }), { verify: true }).graph;
    const rev = g.nodes.find((n) => n.op === 'scan' && n.attrs['reverse'])!;
    // ∂w = pad(Σ_t x_tᵀ g_t) − pad(…): nothing accumulated per step (∂h is the only carry), no
    // product in the reverse body (the recurrence itself has none).
    expect(rev.attrs['carries']).toBe(1);
    expect(rev.body!.nodes.filter((n) => n.op === 'dot_general')).toHaveLength(0);
    const after = g.nodes.filter((n) => n.op === 'dot_general' && n.inputs[0]!.type.shape.includes(80));
    expect(after.length).toBeGreaterThan(0);
    await agree(SLICED, 'g', { scans: 2 });
  });

  it('on WebGPU a step is its body and one copy dispatch (the copies after a step and before the next together)', () => {
    const g = runPipeline(compile(LSTM, 'Net.grads', { path: 'loop.dl' })).graph;
    const c = compileGraph(g, { backend: 'webgpu' });
    const loops = c.manifest.loops!;
    expect(loops).toHaveLength(2);
    const s = loopSchedule(c.manifest);
    const copies = s.dispatches.filter((d) => !('kernel' in d)).length;
    // Per loop: the initial carries, the copies before the first step, one between each two steps, after the last step, the results.
    expect(copies).toBe(loops.reduce((n, l) => n + l.trips + 3, 0));
    expect(s.dispatches.length - copies).toBe(c.manifest.kernels.length + loops.reduce((n, l) => n + (l.trips - 1) * l.count, 0));
  });

  it('nested loops agree with the unrolled version', async () => {
    await agree(NESTED, 'f', { scans: 1 });
  });

  it('draws fresh random numbers at each step of a kept loop', () => {
    const src = `fn f() -> f32[16, 8] {
  let acc = zeros([16, 8])
  for i in 0..16 {
    acc = acc * 0.0 + acc + reshape(one_hot(i, 16), [16, 1]) * reshape(normal([8]), [1, 8])
  }
  return acc
}`;
    const g = compile(src, 'f');
    expect(scans(g)).toBe(1);
    const out = interpret(g, new Map(), initParams(g, 1)).values().next().value!;
    const rows = Array.from({ length: 16 }, (_, r) => Array.from(out.data.slice(r * 8, r * 8 + 8)).join());
    expect(new Set(rows).size).toBe(16);
  });
});

describe('the loop examples', () => {
  const example = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
  const withDims = (src: string, dims: Record<string, number>) => ({ src, dims });
  const cases = [
    { name: 'lstm-lm.dl', fn: 'LSTMLM.loss', ...withDims(example('lstm-lm.dl'), { B: 2, T1: 17 }) },
    { name: 'lru.dl', fn: 'LRU.loss', ...withDims(example('lru.dl'), { B: 2, T: 16 }) },
  ];
  it.each(cases)('$name: the loss agrees with the unrolled program on every backend, and its gradient with finite differences', async (c) => {
    const loop = compile(c.src, c.fn, { path: c.name, dims: c.dims });
    const unrolled = compile(c.src, c.fn, { path: c.name, dims: c.dims, loops: 'unroll' });
    expect(scans(loop)).toBe(1);
    const inputs = differentialInputs(loop, 3);
    // Token ids in range (differentialInputs draws i32 in -3..3).
    for (const [k, v] of inputs) if (loop.inputs.find((n) => n.attrs['name'] === k)!.type.dtype === 'i32') inputs.set(k, new NDArray(v.shape, v.data.map((x) => Math.abs(x))));
    const params = initParams(unrolled, 5);
    const ref = interpret(unrolled, inputs, params);
    const simplified = runPipeline(loop, { verify: true }).graph;
    await stagesAgree(simplified, unrolled, inputs, params, ref);
    const r = await gradcheck(c.src, c.name, { fn: c.fn, runs: 1, seed: 2, backend: 'js', dims: c.dims });
    expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
  }, 120_000);
});

describe('gradients through loops that stay loops', () => {
  const GRAD = `fn f(x: f32[16, 2], w: f32[2, 2], h0: f32[2]) -> f32 {
  let h = h0
  for i in 0..16 {
    h = tanh(h @ w * 0.5 + x[i])
  }
  return sum(h * h)
}
fn g(x: f32[16, 2], w: f32[2, 2], h0: f32[2]) -> f32 {
  let gw = grad(f(x, w, h0), w)
  return sum(gw * gw)
}`;
  it('agree with finite differences (first order, interpreter and JS f64)', async () => {
    expect(scans(compile(GRAD, 'f'))).toBe(1);
    for (const backend of ['interp', 'js'] as const) {
      const r = await gradcheck(GRAD, 'loop.dl', { fn: 'f', runs: 2, seed: 4, backend });
      expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
    }
  });
  it('agree with finite differences (second order: the gradient of a gradient norm)', async () => {
    for (const backend of ['interp', 'js'] as const) {
      const r = await gradcheck(GRAD, 'loop.dl', { fn: 'g', runs: 2, seed: 5, backend });
      expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
    }
  });
});
