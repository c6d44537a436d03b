/**
 * @file Kernel code size is linear in the number of fused primitives: a value read twice inside
 * one kernel (h in `sin(h) + h * h`) is computed once, into a local, not once per path to it.
 * The generated JS must still agree with the interpreter on these programs.
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/codegen/compile.js';
import { makeExecutable } from '../../src/exec.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { compile } from '../../src/index.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { verifyKernelProgram } from '../../src/kernel/verify.js';
import { buildKernels } from '../../src/kernel/build.js';
import { runPipeline } from '../../src/passes/pipeline.js';

const PROGRAMS: Record<string, (n: number) => string> = {
  'h = sin(h) + h * h': (n) => `fn f(x: f32[16]) -> f32[16] {\n  let h = x\n  for i in 0..${n} {\n    h = sin(h) + h * h\n  }\n  return h\n}\n`,
  'an integer hash round': (n) => `fn f(x: i32[16]) -> i32[16] {\n  let h = x\n  for i in 0..${n} {\n    h = (h * h + h * 7 + 3) % 1009\n  }\n  return h\n}\n`,
  'the gradient of a tanh chain': (n) =>
    `fn f(x: f32[16]) -> f32[16] {\n  let h = x\n  for i in 0..${n} {\n    h = tanh(h) * h\n  }\n  return grad(sum(h), x)\n}\n`,
};

const graphOf = (src: string) => runPipeline(compile(src, 'f', { path: 'size.dl' })).graph;

function sizes(src: string): { js: number; wgsl: number } {
  const g = graphOf(src);
  const js = compileGraph(g, { backend: 'js', precision: 'f64' }).js!.length;
  const wgsl = [...compileGraph(g, { backend: 'webgpu' }).wgsl!.values()].reduce((s, c) => s + c.length, 0);
  return { js, wgsl };
}

describe('kernel code size grows linearly in the number of fused primitives', () => {
  for (const [what, program] of Object.entries(PROGRAMS)) {
    for (const n of [8, 16]) {
      it(`${what}, ${n} → ${2 * n} rounds: JS and WGSL at most 2.5 times larger`, () => {
        const a = sizes(program(n));
        const b = sizes(program(2 * n));
        expect(b.js / a.js).toBeLessThan(2.5);
        expect(b.wgsl / a.wgsl).toBeLessThan(2.5);
      });
    }
    it(`${what}: the generated JS (f64) agrees with the interpreter`, async () => {
      // Few enough rounds that h * h stays finite.
      const g = graphOf(program(4));
      expect(verifyKernelProgram(buildKernels(g))).toEqual([]);
      const inputs = new Map<string, NDArray>(g.inputs.map((i) => [String(i.attrs['name']), randomArray(i.type.dtype, i.type.shape, 3, String(i.attrs['name']))]));
      const ref = await (await makeExecutable(g, { backend: 'interp' })).run(inputs);
      const got = await (await makeExecutable(g, { backend: 'js', precision: 'f64' })).run(inputs);
      for (const [name, r] of ref) {
        const o = got.get(name)!;
        expect(o.data.length).toBe(r.data.length);
        expect([...r.data].every(Number.isFinite)).toBe(true);
        r.data.forEach((v, i) => expect(Math.abs(v - o.data[i]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(v))));
      }
    });
  }
});
