/** Adapts an op's `test.sample(draw)` to fast-check's `fc.gen()`, so drawn cases shrink. */
import fc from 'fast-check';
import type { Draw } from '../../src/ir/op.js';

export function drawFrom(g: fc.GeneratorValue): Draw {
  return {
    int: (min, max) => g(fc.integer, { min, max }),
    bool: () => g(fc.boolean),
    pick: (xs) => xs[g(fc.integer, { min: 0, max: xs.length - 1 })]!,
    shape(minRank, maxRank, maxDim = 4) {
      const r = g(fc.integer, { min: minRank, max: maxRank });
      return Array.from({ length: r }, () => g(fc.integer, { min: 1, max: maxDim }));
    },
  };
}

/** More cases in CI, fewer on a laptop. */
export const RUNS = process.env['CI'] ? 60 : 20;
