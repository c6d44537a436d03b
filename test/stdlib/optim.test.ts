/**
 * The optimizers and schedules of src/stdlib/optim.dl against the equations of docs/optimizers.md,
 * computed here in plain TypeScript (float64, like the interpreter), independently of the .dl code:
 * 3-step traces of every optimizer, the optimizer identities of seed-catalog §5.E (E5–E11), the
 * schedules, and the closed-form optimum of a least-squares problem.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, compile, evaluate, initParams, interpret, lowerTrain, makeExecutable, NDArray } from '../../src/index.js';
import { loadStdlib } from '../../src/frontend/stdlib.js';
import { WEBGPU } from '../helpers/webgpu.js';

type Hypers = Record<string, number | boolean>;
type Vec = number[];
interface Step {
  p: Vec;
  slots: Vec[];
}
/** One step of the documented update for a whole parameter (flattened), η = lr · lr_factor. */
type Ref = (p: Vec, g: Vec, slots: Vec[], t: number, eta: number, h: Hypers, shape: number[]) => Step;

const num = (h: Hypers, k: string) => h[k] as number;
const zip = (a: Vec, b: Vec, f: (x: number, y: number, i: number) => number) => a.map((x, i) => f(x, b[i]!, i));

/** The defaults docs/optimizers.md lists (PyTorch's). */
const DEFAULTS: Record<string, Hypers> = {
  sgd: { lr: 1e-3, weight_decay: 0 },
  sign_sgd: { lr: 1e-3 },
  normalized_gd: { lr: 1e-3 },
  momentum: { lr: 1e-3, beta: 0.9, weight_decay: 0 },
  nesterov: { lr: 1e-3, beta: 0.9, weight_decay: 0 },
  adagrad: { lr: 1e-2, eps: 1e-10, eps_inside: true, weight_decay: 0 },
  rmsprop: { lr: 1e-2, beta: 0.99, eps: 1e-8, eps_inside: false, weight_decay: 0 },
  adam: { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, weight_decay: 0 },
  muon: { lr: 2e-2, beta: 0.95, ns_steps: 10, weight_decay: 0 },
  adamw: { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, weight_decay: 1e-2 },
};

/** d = g + wd·p (coupled weight decay). */
const coupled = (p: Vec, g: Vec, h: Hypers) => zip(g, p, (gi, pi) => gi + num(h, 'weight_decay') * pi);

/** Row-major [r, k] @ [k, c]. */
function matmul(a: Vec, b: Vec, r: number, k: number, c: number): Vec {
  const out = new Array<number>(r * c).fill(0);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) for (let l = 0; l < k; l++) out[i * c + j] += a[i * k + l]! * b[l * c + j]!;
  return out;
}
function transpose(a: Vec, r: number, c: number): Vec {
  return Array.from({ length: r * c }, (_, n) => a[(n % r) * c + Math.floor(n / r)]!);
}
/** The documented iteration: x = m / ‖m‖_F, then `steps` times x ← 1.5 x − 0.5 x xᵀ x. */
function newtonSchulz(m: Vec, r: number, c: number, steps: number): Vec {
  const n = Math.hypot(...m);
  let x = m.map((v) => v / (n > 0 ? n : 1));
  for (let s = 0; s < steps; s++) {
    const xxtx = matmul(matmul(x, transpose(x, r, c), r, c, r), x, r, r, c);
    x = zip(x, xxtx, (a, b) => 1.5 * a - 0.5 * b);
  }
  return x;
}

function adamRef(decoupled: boolean): Ref {
  return (p, g, [m, v], t, eta, h) => {
    const d = decoupled ? g : coupled(p, g, h);
    const b1 = num(h, 'b1');
    const b2 = num(h, 'b2');
    const m2 = zip(m!, d, (mi, di) => b1 * mi + (1 - b1) * di);
    const v2 = zip(v!, d, (vi, di) => b2 * vi + (1 - b2) * di * di);
    const p2 = p.map((pi, i) => {
      const mhat = m2[i]! / (1 - b1 ** t);
      const vhat = v2[i]! / (1 - b2 ** t);
      const dir = mhat / (Math.sqrt(vhat) + num(h, 'eps'));
      return pi - eta * (dir + (decoupled ? num(h, 'weight_decay') * pi : 0));
    });
    return { p: p2, slots: [m2, v2] };
  };
}

const REFS: Record<string, { slots: string[]; ref: Ref }> = {
  sgd: { slots: [], ref: (p, g, _s, _t, eta, h) => ({ p: zip(p, coupled(p, g, h), (pi, di) => pi - eta * di), slots: [] }) },
  sign_sgd: { slots: [], ref: (p, g, _s, _t, eta) => ({ p: zip(p, g, (pi, gi) => pi - eta * Math.sign(gi)), slots: [] }) },
  normalized_gd: {
    slots: [],
    ref: (p, g, _s, _t, eta) => {
      const n = Math.hypot(...g);
      return { p: zip(p, g, (pi, gi) => (n > 0 ? pi - (eta * gi) / n : pi)), slots: [] };
    },
  },
  momentum: {
    slots: ['v'],
    ref: (p, g, [v], _t, eta, h) => {
      const v2 = zip(v!, coupled(p, g, h), (vi, di) => num(h, 'beta') * vi + di);
      return { p: zip(p, v2, (pi, vi) => pi - eta * vi), slots: [v2] };
    },
  },
  nesterov: {
    slots: ['v'],
    ref: (p, g, [v], _t, eta, h) => {
      const d = coupled(p, g, h);
      const v2 = zip(v!, d, (vi, di) => num(h, 'beta') * vi + di);
      return { p: p.map((pi, i) => pi - eta * (d[i]! + num(h, 'beta') * v2[i]!)), slots: [v2] };
    },
  },
  adagrad: {
    slots: ['v'],
    ref: (p, g, [v], _t, eta, h) => {
      const d = coupled(p, g, h);
      const v2 = zip(v!, d, (vi, di) => vi + di * di);
      const eps = num(h, 'eps');
      const den = (vi: number) => (h['eps_inside'] ? Math.sqrt(vi + eps) : Math.sqrt(vi) + eps);
      return { p: p.map((pi, i) => pi - (eta * d[i]!) / den(v2[i]!)), slots: [v2] };
    },
  },
  rmsprop: {
    slots: ['v'],
    ref: (p, g, [v], _t, eta, h) => {
      const d = coupled(p, g, h);
      const b = num(h, 'beta');
      const v2 = zip(v!, d, (vi, di) => b * vi + (1 - b) * di * di);
      const eps = num(h, 'eps');
      const den = (vi: number) => (h['eps_inside'] ? Math.sqrt(vi + eps) : Math.sqrt(vi) + eps);
      return { p: p.map((pi, i) => pi - (eta * d[i]!) / den(v2[i]!)), slots: [v2] };
    },
  },
  adam: { slots: ['m', 'v'], ref: adamRef(false) },
  muon: {
    slots: ['v'],
    ref: (p, g, [v], _t, eta, h, shape) => {
      const v2 = zip(v!, coupled(p, g, h), (vi, di) => num(h, 'beta') * vi + di);
      if (shape.length !== 2) return { p: zip(p, v2, (pi, vi) => pi - eta * vi), slots: [v2] };
      const [r, c] = shape as [number, number];
      const o = newtonSchulz(v2, r, c, num(h, 'ns_steps'));
      return { p: zip(p, o, (pi, oi) => pi - eta * Math.sqrt(c / r) * oi), slots: [v2] };
    },
  },
  adamw: { slots: ['m', 'v'], ref: adamRef(true) },
};

const typeOf = (shape: number[]) => (shape.length ? `f32[${shape.join(', ')}]` : 'f32');
const lit = (x: number | boolean) => (typeof x === 'boolean' ? String(x) : Number.isInteger(x) ? `${x}.0` : String(x));
const kwargs = (h: Hypers) => Object.entries(h).map(([k, v]) => `, ${k}=${lit(v)}`).join('');

/**
 * A `.dl` function that runs `opt` for as many steps as there are gradients (fed as inputs g1, g2, …),
 * slots starting at zeros, lr_factor `factors[k]` on step k + 1; it returns every iterate stacked
 * (`trace_p`) and the final slots.
 */
function traceSource(opt: string, shape: number[], steps: number, factors: number[], h: Hypers): string {
  const { slots } = REFS[opt]!;
  const ty = typeOf(shape);
  const gs = Array.from({ length: steps }, (_, k) => `g${k + 1}: ${ty}`).join(', ');
  const lhs = slots.length ? `(p, ${slots.join(', ')})` : 'p';
  const body = Array.from({ length: steps }, (_, k) => {
    const args = ['p', `g${k + 1}`, ...slots, lit(k + 1), lit(factors[k] ?? 1)].join(', ');
    return `  ${lhs} = ${opt}(${args}${kwargs(h)})\n  ps = ps + [p]\n`;
  }).join('');
  return [
    `fn trace(p0: ${ty}, ${gs}) {`,
    '  let p = p0',
    ...slots.map((s) => `  let ${s} = zeros_like(p0)`),
    '  let ps = []',
    body,
    '  let trace_p = stack(ps)',
    `  return trace_p${slots.map((s) => `, ${s}`).join('')}`,
    '}',
  ].join('\n');
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The TypeScript trace: every iterate and the final slots. */
function refTrace(opt: string, shape: number[], p0: Vec, grads: Vec[], factors: number[], h: Hypers): { ps: Vec[]; slots: Vec[] } {
  const { slots, ref } = REFS[opt]!;
  const hyp = { ...DEFAULTS[opt]!, ...h };
  let st: Step = { p: p0, slots: slots.map(() => p0.map(() => 0)) };
  const ps: Vec[] = [];
  grads.forEach((g, k) => {
    st = ref(st.p, g, st.slots, k + 1, num(hyp, 'lr') * (factors[k] ?? 1), hyp, shape);
    ps.push(st.p);
  });
  return { ps, slots: st.slots };
}

function dlTrace(opt: string, shape: number[], p0: Vec, grads: Vec[], factors: number[], h: Hypers): { ps: Vec[]; slots: Vec[] } {
  const g = compile(traceSource(opt, shape, grads.length, factors, h), 'trace');
  const inputs: Record<string, NDArray> = { p0: NDArray.from(shape, p0) };
  grads.forEach((gr, k) => (inputs[`g${k + 1}`] = NDArray.from(shape, gr)));
  const out = evaluate(g, inputs);
  const all = Array.from(out.get('trace_p')!.data);
  const n = size(shape);
  return {
    ps: grads.map((_, k) => all.slice(k * n, (k + 1) * n)),
    slots: REFS[opt]!.slots.map((s) => Array.from(out.get(s)!.data)),
  };
}

function expectClose(actual: Vec, expected: Vec, rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= rel * Math.max(1, Math.abs(e)))) {
      expect.fail(`element ${i}: got ${a}, expected ${e} (actual ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)})`);
    }
  });
}

// Two parameter/gradient settings: a vector with a zero gradient coordinate, run with the defaults;
// a matrix with a schedule's factors and non-default hyperparameters.
const VEC = {
  shape: [4],
  p0: [0.5, -1.25, 2.0, 0.0],
  grads: [
    [0.3, -0.7, 1.5, 0.0],
    [-0.2, -0.4, 2.5, 0.0],
    [0.05, 0.9, -1.0, 0.0],
  ],
  factors: [1, 1, 1],
};
const MAT = {
  shape: [2, 3],
  p0: [1.0, -0.5, 0.25, 3.0, -2.0, 0.75],
  grads: [
    [0.6, 0.1, -2.0, 0.01, -0.3, 4.0],
    [0.2, -0.3, -1.0, 0.02, 0.5, 3.0],
    [-0.4, 0.2, 0.5, -0.01, 0.1, -2.0],
  ],
  factors: [1, 0.5, 0.25],
};
const CUSTOM: Record<string, Hypers> = {
  sgd: { lr: 0.1, weight_decay: 0.05 },
  sign_sgd: { lr: 0.2 },
  normalized_gd: { lr: 0.3 },
  momentum: { lr: 0.1, beta: 0.8, weight_decay: 0.01 },
  nesterov: { lr: 0.1, beta: 0.7, weight_decay: 0.02 },
  adagrad: { lr: 0.5, eps: 0.01, eps_inside: false, weight_decay: 0.1 },
  rmsprop: { lr: 0.05, beta: 0.9, eps: 0.01, eps_inside: true, weight_decay: 0.1 },
  adam: { lr: 0.1, b1: 0.8, b2: 0.9, eps: 0.01, weight_decay: 0.1 },
  muon: { lr: 0.1, beta: 0.5, ns_steps: 6, weight_decay: 0.05 },
  adamw: { lr: 0.1, b1: 0.8, b2: 0.9, eps: 0.01, weight_decay: 0.2 },
};

describe('3-step traces against the documented equations', () => {
  const opts = Object.keys(REFS);
  it.each(opts)('%s with its defaults on a vector', (opt) => {
    const want = refTrace(opt, VEC.shape, VEC.p0, VEC.grads, VEC.factors, {});
    const got = dlTrace(opt, VEC.shape, VEC.p0, VEC.grads, VEC.factors, {});
    got.ps.forEach((p, k) => expectClose(p, want.ps[k]!));
    got.slots.forEach((s, k) => expectClose(s, want.slots[k]!));
    // Every step moved the parameter (the trace is not trivially the start).
    expect(got.ps[2]).not.toEqual(VEC.p0);
  });

  it.each(opts)('%s with other hyperparameters and lr factors on a matrix', (opt) => {
    const want = refTrace(opt, MAT.shape, MAT.p0, MAT.grads, MAT.factors, CUSTOM[opt]!);
    const got = dlTrace(opt, MAT.shape, MAT.p0, MAT.grads, MAT.factors, CUSTOM[opt]!);
    got.ps.forEach((p, k) => expectClose(p, want.ps[k]!));
    got.slots.forEach((s, k) => expectClose(s, want.slots[k]!));
  });

  it('adam on a scalar parameter', () => {
    const grads = [[0.5], [-1.5], [2.0]];
    const want = refTrace('adam', [], [1.0], grads, [1, 1, 1], { lr: 0.1 });
    const got = dlTrace('adam', [], [1.0], grads, [1, 1, 1], { lr: 0.1 });
    got.ps.forEach((p, k) => expectClose(p, want.ps[k]!));
  });

  it('the hand-computed first Adam step: -lr·sign(g) up to ε (m̂ = g, v̂ = g²)', () => {
    // With bias correction the first step is lr·g/(|g| + ε) whatever b1, b2 are.
    const got = dlTrace('adam', [3], [0, 0, 0], [[2, -0.5, 0]], [1], { lr: 0.1, b1: 0.5, b2: 0.75 });
    expectClose(got.ps[0]!, [-0.1 * (2 / (2 + 1e-8)), 0.1 * (0.5 / (0.5 + 1e-8)), 0]);
  });
});

/** Runs `src`'s function `fn` on the interpreter with the given inputs; outputs by name. */
function run(src: string, fn: string, inputs: Record<string, { shape: number[]; data: Vec }> = {}): Map<string, Vec> {
  const out = evaluate(compile(src, fn), inputs);
  return new Map([...out].map(([k, v]) => [k, Array.from(v.data)]));
}

describe('optimizer identities (seed-catalog §5.E)', () => {
  it('E5: heavy ball with a constant gradient: the step tends to η g / (1 − β)', () => {
    const src = `
fn run(p0: f32[3], g: f32[3]) {
  let p = p0
  let v = zeros_like(p0)
  let prev = p0
  for i in 1..201 {
    prev = p
    (p, v) = momentum(p, g, v, float(i), 1.0, lr=0.01, beta=0.9)
  }
  let step = p - prev
  return step
}`;
    const g = [1.0, -2.0, 0.5];
    const step = run(src, 'run', { p0: { shape: [3], data: [0, 1, 2] }, g: { shape: [3], data: g } }).get('step')!;
    expectClose(step, g.map((gi) => (-0.01 * gi) / (1 - 0.9)), 1e-8);
  });

  it('E5: the heavy-ball iterates satisfy θ_{t+1} = θ_t − η g_t + β (θ_t − θ_{t−1})', () => {
    const p0 = [0.5, -1, 2];
    const grads = [
      [1, 2, 3],
      [-1, 0.5, 0.25],
      [2, -2, 1],
    ];
    const { ps } = dlTrace('momentum', [3], p0, grads, [1, 1, 1], { lr: 0.1, beta: 0.6 });
    const th = [p0, p0, ...ps]; // θ_{-1} = θ_0: no velocity at the start
    for (let t = 1; t <= 3; t++) {
      expectClose(th[t + 1]!, th[t]!.map((x, i) => x - 0.1 * grads[t - 1]![i]! + 0.6 * (x - th[t - 1]![i]!)));
    }
  });

  it("Nesterov's iterates are the notes' look-ahead points θ̃_{t+1} = θ_t + β (θ_t − θ_{t−1})", () => {
    // The notes' form, with the gradient of ½‖Aθ − y‖² at the look-ahead point, in TypeScript.
    const A = [
      [1, 0.5],
      [-0.3, 2],
      [0.7, 0.1],
    ];
    const y = [1, -1, 0.5];
    const gradAt = (w: Vec) => {
      const r = A.map((row, i) => row[0]! * w[0]! + row[1]! * w[1]! - y[i]!);
      return [0, 1].map((j) => A.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
    };
    const eta = 0.1;
    const beta = 0.75;
    let prev = [0.5, -0.25];
    let th = [0.5, -0.25];
    const looks: Vec[] = [];
    for (let t = 0; t < 6; t++) {
      const look = th.map((x, i) => x + beta * (x - prev[i]!));
      const g = gradAt(look);
      prev = th;
      th = look.map((x, i) => x - eta * g[i]!);
      looks.push(th.map((x, i) => x + beta * (x - prev[i]!))); // θ̃_{t+2}: where the next gradient is taken
    }
    const src = `
fn run(A: f32[3, 2], y: f32[3], p0: f32[2]) {
  let p = p0
  let v = zeros([2])
  let ps = []
  for i in 1..7 {
    (p, v) = nesterov(p, grad(0.5 * sum((A @ p - y) ** 2), p), v, float(i), 1.0, lr=${eta}, beta=${beta})
    ps = ps + [p]
  }
  let iterates = stack(ps)
  return iterates
}`;
    const got = run(src, 'run', { A: { shape: [3, 2], data: A.flat() }, y: { shape: [3], data: y }, p0: { shape: [2], data: [0.5, -0.25] } }).get('iterates')!;
    expectClose(got, looks.flat());
  });

  it('E6: momentum and Nesterov with β = 0 are gradient descent exactly', () => {
    const src = (opt: string) => `
fn loss(w: f32[3], A: f32[4, 3], y: f32[4]) -> f32 {
  return 0.5 * sum((A @ w - y) ** 2) + 0.1 * sum(w ** 4)
}
fn run(A: f32[4, 3], y: f32[4], w0: f32[3]) {
  let w = w0
  let v = zeros([3])
  let ws = []
  for i in 1..6 {
    let g = grad(loss(w, A, y), w)
    ${opt === 'sgd' ? 'w = sgd(w, g, float(i), 1.0, lr=0.05)' : `(w, v) = ${opt}(w, g, v, float(i), 1.0, lr=0.05, beta=0.0)`}
    ws = ws + [w]
  }
  let iterates = stack(ws)
  return iterates
}`;
    const inputs = { A: { shape: [4, 3], data: [1, 0.5, 0, -0.3, 1, 0.2, 0, 0.4, 1.5, 0.7, -0.2, 0.1] }, y: { shape: [4], data: [1, -1, 2, 0.5] }, w0: { shape: [3], data: [0.5, -0.5, 1.0] } };
    const gd = run(src('sgd'), 'run', inputs).get('iterates')!;
    expect(gd.some((x, i) => Math.abs(x - [0.5, -0.5, 1.0][i % 3]!) > 1e-3)).toBe(true);
    expect(run(src('momentum'), 'run', inputs).get('iterates')).toEqual(gd);
    expect(run(src('nesterov'), 'run', inputs).get('iterates')).toEqual(gd);
  });

  it('E7: Adam with a constant gradient moves by −λ g/(|g| + ε) on every step', () => {
    const g = [2.0, -0.5, 1e-3, 0];
    const steps = 6;
    const { ps } = dlTrace('adam', [4], [0, 0, 0, 0], Array(steps).fill(g), Array(steps).fill(1), { lr: 0.1, b1: 0.8, b2: 0.95, eps: 1e-3 });
    let prev = [0, 0, 0, 0];
    for (const p of ps) {
      expectClose(
        p.map((x, i) => x - prev[i]!),
        g.map((gi) => (-0.1 * gi) / (Math.abs(gi) + 1e-3)),
        1e-10,
      );
      prev = p;
    }
  });

  it('E8: the first AdaGrad step is η g / √(g² + ε) ≈ η sign(g)', () => {
    const g = [3.0, -0.25, 1e-4];
    const { ps } = dlTrace('adagrad', [3], [0, 0, 0], [g], [1], { lr: 0.5, eps: 1e-6 });
    expectClose(ps[0]!, g.map((gi) => (-0.5 * gi) / Math.sqrt(gi * gi + 1e-6)));
    // For |g| ≫ √ε it is η·sign(g) to within ε/(2g²).
    expect(Math.abs(ps[0]![0]! + 0.5)).toBeLessThan(1e-7);
  });

  it('E9: normalized GD moves by exactly λ, and not at all where the gradient is zero', () => {
    const { ps } = dlTrace('normalized_gd', [2, 2], [1, 2, 3, 4], [[3, -4, 12, 0], [0, 0, 0, 0], [1e-3, 0, 0, 0]], [1, 1, 1], { lr: 0.25 });
    expect(Math.hypot(...ps[0]!.map((x, i) => x - [1, 2, 3, 4][i]!))).toBeCloseTo(0.25, 12);
    expect(ps[1]).toEqual(ps[0]);
    expect(Math.hypot(...ps[2]!.map((x, i) => x - ps[1]![i]!))).toBeCloseTo(0.25, 12);
  });

  it('E10: signSGD moves every coordinate by exactly η (0 where g = 0)', () => {
    const p0 = [0.5, -1, 2, 7];
    const { ps } = dlTrace('sign_sgd', [4], p0, [[1e-6, -30, 0.5, 0]], [1], { lr: 0.125 });
    expect(ps[0]!.map((x, i) => x - p0[i]!)).toEqual([-0.125, 0.125, -0.125, 0]);
  });

  it('E11: coupled weight decay is gradient descent on L + γ/2 ‖θ‖², i.e. θ ← (1 − ηγ) θ − η ∇L', () => {
    const src = `
fn loss(w: f32[3]) -> f32 {
  return sum(log1p(exp(w * [1.0, -2.0, 0.5]))) + sum(w) ** 2
}
fn decayed(w0: f32[3]) {
  let w = w0
  let ws = []
  for i in 1..4 {
    w = sgd(w, grad(loss(w), w), float(i), 1.0, lr=0.1, weight_decay=0.3)
    ws = ws + [w]
  }
  let iterates = stack(ws)
  return iterates
}
fn penalized(w0: f32[3]) {
  let w = w0
  let ws = []
  for i in 1..4 {
    w = sgd(w, grad(loss(w) + 0.15 * sum(w * w), w), float(i), 1.0, lr=0.1)
    ws = ws + [w]
  }
  let iterates = stack(ws)
  return iterates
}`;
    const w0 = { w0: { shape: [3], data: [0.5, -1, 2] } };
    const a = run(src, 'decayed', w0).get('iterates')!;
    const b = run(src, 'penalized', w0).get('iterates')!;
    expectClose(a, b, 1e-14);
    // The first step by hand: (1 − ηγ) θ − η ∇L.
    const w = [0.5, -1, 2];
    const c = [1, -2, 0.5];
    const s = w.reduce((x, y) => x + y);
    const gradL = w.map((wi, i) => (c[i]! / (1 + Math.exp(-wi * c[i]!))) + 2 * s);
    expectClose(a.slice(0, 3), w.map((wi, i) => (1 - 0.1 * 0.3) * wi - 0.1 * gradL[i]!));
  });

  it.each([
    [3, 4],
    [4, 3],
  ])('E14: a Muon step on a %i×%i matrix is η √(d_out/d_in) U Vᵀ: orthogonal, the polar factor of the gradient', (r, c) => {
    const G = [0.9, -0.4, 0.3, 1.2, 0.1, 0.8, -0.7, 0.2, 0.5, 0.6, 1.1, -0.3].slice(0, r * c);
    const p0 = new Array<number>(r * c).fill(0.5);
    const { ps } = dlTrace('muon', [r, c], p0, [G], [1], { lr: 0.2, ns_steps: 30 });
    const scale = 0.2 * Math.sqrt(c / r);
    const P = ps[0]!.map((x, i) => (p0[i]! - x) / scale);
    // Orthonormal rows (wide) or columns (tall): every singular value is 1.
    const k = Math.min(r, c);
    const gram = r <= c ? matmul(P, transpose(P, r, c), r, c, r) : matmul(transpose(P, r, c), P, c, r, c);
    expectClose(gram, Array.from({ length: k * k }, (_, n) => (n % (k + 1) === 0 ? 1 : 0)), 1e-9);
    // The polar factor: G Pᵀ (wide) or Pᵀ G (tall) is U Σ Uᵀ (V Σ Vᵀ), symmetric with a positive diagonal.
    const sym = r <= c ? matmul(G, transpose(P, r, c), r, c, r) : matmul(transpose(P, r, c), G, c, r, c);
    expectClose(sym, transpose(sym, k, k), 1e-9);
    for (let i = 0; i < k; i++) expect(sym[i * (k + 1)]!).toBeGreaterThan(0);
    // ‖ΔW‖_F = η √(d_out/d_in) √rank.
    expect(Math.hypot(...ps[0]!.map((x, i) => x - p0[i]!))).toBeCloseTo(scale * Math.sqrt(k), 9);
  });

  it('Muon on a parameter that is not a matrix is heavy-ball momentum', () => {
    const h = { lr: 0.1, beta: 0.8 };
    expect(dlTrace('muon', [4], VEC.p0, VEC.grads, VEC.factors, h).ps).toEqual(dlTrace('momentum', [4], VEC.p0, VEC.grads, VEC.factors, h).ps);
  });

  it('AdamW differs from Adam with coupled decay, and equals plain Adam when the decay is 0', () => {
    const h = { lr: 0.1, weight_decay: 0.5 };
    const w = dlTrace('adamw', [4], VEC.p0, VEC.grads, VEC.factors, h).ps[2]!;
    const l2 = dlTrace('adam', [4], VEC.p0, VEC.grads, VEC.factors, h).ps[2]!;
    expect(Math.max(...w.map((x, i) => Math.abs(x - l2[i]!)))).toBeGreaterThan(1e-3);
    expect(dlTrace('adamw', [4], VEC.p0, VEC.grads, VEC.factors, { lr: 0.1, weight_decay: 0 }).ps).toEqual(
      dlTrace('adam', [4], VEC.p0, VEC.grads, VEC.factors, { lr: 0.1 }).ps,
    );
  });
});

describe('learning-rate schedules', () => {
  /** The factor of `call` (a schedule call on `t`) at each step, from the interpreter. */
  function factors(call: string, ts: number[]): number[] {
    const g = compile(`fn f(t: f32) -> f32 {\n  return ${call}\n}`, 'f');
    return ts.map((t) => evaluate(g, { t: { shape: [], data: [t] } }).get('out')!.data[0]!);
  }
  const ts = [1, 2, 3, 4, 5, 6, 9, 10, 11, 50];

  it('constant_lr', () => {
    expectClose(factors('constant_lr(t)', ts), ts.map(() => 1));
    expectClose(factors('constant_lr(t, factor=0.3)', ts), ts.map(() => 0.3));
  });

  it('step_lr: gamma^⌊(t − 1)/every⌋', () => {
    expectClose(factors('step_lr(t, every=3, gamma=0.5)', ts), ts.map((t) => 0.5 ** Math.floor((t - 1) / 3)));
    expectClose(factors('step_lr(t, 4)', [1, 4, 5, 9]), [1, 1, 0.1, 0.01]);
  });

  it('step_lr with every = 0 is a compile-time error at the call, not a NaN learning rate', () => {
    const src = 'fn f(t: f32) -> f32 {\n  return step_lr(t, every=0)\n}\n';
    const d = check(src, 'user.dl').diagnostics.filter((x) => x.severity === 'error');
    expect(d.map((x) => x.code)).toEqual(['DL0313']);
    expect(d[0]!.span!.file.path).toBe('user.dl');
    expect(d[0]!.notes.join(' ')).toContain('step_lr');
  });

  it('linear_warmup with warmup = 0 and cosine_lr with total <= warmup stay finite', () => {
    expectClose(factors('linear_warmup(t, warmup=0)', [1, 2]), [1, 1]);
    expectClose(factors('cosine_lr(t, total=2, warmup=4, min_factor=0.25)', [1, 4, 5, 9]), [0.25, 1, 0.25, 0.25]);
  });

  it('exponential_lr: gamma^(t − 1)', () => {
    expectClose(factors('exponential_lr(t, gamma=0.9)', ts), ts.map((t) => 0.9 ** (t - 1)));
  });

  it('linear_warmup: t / warmup, then 1', () => {
    expectClose(factors('linear_warmup(t, warmup=4)', ts), ts.map((t) => Math.min(t / 4, 1)));
  });

  it('cosine_lr without warmup: from ≈1 on the first step to min_factor at t = total', () => {
    const cos = (t: number) => 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 10)) / 10));
    expectClose(factors('cosine_lr(t, total=10)', ts), ts.map(cos));
    expectClose(factors('cosine_lr(t, 10, min_factor=0.2)', ts), ts.map((t) => 0.2 + 0.8 * cos(t)));
    expect(factors('cosine_lr(t, total=10)', [5])[0]).toBeCloseTo(0.5, 12);
  });

  it('cosine_lr with warmup: t / warmup, 1 at t = warmup, then the cosine to min_factor', () => {
    const f = (t: number) => (t < 3 ? t / 3 : 0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max((t - 3) / 7, 0), 1)) / 1)));
    const got = factors('cosine_lr(t, total=10, warmup=3, min_factor=0.1)', ts);
    expectClose(got, ts.map(f));
    expect(got[2]).toBeCloseTo(1, 12); // t = 3 = warmup
    expect(got[7]).toBeCloseTo(0.1, 12); // t = 10 = total
  });

  it('a schedule drives an optimizer: sgd with step_lr halves its steps every 2 steps', () => {
    const src = `
fn run(p0: f32[2], g: f32[2]) {
  let p = p0
  let ps = []
  for i in 1..7 {
    p = sgd(p, g, float(i), step_lr(float(i), every=2, gamma=0.5), lr=0.1)
    ps = ps + [p]
  }
  let iterates = stack(ps)
  return iterates
}`;
    const it = run(src, 'run', { p0: { shape: [2], data: [0, 0] }, g: { shape: [2], data: [1, -1] } }).get('iterates')!;
    const steps = [0, 1, 2, 3, 4, 5].map((k) => it[2 * k]! - (k ? it[2 * (k - 1)]! : 0));
    expectClose(steps, [-0.1, -0.1, -0.05, -0.05, -0.025, -0.025]);
  });
});

describe('least squares: the iterates reach the closed-form optimum', () => {
  // ½‖Aw − y‖² with A 6×3 of full column rank; w* solves AᵀA w = Aᵀy.
  const A = [
    [2, 0, 0.5],
    [0, 1.5, 0],
    [0.3, 0, 1],
    [1, 1, 0],
    [0, 1, 1],
    [1, -0.5, 1],
  ];
  const y = [1, -2, 0.5, 3, -1, 2];
  const AtA = [0, 1, 2].map((i) => [0, 1, 2].map((j) => A.reduce((s, r) => s + r[i]! * r[j]!, 0)));
  const Aty = [0, 1, 2].map((i) => A.reduce((s, r, k) => s + r[i]! * y[k]!, 0));

  /** Gaussian elimination with partial pivoting. */
  function solve(M: number[][], b: number[]): number[] {
    const n = b.length;
    const a = M.map((r, i) => [...r, b[i]!]);
    for (let c = 0; c < n; c++) {
      let piv = c;
      for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
      [a[c], a[piv]] = [a[piv]!, a[c]!];
      for (let r = 0; r < n; r++) {
        if (r === c) continue;
        const f = a[r]![c]! / a[c]![c]!;
        for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
      }
    }
    return a.map((r, i) => r[n]! / r[i]!);
  }
  const wStar = solve(AtA, Aty);

  const fit = (update: string, slots: string[], steps: number) => `
fn fit(A: f32[6, 3], y: f32[6]) {
  let w = zeros([3])
${slots.map((s) => `  let ${s} = zeros([3])`).join('\n')}
  for i in 1..${steps + 1} {
    let g = grad(0.5 * sum((A @ w - y) ** 2), w)
    ${slots.length ? `(w, ${slots.join(', ')})` : 'w'} = ${update}
  }
  return w
}`;
  const inputs = { A: { shape: [6, 3], data: A.flat() }, y: { shape: [6], data: y } };
  const distance = (w: Vec) => Math.hypot(...w.map((x, i) => x - wStar[i]!));

  it('the closed form is an optimum: AᵀA w* = Aᵀy and w* is far from the start', () => {
    expectClose(AtA.map((r) => r.reduce((s, x, j) => s + x * wStar[j]!, 0)), Aty, 1e-12);
    expect(Math.hypot(...wStar)).toBeGreaterThan(0.5);
  });

  it('sgd', () => {
    const w = run(fit('sgd(w, g, float(i), 1.0, lr=0.1)', [], 300), 'fit', inputs).get('w')!;
    expect(distance(w)).toBeLessThan(1e-6);
  });

  it('momentum', () => {
    const w = run(fit('momentum(w, g, v, float(i), 1.0, lr=0.05, beta=0.8)', ['v'], 300), 'fit', inputs).get('w')!;
    expect(distance(w)).toBeLessThan(1e-6);
  });

  it('nesterov', () => {
    const w = run(fit('nesterov(w, g, v, float(i), 1.0, lr=0.05, beta=0.8)', ['v'], 300), 'fit', inputs).get('w')!;
    expect(distance(w)).toBeLessThan(1e-6);
  });

  it('adam with a cosine schedule', () => {
    const w = run(fit('adam(w, g, m, v, float(i), cosine_lr(float(i), total=400), lr=0.1)', ['m', 'v'], 400), 'fit', inputs).get('w')!;
    expect(distance(w)).toBeLessThan(1e-3);
  });
});

describe('on the generated backends (f32)', () => {
  const backends: ('js' | 'webgpu')[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];
  const cases = backends.flatMap((backend) => Object.keys(REFS).map((opt) => ({ backend, opt })));
  it.each(cases)('$opt on $backend agrees with the float64 equations to f32 precision', async ({ backend, opt }) => {
    const src = traceSource(opt, MAT.shape, 3, MAT.factors, CUSTOM[opt]!);
    const exe = await makeExecutable(compile(src, 'trace'), { backend, precision: 'f32' });
    const inputs = new Map<string, NDArray>([['p0', NDArray.from(MAT.shape, MAT.p0)]]);
    MAT.grads.forEach((g, k) => inputs.set(`g${k + 1}`, NDArray.from(MAT.shape, g)));
    const out = await exe.run(inputs);
    const want = refTrace(opt, MAT.shape, MAT.p0, MAT.grads, MAT.factors, CUSTOM[opt]!);
    expectClose(Array.from(out.get('trace_p')!.data), want.ps.flat(), 2e-6);
    REFS[opt]!.slots.forEach((sl, k) => expectClose(Array.from(out.get(sl)!.data), want.slots[k]!, 2e-6));
  });
});

describe('the standard library files', () => {
  it('optim.dl and nn.dl share one scope, and each declaration keeps the span of its own file', () => {
    const std = loadStdlib();
    const where = (name: string) => {
      const d = std.program.decls.find((x) => x.name.name === name)!;
      const { line } = d.span.file.position(d.span.start);
      return { path: d.span.file.path, text: d.span.file.lineText(line) };
    };
    expect(where('adam')).toEqual({ path: '<stdlib>/optim.dl', text: expect.stringMatching(/^fn adam\(/) });
    expect(where('cosine_lr')).toEqual({ path: '<stdlib>/optim.dl', text: expect.stringMatching(/^fn cosine_lr\(/) });
    expect(where('softmax')).toEqual({ path: '<stdlib>/nn.dl', text: expect.stringMatching(/^fn softmax\(/) });
    // Every optim.dl function is found, the names are unique across files.
    const optim = readFileSync(new URL('../../src/stdlib/optim.dl', import.meta.url), 'utf8');
    const names = [...optim.matchAll(/^fn\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) expect(where(n).path).toBe('<stdlib>/optim.dl');
    const all = std.program.decls.map((d) => d.name.name);
    expect(new Set(all).size).toBe(all.length);
  });

  it('an optimizer called with a mismatched state points at the call in the user file', () => {
    const src = 'fn f(p: f32[3], g: f32[3], v: f32[4]) -> (f32[3], f32[3]) {\n  return momentum(p, g, v, 1.0, 1.0)\n}\n';
    const d = check(src, 'user.dl').diagnostics.filter((x) => x.severity === 'error');
    expect(d.length).toBeGreaterThan(0);
    expect(d[0]!.span!.file.path).toBe('user.dl');
    expect(d[0]!.span!.file.position(d[0]!.span!.start).line).toBe(2);
  });

  it('docs/optimizers.md and docs/stdlib.md document every optimizer and schedule, and their programs compile', () => {
    const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
    const doc = read('docs/optimizers.md');
    const stdlib = read('docs/stdlib.md');
    const optim = read('src/stdlib/optim.dl');
    const names = [...optim.matchAll(/^fn\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
    const helpers = ['bias_correction', 'adam_direction'];
    expect(names.filter((n) => !helpers.includes(n) && !doc.includes('`' + n + '`') && !doc.includes('`' + n + '('))).toEqual([]);
    expect(names.filter((n) => !new RegExp('`' + n + '[`(]').test(stdlib))).toEqual([]);
    const programs = [...doc.matchAll(/^```dl program\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) {
      const r = check(p, 'docs/optimizers.md');
      expect(r.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code}: ${x.message}`)).toEqual([]);
      expect(r.checked.length).toBeGreaterThan(0);
    }
  });
});

describe('through a train declaration', () => {
  it('adam with weight decay, clipping and a cosine schedule matches the equations for 3 steps', () => {
    const src = `
model Lin {
  param W: f32[2, 2] = zeros
  param b: f32[2] = zeros
  fn loss(x: f32[B, 2], y: f32[B, 2]) -> f32 {
    let e = x @ W + b - y
    return mean(e * e)
  }
}
train fit {
  loss = Lin.loss
  optimizer = adam(lr = 0.1, b2 = 0.99, weight_decay = 0.2)
  clip_norm = 2.0
  schedule = cosine_lr(total = 4)
}
`;
    const r = lowerTrain(src, 'fit', { dims: { B: 3 }, path: 'train.dl' });
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`)).toEqual([]);
    const g = r.graph!;
    const X = [1, 2, -1, 0.5, 3, -2];
    const Y = [1, 0, -1, 2, 0.5, 1];
    const W0 = [0.5, -0.25, 1, 0.75];
    const b0 = [0.1, -0.2];
    const ps = initParams(g, 0);
    ps.set('W', NDArray.from([2, 2], W0));
    ps.set('b', NDArray.from([2], b0));
    const batch = new Map([
      ['x', NDArray.from([3, 2], X)],
      ['y', NDArray.from([3, 2], Y)],
    ]);

    // By hand: e = xW + b − y, loss = mean(e²) over the 6 entries, gW = (2/6) xᵀe, gb = (2/6) Σ_rows e.
    let W = W0;
    let b = b0;
    let mW = [0, 0, 0, 0];
    let vW = [0, 0, 0, 0];
    let mb = [0, 0];
    let vb = [0, 0];
    const adam = REFS['adam']!.ref;
    const hyp = { ...DEFAULTS['adam']!, lr: 0.1, b2: 0.99 };
    const scales: number[] = [];
    for (let t = 1; t <= 3; t++) {
      const e = [0, 1, 2].flatMap((i) => [0, 1].map((j) => X[2 * i]! * W[j]! + X[2 * i + 1]! * W[2 + j]! + b[j]! - Y[2 * i + j]!));
      const loss = e.reduce((s, x) => s + x * x, 0) / 6;
      let gW = [0, 1].flatMap((k) => [0, 1].map((j) => (2 / 6) * [0, 1, 2].reduce((s, i) => s + X[2 * i + k]! * e[2 * i + j]!, 0)));
      let gb = [0, 1].map((j) => (2 / 6) * [0, 1, 2].reduce((s, i) => s + e[2 * i + j]!, 0));
      const norm = Math.hypot(...gW, ...gb);
      const scale = Math.min(1, 2.0 / (norm + 1e-6));
      scales.push(scale);
      gW = gW.map((x) => x * scale);
      gb = gb.map((x) => x * scale);
      const eta = 0.1 * 0.5 * (1 + Math.cos((Math.PI * t) / 4));
      const out = interpret(g, batch, ps);
      expect(out.get('loss')!.data[0]).toBeCloseTo(loss, 12);
      // Weight decay goes to W (2 axes), not to b.
      const sW = adam(W, gW, [mW, vW], t, eta, { ...hyp, weight_decay: 0.2 }, [2, 2]);
      const sb = adam(b, gb, [mb, vb], t, eta, { ...hyp, weight_decay: 0 }, [2]);
      [W, mW, vW] = [sW.p, sW.slots[0]!, sW.slots[1]!];
      [b, mb, vb] = [sb.p, sb.slots[0]!, sb.slots[1]!];
      expectClose(Array.from(ps.get('W')!.data), W);
      expectClose(Array.from(ps.get('b')!.data), b);
      expectClose(Array.from(ps.get('fit/W/m')!.data), mW);
      expectClose(Array.from(ps.get('fit/b/v')!.data), vb);
      expect(Array.from(ps.get('fit/step')!.data)).toEqual([t]);
    }
    // The clip was active on some step (else this would not test it) and the parameters moved.
    expect(Math.min(...scales)).toBeLessThan(0.9);
    expect(Math.max(...W.map((x, i) => Math.abs(x - W0[i]!)))).toBeGreaterThan(0.05);
  });
});
