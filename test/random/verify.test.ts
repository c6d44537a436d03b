/**
 * `dlc verify` checks random draws bit for bit: besides each output (to its tolerance), every
 * random primitive of a program is compared on JS f64, JS f32 and WebGPU with the interpreter's
 * draw, and any difference at all is a mismatch (docs/random.md).
 */
import { describe, expect, it } from 'vitest';
import { verifySource } from '../../src/cli/commands/verify.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = `
fn noisy(x: f32[8, 40]) -> f32[8, 40] {
  # Scaled by numbers that are not powers of two: the output agrees only to f32 rounding.
  return dropout(x, 0.3, training=true) + normal([8, 40], 0.3, 1.7) * uniform([8, 40], -0.7, 2.9)
}
fn ints(x: f32[8, 40]) -> i32[8, 40] {
  return randint([8, 40], -5, 9) + reshape(categorical(x, axis=1), [8, 1]) * 0
}
fn plain(x: f32[8, 40]) -> f32 {
  return sum(x * x)
}
`;

describe('dlc verify on random programs', () => {
  it('compares every draw exactly on every backend, outputs to their tolerance', async () => {
    const r = await verifySource('random.dl', SRC, { seed: 3 });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const draws = r.comparisons.filter((c) => c.exact);
    const backends = ['js f64', 'js f32', ...(WEBGPU ? ['webgpu f32'] : [])];
    // noisy: dropout's uniform, the normal and the uniform; ints: randint and categorical's uniform.
    const by = (fn: string) => draws.filter((c) => c.program === `${fn} (draws)`);
    expect(new Set(by('noisy').map((c) => c.output.replace(/^draw\d+: /, '')))).toEqual(new Set(['random_uniform', 'random_normal']));
    expect(by('noisy').length).toBe(3 * backends.length);
    expect(new Set(by('ints').map((c) => c.output.replace(/^draw\d+: /, '')))).toEqual(new Set(['random_int', 'random_uniform']));
    expect(new Set(draws.map((c) => c.backend))).toEqual(new Set(backends));
    for (const c of draws) expect(c, `${c.program} ${c.output} ${c.backend}`).toMatchObject({ maxAbs: 0, used: 0, ok: true });
    // A program without draws has no draw comparisons; every output is within its tolerance.
    expect(r.comparisons.some((c) => c.program.startsWith('plain') && c.exact)).toBe(false);
    expect(r.comparisons.every((c) => c.ok)).toBe(true);
    // The scaled output itself is not bit-identical on JS f32 (so the exact draw check is what says the draws are).
    expect(r.comparisons.find((c) => c.program === 'noisy' && c.backend === 'js f32')!.maxAbs).toBeGreaterThan(0);
  }, 120_000);
});
