/**
 * The example models in examples/: every file checks cleanly, every function lowers, verifies and
 * runs on the interpreter, and the models satisfy the closed-form facts of the course notes
 * (seed-catalog §5): normalized adjacency, softmax rows, conv output sizes, parameter counts,
 * residual identity, permutation invariance, causality, and hand-computed losses and gradients.
 */
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { check, evaluate, functions, trainNames, initParams, lower, NDArray, readNpy, verifyGraph, writeNpy, type Diagnostic, type Graph, type ParamStore } from '../src/index.js';
import { maxAbsDiff, numel, randomInputs, Rng, shifted, sub, zeroed } from './helpers/example-inputs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.dl'))
  .sort();

function source(file: string): string {
  return readFileSync(join(EXAMPLES, file), 'utf8');
}

function show(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.code}: ${d.message}${d.span ? ` @${d.span.start}` : ''}`);
}

/** Lowers an entry of an example (plus optional extra source), failing with its diagnostics. */
function graphOf(file: string, entry: string, opts: { dims?: Record<string, number>; inputShapes?: Record<string, number[]>; extra?: string } = {}): Graph {
  const r = lower(source(file) + (opts.extra ?? ''), entry, { path: `examples/${file}`, dims: opts.dims, inputShapes: opts.inputShapes });
  expect(show(r.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
  expect(r.graph).toBeDefined();
  expect(verifyGraph(r.graph!)).toEqual([]);
  return r.graph!;
}

function run(g: Graph, inputs: Record<string, NDArray>, params: ParamStore = initParams(g, 0)): Map<string, NDArray> {
  return evaluate(g, inputs, { params });
}

function only(m: Map<string, NDArray>, name = 'out'): NDArray {
  const v = m.get(name);
  expect(v, `output ${name}; outputs are ${[...m.keys()].join(', ')}`).toBeDefined();
  return v!;
}

function nd(shape: number[], data: number[]): NDArray {
  return NDArray.from(shape, data);
}

function paramCount(g: Graph): number {
  return g.params.reduce((n, p) => n + numel(p.type.shape), 0);
}

function param(ps: ParamStore, name: string): NDArray {
  const p = ps.get(name);
  expect(p, `parameter ${name}; parameters are ${[...ps.keys()].join(', ')}`).toBeDefined();
  return p!;
}

/** Random values for every parameter (so zero-initialized biases are exercised too). */
function randomParams(g: Graph, seed: number, scale = 0.5): ParamStore {
  const rng = new Rng(seed);
  const out: ParamStore = new Map();
  for (const p of g.params) out.set(String(p.attrs['name']), NDArray.from(p.type.shape, Array.from({ length: numel(p.type.shape) }, () => scale * rng.normal())));
  return out;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logSigmoid = (z: number) => -(Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z))));
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const lse = (xs: readonly number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};
/** Row vector times matrix: (x M)_j = Σ_k x_k M[k, j] for M: [k, j] row-major. */
function vecMat(x: readonly number[], M: NDArray): number[] {
  const [r, c] = M.shape as [number, number];
  const out = new Array<number>(c).fill(0);
  for (let k = 0; k < r; k++) for (let j = 0; j < c; j++) out[j]! += x[k]! * M.data[k * c + j]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Every example, generically.
// ---------------------------------------------------------------------------------------------

describe('the examples directory', () => {
  it('holds the required examples', () => {
    for (const f of ['perceptron', 'linear-regression', 'logistic-regression', 'mlp', 'residual-mlp', 'cnn', 'rnn', 'lstm', 'attention', 'transformer', 'gcn', 'deep-sets']) {
      expect(FILES).toContain(`${f}.dl`);
    }
  });

  it('README.md lists every example, and every command in it lowers', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const f of FILES) expect(readme, `README.md mentions ${f}`).toContain(`examples/${f}`);
    const commands = [...readme.matchAll(/dlc run (examples\/[\w.-]+\.dl) --fn ([\w.]+)((?: --dim \w+=\d+)*)/g)];
    expect(commands.length).toBeGreaterThanOrEqual(FILES.length);
    for (const [, path, fn, dimText] of commands) {
      const dims = Object.fromEntries([...dimText!.matchAll(/--dim (\w+)=(\d+)/g)].map(([, k, v]) => [k!, Number(v)]));
      const r = lower(readFileSync(join(ROOT, path!), 'utf8'), fn!, { path, dims });
      expect(show(r.diagnostics.filter((d) => d.severity === 'error')), `${path} --fn ${fn}`).toEqual([]);
      expect(r.graph, `${path} --fn ${fn}`).toBeDefined();
    }
  });
});

describe.each(FILES)('examples/%s', (file) => {
  const text = source(file);
  const path = `examples/${file}`;
  const entries = functions(text, path);

  it('starts with a one-line `#` comment saying what it is', () => {
    const first = text.split('\n')[0]!;
    expect(first).toMatch(/^# \S.{10,}/);
  });

  it('checks with no errors, and every function can run on its own', () => {
    const r = check(text, path);
    expect(show(r.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
    expect(entries.length).toBeGreaterThan(0);
    // Training steps are checked too (`train NAME`); the functions are the entry points.
    expect([...r.checked].filter((c) => !c.startsWith('train ')).sort()).toEqual([...entries].sort());
    expect(r.checked.filter((c) => c.startsWith('train '))).toEqual(trainNames(text, path).map((n) => `train ${n}`));
  });

  it.each(entries)('%s lowers, verifies, and runs to finite outputs of the declared shapes', (entry) => {
    const r = lower(text, entry, { path });
    expect(show(r.diagnostics.filter((d) => d.severity === 'error'))).toEqual([]);
    const g = r.graph!;
    expect(g).toBeDefined();
    expect(verifyGraph(g)).toEqual([]);
    expect(g.outputs.length).toBeGreaterThan(0);
    for (const seed of [1, 2]) {
      const out = evaluate(g, randomInputs(g, seed), { seed });
      expect([...out.keys()]).toEqual(g.outputs.map((o) => o.name));
      for (const o of g.outputs) {
        const v = out.get(o.name)!;
        expect(v.shape, `${entry}: ${o.name}`).toEqual(o.node.type.shape);
        const bad = Array.from(v.data).findIndex((x) => !Number.isFinite(x));
        expect(bad, `${entry}: ${o.name} has a non-finite value at ${bad}`).toBe(-1);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Model-specific facts.
// ---------------------------------------------------------------------------------------------

describe('perceptron', () => {
  it('update: w ← w + y·x and b ← b + y on a mistake, no change otherwise', () => {
    const g = graphOf('perceptron.dl', 'Perceptron.update');
    const params: ParamStore = new Map([
      ['w', nd([4], [1, 0, 0, 0])],
      ['b', nd([], [0])],
    ]);
    const miss = run(g, { x: nd([4], [-1, 2, 0, 3]), y: nd([], [1]) }, params);
    expect(Array.from(only(miss, 'out0').data)).toEqual([0, 2, 0, 3]);
    expect(only(miss, 'out1').data[0]).toBe(1);
    const hit = run(g, { x: nd([4], [2, 2, 0, 3]), y: nd([], [1]) }, params);
    expect(Array.from(only(hit, 'out0').data)).toEqual([1, 0, 0, 0]);
    expect(only(hit, 'out1').data[0]).toBe(0);
  });

  it('margin: γ = y(x·w + b)/‖w‖ per point, and the data-set margin is the minimum', () => {
    const g = graphOf('perceptron.dl', 'Perceptron.margin', { dims: { B: 3 } });
    const params: ParamStore = new Map([
      ['w', nd([4], [3, 4, 0, 0])],
      ['b', nd([], [1])],
    ]);
    const out = run(g, { x: nd([3, 4], [1, 1, 0, 0, -1, 0, 5, 5, 0, 1, 0, 0]), y: nd([3], [1, 1, -1]) }, params);
    const gamma = [(1 * (3 + 4 + 1)) / 5, (1 * (-3 + 1)) / 5, (-1 * (4 + 1)) / 5];
    expect(maxAbsDiff(only(out, 'gamma').data, gamma)).toBeLessThan(1e-12);
    expect(only(out, 'out1').data[0]).toBeCloseTo(-1, 12);
  });

  it('loss: the perceptron criterion mean max(0, −y(x·w + b)), and its gradient is −mean of y·x over the mistakes', () => {
    const g = graphOf('perceptron.dl', 'Perceptron.loss', { dims: { B: 3 } });
    const params: ParamStore = new Map([
      ['w', nd([4], [3, 4, 0, 0])],
      ['b', nd([], [1])],
    ]);
    const x = [1, 1, 0, 0, -1, 0, 5, 5, 0, 1, 0, 0];
    const y = [1, 1, -1];
    // Scores 8, −2, 5: the second and third points are mistakes.
    expect(only(run(g, { x: nd([3, 4], x), y: nd([3], y) }, params)).data[0]).toBeCloseTo((0 + 2 + 5) / 3, 12);
    const extra = `
let p = Perceptron()
fn grad_w(x: f32[B, 4], y: f32[B]) -> f32[4] {
  return grad(p.loss(x, y), p.w)
}
`;
    const gg = graphOf('perceptron.dl', 'grad_w', { dims: { B: 3 }, extra });
    const ps: ParamStore = new Map([
      ['p.w', nd([4], [3, 4, 0, 0])],
      ['p.b', nd([], [1])],
    ]);
    const expected = [0, 1, 2, 3].map((k) => -(y[1]! * x[4 + k]! + y[2]! * x[8 + k]!) / 3);
    expect(maxAbsDiff(only(run(gg, { x: nd([3, 4], x), y: nd([3], y) }, ps)).data, expected)).toBeLessThan(1e-12);
  });

  it('epoch matches a JS perceptron pass and converges on separable data', () => {
    const N = 12;
    const g = graphOf('perceptron.dl', 'Perceptron.epoch', { dims: { N } });
    const rng = new Rng(7);
    const wStar = [1, -1, 0.5, 0];
    const X: number[][] = [];
    const Y: number[] = [];
    while (X.length < N) {
      const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
      const s = dot(x, wStar) + 0.2;
      if (Math.abs(s) < 0.3) continue; // keep a margin
      X.push(x);
      Y.push(Math.sign(s));
    }
    const inputs = { X: nd([N, 4], X.flat()), Y: nd([N], Y) };
    let params: ParamStore = initParams(g, 3);
    let converged = false;
    for (let epoch = 0; epoch < 100 && !converged; epoch++) {
      // The JS reference for one pass.
      const w = Array.from(param(params, 'w').data);
      let b = param(params, 'b').data[0]!;
      let count = 0;
      for (let i = 0; i < N; i++) {
        if (Y[i]! * (dot(X[i]!, w) + b) <= 0) {
          for (let k = 0; k < 4; k++) w[k]! += Y[i]! * X[i]![k]!;
          b += Y[i]!;
          count++;
        }
      }
      const out = run(g, inputs, params);
      expect(maxAbsDiff(only(out, 'wt').data, w)).toBeLessThan(1e-12);
      expect(only(out, 'bt').data[0]).toBeCloseTo(b, 12);
      expect(only(out, 'count').data[0]).toBe(count);
      converged = count === 0;
      params = new Map([
        ['w', only(out, 'wt')],
        ['b', only(out, 'bt')],
      ]);
    }
    expect(converged).toBe(true);
    const pred = run(graphOf('perceptron.dl', 'Perceptron.forward', { dims: { B: N } }), { x: inputs.X }, params);
    expect(Array.from(only(pred).data)).toEqual(Y);
  });
});

describe('linear regression', () => {
  const n = 5;
  const rng = new Rng(11);
  const X = rng.normals([n, 3]);
  const y = rng.normals([n]);
  const params: ParamStore = new Map([
    ['w', nd([3], [1, -2, 0.5])],
    ['b', nd([], [0.3])],
  ]);
  const residual = () => [...Array(n).keys()].map((i) => dot(sub(X, i), [1, -2, 0.5]) + 0.3 - y.data[i]!);

  it('loss is ‖Xw + b − y‖²/(2n)', () => {
    const out = run(graphOf('linear-regression.dl', 'LinearRegression.loss', { dims: { N: n } }), { X, y }, params);
    const r = residual();
    expect(only(out).data[0]).toBeCloseTo(dot(r, r) / (2 * n), 12);
  });

  it('gradient is (Xᵀr/n, mean r) and matches central finite differences of the loss', () => {
    const loss = graphOf('linear-regression.dl', 'LinearRegression.loss', { dims: { N: n } });
    const out = run(graphOf('linear-regression.dl', 'LinearRegression.gradient', { dims: { N: n } }), { X, y }, params);
    const r = residual();
    const gw = [0, 1, 2].map((k) => r.reduce((s, ri, i) => s + ri * X.data[i * 3 + k]!, 0) / n);
    expect(maxAbsDiff(only(out, 'out0').data, gw)).toBeLessThan(1e-12);
    expect(only(out, 'out1').data[0]).toBeCloseTo(r.reduce((s, v) => s + v, 0) / n, 12);
    const h = 1e-6;
    const fd = (name: string, i: number) => (only(run(loss, { X, y }, shifted(params, name, i, h))).data[0]! - only(run(loss, { X, y }, shifted(params, name, i, -h))).data[0]!) / (2 * h);
    expect(maxAbsDiff([0, 1, 2].map((i) => fd('w', i)), gw)).toBeLessThan(1e-7);
    expect(fd('b', 0)).toBeCloseTo(only(out, 'out1').data[0]!, 7);
  });

  it('sgd_step is w − η∇ of ½(y − w·x − b)² (S0/S3)', () => {
    const out = run(graphOf('linear-regression.dl', 'LinearRegression.sgd_step'), { x: nd([3], [0.5, 1, -1]), y: nd([], [2]) }, params);
    const err = 2 - (0.5 - 2 - 0.5 + 0.3);
    expect(maxAbsDiff(only(out, 'out0').data, [1 + 0.1 * err * 0.5, -2 + 0.1 * err, 0.5 - 0.1 * err])).toBeLessThan(1e-12);
    expect(only(out, 'out1').data[0]).toBeCloseTo(0.3 + 0.1 * err, 12);
  });
});

describe('logistic regression', () => {
  const n = 6;
  const rng = new Rng(5);
  const X = rng.normals([n, 3]);
  const y = nd([n], [0, 1, 1, 0, 1, 0]);

  it('the stable loss equals −mean log σ((2y − 1)z) and the textbook form', () => {
    const g = graphOf('logistic-regression.dl', 'LogisticRegression.loss', { dims: { N: n } });
    const params = initParams(g, 2);
    const z = only(run(graphOf('logistic-regression.dl', 'LogisticRegression.logits', { dims: { N: n } }), { X }, params)).data;
    const expected = -Array.from(z).reduce((s, zi, i) => s + logSigmoid((2 * y.data[i]! - 1) * zi), 0) / n;
    const loss = only(run(g, { X, y }, params)).data[0]!;
    expect(loss).toBeCloseTo(expected, 12);
    const naive = only(run(graphOf('logistic-regression.dl', 'LogisticRegression.loss_naive', { dims: { N: n } }), { X, y }, params)).data[0]!;
    expect(naive).toBeCloseTo(loss, 10);
  });

  it('the loss stays finite at logits ±100', () => {
    const g = graphOf('logistic-regression.dl', 'LogisticRegression.loss', { dims: { N: 2 } });
    const params: ParamStore = new Map([
      ['w', nd([3], [100, 0, 0])],
      ['b', nd([], [0])],
    ]);
    // z = 100 with y = 0 and z = −100 with y = 1: both cost ≈ 100 nats.
    const loss = only(run(g, { X: nd([2, 3], [1, 0, 0, -1, 0, 0]), y: nd([2], [0, 1]) }, params)).data[0]!;
    expect(loss).toBeCloseTo(100, 10);
  });

  it('gradient is Xᵀ(σ(z) − y)/n and matches finite differences', () => {
    const loss = graphOf('logistic-regression.dl', 'LogisticRegression.loss', { dims: { N: n } });
    const params = randomParams(loss, 9);
    const out = run(graphOf('logistic-regression.dl', 'LogisticRegression.gradient', { dims: { N: n } }), { X, y }, params);
    const w = Array.from(param(params, 'w').data);
    const b = param(params, 'b').data[0]!;
    const e = [...Array(n).keys()].map((i) => sigmoid(dot(sub(X, i), w) + b) - y.data[i]!);
    const gw = [0, 1, 2].map((k) => e.reduce((s, ei, i) => s + ei * X.data[i * 3 + k]!, 0) / n);
    expect(maxAbsDiff(only(out, 'out0').data, gw)).toBeLessThan(1e-12);
    const h = 1e-6;
    const fd = (name: string, i: number) => (only(run(loss, { X, y }, shifted(params, name, i, h))).data[0]! - only(run(loss, { X, y }, shifted(params, name, i, -h))).data[0]!) / (2 * h);
    expect(maxAbsDiff([0, 1, 2].map((i) => fd('w', i)), gw)).toBeLessThan(1e-7);
    expect(fd('b', 0)).toBeCloseTo(only(out, 'out1').data[0]!, 7);
  });
});

describe('MLP and CNN parameter counts (a dense layer has m(n + 1), a conv layer K(pqc + 1))', () => {
  const dense = (n: number, m: number) => m * (n + 1);
  const conv = (c: number, K: number, k: number) => K * (k * k * c + 1);

  it('MLP: 784 → 256 → 10', () => {
    expect(paramCount(graphOf('mlp.dl', 'MLP.forward', { dims: { B: 2 } }))).toBe(dense(784, 256) + dense(256, 10));
  });

  it('CNN: two 3×3 convs and a dense layer on the flattened 8×2×2 features', () => {
    expect(paramCount(graphOf('cnn.dl', 'CNN.forward', { dims: { B: 2 } }))).toBe(conv(1, 4, 3) + conv(4, 8, 3) + dense(8 * 2 * 2, 10));
  });

  it('ResidualMLP: embed, three d×d blocks, head', () => {
    expect(paramCount(graphOf('residual-mlp.dl', 'ResidualMLP.forward', { dims: { B: 2 } }))).toBe(dense(6, 8) + 3 * dense(8, 8) + dense(8, 3));
  });
});

describe('CNN', () => {
  const out = (h: number, k: number, s = 1, p = 0) => Math.floor((h + 2 * p - k) / s) + 1;

  it('feature maps have the sizes ⌊(H + 2P − K)/S⌋ + 1 through conv and pooling', () => {
    const g = graphOf('cnn.dl', 'CNN.features', { dims: { B: 3 } });
    const h1 = out(out(12, 3, 1, 1), 2, 2);
    const h2 = out(out(h1, 3), 2, 2);
    expect(g.outputs[0]!.node.type.shape).toEqual([3, 8, h2, h2]);
    expect(h2).toBe(2);
  });

  it.each([
    [7, 3, 1, 0],
    [7, 3, 2, 1],
    [8, 5, 2, 2],
    [9, 3, 3, 0],
    [6, 1, 1, 0],
    [10, 4, 3, 1],
  ])('Conv2d on H=%i with K=%i, S=%i, P=%i: output size and cross-correlation values', (H, K, S, P) => {
    const W = H + 1; // a non-square input catches swapped axes
    const g = graphOf('cnn.dl', 'conv.forward', { extra: `\nlet conv = Conv2d(2, 3, ${K}, stride=${S}, padding=${P})\n`, inputShapes: { x: [1, 2, H, W] } });
    const [Ho, Wo] = [out(H, K, S, P), out(W, K, S, P)];
    expect(g.outputs[0]!.node.type.shape).toEqual([1, 3, Ho, Wo]);
    const x = new Rng(H * 100 + K).normals([1, 2, H, W]);
    const params = randomParams(g, K + S);
    const y = only(run(g, { x }, params));
    expect(y.shape).toEqual([1, 3, Ho, Wo]);
    const w = [...params.values()].find((p) => p.rank === 4)!;
    const b = [...params.values()].find((p) => p.rank === 1)!;
    const expected: number[] = [];
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = b.data[o]!;
          for (let c = 0; c < 2; c++)
            for (let p = 0; p < K; p++)
              for (let q = 0; q < K; q++) {
                const [r, t] = [i * S + p - P, j * S + q - P];
                if (r >= 0 && r < H && t >= 0 && t < W) s += w.at(o, c, p, q) * x.at(0, c, r, t);
              }
          expected.push(s);
        }
    expect(maxAbsDiff(y.data, expected)).toBeLessThan(1e-12);
  });
});

describe('residual MLP', () => {
  it('a residual block with W = 0, b = 0 is exactly the identity, though φ(0) = log 2 ≠ 0', () => {
    const g = graphOf('residual-mlp.dl', 'ResidualBlock.forward', { dims: { B: 3 } });
    const x = new Rng(1).normals([3, 8]);
    const zero = zeroed(initParams(g, 0), () => true);
    expect(maxAbsDiff(only(run(g, { x }, zero)).data, x.data)).toBeLessThan(1e-14);
    expect(maxAbsDiff(only(run(g, { x }, randomParams(g, 1))).data, x.data)).toBeGreaterThan(1e-3);
  });

  it('zeroing every block gives the same network as depth 0', () => {
    const extra = '\nlet shallow = ResidualMLP(6, 8, 3, 0)\n';
    const deep = graphOf('residual-mlp.dl', 'ResidualMLP.forward', { dims: { B: 4 }, extra });
    const shallow = graphOf('residual-mlp.dl', 'shallow.forward', { dims: { B: 4 }, extra });
    expect(shallow.params.length).toBe(4);
    const params = zeroed(randomParams(deep, 3), (n) => n.startsWith('blocks.'));
    // A top-level instance's parameters are named after it: `shallow.embed.W`.
    const renamed = new Map([...params].map(([k, v]) => [`shallow.${k}`, v]));
    const x = new Rng(2).normals([4, 6]);
    expect(maxAbsDiff(only(run(deep, { x }, params)).data, only(run(shallow, { x }, renamed)).data)).toBeLessThan(1e-12);
  });
});

describe('RNN', () => {
  it('states follow h_t = tanh(h_{t−1}U + x_tV + b) from h_0 = 0, and last_state is h_T', () => {
    const [B, T] = [2, 4];
    const g = graphOf('rnn.dl', 'RNN.states', { dims: { B, T } });
    const params = randomParams(g, 4);
    const x = new Rng(3).normals([B, T, 3]);
    const hs = only(run(g, { x }, params));
    expect(hs.shape).toEqual([B, T, 8]);
    const [U, V, b] = ['U', 'V', 'b'].map((n) => param(params, n));
    for (let bi = 0; bi < B; bi++) {
      let h = new Array<number>(8).fill(0);
      for (let t = 0; t < T; t++) {
        const a = vecMat(h, U!);
        const c = vecMat(sub(x, bi, t), V!);
        h = a.map((v, j) => Math.tanh(v + c[j]! + b!.data[j]!));
        expect(maxAbsDiff(sub(hs, bi, t), h)).toBeLessThan(1e-12);
      }
    }
    const last = only(run(graphOf('rnn.dl', 'RNN.last_state', { dims: { B, T } }), { x }, params), 'h');
    expect(maxAbsDiff(last.data, [...sub(hs, 0, T - 1), ...sub(hs, 1, T - 1)])).toBeLessThan(1e-12);
  });
});

describe('LSTM', () => {
  it('states match a JS LSTM (gates i, f, g, o from [x, h]W + b) and forward is the head on h_T', () => {
    const [B, T, I, H] = [2, 3, 3, 8];
    const gs = graphOf('lstm.dl', 'LSTMClassifier.states', { dims: { B, T } });
    const gf = graphOf('lstm.dl', 'LSTMClassifier.forward', { dims: { B, T } });
    const params = randomParams(gf, 6);
    const x = new Rng(8).normals([B, T, I]);
    const hs = only(run(gs, { x }, params));
    const logits = only(run(gf, { x }, params));
    const W = param(params, 'cell.W');
    const bias = param(params, 'cell.b');
    const headW = param(params, 'head.W');
    const headB = param(params, 'head.b');
    for (let bi = 0; bi < B; bi++) {
      let h = new Array<number>(H).fill(0);
      let c = new Array<number>(H).fill(0);
      for (let t = 0; t < T; t++) {
        const z = vecMat([...sub(x, bi, t), ...h], W).map((v, j) => v + bias.data[j]!);
        const gate = (k: number, j: number) => z[k * H + j]!;
        c = c.map((cj, j) => sigmoid(gate(1, j)) * cj + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
        h = c.map((cj, j) => sigmoid(gate(3, j)) * Math.tanh(cj));
        expect(maxAbsDiff(sub(hs, bi, t), h)).toBeLessThan(1e-12);
      }
      const expected = vecMat(h, headW).map((v, j) => v + headB.data[j]!);
      expect(maxAbsDiff(sub(logits, bi), expected)).toBeLessThan(1e-12);
    }
  });
});

describe('causal self-attention', () => {
  const [B, T, d] = [2, 5, 8];
  const x = new Rng(12).normals([B, T, d]);

  it('attention weights are softmax rows (≥ 0, summing to 1) with nothing above the diagonal', () => {
    const g = graphOf('attention.dl', 'CausalSelfAttention.weights', { dims: { B, T } });
    const a = only(run(g, { x }, randomParams(g, 1, 1)));
    expect(a.shape).toEqual([B, 2, T, T]);
    for (let bi = 0; bi < B; bi++)
      for (let h = 0; h < 2; h++)
        for (let t = 0; t < T; t++) {
          const row = sub(a, bi, h, t);
          expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
          expect(row.every((v) => v >= 0)).toBe(true);
          expect(row.slice(t + 1).every((v) => v === 0)).toBe(true);
          expect(row[0]).toBeGreaterThan(0);
        }
  });

  it('the output at step t does not change when later tokens change', () => {
    const g = graphOf('attention.dl', 'CausalSelfAttention.forward', { dims: { B, T } });
    const params = randomParams(g, 2, 1);
    const t0 = 2;
    const x2 = NDArray.from(x.shape, x.data);
    const noise = new Rng(99);
    for (let bi = 0; bi < B; bi++) for (let t = t0 + 1; t < T; t++) for (let k = 0; k < d; k++) x2.data[(bi * T + t) * d + k] = noise.normal();
    const [y1, y2] = [only(run(g, { x }, params)), only(run(g, { x: x2 }, params))];
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t <= t0; t++) expect(maxAbsDiff(sub(y1, bi, t), sub(y2, bi, t))).toBeLessThan(1e-12);
      expect(maxAbsDiff(sub(y1, bi, T - 1), sub(y2, bi, T - 1))).toBeGreaterThan(1e-6);
    }
  });

  it('agrees with the standard library multi_head_attention', () => {
    const g1 = graphOf('attention.dl', 'CausalSelfAttention.forward', { dims: { B, T } });
    const g2 = graphOf('attention.dl', 'CausalSelfAttention.forward_stdlib', { dims: { B, T } });
    const params = randomParams(g1, 3, 1);
    expect(maxAbsDiff(only(run(g1, { x }, params)).data, only(run(g2, { x }, params)).data)).toBeLessThan(1e-12);
  });
});

describe('transformer', () => {
  it('positional_encoding is sin(t/10000^(2i/D)) at even and cos at odd features', () => {
    const p = only(run(graphOf('transformer.dl', 'positional_encoding'), {}));
    expect(p.shape).toEqual([6, 8]);
    for (let t = 0; t < 6; t++)
      for (let j = 0; j < 8; j++) {
        const angle = t / Math.pow(10000, (j - (j % 2)) / 8);
        expect(p.at(t, j)).toBeCloseTo(j % 2 === 0 ? Math.sin(angle) : Math.cos(angle), 12);
      }
  });

  it('a pre-LN block with zero attention and zero FFN output weights is the identity', () => {
    const g = graphOf('transformer.dl', 'Block.forward', { dims: { B: 2, T: 3 } });
    const x = new Rng(4).normals([2, 3, 8]);
    const params = zeroed(randomParams(g, 5), (n) => n.startsWith('attn.') || n.startsWith('ffn.fc2.'));
    expect(maxAbsDiff(only(run(g, { x }, params)).data, x.data)).toBeLessThan(1e-14);
    expect(maxAbsDiff(only(run(g, { x }, randomParams(g, 5))).data, x.data)).toBeGreaterThan(1e-3);
  });

  it('the logits at step t do not change when later tokens change', () => {
    const [B, T] = [2, 6];
    const g = graphOf('transformer.dl', 'Transformer.forward', { dims: { B, T } });
    const params = initParams(g, 1);
    const rng = new Rng(21);
    const tokens = rng.ints([B, T], 16);
    const t0 = 3;
    const tokens2 = NDArray.from(tokens.shape, tokens.data);
    for (let bi = 0; bi < B; bi++) for (let t = t0 + 1; t < T; t++) tokens2.data[bi * T + t] = (tokens.data[bi * T + t]! + 1 + rng.int(15)) % 16;
    const [y1, y2] = [only(run(g, { tokens }, params)), only(run(g, { tokens: tokens2 }, params))];
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t <= t0; t++) expect(maxAbsDiff(sub(y1, bi, t), sub(y2, bi, t))).toBeLessThan(1e-12);
      expect(maxAbsDiff(sub(y1, bi, T - 1), sub(y2, bi, T - 1))).toBeGreaterThan(1e-6);
    }
  });

  it('loss is the mean next-token cross-entropy of the logits (a sequence split into tokens and targets)', () => {
    const [B, T] = [2, 5];
    const gf = graphOf('transformer.dl', 'Transformer.forward', { dims: { B, T } });
    const gl = graphOf('transformer.dl', 'Transformer.loss', { dims: { B, T } });
    const params = initParams(gf, 2);
    const seq = new Rng(22).ints([B, T + 1], 16);
    const tokens = NDArray.from([B, T], [...Array(B * T)].map((_, i) => seq.data[Math.floor(i / T) * (T + 1) + (i % T)]!));
    const targets = NDArray.from([B, T], [...Array(B * T)].map((_, i) => seq.data[Math.floor(i / T) * (T + 1) + (i % T) + 1]!));
    const logits = only(run(gf, { tokens }, params));
    let total = 0;
    for (let bi = 0; bi < B; bi++)
      for (let t = 0; t < T; t++) {
        const row = sub(logits, bi, t);
        total += lse(row) - row[seq.data[bi * (T + 1) + t + 1]!]!;
      }
    expect(only(run(gl, { tokens, targets }, params)).data[0]).toBeCloseTo(total / (B * T), 12);
  });

  it('loss is defined for a single step (T = 1), so gradcheck can draw any size', () => {
    const g = graphOf('transformer.dl', 'Transformer.loss', { dims: { B: 1, T: 1 } });
    const v = only(run(g, { tokens: NDArray.from([1, 1], [3]), targets: NDArray.from([1, 1], [5]) })).data[0]!;
    expect(Number.isFinite(v)).toBe(true);
  });
});

describe('GCN', () => {
  const EDGES = [
    [0, 1],
    [0, 2],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [1, 4],
  ];
  /** â_ij = (a_ij + δ_ij)/√(d_i d_j) with d_i = 1 + Σ_j a_ij, by hand. */
  function expectedAhat(A: number[][]): number[][] {
    const d = A.map((row) => 1 + row.reduce((s, v) => s + v, 0));
    return A.map((row, i) => row.map((a, j) => (a + (i === j ? 1 : 0)) / Math.sqrt(d[i]! * d[j]!)));
  }

  it('toy_normalized_adjacency is D^−1/2 (A + I) D^−1/2 of the example graph: symmetric, with Â√d = √d', () => {
    const A = [...Array(6)].map(() => new Array<number>(6).fill(0));
    for (const [i, j] of EDGES) A[i!]![j!] = A[j!]![i!] = 1;
    const Ah = only(run(graphOf('gcn.dl', 'toy_normalized_adjacency'), {}));
    expect(Ah.shape).toEqual([6, 6]);
    expect(maxAbsDiff(Ah.data, expectedAhat(A).flat())).toBeLessThan(1e-14);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(Ah.at(i, j)).toBe(Ah.at(j, i));
    // √d is an eigenvector with eigenvalue 1 (the top of the spectrum: ‖Â‖₂ ≤ 1).
    const sq = A.map((row) => Math.sqrt(1 + row.reduce((s, v) => s + v, 0)));
    expect(maxAbsDiff(vecMat(sq, Ah), sq)).toBeLessThan(1e-14);
  });

  it('normalized_adjacency of the path 0–1–2 has the hand values', () => {
    const g = graphOf('gcn.dl', 'normalized_adjacency', { dims: { N: 3 } });
    const Ah = only(run(g, { A: nd([3, 3], [0, 1, 0, 1, 0, 1, 0, 1, 0]) }));
    const r6 = 1 / Math.sqrt(6);
    expect(maxAbsDiff(Ah.data, [1 / 2, r6, 0, r6, 1 / 3, r6, 0, r6, 1 / 2])).toBeLessThan(1e-15);
  });

  it('the two-layer GCN is Â relu(Â X W1) W2, and forward uses the example graph', () => {
    const gl = graphOf('gcn.dl', 'GCN.logits', { dims: { N: 6 } });
    const gf = graphOf('gcn.dl', 'GCN.forward');
    const params = initParams(gl, 4);
    const X = new Rng(5).normals([6, 4]);
    const A = nd([6, 6], new Array(36).fill(0));
    for (const [i, j] of EDGES) A.data[i! * 6 + j!] = A.data[j! * 6 + i!] = 1;
    const Ah = expectedAhat([...Array(6)].map((_, i) => sub(A, i)));
    // JS: rows of Â X, then W1, relu, Â, W2.
    const mm = (L: number[][], R: NDArray) => L.map((row) => vecMat(row, R));
    const AX = Ah.map((row) => vecMat(row, X));
    const H = mm(AX, param(params, 'W1')).map((r) => r.map((v) => Math.max(v, 0)));
    const AH = Ah.map((row) => vecMat(row, nd([6, 8], H.flat())));
    const expected = mm(AH, param(params, 'W2')).flat();
    expect(maxAbsDiff(only(run(gl, { A, X }, params)).data, expected)).toBeLessThan(1e-12);
    expect(maxAbsDiff(only(run(gf, { X }, params)).data, expected)).toBeLessThan(1e-12);
  });

  it('relabeling the nodes permutes the logits (equivariance)', () => {
    const N = 5;
    const g = graphOf('gcn.dl', 'GCN.logits', { dims: { N } });
    const rng = new Rng(13);
    const A = rng.adjacency(N, 0.6);
    const X = rng.normals([N, 4]);
    const p = rng.permutation(N);
    const Ap = nd([N, N], p.flatMap((pi) => p.map((pj) => A.at(pi, pj))));
    const Xp = nd([N, 4], p.flatMap((pi) => sub(X, pi)));
    const params = initParams(g, 1);
    const [y, yp] = [only(run(g, { A, X }, params)), only(run(g, { A: Ap, X: Xp }, params))];
    for (let i = 0; i < N; i++) expect(maxAbsDiff(sub(yp, i), sub(y, p[i]!))).toBeLessThan(1e-12);
  });
});

describe('deep sets', () => {
  const [B, M] = [2, 5];
  const rng = new Rng(17);
  const x = rng.normals([B, M, 2]);
  const perms = [rng.permutation(M), rng.permutation(M)];
  const xp = nd([B, M, 2], perms.flatMap((p, b) => p.flatMap((m) => sub(x, b, m))));

  it('ρ(Σ φ(x_i)) is invariant to permuting the set', () => {
    const g = graphOf('deep-sets.dl', 'DeepSets.forward', { dims: { B, M } });
    const params = randomParams(g, 1);
    const [y, yp] = [only(run(g, { x }, params)), only(run(g, { x: xp }, params))];
    expect(maxAbsDiff(y.data, yp.data)).toBeLessThan(1e-12);
    // …but not to changing one element.
    const x2 = NDArray.from(x.shape, x.data);
    x2.data[0] = x2.data[0]! + 1;
    expect(maxAbsDiff(only(run(g, { x: x2 }, params)).data, y.data)).toBeGreaterThan(1e-9);
  });

  it('the equivariant layer permutes its outputs with the set', () => {
    const g = graphOf('deep-sets.dl', 'Equivariant.forward', { dims: { B, M } });
    const params = randomParams(g, 2);
    const [y, yp] = [only(run(g, { x }, params)), only(run(g, { x: xp }, params))];
    for (let b = 0; b < B; b++) for (let m = 0; m < M; m++) expect(maxAbsDiff(sub(yp, b, m), sub(y, b, perms[b]![m]!))).toBeLessThan(1e-12);
  });
});

describe('word2vec', () => {
  const B = 4;
  const rng = new Rng(31);
  const center = rng.ints([B], 20);
  const context = rng.ints([B], 20);
  const negatives = rng.ints([B, 3], 20);
  const scoresOf = (params: ParamStore) => only(run(graphOf('word2vec.dl', 'Word2Vec.scores', { dims: { B } }), { center }, params));

  it('P(· | ω) rows are a softmax: ≥ 0 and summing to 1', () => {
    const g = graphOf('word2vec.dl', 'Word2Vec.forward', { dims: { B } });
    const p = only(run(g, { center }, initParams(g, 0)));
    for (let b = 0; b < B; b++) {
      const row = sub(p, b);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      expect(row.every((v) => v >= 0)).toBe(true);
    }
  });

  it('the full-softmax loss is mean(−x_ω·y_ν + log Σ_μ exp(x_ω·y_μ))', () => {
    const g = graphOf('word2vec.dl', 'Word2Vec.loss', { dims: { B } });
    const params = initParams(g, 0);
    const s = scoresOf(params);
    const expected = [...Array(B).keys()].reduce((t, b) => t + lse(sub(s, b)) - s.at(b, context.data[b]!), 0) / B;
    expect(only(run(g, { center, context }, params)).data[0]).toBeCloseTo(expected, 12);
  });

  it('negative sampling matches its formula, and with β = 0 reduces to −log σ(x_ω·y_ν)', () => {
    const g = graphOf('word2vec.dl', 'Word2Vec.neg_sampling_loss', { dims: { B, K: 3 } });
    const params = initParams(g, 0);
    const s = scoresOf(params);
    const term = (b: number, beta: number) => -logSigmoid(s.at(b, context.data[b]!)) - (beta * [0, 1, 2].reduce((t, k) => t + logSigmoid(-s.at(b, negatives.data[b * 3 + k]!)), 0)) / 3;
    const mean = (beta: number) => [...Array(B).keys()].reduce((t, b) => t + term(b, beta), 0) / B;
    expect(only(run(g, { center, context, negatives }, params)).data[0]).toBeCloseTo(mean(1), 12);
    const extra = '\nlet w2v = Word2Vec()\nfn ns_beta0(center: i32[B], context: i32[B], negatives: i32[B, K]) -> f32 {\n  return w2v.neg_sampling_loss(center, context, negatives, 0.0)\n}\n';
    const g0 = graphOf('word2vec.dl', 'ns_beta0', { dims: { B, K: 3 }, extra });
    // Called through the instance `w2v`, the parameters are named `w2v.inp.E` and `w2v.out.E`.
    const prefixed: ParamStore = new Map([...params].map(([k, v]) => [`w2v.${k}`, v]));
    expect(only(run(g0, { center, context, negatives }, prefixed)).data[0]).toBeCloseTo(mean(0), 12);
  });
});

describe('autoencoders', () => {
  it('the VAE loss is ½ mean‖x̂ − x‖² + KL(N(μ, e^logvar) ‖ N(0, I))', () => {
    const B = 3;
    const enc = graphOf('autoencoder.dl', 'VAE.encode', { dims: { B } });
    const fwd = graphOf('autoencoder.dl', 'VAE.forward', { dims: { B } });
    const loss = graphOf('autoencoder.dl', 'VAE.loss', { dims: { B } });
    const params = randomParams(loss, 3);
    const rng = new Rng(41);
    const x = rng.normals([B, 6]);
    const eps = rng.normals([B, 2]);
    const e = run(enc, { x }, params);
    const [mu, lv] = [only(e, 'out0'), only(e, 'out1')];
    const xh = only(run(fwd, { x, eps }, params));
    let expected = 0;
    for (let b = 0; b < B; b++) {
      const r = sub(xh, b).map((v, j) => v - x.at(b, j));
      expected += 0.5 * dot(r, r);
      expected += 0.5 * sub(mu, b).reduce((s, m, j) => s + m * m + Math.exp(lv.at(b, j)) - lv.at(b, j) - 1, 0);
    }
    expect(only(run(loss, { x, eps }, params)).data[0]).toBeCloseTo(expected / B, 12);
  });

  it('a linear autoencoder with C Dᵀ… projecting onto the data subspace reconstructs exactly', () => {
    // Data in span(e1, e2) and C = [e1 e2], D = Cᵀ: the loss is 0.
    const g = graphOf('autoencoder.dl', 'LinearAutoencoder.loss', { dims: { N: 4 } });
    const C = nd([6, 2], [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const D = nd([2, 6], [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const X = nd([4, 6], [1, 2, 0, 0, 0, 0, -1, 3, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 2, -2, 0, 0, 0, 0]);
    const params: ParamStore = new Map([
      ['C', C],
      ['D', D],
    ]);
    expect(only(run(g, { X }, params)).data[0]).toBe(0);
    const X2 = NDArray.from(X.shape, X.data);
    X2.data[2] = 1; // a component outside the subspace is lost: error 1²/N
    expect(only(run(g, { X: X2 }, params)).data[0]).toBeCloseTo(1 / 4, 14);
  });
});

// ---------------------------------------------------------------------------------------------
// The real CLI.
// ---------------------------------------------------------------------------------------------

describe('the dlc binary on examples/mlp.dl', () => {
  beforeAll(() => {
    // `npm ci` / `npm install` build dist/ (the `prepare` script); build it here if it is missing.
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
  });

  const dlc = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'dlc.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

  it('`dlc run examples/mlp.dl --fn MLP.loss --dim B=4` prints a finite scalar loss and exits 0', () => {
    const r = dlc('run', 'examples/mlp.dl', '--fn', 'MLP.loss', '--dim', 'B=4');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = /^out: f32\[\] = (\S+)\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const loss = Number(m![1]);
    // Ten classes and small initial logits: the loss is near log 10.
    expect(loss).toBeGreaterThan(0.5);
    expect(loss).toBeLessThan(10);
  });

  /** Seeded inputs for MLP.loss written as .npy files (x rounded to float32, as the file holds). */
  function npyInputs(dir: string): { x: NDArray; y: NDArray; args: string[] } {
    const rng = new Rng(77);
    const x = rng.normals([4, 784]);
    x.data.forEach((v, i) => (x.data[i] = Math.fround(v)));
    const y = rng.ints([4], 10);
    writeFileSync(join(dir, 'x.npy'), writeNpy(x, 'f32'));
    writeFileSync(join(dir, 'y.npy'), writeNpy(y, 'i32'));
    return { x, y, args: ['--input', `x=${join(dir, 'x.npy')}`, '--input', `y=${join(dir, 'y.npy')}`, '--seed', '3'] };
  }

  function libraryLoss(x: NDArray, y: NDArray): number {
    return evaluate(graphOf('mlp.dl', 'MLP.loss', { dims: { B: 4 } }), { x, y }, { seed: 3 }).get('out')!.data[0]!;
  }

  it('with --input .npy files and --out it computes what the library computes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-examples-'));
    try {
      const { x, y, args } = npyInputs(dir);
      const r = dlc('run', 'examples/mlp.dl', '--fn', 'MLP.loss', ...args, '--out', join(dir, 'res'));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = readNpy(new Uint8Array(readFileSync(join(dir, 'res', 'out.npy'))));
      expect(out.array.shape).toEqual([]);
      // out.npy holds float32.
      expect(Math.abs(out.array.data[0]! - libraryLoss(x, y))).toBeLessThan(1e-6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --format json it prints one JSON document holding the full-precision result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-examples-'));
    try {
      const { x, y, args } = npyInputs(dir);
      const r = dlc('run', 'examples/mlp.dl', '--fn', 'MLP.loss', ...args, '--format', 'json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(() => JSON.parse(r.stdout), `stdout is not one JSON document:\n${r.stdout}`).not.toThrow();
      const res = JSON.parse(r.stdout) as { ok: boolean; outputs: Record<string, { shape: number[]; data: number[] }> };
      expect(res.ok).toBe(true);
      expect(res.outputs['out']!.shape).toEqual([]);
      expect(res.outputs['out']!.data[0]).toBeCloseTo(libraryLoss(x, y), 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
