/**
 * Regression tests for kernel-building bugs of issue 8: each program runs fused on JS (and WebGPU
 * when present) and must agree with the reference interpreter, and its kernels must be what we expect.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { makeExecutable } from '../../src/exec.js';
import { compile } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import type { Expr } from '../../src/kernel/expr.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { buildKernels } from '../../src/kernel/build.js';
import { verifyKernelProgram } from '../../src/kernel/verify.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { captureIo } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

function graphOf(src: string): Graph {
  return runPipeline(compile(src, 'f', { path: 'regression.dl' })).graph;
}

/** Runs f on the interpreter and the given backend; every output must agree elementwise. */
async function agrees(src: string, backend: 'js' | 'webgpu'): Promise<void> {
  const g = graphOf(src);
  expect(verifyKernelProgram(buildKernels(g))).toEqual([]);
  expect(verifyKernelProgram(buildKernels(g, { fuse: false }))).toEqual([]);
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
  // The fusion plan decides the epilogue once; building it never falls back (there is no retry).
  // A reshape that splits or merges axes, or two of them, still reads the accumulator in place.
  const CHAINS = {
    'split [12, 2] → [6, 2, 2]': SPLIT,
    'split [6, 8] → [2, 3, 8]': 'fn f(a: f32[6, 4], b: f32[4, 8]) -> f32[2, 3, 8] {\n  return relu(reshape(a @ b, [2, 3, 8]) + 1.0)\n}\n',
    'two reshapes [12, 5] → [2, 30] → [3, 4, 5]': 'fn f(a: f32[12, 4], b: f32[4, 5]) -> f32[3, 4, 5] {\n  return tanh(reshape(reshape(a @ b, [2, 30]), [3, 4, 5]) * 2.0)\n}\n',
  };
  for (const [what, src] of Object.entries(CHAINS)) {
    it(`${what}: the elementwise reader is the product's epilogue (was a separate kernel after a retry)`, async () => {
      const p = buildKernels(graphOf(src));
      expect(p.kernels.map((k) => k.kind)).toEqual(['contraction']);
      expect(p.kernels[0]!.kind === 'contraction' && p.kernels[0]!.epilogue).toBeTruthy();
      for (const backend of BACKENDS) await agrees(src, backend);
    });
  }
  for (const backend of BACKENDS) {
    it(`agrees with the interpreter on ${backend}`, async () => {
      await agrees(TRAILING_ONE, backend);
      await agrees(SPLIT, backend);
    });
  }
});

describe('a value returned twice', () => {
  const PROGRAMS = {
    'return a, a': 'fn f(a: f32[4]) -> (f32[4], f32[4]) {\n  return a, a\n}\n',
    'two outputs equal after CSE': 'fn f(a: f32[4]) -> (f32[4], f32[4]) {\n  return a * 2.0, a * 2.0\n}\n',
  };
  for (const [what, src] of Object.entries(PROGRAMS)) {
    it(`${what}: every output has a buffer of its own`, () => {
      const p = buildKernels(graphOf(src));
      expect(p.outputs).toHaveLength(2);
      expect(new Set(p.outputs.map((o) => o.buf)).size).toBe(2);
      for (const o of p.outputs) expect(p.buffers[o.buf]!.role).toBe('output');
    });
    for (const backend of BACKENDS) it(`${what}: agrees with the interpreter on ${backend} (was DL9001)`, () => agrees(src, backend));
    it(`${what}: dlc verify passes and dlc build writes one manifest buffer per output`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dlc-dup-'));
      const file = join(dir, 'dup.dl');
      writeFileSync(file, src);
      const v = captureIo();
      expect(await main(['verify', file], v.io)).toBe(0);
      expect(v.out()).toMatch(/0 failed/);
      const c = captureIo();
      expect(await main(['build', file, '--fn', 'f', '--out', join(dir, 'out')], c.io)).toBe(0);
      for (const backend of ['js', 'webgpu']) {
        const m = JSON.parse(readFileSync(join(dir, 'out', backend, 'manifest.json'), 'utf8')) as { outputs: string[]; buffers: { name: string; role: string; offset: number }[] };
        expect(m.outputs).toHaveLength(2);
        const bufs = m.outputs.map((name) => m.buffers.filter((b) => b.name === name && b.role === 'output'));
        for (const b of bufs) expect(b).toHaveLength(1);
        expect(bufs[0]![0]!.offset).not.toBe(bufs[1]![0]!.offset);
      }
    });
  }
});

describe('a reduction computed inside another reduction loop is not reused outside it', () => {
  const SRC = 'fn f(x: f32[3, 4]) -> (f32, f32) {\n  let v = tanh(sum(x, axis=0))\n  return sum(v) * 2.0, max(v) * 3.0\n}\n';
  for (const backend of BACKENDS) {
    it(`sum(v) * 2.0, max(v) * 3.0 of v = tanh(sum(x, axis=0)) agrees on ${backend} (was "acc2 is not defined")`, () => agrees(SRC, backend));
  }
});

describe('the kernel verifier', () => {
  const SRC = 'fn f(x: f32[3, 4]) -> f32[3] {\n  return sum(exp(x), axis=1) * 2.0\n}\n';
  it('accepts what the builder produces', () => {
    expect(verifyKernelProgram(buildKernels(graphOf(SRC)))).toEqual([]);
  });
  it('rejects a ref that is not defined, an index outside its loop and a load out of bounds', () => {
    const p = buildKernels(graphOf(SRC));
    const k = p.kernels[0]!;
    expect(k.kind).toBe('map');
    if (k.kind !== 'map') return;
    const bad = (value: Expr) => verifyKernelProgram({ ...p, kernels: [{ ...k, outputs: [{ buf: k.outputs[0]!.buf, value }] }] });
    expect(bad({ k: 'ref', v: 'acc2', t: 'f32' })).toEqual([expect.stringMatching(/acc2 is used where it is not defined/)]);
    expect(bad({ k: 'idx', v: 'r1' })).toEqual([expect.stringMatching(/r1 is used outside its loop/)]);
    const x = p.inputs[0]!.buf;
    expect(bad({ k: 'load', buf: x, i: { k: 'lit', v: 12, t: 'i32' }, t: 'f32' })).toEqual([expect.stringMatching(/outside its 12 elements/)]);
    expect(bad({ k: 'load', buf: x, i: { k: 'lit', v: 11, t: 'i32' }, t: 'f32' })).toEqual([]);
  });
});

describe('negation of a negative literal', () => {
  // The Adam step of examples/word2vec.dl once emitted `--0.003125` (a decrement, a JS syntax error).
  it('renders −(−0.5) as an expression that evaluates to 0.5 in JS and has no `--` in WGSL', async () => {
    const { getOp } = await import('../../src/ir/ops/index.js');
    const emit = getOp('neg').emit!;
    const ctx = { args: ['-0.5'], types: ['f32' as const], out: 'f32' as const, helper: (n: string) => n };
    const js = emit.js!(ctx);
    expect(new Function(`return ${js};`)()).toBe(0.5);
    expect(emit.wgsl!(ctx)).not.toContain('--');
  });
});
