/**
 * Indices computed inside a program that fall outside their axis — negative ones included — are
 * clamped to the nearest valid index on every backend (docs/ops.md, "Indices"); a negative index
 * does not count from the end. (Values from outside are checked where they enter: test/runtime.)
 */
import { describe, expect, it } from 'vitest';
import { mismatches, runOn, TARGETS } from './backends.js';

describe('out-of-range gather indices are clamped, not counted from the end', () => {
  it('take(x, i - 2), take(x, i + 2), x[i * 3 - 4] and the gradient (scatter_add) agree everywhere', async () => {
    const src = [
      'fn f(x: f32[4], i: i32[4]) -> (f32[4], f32[4], f32[4], f32[4]) {',
      '  let g = grad(sum(take(x, i - 2) * [1.0, 2.0, 3.0, 4.0]), x)',
      '  return (take(x, i - 2), take(x, i + 2), x[i * 3 - 4], g)',
      '}',
    ].join('\n');
    const want: Record<string, number[]> = {
      out0: [10, 10, 10, 20], // indices −2, −1, 0, 1
      out1: [30, 40, 40, 40], // 2, 3, 4, 5
      out2: [10, 10, 30, 40], // −4, −1, 2, 5
      g: [6, 4, 0, 0], // −2 and −1 land on 0 with 0: 1 + 2 + 3; 1 gets 4
    };
    const bad: string[] = [];
    for (const t of TARGETS) {
      const out = await runOn(t, src, { x: { shape: [4], data: [10, 20, 30, 40] }, i: { shape: [4], data: [0, 1, 2, 3] } });
      for (const [name, w] of Object.entries(want)) bad.push(...mismatches(out.get(name) ?? [], w).map((m) => `${t.name} ${name}${m}`));
    }
    expect(bad).toEqual([]);
  });
});
