/**
 * "Did you mean" compares an unknown name with every name in scope, so on a large file with many
 * errors it must be cheap: `closest` uses a distance that fills only the diagonal band of the
 * table. It must agree with the full edit distance wherever the answer matters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedDistance, closest, editDistance } from '../../src/diagnostics/suggest.js';

describe('bounded edit distance', () => {
  it('is the edit distance capped at limit + 1 (insertions, deletions, substitutions, swaps, any case, non-ASCII letters)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'k', 'A', 'K', '\u212a', 'é', 'É', 'İ', '_', '1'), maxLength: 9 });
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, limit) => {
        expect(boundedDistance(a, b, limit)).toBe(Math.min(editDistance(a, b), limit + 1));
      }),
      { numRuns: 3000 },
    );
  });

  it('suggestions are unchanged: closest names by case, swap, and typo among many candidates', () => {
    const names = Array.from({ length: 500 }, (_, i) => `layer_${i}`);
    expect(closest('layer_124x', names)).toBe('layer_124');
    expect(closest('lyaer_7', names)).toBe('layer_7');
    expect(closest('LAYER_42', names)).toBe('layer_42');
    expect(closest('softmx', ['softmax', 'sigmoid', 'sum'])).toBe('softmax');
    expect(closest('zzzzzzz', names)).toBeUndefined();
  });
});
