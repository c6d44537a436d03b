/** Helpers for test/examples.test.ts: seeded random inputs, parameter stores and array comparisons. */
import { NDArray, type Graph, type ParamStore } from '../../src/index.js';

/** A small seeded PRNG (mulberry32) with uniform, normal and integer draws. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = Math.max(this.uniform(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
  normals(shape: readonly number[]): NDArray {
    return NDArray.from(shape, Array.from({ length: numel(shape) }, () => this.normal()));
  }
  ints(shape: readonly number[], n: number): NDArray {
    return NDArray.from(shape, Array.from({ length: numel(shape) }, () => this.int(n)));
  }
  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    const p = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }
  /** A symmetric 0/1 adjacency matrix with a zero diagonal. */
  adjacency(n: number, p = 0.5): NDArray {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const e = this.uniform() < p ? 1 : 0;
        a[i * n + j] = e;
        a[j * n + i] = e;
      }
    return new NDArray([n, n], a);
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((p, q) => p * q, 1);
}

export function inputName(n: Graph['inputs'][number]): string {
  return String(n.attrs['name']);
}

/**
 * Seeded inputs for every input of a graph: N(0, 1) for f32, 0 or 1 for i32 and bool (valid labels
 * and token ids for every example, as the CLI does), and a random graph for a square f32 input
 * named `A` (an adjacency matrix).
 */
export function randomInputs(g: Graph, seed: number): Record<string, NDArray> {
  const rng = new Rng(seed);
  const out: Record<string, NDArray> = {};
  for (const i of g.inputs) {
    const name = inputName(i);
    const { dtype, shape } = i.type;
    if (dtype === 'f32' && name === 'A' && shape.length === 2 && shape[0] === shape[1]) out[name] = rng.adjacency(shape[0]!);
    else if (dtype === 'f32') out[name] = rng.normals(shape);
    else out[name] = rng.ints(shape, 2);
  }
  return out;
}

/** A copy of a parameter store with the named parameters replaced by zeros. */
export function zeroed(params: ParamStore, which: (name: string) => boolean): ParamStore {
  const out: ParamStore = new Map();
  for (const [k, v] of params) out.set(k, which(k) ? NDArray.zeros(v.shape) : v);
  return out;
}

/** A copy of a parameter store with one element of one parameter shifted by h. */
export function shifted(params: ParamStore, name: string, index: number, h: number): ParamStore {
  const out: ParamStore = new Map(params);
  const p = params.get(name)!;
  const data = Float64Array.from(p.data);
  data[index]! += h;
  out.set(name, new NDArray([...p.shape], data));
  return out;
}

/** The largest absolute difference between two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Slices of a row-major array along axis 0..k: the elements of x[i0, i1, …]. */
export function sub(x: NDArray, ...idx: number[]): number[] {
  let off = 0;
  for (let i = 0; i < idx.length; i++) off += idx[i]! * x.strides[i]!;
  const n = numel(x.shape.slice(idx.length));
  return Array.from(x.data.subarray(off, off + n));
}
