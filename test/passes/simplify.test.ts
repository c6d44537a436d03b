/**
 * Simplification must not change a program's values. Each case failed on the main of
 * 2026-12-01: a movement op whose *first* operand was a splat constant was folded to that splat.
 */
import { describe, expect, it } from 'vitest';
import { compile, evaluate, makeExecutable, NDArray } from '../../src/index.js';
import { WEBGPU } from '../helpers/webgpu.js';
import type { ExecBackend } from '../../src/exec.js';

const BACKENDS: ExecBackend[] = ['interp', 'js', ...(WEBGPU ? (['webgpu'] as const) : [])];
import { runPipeline } from '../../src/passes/pipeline.js';

function both(src: string, fn: string, inputs: Record<string, NDArray>): { raw: number[]; simplified: number[] } {
  const g = compile(src, fn);
  const s = runPipeline(g, { verify: true }).graph;
  const out = (graph: typeof g) => Array.from(evaluate(graph, inputs).values().next().value!.data);
  return { raw: out(g), simplified: out(s) };
}

const x3 = { x: NDArray.from([3], [0.5, -1, 2]) };

describe('simplify keeps movement ops of splat constants exact', () => {
  it.each([
    ['concat of two different splats', 'fn f(x: f32[3]) -> f32[5] { return concat([full([2], 2.0), ones([3])]) + 0.0 * sum(x) }', [2, 2, 1, 1, 1]],
    ['concat of a splat and a variable', 'fn f(x: f32[3]) -> f32[5] { return concat([zeros([2]), x]) }', [0, 0, 0.5, -1, 2]],
    ['stack of zeros and a variable', 'fn f(x: f32[3]) -> f32[2, 3] { return stack([zeros([3]), x]) }', [0, 0, 0, 0.5, -1, 2]],
    ['pad of zeros with another value', 'fn f(x: f32[3]) -> f32[4] { return pad(zeros([2]), [[1, 1]], value=5.0) + 0.0 * sum(x) }', [5, 0, 0, 5]],
    ['pad of a splat with its own value is a splat', 'fn f(x: f32[3]) -> f32[4] { return pad(full([2], 5.0), [[1, 1]], value=5.0) + 0.0 * sum(x) }', [5, 5, 5, 5]],
    ['the gradient of a slice (a pad of the cotangent)', 'fn f(x: f32[3]) -> f32[3] { return grad(sum(x[0:1]), x) }', [1, 0, 0]],
    ['concat of equal splats is that splat', 'fn f(x: f32[3]) -> f32[5] { return concat([ones([2]), ones([3])]) * x[0] }', [0.5, 0.5, 0.5, 0.5, 0.5]],
  ])('%s', (_name, src, want) => {
    const { raw, simplified } = both(src, 'f', x3);
    expect(raw).toEqual(want);
    expect(simplified).toEqual(want);
  });

  it('a causal mask keeps one row’s gradient out of later positions', () => {
    const src = `
fn f(x: f32[4]) -> f32[4] {
  let m = concat([ones([1]), zeros([3])])
  return grad(sum(m * x * x), x)
}`;
    const x = { x: NDArray.from([4], [1, 2, 3, 4]) };
    const { raw, simplified } = both(src, 'f', x);
    expect(raw).toEqual([2, 0, 0, 0]);
    expect(simplified).toEqual([2, 0, 0, 0]);
  });
});

describe('kernel expressions of padding decided at compile time', () => {
  // pad → slice of the padding column → reshape: the pad's inside-test folds to `false`; the
  // kernel read x[:, 0] instead of the fill (JS and WebGPU; found by npm run fuzz, seed 102345).
  const src = 'fn f(x: f32[2, 3]) -> f32[2] { return pad(x, [[1, 1]], value=0.5)[:, 0] }';
  const x = { x: NDArray.from([2, 3], [1, 2, 3, 4, 5, 6]) };
  it.each(BACKENDS)('a slice of only padding reads the fill on %s', async (backend) => {
    const g = runPipeline(compile(src, 'f'), { verify: true }).graph;
    const exe = await makeExecutable(g, { backend });
    const out = (await exe.run(new Map(Object.entries(x)))).get('out')!;
    expect(Array.from(out.data)).toEqual([0.5, 0.5]);
  });
});

describe('more reads that land only in padding (fuzz findings 3b, 3c)', () => {
  const y = { y: NDArray.from([4], [1, 2, 3, 4]), x: NDArray.from([2, 3], [1, 2, 3, 4, 5, 6]) };
  it.each([
    ['an integer index into padding', 'fn f(y: f32[4], x: f32[2, 3]) -> f32 { return pad(y, [[0, 2]], value=-1.5)[5] }', [-1.5]],
    ['the gradient through a stack read at a zero slot', 'fn f(y: f32[4], x: f32[2, 3]) -> f32[2, 3] { return grad(sum(stack([zeros([2, 3]), x], axis=2)[:, :, 0] * -0.25), x) }', [0, 0, 0, 0, 0, 0]],
  ])('%s on js', async (_n, src, want) => {
    const g = runPipeline(compile(src, 'f'), { verify: true }).graph;
    for (const backend of ['interp', 'js'] as const) {
      const exe = await makeExecutable(g, { backend });
      expect(Array.from((await exe.run(new Map(Object.entries(y)))).get('out')!.data)).toEqual(want);
    }
  });
});

describe('i32 max/min reductions on every backend (fuzz finding 2)', () => {
  // WGSL rendered the i32 identity as `-Infinityi` and the shader did not compile.
  const k = { k: NDArray.from([2, 3], [5, -7, 2, -1, 9, 2]) };
  it.each([
    ['max', 'fn f(k: i32[2, 3]) -> i32[3] { return max(k, axis=0) }', [5, 9, 2]],
    ['min', 'fn f(k: i32[2, 3]) -> i32[3] { return min(k, axis=0) + 2 }', [1, -5, 4]],
    ['argmax', 'fn f(k: i32[2, 3]) -> i32[2] { return argmax(k, axis=1) }', [0, 1]],
  ])('%s', async (_n, src, want) => {
    const g = runPipeline(compile(src, 'f'), { verify: true }).graph;
    for (const backend of BACKENDS) {
      const exe = await makeExecutable(g, { backend });
      expect(Array.from((await exe.run(new Map(Object.entries(k)))).get('out')!.data), backend).toEqual(want);
    }
  });
});

describe('a slice of a product read by nothing else is a product of slices', () => {
  const src = `
fn one(a: f32[2, 3, 4], b: f32[2, 4, 5]) -> f32[2, 2, 3] {
  return (a @ b)[:, 1:3, 2:5]
}
fn two(a: f32[2, 3, 4], b: f32[2, 4, 5]) -> f32[2, 2, 3] {
  let p = a @ b
  return p[:, 1:3, 2:5] + p[:, 0:2, 0:3]
}`;
  const r = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const ins = { a: NDArray.from([2, 3, 4], r(24, 1)), b: NDArray.from([2, 4, 5], r(40, 2)) };
  it.each([
    ['one', 1, [2, 2, 3]],
    ['two', 1, [2, 3, 5]],
  ] as const)('%s', (fn, products, shape) => {
    const g = compile(src, fn);
    const s = runPipeline(g, { verify: true }).graph;
    const dots = s.nodes.filter((n) => n.op === 'dot_general');
    expect(dots.length).toBe(products);
    expect(dots[0]!.type.shape).toEqual(shape);
    const want = Array.from(evaluate(g, ins).values().next().value!.data);
    const got = Array.from(evaluate(s, ins).values().next().value!.data);
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12));
  });
});

describe('a slice of a pad that reads one side of it', () => {
  const src = `
fn inside(x: f32[3, 4]) -> f32[2, 2] {
  return pad(x, [[1, 2], [0, 3]], value=7.0)[2:4, 1:4:2]
}
fn outside(x: f32[3, 4]) -> f32[2, 3] {
  return pad(x, [[1, 2], [0, 3]], value=7.0)[4:6, 0:3] + 0.0 * sum(x)
}
fn across(x: f32[3, 4]) -> f32[2, 2] {
  return pad(x, [[1, 2], [0, 3]], value=7.0)[0:2, 3:5]
}`;
  const x = { x: NDArray.from([3, 4], Array.from({ length: 12 }, (_, i) => i * 0.5 - 2)) };
  it.each([
    ['inside', 0, [0.5, 1.5, 2.5, 3.5]],
    ['outside', 0, [7, 7, 7, 7, 7, 7]],
    ['across', 1, [7, 7, -0.5, 7]],
  ] as const)('%s', (fn, pads, want) => {
    const g = compile(src, fn);
    const s = runPipeline(g, { verify: true }).graph;
    expect(s.nodes.filter((n) => n.op === 'pad').length).toBe(pads);
    expect(Array.from(evaluate(g, x).values().next().value!.data)).toEqual(want);
    expect(Array.from(evaluate(s, x).values().next().value!.data)).toEqual(want);
  });
});

describe('a slice of a concat that reads one of its parts', () => {
  // x: 3 rows, y: 2 rows, joined along axis 0 (rows 0..2 are x, 3..4 are y).
  const src = `
fn second(x: f32[3, 4], y: f32[2, 4]) -> f32[2, 2] {
  return concat([x, y], axis=0)[3:5, 0:4:2]
}
fn stepped(x: f32[3, 4], y: f32[2, 4]) -> f32[2, 4] {
  return concat([x, y], axis=0)[0:3:2]
}
fn across(x: f32[3, 4], y: f32[2, 4]) -> f32[2, 4] {
  return concat([x, y], axis=0)[2:4]
}
fn re(x: f32[3, 4], y: f32[2, 4]) -> f32[3, 4] {
  return stack([x, x * 2.0], axis=-1)[..., 1] + 0.0 * sum(y)
}`;
  const ins = { x: NDArray.from([3, 4], Array.from({ length: 12 }, (_, i) => i)), y: NDArray.from([2, 4], Array.from({ length: 8 }, (_, i) => 100 + i)) };
  it.each([
    ['second', 0, [100, 102, 104, 106]],
    ['stepped', 0, [0, 1, 2, 3, 8, 9, 10, 11]],
    ['across', 1, [8, 9, 10, 11, 100, 101, 102, 103]],
    ['re', 0, Array.from({ length: 12 }, (_, i) => 2 * i)],
  ] as const)('%s', (fn, concats, want) => {
    const g = compile(src, fn);
    const s = runPipeline(g, { verify: true }).graph;
    expect(s.nodes.filter((n) => n.op === 'concat').length).toBe(concats);
    expect(Array.from(evaluate(g, ins).values().next().value!.data)).toEqual(want);
    expect(Array.from(evaluate(s, ins).values().next().value!.data)).toEqual(want);
  });
});
