/**
 * Differential property tests of what ships: random well-typed programs (constants, splats,
 * literal lists, concat, stack, pad, slices, iota, arange, comparisons, where, casts, integer
 * ops, reductions, products and gradients; test/helpers/random-program.ts) give the same
 * results unsimplified and simplified on the interpreter, and fused and unfused on the JS backend
 * (f64 and f32) and on WebGPU (test/helpers/differential.ts). fast-check shrinks a failure to the
 * smallest program.
 *
 * These tests find the simplify bug fixed in 600e66f (a concat/stack/pad whose first operand was
 * a splat folded to that splat). Run at 600e66f~1, three tests here fail: the property below
 * shrinks to `let v0 = concat([ones([1, 3]), x], axis=0)` (simplified, the x rows are ones), the
 * 2000-program campaign fails at its first failing seed, and `npm run fuzz -- --count 300`
 * fails 13 of 300 programs, minimized to e.g. `concat([full([2], 0.5), y], axis=0)` (gives
 * [0.5, 0.5, 0.5, 0.5, 0.5]) and `pad(full([2, 3], 3.0), [[0, 1]])` (the padding reads 3).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/index.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { CPU_STAGES, compareOutput, differential, formatFailures } from '../helpers/differential.js';
import { fuzzCase, programOf } from '../helpers/fuzz-one.js';
import { programArb, renderProgram, TEMPLATE_COUNT } from '../helpers/random-program.js';
import { WEBGPU } from '../helpers/webgpu.js';

const CI = Boolean(process.env['CI']);

describe('the program generator', () => {
  it('generates well-typed programs that use every feature', () => {
    const seen = new Map<string, number>();
    const features: Record<string, RegExp> = {
      concat: /concat\(\[/,
      stack: /stack\(\[/,
      pad: /pad\(/,
      slice: /\w\[[^\]]*:/,
      'integer index': /\w\[\d/,
      iota: /iota\(/,
      arange: /arange\(/,
      splat: /full\(|zeros\(|ones\(/,
      'literal list': /\[\[?-?\d+\.\d, /,
      comparison: / (>|<|>=|<=|==|!=) /,
      where: /where\(/,
      cast: /cast\(/,
      'integer division': / \/\/ /,
      remainder: / % /,
      reduction: /(sum|max|min|mean|argmax)\(\w+, axis=/,
      product: / @ /,
      grad: /grad\(/,
      logic: / and | or |not /,
    };
    for (let seed = 0; seed < 200; seed++) {
      const src = renderProgram(programOf(seed));
      expect(check(src, 'gen.dl').diagnostics.filter((d) => d.severity === 'error'), src).toEqual([]);
      for (const [name, re] of Object.entries(features)) if (re.test(src)) seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    for (const name of Object.keys(features)) expect(seen.get(name) ?? 0, `programs using ${name}`).toBeGreaterThan(0);
    expect(TEMPLATE_COUNT).toBeGreaterThan(15);
  });
});

describe('the differential harness', () => {
  it('tells integer, bool and float differences apart from f32 rounding', () => {
    const a = NDArray.from([3], [1, 2, 1000]);
    expect(compareOutput('f32', a, NDArray.from([3], [1, 2, 1000.5]), 2e-3)).toBeUndefined();
    expect(compareOutput('f32', a, NDArray.from([3], [1, 2, 1003]), 2e-3)).toMatch(/element 2 is 1003, expected 1000/);
    expect(compareOutput('f32', a, NDArray.from([3], [1, 2, 1000 + 1e-4]), 1e-9)).toMatch(/element 2/);
    expect(compareOutput('i32', a, NDArray.from([3], [1, 3, 1000]), 2e-3)).toMatch(/element 1 is 3, expected 2/);
    expect(compareOutput('f32', NDArray.from([1], [NaN]), NDArray.from([1], [NaN]), 1e-9)).toBeUndefined();
    expect(compareOutput('f32', NDArray.from([1], [NaN]), NDArray.from([1], [0]), 1e-9)).toMatch(/element 0/);
    expect(compareOutput('bool', a, undefined, 0)).toBe('missing');
  });

  it('the minimized counterexamples of 600e66f~1 agree on every stage; a program that does not compile is reported', async () => {
    const src = 'fn f(x: f32[2, 3], y: f32[3], w: f32[3, 2], k: i32[2, 3], m: bool[2, 3]) {\n  return concat([full([2], 0.5), y], axis=0), stack([zeros([3]), y]), pad(full([2, 3], 3.0), [[0, 1]])\n}\n';
    expect(formatFailures(await differential(src))).toBe('');
    const bad = await differential('fn f(x: f32[2]) { return undefined_name }');
    expect(bad[0]).toMatchObject({ stage: 'lower', kind: 'compile' });
  });
});

describe('unsimplified = simplified = fused = unfused on every backend', () => {
  it('random programs on interp, JS f64 and JS f32 (shrinking)', async () => {
    await fc.assert(
      fc.asyncProperty(programArb(), async (p) => {
        const src = renderProgram(p);
        const fs = await differential(src, { stages: CPU_STAGES });
        if (fs.length) throw new Error(`${src}\n${formatFailures(fs)}`);
      }),
      { numRuns: CI ? 400 : 200, seed: 20_261_202 },
    );
  }, 120_000);

  it.runIf(WEBGPU)('random programs on WebGPU', async () => {
    await fc.assert(
      fc.asyncProperty(programArb({ maxSteps: 5 }), async (p) => {
        const src = renderProgram(p);
        const fs = await differential(src, { stages: ['fused/webgpu'] });
        if (fs.length) throw new Error(`${src}\n${formatFailures(fs)}`);
      }),
      { numRuns: CI ? 12 : 6, seed: 20_261_203 },
    );
  }, 300_000);

  it('the fuzz campaign: the first 2000 programs of seed 1 (npm run fuzz -- --count 2000 --seed 1)', async () => {
    const bad: string[] = [];
    for (let seed = 1; seed <= 2000 && bad.length < 3; seed++) {
      const r = await fuzzCase(seed, { stages: CPU_STAGES });
      if (r.failures.length) bad.push(`seed ${seed} (replay: npm run fuzz -- --seed ${seed} --count 1):\n${r.minimized?.source ?? r.source}${formatFailures(r.minimized?.failures ?? r.failures)}`);
    }
    expect(bad.join('\n\n')).toBe('');
  }, 180_000);
});
