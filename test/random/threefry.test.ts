/**
 * Threefry-2x32-20 against the known-answer vectors of Random123 (kat_vectors), word 0, and the
 * uniform mapping's exactness.
 */
import { describe, expect, it } from 'vitest';
import { threefry, unitOf, UNIT } from '../../src/ir/ops/random.js';

describe('threefry-2x32-20', () => {
  it.each([
    [[0, 0], [0, 0], 0x6b200159],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], 0x1cb996fc],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], 0xc4923a9c],
  ])('key %j counter %j gives the Random123 answer', (key, ctr, want) => {
    expect(threefry(key[0]!, key[1]!, ctr[0]!, ctr[1]!)).toBe(want);
    // i32 inputs (as tensors hold them) give the same bits as their uint32 spelling.
    expect(threefry(key[0]! | 0, key[1]! | 0, ctr[0]! | 0, ctr[1]! | 0)).toBe(want);
  });

  it('maps bits to multiples of 2^-24 in [0, 1), exact in f32', () => {
    expect(UNIT).toBe(2 ** -24);
    for (const bits of [0, 1, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const u = unitOf(bits);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(Math.fround(u)).toBe(u);
      expect(u * 2 ** 24).toBe(bits >>> 8);
    }
  });
});
