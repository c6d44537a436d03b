/**
 * @file The data order of a training run: a seeded shuffle that is a pure function of
 * (seed, epoch, n), so a resumed run visits the examples in exactly the same order.
 */

/** A 32-bit mix (the finalizer of MurmurHash3), used to derive a stream from (seed, epoch). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mulberry32: a small, fast generator of 32-bit integers; deterministic from its state. */
export class Mulberry32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** The next value in 0..2^32-1. */
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniform integer in 0..n-1 (n ≤ 2^32), without modulo bias. */
  below(n: number): number {
    const limit = Math.floor(0x100000000 / n) * n;
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }
}

/** The generator for one epoch of a run with seed `seed`. */
export function epochRng(seed: number, epoch: number): Mulberry32 {
  return new Mulberry32(mix32(mix32(seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b9)));
}

/** The order in which epoch `epoch` visits examples 0..n-1: a Fisher–Yates shuffle. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = epochRng(seed, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
