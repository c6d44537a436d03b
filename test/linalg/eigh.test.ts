/**
 * eigh / eigvalsh (cyclic Jacobi, src/ir/ops/linalg/eigh.ts) through the whole pipeline: .dl
 * source compiled, run on the interpreter (the lowered graph, float64), then simplified and run
 * on JS f64, JS f32 and WebGPU. On every backend: V·diag(λ)·Vᵀ = a, VᵀV = I, trace a = Σλ, λ
 * ascending, the sign convention, only the lower triangle read; a graph Laplacian's smallest
 * eigenvalue is 0 with the constant eigenvector, a cycle's spectrum is 2 − 2cos(2πk/n), and a
 * spectral (heat-kernel) filter V·diag(e^{−tλ})·Vᵀ·x matches e^{−tL}·x (seed catalog §1.7) even
 * with repeated eigenvalues; eigenvalue gradients against Φ(2·V·diag(w)·Vᵀ), at a repeated
 * eigenvalue too; finite differences of eigenvector losses (gradcheck).
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/index.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { onEveryStage, stages } from '../helpers/stages.js';

const STAGES = stages(1e-12, 1e-5);

/** Deterministic values in [-1, 1) (a linear congruential stream), rounded to f32. */
function values(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(s / 2 ** 31 - 1);
  });
}

/** Batches of random symmetric n×n matrices (a + aᵀ). */
function symmetric(batch: number, n: number, seed: number): NDArray {
  const r = values(batch * n * n, seed);
  const data = new Float64Array(batch * n * n);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[b * n * n + i * n + j] = Math.fround(r[b * n * n + i * n + j]! + r[b * n * n + j * n + i]!);
  return new NDArray([batch, n, n], data);
}

function everywhere(src: string, entry: string, inputs: Record<string, NDArray>) {
  return onEveryStage(STAGES, src, entry, inputs, 'eigh.dl');
}

const maxAbs = (x: ArrayLike<number>) => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * The identities one eigendecomposition (λ [n], V [n, n] with eigenvectors as columns) of the
 * symmetric a (read from its lower triangle) satisfies, to tol·scale.
 */
function checkDecomposition(a: ArrayLike<number>, lam: ArrayLike<number>, V: ArrayLike<number>, n: number, tol: number, what: string): void {
  const sym = (i: number, j: number) => a[Math.max(i, j) * n + Math.min(i, j)]!;
  const scale = Math.max(1, maxAbs(a));
  let rec = 0;
  let orth = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        s += V[i * n + k]! * lam[k]! * V[j * n + k]!;
        o += V[k * n + i]! * V[k * n + j]!;
      }
      rec = Math.max(rec, Math.abs(s - sym(i, j)));
      orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
    }
  expect(rec, `${what}: max |V·diag(λ)·Vᵀ − a|`).toBeLessThanOrEqual(tol * scale * n);
  expect(orth, `${what}: max |VᵀV − I|`).toBeLessThanOrEqual(tol * n);
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i]!;
  const sumLam = Array.from(lam).reduce((s, v) => s + v, 0);
  expect(Math.abs(tr - sumLam), `${what}: trace a − Σλ`).toBeLessThanOrEqual(tol * scale * n);
  for (let k = 1; k < n; k++) expect(lam[k]!, `${what}: λ ascending`).toBeGreaterThanOrEqual(lam[k - 1]!);
  for (let k = 0; k < n; k++) {
    const col = Array.from({ length: n }, (_, i) => V[i * n + k]!);
    const big = maxAbs(col);
    const first = col.find((v) => Math.abs(v) >= 0.999 * big)!;
    expect(first, `${what}: eigenvector ${k}'s sign (its first component of near-largest magnitude is positive)`).toBeGreaterThan(0);
  }
}

const slice = (x: NDArray, b: number, per: number) => x.data.subarray(b * per, (b + 1) * per);

const SRC = `
fn decompose(a: f32[3, 7, 7]) -> (f32[3, 7], f32[3, 7, 7], f32[3, 7]) {
  let (l, v) = eigh(a)
  return (l, v, eigvalsh(a))
}

fn big(a: f32[2, 24, 24]) -> (f32[2, 24], f32[2, 24, 24]) {
  let (l, v) = eigh(a)
  return (l, v)
}

# Only the lower triangle is read: the upper one may hold anything (junk is zero on and below the diagonal).
fn lower(a: f32[5, 5], junk: f32[5, 5]) -> (f32[5], f32[5, 5], f32[5], f32[5, 5]) {
  let (l, v) = eigh(a)
  let (m, w) = eigh(a + junk)
  return (l, v, m, w)
}

# Seed catalog §1.7: a spectral graph filter on the Laplacian L = D − A, the heat kernel e^{−tL}.
fn spectral(adj: f32[8, 8], x: f32[8]) -> (f32[8], f32[8, 8], f32[8]) {
  let L = reshape(sum(adj, axis=1), [8, 1]) * eye(8) - adj
  let (l, v) = eigh(L)
  return (l, v, v @ (exp(-0.5 * l) * (v.T @ x)))
}

fn small(a: f32[2, 4, 4]) -> (f32[2, 4], f32[2, 4, 4]) {
  let (l, v) = eigh(a)
  return (l, v)
}

# Eigenvalue gradients: d(Σ w_k λ_k)/da on the lower triangle is Φ(2·V·diag(w)·Vᵀ).
fn weighted(a: f32[5, 5], w: f32[5]) -> (f32[5, 5], f32[5, 5]) {
  let (l, v) = eigh(a)
  return (v, grad(sum(eigvalsh(a) * w), a))
}

# At a repeated eigenvalue (a multiple of I) the gradient of Σλ (the trace) is still I.
fn repeated(a: f32[4, 4]) -> (f32[4], f32[4, 4]) {
  return (eigvalsh(a), grad(sum(eigvalsh(a)), a))
}
`;

describe('eigh', () => {
  it('V·diag(λ)·Vᵀ = a, VᵀV = I, trace = Σλ, ascending, signed, on every backend (batched, n = 7)', async () => {
    const a = symmetric(3, 7, 11);
    const runs = await everywhere(SRC, 'decompose', { a });
    for (const { stage, out } of runs) {
      for (let b = 0; b < 3; b++) checkDecomposition(slice(a, b, 49), slice(out[0]!, b, 7), slice(out[1]!, b, 49), 7, stage.tol, `${stage.name} matrix ${b}`);
      expect(Array.from(out[2]!.data), `${stage.name}: eigvalsh = eigh's eigenvalues`).toEqual(Array.from(out[0]!.data));
    }
    // The sign convention makes the eigenvectors themselves agree across backends.
    const ref = runs[0]!.out;
    for (const { stage, out } of runs.slice(1)) {
      expect(maxAbs(Array.from(out[1]!.data, (v, i) => v - ref[1]!.data[i]!)), `${stage.name} V vs the interpreter`).toBeLessThan(stage.tol * 100);
      expect(maxAbs(Array.from(out[0]!.data, (v, i) => v - ref[0]!.data[i]!)), `${stage.name} λ vs the interpreter`).toBeLessThan(stage.tol * 100);
    }
  }, 60_000);

  it('n = 24 (several WebGPU threads per phase and round)', async () => {
    const a = symmetric(2, 24, 5);
    for (const { stage, out } of await everywhere(SRC, 'big', { a })) {
      for (let b = 0; b < 2; b++) checkDecomposition(slice(a, b, 576), slice(out[0]!, b, 24), slice(out[1]!, b, 576), 24, stage.tol, `${stage.name} matrix ${b}`);
    }
  }, 60_000);

  it('reads only the lower triangle (n = 5, odd: a padded round)', async () => {
    const a = symmetric(1, 5, 3);
    const junk = new NDArray([5, 5], Float64Array.from(values(25, 9), (v, e) => (e % 5 > Math.floor(e / 5) ? 10 * v : 0)));
    for (const { stage, out } of await everywhere(SRC, 'lower', { a: new NDArray([5, 5], a.data), junk })) {
      checkDecomposition(a.data, out[0]!.data, out[1]!.data, 5, stage.tol, stage.name);
      expect(Array.from(out[2]!.data), `${stage.name}: eigenvalues with junk above the diagonal`).toEqual(Array.from(out[0]!.data));
      expect(Array.from(out[3]!.data), `${stage.name}: eigenvectors with junk above the diagonal`).toEqual(Array.from(out[1]!.data));
    }
  }, 60_000);
});

describe('eigh on bad input', () => {
  it('a NaN or an infinity in the matrix gives NaN everywhere', async () => {
    const a = symmetric(2, 4, 41);
    a.data[4] = NaN; // below the diagonal of matrix 0: read
    a.data[16 + 10] = Infinity; // on the diagonal of matrix 1
    for (const { stage, out } of await everywhere(SRC, 'small', { a })) {
      for (const x of out) expect(Array.from(x.data).every(Number.isNaN), `${stage.name}: ${Array.from(x.data).slice(0, 6).join(', ')}`).toBe(true);
    }
  }, 60_000);
});

describe('seed catalog §1.7: spectral graph filters', () => {
  /** The heat kernel e^{−tL}·x by its Taylor series, in float64. */
  function heat(L: number[], x: number[], t: number): number[] {
    const n = x.length;
    let term = [...x];
    const sum = [...x];
    for (let k = 1; k < 60; k++) {
      term = Array.from({ length: n }, (_, i) => (-t / k) * term.reduce((s, v, j) => s + L[i * n + j]! * v, 0));
      for (let i = 0; i < n; i++) sum[i]! += term[i]!;
    }
    return sum;
  }
  const laplacian = (adj: ArrayLike<number>, n: number) =>
    Array.from({ length: n * n }, (_, e) => {
      const i = Math.floor(e / n);
      const j = e % n;
      if (i !== j) return -adj[e]!;
      let d = 0;
      for (let k = 0; k < n; k++) d += adj[i * n + k]!;
      return d - adj[e]!;
    });

  it('a weighted graph: smallest eigenvalue 0 with the constant eigenvector; the heat filter is e^{−tL}·x', async () => {
    const r = values(64, 17);
    const adj = new Float64Array(64);
    // A random weighted graph on a ring (connected): weights in [0.2, 1.2), some chords.
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < i; j++) {
        const w = (i - j === 1 || i - j === 7 || r[i * 8 + j]! > 0.3 ? Math.fround(0.7 + 0.5 * r[j * 8 + i]!) : 0);
        adj[i * 8 + j] = adj[j * 8 + i] = w;
      }
    const x = values(8, 23);
    const want = heat(laplacian(adj, 8), x, 0.5);
    for (const { stage, out } of await everywhere(SRC, 'spectral', { adj: new NDArray([8, 8], adj), x: new NDArray([8], Float64Array.from(x)) })) {
      const [l, v, y] = out as [NDArray, NDArray, NDArray];
      checkDecomposition(laplacian(adj, 8), l.data, v.data, 8, stage.tol, stage.name);
      expect(Math.abs(l.data[0]!), `${stage.name}: λ_min`).toBeLessThan(stage.tol * 20);
      expect(l.data[1]!, `${stage.name}: λ_2 > 0 (connected)`).toBeGreaterThan(0.1);
      for (let i = 0; i < 8; i++) expect(Math.abs(v.data[i * 8]! - 1 / Math.sqrt(8)), `${stage.name}: v_0[${i}] = 1/√8`).toBeLessThan(stage.tol * 20);
      expect(maxAbs(Array.from(y.data, (u, i) => u - want[i]!)), `${stage.name}: heat filter`).toBeLessThan(stage.tol * 20);
      // The filter keeps the mean (the constant component, λ = 0).
      expect(Math.abs(Array.from(y.data).reduce((s, u) => s + u, 0) - x.reduce((s, u) => s + u, 0)), `${stage.name}: mean kept`).toBeLessThan(stage.tol * 20);
    }
  }, 60_000);

  it('the cycle C8: eigenvalues 2 − 2cos(2πk/8), repeated ones included, and the filter is still e^{−tL}·x', async () => {
    const adj = new Float64Array(64);
    for (let i = 0; i < 8; i++) adj[i * 8 + ((i + 1) % 8)] = adj[((i + 1) % 8) * 8 + i] = 1;
    const lam = Array.from({ length: 8 }, (_, k) => 2 - 2 * Math.cos((2 * Math.PI * k) / 8)).sort((p, q) => p - q);
    const x = values(8, 29);
    const want = heat(laplacian(adj, 8), x, 0.5);
    for (const { stage, out } of await everywhere(SRC, 'spectral', { adj: new NDArray([8, 8], adj), x: new NDArray([8], Float64Array.from(x)) })) {
      const [l, v, y] = out as [NDArray, NDArray, NDArray];
      expect(maxAbs(Array.from(l.data, (u, i) => u - lam[i]!)), `${stage.name}: spectrum`).toBeLessThan(stage.tol * 20);
      checkDecomposition(laplacian(adj, 8), l.data, v.data, 8, stage.tol, stage.name);
      for (let i = 0; i < 8; i++) expect(Math.abs(v.data[i * 8]! - 1 / Math.sqrt(8)), `${stage.name}: v_0[${i}]`).toBeLessThan(stage.tol * 20);
      expect(maxAbs(Array.from(y.data, (u, i) => u - want[i]!)), `${stage.name}: heat filter`).toBeLessThan(stage.tol * 20);
    }
  }, 60_000);
});

describe('eigh gradients', () => {
  it('d(Σ w_k λ_k)/da = Φ(2·V·diag(w)·Vᵀ) on every backend', async () => {
    const a = new NDArray([5, 5], symmetric(1, 5, 31).data);
    const w = new NDArray([5], Float64Array.from([0.5, -1, 0, 2, 1]));
    for (const { stage, out } of await everywhere(SRC, 'weighted', { a, w })) {
      const [v, g] = out as [NDArray, NDArray];
      const want = Array.from({ length: 25 }, (_, e) => {
        const i = Math.floor(e / 5);
        const j = e % 5;
        if (i < j) return 0;
        let s = 0;
        for (let k = 0; k < 5; k++) s += v.data[i * 5 + k]! * w.data[k]! * v.data[j * 5 + k]!;
        return i === j ? s : 2 * s;
      });
      expect(maxAbs(Array.from(g.data, (u, e) => u - want[e]!)), `${stage.name}: gradient`).toBeLessThan(stage.tol * 50);
    }
  }, 60_000);

  it('at a repeated eigenvalue (a = 2I) the gradient of Σλ is I, not NaN', async () => {
    const a = new NDArray([4, 4], Float64Array.from({ length: 16 }, (_, e) => (e % 5 === 0 ? 2 : 0)));
    for (const { stage, out } of await everywhere(SRC, 'repeated', { a })) {
      expect(Array.from(out[0]!.data), `${stage.name}: eigenvalues`).toEqual([2, 2, 2, 2]);
      expect(Array.from(out[1]!.data), `${stage.name}: gradient`).toEqual(Array.from(a.data, (u) => u / 2));
    }
  }, 60_000);

  it('passes gradcheck through the whole pipeline (eigenvector and eigenvalue losses, finite differences on JS f64)', async () => {
    // a = x + xᵀ reads both triangles of x; the loss is quadratic in V (independent of its signs).
    const src = `fn f(x: f32[4, 4], c: f32[4, 4]) -> f32 {
  let (l, v) = eigh(x + x.T + 3.0 * eye(4))
  return sum(v * v * c) + sum(l * l) + sum(eigvalsh(x @ x.T))
}
`;
    const r = await gradcheck(src, 'f.dl', { fn: 'f', runs: 3, seed: 7, backend: 'js', wrt: ['x'] });
    expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
    expect(r.functions[0]!.runs).toBe(3);
    expect(r.functions[0]!.skipped).toBeUndefined();
  }, 60_000);
});

describe('eigh errors', () => {
  it('a matrix that is not square is DL0318 at the call', () => {
    const text = 'fn f(a: f32[3, 4]) -> f32[3] {\n  return eigvalsh(a)\n}\n';
    const d = check(text, 'e.dl').diagnostics;
    expect(d.map((x) => x.code)).toEqual(['DL0318']);
    expect(d[0]!.message).toContain('`eigvalsh` needs a square matrix');
    expect(text.slice(d[0]!.span!.start, d[0]!.span!.end)).toBe('eigvalsh(a)');
  });
});
