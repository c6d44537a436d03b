/**
 * @file Philox-4x32-10, a counter-based generator: the stream for (key, counter) is a pure
 * function, so every backend can produce the same numbers in any order. No compiler imports.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const p0 = aLo * bLo;
  const p1 = aLo * bHi;
  const p2 = aHi * bLo;
  const p3 = aHi * bHi;
  const mid = (p0 >>> 16) + (p1 & 0xffff) + (p2 & 0xffff);
  return (p3 + (p1 >>> 16) + (p2 >>> 16) + (mid >>> 16)) >>> 0;
}

/** Four uint32 outputs for a 128-bit counter (c0..c3) under a 64-bit key (k0, k1). */
export function philox(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): [number, number, number, number] {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** FNV-1a hash of a string, for deriving per-name stream keys. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uint32 in (0, 1): never exactly 0, so log() is safe. */
export function toUnit(u: number): number {
  return (u + 0.5) / 4294967296;
}

/** A stream of uniform and normal numbers for one key, indexed by position. */
export class RandomStream {
  constructor(
    readonly k0: number,
    readonly k1: number,
  ) {}

  static forName(seed: number, name: string): RandomStream {
    return new RandomStream(seed >>> 0, hashString(name));
  }

  /** n uniforms in (0, 1). */
  uniform(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = philox(i / 4, 0, 0, 0, this.k0, this.k1);
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = toUnit(r[j]!);
    }
    return out;
  }

  /** n standard normals (Box–Muller on pairs of uniforms from the same counter block). */
  normal(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = philox(i / 4, 1, 0, 0, this.k0, this.k1);
      for (let p = 0; p < 2; p++) {
        const u1 = toUnit(r[2 * p]!);
        const u2 = toUnit(r[2 * p + 1]!);
        const rad = Math.sqrt(-2 * Math.log(u1));
        const th = 2 * Math.PI * u2;
        if (i + 2 * p < n) out[i + 2 * p] = rad * Math.cos(th);
        if (i + 2 * p + 1 < n) out[i + 2 * p + 1] = rad * Math.sin(th);
      }
    }
    return out;
  }
}
