/**
 * Plain-JavaScript reference implementations used as oracles by the numerics tests: a seeded
 * PRNG, direct cross-correlation, pooling and NumPy-style matmul written as nested loops, with
 * no code shared with the compiler.
 */

/** A small deterministic PRNG (mulberry32) so test inputs are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi). */
export function uniform(r: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major flat offset of a multi-index. */
export function offset(shape: readonly number[], idx: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < shape.length; d++) off = off * shape[d]! + idx[d]!;
  return off;
}

/** All multi-indices of a shape in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

export interface ConvConfig {
  stride: number[];
  pad: number[];
  dilation: number[];
  groups: number;
}

/** Output size of one windowed axis. */
export function convOutSize(x: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((x + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * Direct N-d cross-correlation: x [N, C, *S], w [O, C/groups, *K] → [N, O, *S'], zero padding
 * (symmetric `pad` per spatial axis), stride, dilation and groups.
 */
export function conv(x: number[], xs: number[], w: number[], ws: number[], c: ConvConfig): { data: number[]; shape: number[] } {
  const nd = ws.length - 2;
  const N = xs[0]!;
  const [O, Cg] = [ws[0]!, ws[1]!];
  const K = ws.slice(2);
  const S = xs.slice(2);
  const So = S.map((s, i) => convOutSize(s, K[i]!, c.stride[i]!, c.pad[i]!, c.dilation[i]!));
  const shape = [N, O, ...So];
  const data = new Array<number>(numel(shape)).fill(0);
  const og = O / c.groups;
  for (const [n, o, ...pos] of indices(shape)) {
    const g = Math.floor(o! / og);
    let acc = 0;
    for (let ci = 0; ci < Cg; ci++) {
      const cin = g * Cg + ci;
      for (const k of indices(K)) {
        const src: number[] = [];
        let inside = true;
        for (let i = 0; i < nd; i++) {
          const p = pos[i]! * c.stride[i]! + k[i]! * c.dilation[i]! - c.pad[i]!;
          if (p < 0 || p >= S[i]!) inside = false;
          src.push(p);
        }
        if (!inside) continue;
        acc += x[offset(xs, [n!, cin, ...src])]! * w[offset(ws, [o!, ci, ...k])]!;
      }
    }
    data[offset(shape, [n!, o!, ...pos])] = acc;
  }
  return { data, shape };
}

/** NumPy `matmul` semantics written out with loops (1-d operands promoted and squeezed). */
export function matmul(a: number[], as: number[], b: number[], bs: number[]): { data: number[]; shape: number[] } {
  const aVec = as.length === 1;
  const bVec = bs.length === 1;
  const A = aVec ? [1, as[0]!] : as;
  const B = bVec ? [bs[0]!, 1] : bs;
  const [M, K] = [A[A.length - 2]!, A[A.length - 1]!];
  const [K2, Nn] = [B[B.length - 2]!, B[B.length - 1]!];
  if (K !== K2) throw new Error('reference matmul: inner sizes differ');
  const ab = A.slice(0, -2);
  const bb = B.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < nb; i++) {
    const da = ab[ab.length - nb + i] ?? 1;
    const db = bb[bb.length - nb + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error('reference matmul: batch does not broadcast');
    batch.push(Math.max(da, db));
  }
  const full = [...batch, M, Nn];
  const data = new Array<number>(numel(full)).fill(0);
  const pick = (own: number[], bi: number[]) => bi.slice(bi.length - own.length).map((v, i) => (own[i] === 1 ? 0 : v));
  for (const idx of indices(full)) {
    const bi = idx.slice(0, nb);
    const [m, n] = [idx[nb]!, idx[nb + 1]!];
    let acc = 0;
    for (let k = 0; k < K; k++) {
      acc += a[offset(A, [...pick(ab, bi), m, k])]! * b[offset(B, [...pick(bb, bi), k, n])]!;
    }
    data[offset(full, idx)] = acc;
  }
  let shape = full;
  if (aVec) shape = [...batch, Nn];
  if (bVec) shape = aVec ? [...batch] : [...batch, M];
  return { data, shape };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
