import { describe, expect, it } from 'vitest';
import { nd, run } from './helpers/compile.js';

describe('end to end', () => {
  it('softmax rows sum to 1 and the max-shift keeps large logits finite', () => {
    const out = run('fn f(x: f32[2, 3]) { return softmax(x) }', 'f', { x: nd([2, 3], [1, 2, 3, 1000, 1000, 1001]) }).get('out')!;
    expect(out.data[0]! + out.data[1]! + out.data[2]!).toBeCloseTo(1, 12);
    expect(out.data[3]! + out.data[4]! + out.data[5]!).toBeCloseTo(1, 12);
    expect(out.data[5]).toBeCloseTo(Math.E / (Math.E + 2), 12);
  });
});
