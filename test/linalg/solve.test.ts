/**
 * solve / inv / slogdet / logdet / det (LU with partial pivoting, src/ir/ops/linalg/lu.ts) through
 * the whole pipeline: .dl source compiled, run on the interpreter (the lowered graph, float64),
 * then simplified and run on JS f64, JS f32 and WebGPU. On every backend the closed forms hold:
 * a·solve(a, b) = b, inv(a)·a = I, det of a 2×2 by hand, logdet(K) = 2·Σ log diag(cholesky(K)),
 * the sign of a negative determinant, (0, −∞) on a singular matrix, and seed catalog D1/D2 (the
 * gradient of the OLS / ridge loss at the closed-form solution is ~0). The matrices here need row
 * swaps (zeros on the diagonal, random entries), which the registry's 'invertible' samples do not.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/index.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { onEveryStage, stages } from '../helpers/stages.js';

const STAGES = stages(1e-9, 2e-4);

/** A deterministic stream in [-1, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** An f32-rounded array (every stage sees the same numbers). */
function arr(shape: number[], data: ArrayLike<number>): NDArray {
  return new NDArray(shape, Float64Array.from(data, (v) => Math.fround(v)));
}

function random(shape: number[], seed: number, scale = 1): NDArray {
  const r = stream(seed);
  return arr(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * r()));
}

/** The outputs of `entry` on every stage, in the function's output order. */
function everywhere(src: string, entry: string, inputs: Record<string, NDArray>) {
  return onEveryStage(STAGES, src, entry, inputs, 'solve.dl');
}

const maxAbs = (x: ArrayLike<number>) => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** x ≈ want elementwise, to tol relative to want's scale (at least 1). */
function close(x: NDArray, want: ArrayLike<number>, tol: number, what: string): void {
  expect(x.size, what).toBe(want.length);
  const scale = Math.max(1, maxAbs(want));
  const err = maxAbs(Array.from(x.data, (v, i) => v - want[i]!));
  expect(err, `${what}: |error| ${err} (scale ${scale}); got ${Array.from(x.data).slice(0, 8).join(', ')}`).toBeLessThanOrEqual(tol * scale);
}

/** Gaussian elimination with partial pivoting in float64: det and a⁻¹b, the tests' reference. */
function reference(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): { det: number; x: number[] } {
  const m = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => a[i * n + j]!), ...Array.from({ length: k }, (_, c) => b[i * k + c]!)]);
  let det = 1;
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(m[i]![j]!) > Math.abs(m[p]![j]!)) p = i;
    if (p !== j) [m[p], m[j], det] = [m[j]!, m[p]!, -det];
    det *= m[j]![j]!;
    for (let i = j + 1; i < n; i++) {
      const l = m[i]![j]! / m[j]![j]!;
      for (let c = j; c < n + k; c++) m[i]![c]! -= l * m[j]![c]!;
    }
  }
  const x = new Array<number>(n * k).fill(0);
  for (let c = 0; c < k; c++)
    for (let i = n - 1; i >= 0; i--) {
      let v = m[i]![n + c]!;
      for (let j = i + 1; j < n; j++) v -= m[i]![j]! * x[j * k + c]!;
      x[i * k + c] = v / m[i]![i]!;
    }
  return { det, x };
}

/** Matrices that need row swaps: a zero diagonal (a permutation of a dominant matrix), and random entries. */
function pivoting(seed: number): NDArray {
  const n = 5;
  const r = stream(seed);
  const data: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data.push(j === (i + 2) % n ? 3 + r() : i === j ? 0 : r());
  for (let e = 0; e < n * n; e++) data.push(2 * r());
  return arr([2, n, n], data);
}

const SRC = `
fn solve_check(a: f32[2, 5, 5], b: f32[2, 5, 3], m: f32[5, 5], v: f32[5]) -> (f32[2, 5, 3], f32[2, 5, 3], f32[5], f32[5]) {
  let x = solve(a, b)
  let u = solve(m, v)
  return (x, a @ x - b, u, m @ u - v)
}

fn inverse(a: f32[2, 5, 5]) -> (f32[2, 5, 5], f32[2, 5, 5]) {
  let ai = inv(a)
  return (ai, ai @ a)
}

fn dets(a: f32[2, 5, 5], t: f32[2, 2], x: f32[6, 4]) -> (f32[2], f32[2], f32[2], f32, f32, f32) {
  let (s, l) = slogdet(a)
  let K = x @ x.T / 4.0 + 0.5 * eye(6)
  return (s, l, det(a), det(t), logdet(K), 2.0 * sum(log(diagonal(cholesky(K)))))
}

fn negative(a: f32[3, 3]) -> (f32, f32, f32, f32) {
  let (s, l) = slogdet(a)
  return (s, l, det(a), logdet(a))
}

fn singular(a: f32[3, 3], b: f32[3]) -> (f32[3], f32, f32, f32, f32) {
  let (s, l) = slogdet(a)
  return (solve(a, b), s, l, det(a), logdet(a))
}

fn big(a: f32[40, 40]) -> (f32, f32) {
  let (s, l) = slogdet(a)
  return (l, det(a))
}

# Seed catalog D1: the OLS solution, and the gradient of the loss there (~0) next to the one at w = 0.
fn ols(X: f32[20, 4], y: f32[20]) -> (f32[4], f32[4], f32[4]) {
  let w = solve(X.T @ X, X.T @ y)
  let z = zeros([4])
  let r = X @ w - y
  let r0 = X @ z - y
  return (w, grad(0.5 * sum(r * r), w), grad(0.5 * sum(r0 * r0), z))
}

fn ridge_loss(w: f32[4], X: f32[20, 4], y: f32[20], lam: float) -> f32 {
  let r = X @ w - y
  return sum(r * r) / (2.0 * float(20)) + 0.5 * lam * sum(w * w)
}

# D2: with the 1/(2n)-normalized loss the closed form needs nλ; the Cholesky route gives the same w.
fn ridge(X: f32[20, 4], y: f32[20]) -> (f32[4], f32[4], f32[4], f32[4]) {
  let A = X.T @ X + 0.3 * float(20) * eye(4)
  let w = solve(A, X.T @ y)
  let L = cholesky(A)
  let z = zeros([4])
  return (w, triangular_solve(L, triangular_solve(L, X.T @ y), transpose=true), grad(ridge_loss(w, X, y, 0.3), w), grad(ridge_loss(z, X, y, 0.3), z))
}

# The gradients of det and of inv against their closed forms: det(a)·a⁻ᵀ and −a⁻ᵀ·ḡ·a⁻ᵀ (ḡ = ones).
fn grads(a: f32[2, 5, 5]) -> (f32[2, 5, 5], f32[2, 5, 5], f32[2, 5, 5], f32[2, 5, 5]) {
  let ai = inv(a)
  let d = reshape(det(a), [2, 1, 1])
  let ones = ones_like(a)
  return (grad(sum(det(a)), a), d * ai.T, grad(sum(inv(a)), a), -(ai.T @ ones @ ai.T))
}
`;

describe('solve', () => {
  it('a·solve(a, b) = b on every backend, batched, with row swaps, for matrix and vector right-hand sides', async () => {
    const a = pivoting(3);
    const b = random([2, 5, 3], 4);
    const m = pivoting(5);
    const m0 = arr([5, 5], m.data.slice(0, 25));
    const v = random([5], 6);
    const want = [0, 1].flatMap((i) => reference(a.data.slice(i * 25, i * 25 + 25), b.data.slice(i * 15, i * 15 + 15), 5, 3).x);
    const wantV = reference(m0.data, v.data, 5, 1).x;
    for (const { stage, out } of await everywhere(SRC, 'solve_check', { a, b, m: m0, v })) {
      close(out[0]!, want, stage.tol * 10, `${stage.name} x`);
      close(out[1]!, new Array(30).fill(0), stage.tol, `${stage.name} a·x − b`);
      close(out[2]!, wantV, stage.tol * 10, `${stage.name} vector x`);
      close(out[3]!, new Array(5).fill(0), stage.tol, `${stage.name} m·u − v`);
    }
  }, 60_000);

  it('inv(a)·a = I on every backend', async () => {
    const a = pivoting(7);
    const eye = Array.from({ length: 50 }, (_, e) => (Math.floor((e % 25) / 5) === e % 5 ? 1 : 0));
    for (const { stage, out } of await everywhere(SRC, 'inverse', { a })) close(out[1]!, eye, stage.tol, `${stage.name} inv(a)·a`);
  }, 60_000);

  it('gives ±∞ or NaN on a singular matrix (no check), and slogdet (0, −∞), det 0, logdet −∞', async () => {
    const a = arr([3, 3], [1, 2, 3, 2, 4, 6, 1, 0, 1]);
    const b = arr([3], [1, 2, 3]);
    for (const { stage, out } of await everywhere(SRC, 'singular', { a, b })) {
      expect(Array.from(out[0]!.data).some((x) => !Number.isFinite(x)), `${stage.name} solve: ${Array.from(out[0]!.data)}`).toBe(true);
      expect([out[1]!.data[0], out[2]!.data[0], out[3]!.data[0], out[4]!.data[0]], stage.name).toEqual([0, -Infinity, 0, -Infinity]);
    }
  }, 60_000);

  it('reports a non-square matrix and a right-hand side with the wrong rows at the call (DL0318)', () => {
    const head = 'fn f(a: f32[3, 4], b: f32[3, 2], c: f32[3, 3], d: f32[4, 2]) -> f32 {\n  return ';
    const bad = (body: string) => {
      const text = `${head}${body}\n}\n`;
      return check(text, 'bad.dl').diagnostics.map((d) => ({ code: d.code, message: d.message, at: d.span ? text.slice(d.span.start, d.span.end) : '' }));
    };
    for (const [body, call] of [['sum(solve(a, b))', 'solve(a, b)'], ['sum(inv(a))', 'inv(a)'], ['det(a)', 'det(a)'], ['logdet(a)', 'logdet(a)'], ['sum(slogdet(a)[1])', 'slogdet(a)'], ['sum(solve(c, d))', 'solve(c, d)']]) {
      const [d] = bad(body!);
      expect(d, body).toMatchObject({ code: 'DL0318', at: call });
      expect(d!.message, body).toContain(`\`${call!.slice(0, call!.indexOf('('))}\``);
    }
    expect(bad('sum(solve(c, d))')[0]!.message).toMatch(/needs a right-hand side with 3 rows/);
  });
});

describe('slogdet / logdet / det', () => {
  it('det of a 2×2 is ad − bc, logdet(K) = 2·Σ log diag(cholesky(K)), and a batch agrees with elimination, on every backend', async () => {
    const a = pivoting(11);
    const t = arr([2, 2], [0.5, 2, 1.5, -1]);
    const x = random([6, 4], 12);
    const dets = [0, 1].map((i) => reference(a.data.slice(i * 25, i * 25 + 25), [], 5, 0).det);
    expect(dets.some((d) => d < 0) && dets.some((d) => d > 0), `the batch has both signs: ${dets}`).toBe(true);
    const hand = t.data[0]! * t.data[3]! - t.data[1]! * t.data[2]!;
    for (const { stage, out } of await everywhere(SRC, 'dets', { a, t, x })) {
      expect(Array.from(out[0]!.data), `${stage.name} sign`).toEqual(dets.map(Math.sign));
      close(out[1]!, dets.map((d) => Math.log(Math.abs(d))), stage.tol, `${stage.name} log|det|`);
      close(out[2]!, dets, stage.tol, `${stage.name} det`);
      close(out[3]!, [hand], stage.tol, `${stage.name} det 2×2`);
      close(out[4]!, out[5]!.data, stage.tol, `${stage.name} logdet(K) vs cholesky`);
    }
  }, 60_000);

  it('gives the sign of a negative determinant, and logdet NaN there', async () => {
    // Rows of diag(2, 3, 0.5) cycled: det = +3 (an even permutation), times −1 for the swapped first two rows.
    const a = arr([3, 3], [0, 3, 0, 2, 0, 0, 0, 0, 0.5]);
    for (const { stage, out } of await everywhere(SRC, 'negative', { a })) {
      expect(out[0]!.data[0], stage.name).toBe(-1);
      close(out[1]!, [Math.log(3)], stage.tol, `${stage.name} log|det|`);
      close(out[2]!, [-3], stage.tol, `${stage.name} det`);
      expect(out[3]!.data[0], stage.name).toBeNaN();
    }
  }, 60_000);

  it('keeps log|det| finite where det overflows f32 (det = ∞ there)', async () => {
    const r = stream(31);
    const a = arr([40, 40], Array.from({ length: 1600 }, (_, e) => (Math.floor(e / 40) === e % 40 ? 20 : 0) + 0.1 * r()));
    const want = Math.log(Math.abs(reference(a.data, [], 40, 0).det));
    expect(want).toBeGreaterThan(Math.log(3.4e38));
    for (const { stage, out } of await everywhere(SRC, 'big', { a })) {
      close(out[0]!, [want], stage.tol, `${stage.name} log|det|`);
      if (stage.name !== 'interp' && stage.name !== 'js-f64') expect(out[1]!.data[0], stage.name).toBe(Infinity);
    }
  }, 60_000);

  it('has gradients equal to their closed forms (det(a)·a⁻ᵀ, −a⁻ᵀ·ḡ·a⁻ᵀ) on every backend', async () => {
    for (const { stage, out } of await everywhere(SRC, 'grads', { a: pivoting(13) })) {
      close(out[0]!, out[1]!.data, stage.tol * 10, `${stage.name} grad det`);
      close(out[2]!, out[3]!.data, stage.tol * 10, `${stage.name} grad inv`);
    }
  }, 60_000);

  it('passes gradcheck through the whole pipeline (finite differences on JS f64)', async () => {
    const src = `fn f(x: f32[3, 3], y: f32[3, 2]) -> f32 {
  let K = x @ x.T + eye(3)
  let A = 2.0 * eye(3) + 0.3 * x
  return logdet(K) + det(A) + sum(solve(A, y) * y) + sum(inv(K)) + sum(solve(A, y[:, 0]))
}
`;
    const r = await gradcheck(src, 'f.dl', { fn: 'f', runs: 3, seed: 5, backend: 'js' });
    expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
  }, 60_000);
});

describe('seed catalog D1/D2 (closed forms of linear regression)', () => {
  const X = random([20, 4], 21);
  const y = arr([20], Array.from({ length: 20 }, (_, i) => [0.5, -1, 2, 0.25].reduce((s, w, j) => s + w * X.data[i * 4 + j]!, 0) + 0.3 * stream(22 + i)()));
  const XtX = Array.from({ length: 16 }, (_, e) => X.data.reduce((s, _v, i) => (i % 4 === 0 ? s + X.data[i + Math.floor(e / 4)]! * X.data[i + (e % 4)]! : s), 0));
  const Xty = Array.from({ length: 4 }, (_, j) => y.data.reduce((s, v, i) => s + v * X.data[i * 4 + j]!, 0));

  it('D1: OLS w* = (XᵀX)⁻¹Xᵀy, where the gradient of ½‖Xw − y‖² is ~0, on every backend', async () => {
    const want = reference(XtX, Xty, 4, 1).x;
    for (const { stage, out } of await everywhere(SRC, 'ols', { X, y })) {
      close(out[0]!, want, stage.tol * 10, `${stage.name} w*`);
      const g0 = maxAbs(out[2]!.data);
      expect(maxAbs(out[1]!.data) / g0, `${stage.name} |∇L(w*)| / |∇L(0)|`).toBeLessThan(stage.tol * 10);
    }
  }, 60_000);

  it('D2: ridge (XᵀX + nλI)⁻¹Xᵀy minimizes ‖Xw − y‖²/(2n) + (λ/2)‖w‖², equal to the Cholesky route, on every backend', async () => {
    const want = reference(XtX.map((v, e) => v + (e % 5 === 0 ? 0.3 * 20 : 0)), Xty, 4, 1).x;
    for (const { stage, out } of await everywhere(SRC, 'ridge', { X, y })) {
      close(out[0]!, want, stage.tol * 10, `${stage.name} w*`);
      close(out[1]!, out[0]!.data, stage.tol * 10, `${stage.name} cholesky route`);
      expect(maxAbs(out[2]!.data) / maxAbs(out[3]!.data), `${stage.name} |∇L(w*)| / |∇L(0)|`).toBeLessThan(stage.tol * 10);
    }
  }, 60_000);
});
