/**
 * Regression tests for kernel-building bugs of issue 8: each program runs fused on JS (and WebGPU
 * when present) and must agree with the reference interpreter, and its kernels must be what we expect.
 */
import { describe, expect, it } from 'vitest';
import { makeExecutable } from '../../src/exec.js';
import { compile } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { buildKernels } from '../../src/kernel/build.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { WEBGPU } from '../helpers/webgpu.js';

function graphOf(src: string): Graph {
  return runPipeline(compile(src, 'f', { path: 'regression.dl' })).graph;
}

/** Runs f on the interpreter and the given backend; every output must agree elementwise. */
async function agrees(src: string, backend: 'js' | 'webgpu'): Promise<void> {
  const g = graphOf(src);
  const inputs = new Map<string, NDArray>(g.inputs.map((i) => [String(i.attrs['name']), randomArray(i.type.dtype, i.type.shape, 7, String(i.attrs['name']))]));
  const ref = await (await makeExecutable(g, { backend: 'interp' })).run(inputs);
  const got = await (await makeExecutable(g, { backend })).run(inputs);
  expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
  for (const [name, r] of ref) {
    const o = got.get(name)!;
    expect(o.data.length).toBe(r.data.length);
    r.data.forEach((v, i) => expect(Math.abs(v - o.data[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
  }
}

const BACKENDS = ['js', ...(WEBGPU ? ['webgpu' as const] : [])] as const;

describe('a contraction epilogue reached through a reshape of another rank', () => {
  const TRAILING_ONE = 'fn f(a: f32[12, 3], b: f32[3, 2]) -> f32[12, 2, 1] {\n  return reshape(a @ b, [12, 2, 1]) + 0.2\n}\n';
  const SPLIT = 'fn f(a: f32[12, 3], b: f32[3, 2]) -> f32[6, 2, 2] {\n  return reshape(a @ b, [6, 2, 2]) + 0.2\n}\n';
  it('reshape(a @ b, [12, 2, 1]) + 0.2 builds (was DL9001 reading k of undefined) and fuses into the product', () => {
    const p = buildKernels(graphOf(TRAILING_ONE));
    expect(p.kernels.map((k) => k.kind)).toEqual(['contraction']);
  });
  for (const backend of BACKENDS) {
    it(`agrees with the interpreter on ${backend}`, async () => {
      await agrees(TRAILING_ONE, backend);
      await agrees(SPLIT, backend);
    });
  }
});
