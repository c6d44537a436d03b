/**
 * Index expressions through reshapes. A reshape chain gives back the flat index it started from
 * (the same expression: what lets a contraction's epilogue read its accumulator through reshapes,
 * as the fusion plan decides), and sameIndexValue, which decides on digit forms that two index
 * expressions agree over a loop domain, is checked against brute force: whenever it answers true
 * the two agree at every point.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flatIndex, idx, lit, ix, unflatten, type Expr } from '../../src/kernel/expr.js';
import { sameIndexValue } from '../../src/kernel/affine.js';

function evalIndex(e: Expr, env: ReadonlyMap<string, number>): number {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'idx':
      return env.get(e.v)!;
    case 'ix': {
      const a = evalIndex(e.a, env);
      const b = evalIndex(e.b, env);
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      if (e.op === '*') return a * b;
      if (e.op === '/') return Math.floor(a / b);
      if (e.op === '%') return a % b;
      throw new Error(`op ${e.op}`);
    }
    default:
      throw new Error(`kind ${e.k}`);
  }
}

function points(shape: readonly number[]): Map<string, number>[] {
  const out: Map<string, number>[] = [];
  const n = shape.reduce((a, b) => a * b, 1);
  for (let f = 0; f < n; f++) {
    const env = new Map<string, number>();
    let r = f;
    for (let d = shape.length - 1; d >= 0; d--) {
      env.set(`e${d}`, r % shape[d]!);
      r = Math.floor(r / shape[d]!);
    }
    out.push(env);
  }
  return out;
}

const agree = (a: Expr, b: Expr, shape: readonly number[]) => points(shape).every((p) => evalIndex(a, p) === evalIndex(b, p));

/** Shapes with the same number of elements as `n`: factorizations, with size-1 axes sprinkled in. */
const factorsOf = (n: number) => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }).map((ks) => {
  const shape: number[] = [];
  let rest = n;
  for (const k of ks) {
    const d = [k, 2, 3, 1].find((x) => rest % x === 0 && x <= rest) ?? 1;
    shape.push(d);
    rest /= d;
  }
  shape.push(rest);
  return shape;
});

const domain = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 });

describe('flatIndex of unflatten', () => {
  it('gives back the flat index through any chain of reshapes', () => {
    fc.assert(
      fc.property(domain.chain((d) => fc.tuple(fc.constant(d), fc.array(factorsOf(d.reduce((a, b) => a * b, 1)), { minLength: 1, maxLength: 3 }))), ([d, chain]) => {
        const own = flatIndex(d.map((_, i) => idx(`e${i}`)), d);
        let flat = own;
        for (const s of chain) flat = flatIndex(unflatten(flat, s), s);
        expect(flat).toBe(own);
        // Rebuilt without the shortcut, the expression still agrees with the flat index everywhere.
        let rebuilt = own;
        for (const s of chain) rebuilt = flatIndex([...unflatten(rebuilt, s)], s);
        expect(agree(rebuilt, own, d)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sameIndexValue', () => {
  it('answers true only when the two agree everywhere', () => {
    // Permutations and offsets give different index functions; the answer must never be a false "same".
    fc.assert(
      fc.property(domain, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 }), (d, shift, perm) => {
        const vars = d.map((_, i) => idx(`e${i}`));
        const own = flatIndex(vars, d);
        const order = vars.map((_, i) => (i + perm) % vars.length);
        const permuted = flatIndex(order.map((i) => vars[i]!), order.map((i) => d[i]!));
        const shifted = ix('%', ix('+', own, lit(shift)), lit(d.reduce((a, b) => a * b, 1)));
        const sizes = new Map(d.map((n, i) => [`e${i}`, n] as const));
        for (const other of [permuted, shifted]) {
          if (sameIndexValue(other, own, sizes)) expect(agree(other, own, d)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('splits a digit over a sum whose lower terms stay below its coefficient', () => {
    // (e1 + 8·e0) / 24 over e0 < 6, e1 < 8 is e0 / 3: the case a reshape [6, 8] → [2, 3, 8] makes.
    const flat = ix('+', idx('e1'), ix('*', idx('e0'), lit(8)));
    const sizes = new Map([['e0', 6], ['e1', 8]]);
    expect(sameIndexValue(ix('/', flat, lit(24)), ix('/', idx('e0'), lit(3)), sizes)).toBe(true);
    expect(sameIndexValue(ix('%', flat, lit(24)), ix('+', idx('e1'), ix('*', ix('%', idx('e0'), lit(3)), lit(8))), sizes)).toBe(true);
    // A lower term that can carry (e1 < 9 with coefficient 8) is not split.
    expect(sameIndexValue(ix('/', flat, lit(24)), ix('/', idx('e0'), lit(3)), new Map([['e0', 6], ['e1', 9]]))).toBe(false);
  });
});
