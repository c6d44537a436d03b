/**
 * Random draws are bit-identical on the interpreter, JS (f32 and f64) and WebGPU, with fusion on
 * and off: uniform, normal (fixed-point Box–Muller), bernoulli, randint, permutation, random_int and dropout (its
 * mask and its values) compared with exact equality (docs/random.md).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { makeExecutable, type ExecOptions } from '../../src/exec.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = `
fn u(x: f32[6, 50]) -> f32[6, 50] {
  return uniform([6, 50])
}
fn bern(x: f32[6, 50]) -> f32[6, 50] {
  return bernoulli(0.3, [6, 50])
}
fn ints(x: f32[6, 50]) -> i32[6, 50] {
  return randint([6, 50], -3, 12)
}
fn drop(x: f32[6, 50]) -> f32[6, 50] {
  return dropout(x, 0.25, training=true)
}
fn mask(x: f32[6, 50]) -> f32[6, 50] {
  return dropout(ones([6, 50]), 0.4, training=true)
}
fn both(x: f32[6, 50]) -> f32[6, 50] {
  # Several draws in one kernel, combined exactly.
  return where(bernoulli(0.5, [6, 50]) > 0.5, uniform([6, 50]), -cast(randint([6, 50], 1000), f32))
}
fn moved(x: f32[6, 50]) -> f32[6, 50] {
  # Draws read through movement (a transpose and a slice of a larger draw) inside one kernel.
  return transpose(uniform([50, 6]) * bernoulli(0.5, [50, 6])) * uniform([6, 60])[:, 5:55]
}
fn rowsum(x: f32[6, 50]) -> f32[6] {
  # A reduction fused with the draws it sums.
  return sum(dropout(x, 0.5, training=true) + normal([6, 50]), axis=1)
}
fn gauss(x: f32[6, 50]) -> f32[6, 50] {
  return normal([6, 50])
}
fn gauss_many(x: f32[6, 50]) -> f32[400, 500] {
  # 200 000 normals: every octant, tails past 4.5 sigma, draws near r = 0.
  return normal([400, 500])
}
fn gauss_scaled(x: f32[6, 50]) -> f32[6, 50] {
  # Scaled by a power of two and shifted by a small integer: still exact in f32.
  return normal([6, 50], 1.0, 0.5)
}
fn perm(x: f32[6, 50]) -> i32[300] {
  return permutation(300)
}
fn cat(x: f32[6, 50]) -> i32[6] {
  return categorical(x)
}
`;

/** The input, rounded to f32 so that every backend starts from the same values. */
const X = new Map([['x', NDArray.from([6, 50], Array.from(randomArray('f32', [6, 50], 3, 'x').data, Math.fround))]]);

const graphs = new Map<string, Graph>();
const graph = (fn: string) => graphs.get(fn) ?? graphs.set(fn, compile(SRC, fn, { path: 'draws.dl' })).get(fn)!;

async function out(fn: string, opts: ExecOptions): Promise<number[]> {
  const ex = await makeExecutable(graph(fn), { seed: 11, ...opts });
  return Array.from((await ex.run(X)).get('out')!.data);
}

const TARGETS: [string, ExecOptions][] = [
  ['js f64', { backend: 'js', precision: 'f64' }],
  ['js f32', { backend: 'js', precision: 'f32' }],
  ['js f32 unfused', { backend: 'js', precision: 'f32', fuse: false }],
  ...(WEBGPU
    ? ([
        ['webgpu', { backend: 'webgpu' }],
        ['webgpu unfused', { backend: 'webgpu', fuse: false }],
      ] as [string, ExecOptions][])
    : []),
];

const f32 = (xs: number[]) => xs.map(Math.fround);

describe('random draws agree bit for bit across backends', () => {
  for (const fn of ['u', 'gauss', 'gauss_scaled', 'bern', 'ints', 'perm', 'drop', 'mask', 'both']) {
    it.each(TARGETS)(`${fn} on %s equals the interpreter exactly`, async (_name, opts) => {
      const ref = await out(fn, { backend: 'interp' });
      const got = await out(fn, opts);
      // The interpreter computes in f64; rounded to f32 it is what an f32 backend stores.
      expect(got).toEqual(opts.precision === 'f64' ? ref : f32(ref));
      // Not a constant: the draws vary across elements.
      expect(new Set(got).size).toBeGreaterThan(1);
    });
  }

  it('dropout zeroes the same elements and scales the others exactly', async () => {
    const ref = await out('drop', { backend: 'interp' });
    const x = Array.from(X.get('x')!.data);
    const s = Math.fround(1 / 0.75);
    ref.forEach((y, i) => expect(y === 0 || Math.fround(y) === Math.fround(x[i]! * s)).toBe(true));
  });

  it.each(TARGETS)('200 000 normals on %s equal the interpreter\'s bit for bit', async (_name, opts) => {
    const ref = await out('gauss_many', { backend: 'interp' });
    const got = await out('gauss_many', opts);
    // Every draw is a multiple of 2⁻²¹ below 2⁴ in magnitude: exact in f32, so no rounding either way.
    expect(ref.every((z) => Math.fround(z) === z && Number.isInteger(z * 2 ** 21))).toBe(true);
    let differ = 0;
    for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) differ++;
    expect(differ).toBe(0);
    expect(ref.reduce((m, z) => Math.max(m, Math.abs(z)), 0)).toBeGreaterThan(4.5);
  });

  it.each(TARGETS)('draws read through movement on %s equal the interpreter\'s', async (_name, opts) => {
    const ref = await out('moved', { backend: 'interp' });
    const got = await out('moved', opts);
    // u·b is exact, and the product of two f32 values is rounded once: the f32 backends store fround(ref).
    expect(got).toEqual(opts.precision === 'f64' ? ref : f32(ref));
  });

  it.each(TARGETS)('a reduction over draws on %s agrees with the interpreter', async (_name, opts) => {
    const ref = await out('rowsum', { backend: 'interp' });
    const got = await out('rowsum', opts);
    ref.forEach((v, i) => expect(Math.abs(v - got[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
  });

  it.each(TARGETS)('categorical on %s draws the interpreter\'s samples', async (_name, opts) => {
    const ref = await out('cat', { backend: 'interp' });
    expect(await out('cat', opts)).toEqual(ref);
  });
});
