/**
 * The linear-algebra examples (examples/gp.dl, ridge.dl, newton-logistic.dl, flow.dl) against
 * closed forms computed here in float64 with plain Gaussian elimination (seed catalog §5.D, §5.M,
 * §5.L): the GP marginal likelihood, its hyperparameter gradient and the posterior by Gaussian
 * conditioning; ridge's closed form as gradient descent's limit; Newton's method against gradient
 * descent; a flow's inverse and its log-determinant against the Jacobian's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, evaluate, initParams, interpret, lowerTrain, NDArray, type Graph, type ParamStore } from '../src/index.js';
import { maxAbsDiff, Rng, sub } from './helpers/example-inputs.js';

const read = (f: string) => readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8');
const nd = (shape: number[], data: number[]) => NDArray.from(shape, data);
type Mat = number[][];

function graph(file: string, entry: string, dims: Record<string, number>, extra = ''): Graph {
  return compile(read(file) + extra, entry, { path: `examples/${file}`, dims });
}
function out(g: Graph, inputs: Record<string, NDArray>, params: ParamStore, name?: string): number[] {
  const m = evaluate(g, inputs, { params });
  return Array.from((name ? m.get(name) : m.values().next().value)!.data);
}

// ---- float64 reference linear algebra -------------------------------------------------------

const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const T = (a: Mat): Mat => a[0]!.map((_, j) => a.map((r) => r[j]!));
const matvec = (a: Mat, v: readonly number[]) => a.map((r) => r.reduce((s, x, k) => s + x * v[k]!, 0));
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const rows = (x: NDArray): Mat => Array.from({ length: x.shape[0]! }, (_, i) => sub(x, i));

/** LU with partial pivoting: the solution of a x = B (columns of B) and log|det a|. */
function lu(a: Mat): { solve: (b: Mat) => Mat; logabsdet: number; sign: number } {
  const n = a.length;
  const m = a.map((r) => [...r]);
  const perm = [...Array(n).keys()];
  let sign = 1;
  let logabsdet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i]![k]!) > Math.abs(m[p]![k]!)) p = i;
    if (p !== k) {
      [m[p], m[k]] = [m[k]!, m[p]!];
      [perm[p], perm[k]] = [perm[k]!, perm[p]!];
      sign = -sign;
    }
    sign *= Math.sign(m[k]![k]!);
    logabsdet += Math.log(Math.abs(m[k]![k]!));
    for (let i = k + 1; i < n; i++) {
      m[i]![k]! /= m[k]![k]!;
      for (let j = k + 1; j < n; j++) m[i]![j]! -= m[i]![k]! * m[k]![j]!;
    }
  }
  const solve = (b: Mat): Mat => {
    const x = perm.map((p) => [...b[p]!]);
    for (let i = 0; i < n; i++) for (let k = 0; k < i; k++) x[i] = x[i]!.map((v, j) => v - m[i]![k]! * x[k]![j]!);
    for (let i = n - 1; i >= 0; i--) {
      for (let k = i + 1; k < n; k++) x[i] = x[i]!.map((v, j) => v - m[i]![k]! * x[k]![j]!);
      x[i] = x[i]!.map((v) => v / m[i]![i]!);
    }
    return x;
  };
  return { solve, logabsdet, sign };
}
const solveVec = (a: Mat, b: readonly number[]) => lu(a).solve(b.map((v) => [v])).map((r) => r[0]!);
const eye = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

// ---- Gaussian processes ---------------------------------------------------------------------

describe('examples/gp.dl', () => {
  const N = 12;
  const M = 5;
  const rng = new Rng(3);
  const xs = Array.from({ length: N }, () => 6 * rng.uniform() - 3);
  const X = nd([N, 1], xs);
  const y = nd([N], xs.map((x) => Math.sin(2 * x) + 0.1 * rng.normal()));
  const Xs = nd([M, 1], [-2.5, -1, 0, 1.3, 2.9]);
  const hyp = { log_ell: -0.3, log_sf2: 0.2, log_sn2: -3 };
  const params: ParamStore = new Map(Object.entries(hyp).map(([k, v]) => [k, nd([], [v])]));
  const k = (a: number, b: number, h = hyp) => Math.exp(h.log_sf2 - (0.5 * (a - b) ** 2) / Math.exp(2 * h.log_ell));
  const K = (h = hyp): Mat => xs.map((a, i) => xs.map((b, j) => k(a, b, h) + (i === j ? Math.exp(h.log_sn2) + 1e-4 : 0)));
  const nll = (h = hyp) => {
    const f = lu(K(h));
    return 0.5 * dot(Array.from(y.data), solveVec(K(h), Array.from(y.data))) + 0.5 * f.logabsdet + (N / 2) * Math.log(2 * Math.PI);
  };

  it('nll is ½yᵀK⁻¹y + ½ log det K + (n/2) log 2π', () => {
    const got = out(graph('gp.dl', 'GP.nll', { N }), { X, y }, params)[0]!;
    expect(Math.abs(got - nll())).toBeLessThan(1e-10);
  });

  it('the hyperparameter gradient is ½ tr((K⁻¹ − ααᵀ) ∂K/∂θ), α = K⁻¹y', () => {
    const g = evaluate(graph('gp.dl', 'GP.grad_hyper', { N }), { X, y }, { params });
    const Kinv = lu(K()).solve(eye(N));
    const alpha = solveVec(K(), Array.from(y.data));
    const dK = {
      log_ell: xs.map((a) => xs.map((b) => k(a, b) * (a - b) ** 2 * Math.exp(-2 * hyp.log_ell))),
      log_sf2: xs.map((a) => xs.map((b) => k(a, b))),
      log_sn2: eye(N).map((r) => r.map((v) => v * Math.exp(hyp.log_sn2))),
    };
    const expected = Object.values(dK).map((D) => {
      let t = 0;
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) t += (Kinv[i]![j]! - alpha[i]! * alpha[j]!) * D[j]![i]!;
      return 0.5 * t;
    });
    expect(maxAbsDiff(['out0', 'out1', 'out2'].map((o) => g.get(o)!.data[0]!), expected)).toBeLessThan(1e-9);
  });

  it('the posterior is Gaussian conditioning: mean K*ᵀK⁻¹y, variance k(x*, x*) − K*ᵀK⁻¹K* (D8)', () => {
    const r = evaluate(graph('gp.dl', 'GP.posterior', { N, M }), { X, y, Xs }, { params });
    const Ks = xs.map((a) => Array.from(Xs.data).map((b) => k(a, b)));
    const W = lu(K()).solve(Ks); // K⁻¹K*
    const mean = Array.from({ length: M }, (_, j) => xs.reduce((s, _, i) => s + W[i]![j]! * y.data[i]!, 0));
    const variance = Array.from({ length: M }, (_, j) => Math.exp(hyp.log_sf2) - xs.reduce((s, _, i) => s + Ks[i]![j]! * W[i]![j]!, 0));
    expect(maxAbsDiff(r.get('out0')!.data, mean)).toBeLessThan(1e-10);
    expect(maxAbsDiff(r.get('out1')!.data, variance)).toBeLessThan(1e-10);
    // At the training points the variance is below the noise-free prior's and the mean is near y.
    const atTrain = evaluate(graph('gp.dl', 'GP.posterior', { N, M: N }), { X, y, Xs: X }, { params });
    expect(Math.max(...atTrain.get('out1')!.data)).toBeLessThan(Math.exp(hyp.log_sn2) * 1.5);
    expect(maxAbsDiff(atTrain.get('out0')!.data, y.data)).toBeLessThan(0.2);
  });

  it('`train fit` (type-II maximum likelihood) lowers the negative log marginal likelihood', () => {
    const r = lowerTrain(read('gp.dl'), 'fit', { path: 'examples/gp.dl', dims: { N } });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ps = initParams(r.graph!, 0);
    const batch = new Map([
      ['X', X],
      ['y', y],
    ]);
    const losses: number[] = [];
    for (let t = 0; t < 200; t++) losses.push(interpret(r.graph!, batch, ps).get('loss')!.data[0]!);
    const fitted = { log_ell: ps.get('log_ell')!.data[0]!, log_sf2: ps.get('log_sf2')!.data[0]!, log_sn2: ps.get('log_sn2')!.data[0]! };
    // From the initial ℓ = σ_f = 1, σ_n² = e⁻²: 7.41 → 2.59 nats (in 100 steps; 200 change it by 1e-3).
    expect(losses[0]).toBeCloseTo(nll({ log_ell: 0, log_sf2: 0, log_sn2: -2 }), 10);
    expect(nll(fitted)).toBeLessThan(losses[0]! - 4);
    expect(Math.abs(losses[199]! - losses[99]!)).toBeLessThan(1e-2);
    // The data are sin(2x) + 0.1 ε: the fitted length-scale is below 1 (ℓ = 0.72) and the noise
    // variance near 0.1² (e^−4.53 = 0.011).
    expect(fitted.log_ell).toBeLessThan(0);
    expect(fitted.log_sn2).toBeGreaterThan(Math.log(0.05 ** 2));
    expect(fitted.log_sn2).toBeLessThan(Math.log(0.2 ** 2));
  });
});

// ---- ridge regression -----------------------------------------------------------------------

describe('examples/ridge.dl', () => {
  const [N, d, lam] = [20, 4, 0.1];
  const rng = new Rng(8);
  const X = rng.normals([N, d]);
  const y = nd([N], rows(X).map((r) => dot(r, [1, -2, 0.5, 0]) + 0.3 * rng.normal()));
  const XtX = matmul(T(rows(X)), rows(X));
  const Xty = matvec(T(rows(X)), Array.from(y.data));
  const closed = solveVec(XtX.map((r, i) => r.map((v, j) => v + (i === j ? N * lam : 0))), Xty);

  it('the closed form solves (XᵀX + nλI) w = Xᵀy, and the gradient of the objective there is 0 (D2)', () => {
    const empty: ParamStore = new Map();
    expect(maxAbsDiff(out(graph('ridge.dl', 'ridge_solution', { N, D: d }), { X, y }, empty), closed)).toBeLessThan(1e-12);
    expect(Math.max(...out(graph('ridge.dl', 'solution_gradient', { N, D: d }), { X, y }, empty).map(Math.abs))).toBeLessThan(1e-13);
    // With λ in place of nλ the gradient of the 1/(2n)-normalized objective is not 0.
    const wrong = solveVec(XtX.map((r, i) => r.map((v, j) => v + (i === j ? lam : 0))), Xty);
    const gWrong = matvec(T(rows(X)), rows(X).map((r, i) => dot(r, wrong) - y.data[i]!)).map((v, j) => v / N + lam * wrong[j]!);
    expect(Math.max(...gWrong.map(Math.abs))).toBeGreaterThan(1e-2);
  });

  it('gradient descent (`train fit`, the whole set as the batch) converges to the closed form', () => {
    const r = lowerTrain(read('ridge.dl'), 'fit', { path: 'examples/ridge.dl', dims: { N } });
    expect(r.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    const ps = initParams(r.graph!, 0);
    const batch = new Map([
      ['X', X],
      ['y', y],
    ]);
    const cf = out(graph('ridge.dl', 'Ridge.closed_form', { N }), { X, y }, ps);
    expect(maxAbsDiff(cf, closed)).toBeLessThan(1e-12);
    const dist = () => maxAbsDiff(ps.get('w')!.data, closed);
    const start = dist();
    let steps = 0;
    while (dist() > 1e-10 && steps < 1000) {
      interpret(r.graph!, batch, ps);
      steps++;
    }
    // w starts at 0, ~2 away; the error contracts by max |1 − η eig(XᵀX/n + λI)| per step (35 steps here).
    expect(start).toBeGreaterThan(1);
    expect(dist()).toBeLessThan(1e-10);
    expect(steps).toBeGreaterThan(10);
  });
});

// ---- Newton's method ------------------------------------------------------------------------

describe('examples/newton-logistic.dl', () => {
  const [N, D] = [40, 3];
  const rng = new Rng(21);
  const X = rng.normals([N, D]);
  const y = nd([N], rows(X).map((r) => (rng.uniform() < 1 / (1 + Math.exp(-dot(r, [1.5, -1, 0.5]))) ? 1 : 0)));
  const none: ParamStore = new Map();
  const dims = { N, D };

  it('the closed-form Hessian equals reverse-over-reverse Hessian-vector products', () => {
    const g = graph('newton-logistic.dl', 'hvp_check', dims);
    const w = nd([D], [0.3, -0.7, 1.1]);
    for (let j = 0; j < D; j++) {
      const r = evaluate(g, { w, X, y, v: nd([D], eye(D)[j]!) }, { params: none });
      expect(maxAbsDiff(r.get('out0')!.data, r.get('by_ad')!.data)).toBeLessThan(1e-14);
    }
  });

  it('Newton steps reach a gradient below 1e-10 in a few steps; gradient descent takes far more', () => {
    const newton = graph('newton-logistic.dl', 'newton_step', dims);
    const gd = graph('newton-logistic.dl', 'gd_step', dims);
    const gradient = graph('newton-logistic.dl', 'logistic_gradient', dims);
    const gnorm = (w: NDArray) => Math.hypot(...out(gradient, { w, X, y }, none));
    const stepsTo = (step: Graph, cap: number) => {
      let w = NDArray.zeros([D]);
      let k = 0;
      while (gnorm(w) > 1e-10 && k < cap) {
        w = nd([D], out(step, { w, X, y }, none));
        k++;
      }
      return { k, w, g: gnorm(w) };
    };
    const n = stepsTo(newton, 50);
    const g = stepsTo(gd, 5000);
    expect(n.g).toBeLessThan(1e-10);
    // Here: Newton 4 steps (‖∇L‖ = 8e-13), gradient descent with η = 1 99 steps.
    expect(n.k).toBeLessThanOrEqual(6);
    expect(g.g).toBeLessThan(1e-10);
    expect(g.k).toBeGreaterThan(10 * n.k);
    expect(maxAbsDiff(n.w.data, g.w.data)).toBeLessThan(1e-9);
    // newton_fit is four of these steps.
    let w = NDArray.zeros([D]);
    for (let k = 0; k < 4; k++) w = nd([D], out(newton, { w, X, y }, none));
    expect(maxAbsDiff(out(graph('newton-logistic.dl', 'newton_fit', dims), { X, y }, none), w.data)).toBeLessThan(1e-14);
  });
});

// ---- normalizing flow -----------------------------------------------------------------------

describe('examples/flow.dl', () => {
  const B = 3;
  const extra = '\nlet flow4 = Flow(4, 8)\nlet lin3 = InvLinear(3)\n';
  /** Random values for every parameter (so log_s and the coupling biases are not 0). */
  function randomParams(g: Graph, seed: number): ParamStore {
    const rng = new Rng(seed);
    return new Map(g.params.map((p) => [String(p.attrs['name']), NDArray.from(p.type.shape, Array.from({ length: p.type.shape.reduce((a, b) => a * b, 1) }, () => 0.4 * rng.normal()))]));
  }

  it.each([
    ['Flow', 2],
    ['flow4', 4],
  ] as const)('%s: inverse(forward(x)) = x, and the log-determinant is log|det| of the Jacobian', (inst, d) => {
    const fwd = graph('flow.dl', `${inst}.forward`, { B }, extra);
    const inv = graph('flow.dl', `${inst}.inverse`, { B }, extra);
    const params = randomParams(fwd, 5);
    const x = new Rng(6).normals([B, d]);
    const f = evaluate(fwd, { x }, { params });
    const [z, logdet] = [...f.values()];
    expect(maxAbsDiff(out(inv, { z: z! }, params), x.data)).toBeLessThan(1e-12);
    // The Jacobian of one point's z by central differences (forward maps rows independently).
    const h = 1e-6;
    for (let b = 0; b < B; b++) {
      const J: Mat = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let j = 0; j < d; j++) {
        const shift = (s: number) => {
          const xs = NDArray.from(x.shape, x.data);
          xs.data[b * d + j]! += s;
          return sub(evaluate(fwd, { x: xs }, { params }).values().next().value!, b);
        };
        const [p, m] = [shift(h), shift(-h)];
        for (let i = 0; i < d; i++) J[i]![j] = (p[i]! - m[i]!) / (2 * h);
      }
      const { logabsdet, sign } = lu(J);
      expect(sign).toBe(1);
      expect(Math.abs(logabsdet - logdet!.data[b]!)).toBeLessThan(1e-7);
    }
  });

  it('InvLinear: W = L·U has log det W = Σ log_s, and its inverse undoes it', () => {
    const w = graph('flow.dl', 'lin3.weight', {}, extra);
    const fwd = graph('flow.dl', 'lin3.forward', { B }, extra);
    const params = randomParams(fwd, 9);
    const W = rows(nd([3, 3], out(w, {}, params)));
    const { logabsdet, sign } = lu(W);
    expect(sign).toBe(1);
    expect(logabsdet).toBeCloseTo(Array.from(params.get('lin3.log_s')!.data).reduce((s, v) => s + v, 0), 12);
    const x = new Rng(2).normals([B, 3]);
    expect(maxAbsDiff(out(fwd, { x }, params, 'out0'), matmul(rows(x), T(W)).flat())).toBeLessThan(1e-12);
  });

  it('exp(log_prob) integrates to 1 over the plane (a density)', () => {
    const n = 161;
    const lim = 8;
    const step = (2 * lim) / (n - 1);
    const pts: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) pts.push(-lim + i * step, -lim + j * step);
    const g = graph('flow.dl', 'Flow.log_prob', { B: n * n });
    const params = randomParams(g, 4);
    const mass = out(g, { x: nd([n * n, 2], pts) }, params).reduce((s, v) => s + Math.exp(v), 0) * step * step;
    expect(Math.abs(mass - 1)).toBeLessThan(1e-2);
  });
});
