/**
 * Inputs entering a program from outside (the API: `makeExecutable(...).run`, `evaluate`, the
 * runtime's executors): labels and indices inside their valid range, i32 values that fit i32,
 * bools 0 or 1, and the declared shape — checked the same way on every backend (DL0605, DL0606).
 */
import { describe, expect, it } from 'vitest';
import { compile, compileGraph, evaluate, indexRanges, InputError, makeExecutable, NDArray, runPipeline, type Graph } from '../../src/index.js';
import type { ExecBackend } from '../../src/exec.js';
import { floatVariables, gradientGraph } from '../../src/gradcheck/check.js';
import { JsExecutor } from '../../src/runtime/js-executor.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SOURCE = `
fn loss(x: f32[2, 4], y: i32[2]) -> f32 {
  return cross_entropy(x, y)
}

fn embed(E: f32[5, 3], t: i32[2, 2]) {
  return take(E, t)
}

fn both(E: f32[6, 2], t: i32[3]) {
  return (take(E, t), one_hot(t, 4))
}

fn computed(t: i32[3]) {
  return one_hot(t * 2, 3)
}

fn plain(n: i32[3], m: bool[3]) {
  return (n + 1, where(m, 1.0, 0.0))
}

fn grid(x: f32[2, 3]) {
  return x * 2.0
}
`;

const graph = (fn: string): Graph => runPipeline(compile(SOURCE, fn)).graph;
const X = NDArray.from([2, 4], [0.1, 0.2, 0.3, 0.4, 1, -1, 0.5, 0]);

/** The diagnostics an InputError carries, as `code: message`; fails if `f` does not throw one. */
async function inputErrors(f: () => unknown): Promise<string[]> {
  try {
    await f();
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map((d) => `${d.code}: ${d.message}`);
    throw e;
  }
  throw new Error('no InputError was thrown');
}

const BACKENDS: ExecBackend[] = WEBGPU ? ['interp', 'js', 'webgpu'] : ['interp', 'js'];

describe('indexRanges: which i32 inputs are labels or indices', () => {
  it('class labels of cross_entropy / one_hot, indices of take, the tightest of several uses', () => {
    const r = (fn: string) => Object.fromEntries([...indexRanges(graph(fn))].map(([k, v]) => [k, [v.lo, v.hi, v.use]]));
    expect(r('loss')).toEqual({ y: [0, 4, 'class labels of a one_hot over 4 classes (as in cross_entropy)'] });
    expect(r('embed')).toEqual({ t: [0, 5, 'indices into axis 0 of f32[5, 3] (take/gather)'] });
    expect(r('both')).toEqual({ t: [0, 4, 'class labels of a one_hot over 4 classes (as in cross_entropy)'] });
  });

  it('not for i32 inputs that are computed on before use, or not used as indices', () => {
    expect([...indexRanges(graph('computed'))]).toEqual([]);
    expect([...indexRanges(graph('plain'))]).toEqual([]);
  });

  it('the gradient graph of a lookup keeps its index range (scatter_add)', () => {
    const f = compile('fn f(E: f32[5, 3], t: i32[4]) -> f32 {\n  return sum(take(E, t) ** 2)\n}\n', 'f');
    const g = runPipeline(gradientGraph(f, floatVariables(f))).graph;
    expect(g.nodes.some((n) => n.op === 'scatter_add')).toBe(true);
    expect(indexRanges(g).get('t')).toMatchObject({ lo: 0, hi: 5 });
  });
});

describe('makeExecutable(...).run and evaluate check their inputs', () => {
  it.each(BACKENDS)('out-of-range labels (4 and 7 for 4 classes) are DL0605 on %s, naming the input', async (backend) => {
    const exe = await makeExecutable(graph('loss'), { backend });
    const errs = await inputErrors(() => exe.run(new Map([['x', X], ['y', NDArray.from([2], [4, 7])]])));
    expect(errs).toEqual(['DL0605: input `y` holds 4 at [0], but as class labels of a one_hot over 4 classes (as in cross_entropy) its values must be in 0..3']);
    // In range: a finite loss.
    const ok = await exe.run(new Map([['x', X], ['y', NDArray.from([2], [3, 0])]]));
    expect(Number.isFinite(ok.get('out')!.data[0])).toBe(true);
  });

  it('labels outside i32 are DL0605 on every backend (they would wrap differently)', async () => {
    for (const backend of ['interp', 'js'] as const) {
      const exe = await makeExecutable(graph('loss'), { backend });
      const errs = await inputErrors(() => exe.run(new Map([['x', X], ['y', NDArray.from([2], [1, 2 ** 32 + 1])]])));
      expect(errs).toEqual(['DL0605: input `y` holds 4294967297 at [1], outside the i32 range -2147483648..2147483647']);
    }
  });

  it('negative and out-of-range token ids of an embedding lookup, with their position', async () => {
    const exe = await makeExecutable(graph('embed'), { backend: 'js' });
    const E = NDArray.from([5, 3], Array.from({ length: 15 }, (_, i) => i));
    expect(await inputErrors(() => exe.run(new Map([['E', E], ['t', NDArray.from([2, 2], [0, 1, 5, 2])]])))).toEqual([
      'DL0605: input `t` holds 5 at [1, 0], but as indices into axis 0 of f32[5, 3] (take/gather) its values must be in 0..4',
    ]);
    expect((await inputErrors(() => evaluate(graph('embed'), { E, t: NDArray.from([2, 2], [0, -1, 1, 2]) })))[0]).toContain('holds -1 at [0, 1]');
  });

  it('a wrong shape with the right number of values is DL0606 (run and evaluate); so is a missing input', async () => {
    const g = graph('grid');
    const wrong = NDArray.from([3, 2], [1, 2, 3, 4, 5, 6]);
    for (const backend of ['interp', 'js'] as const) {
      const exe = await makeExecutable(g, { backend });
      expect(await inputErrors(() => exe.run(new Map([['x', wrong]])))).toEqual(['DL0606: input `x` should be f32[2, 3], got shape [3, 2]']);
      expect(await inputErrors(() => exe.run(new Map([['X', wrong]])))).toEqual(['DL0606: missing input `x` (f32[2, 3])']);
    }
    expect(await inputErrors(() => evaluate(g, { x: { shape: [6], data: [1, 2, 3, 4, 5, 6] } }))).toEqual(['DL0606: input `x` should be f32[2, 3], got shape [6]']);
    expect(await inputErrors(() => evaluate(g, { x: { shape: [2, 3], data: [1, 2, 3] } }))).toEqual(['DL0606: input `x` (f32[2, 3]) has 3 values, its shape needs 6']);
  });

  it('a parameter passed as an input is DL0606 (it would keep its values); other extra names are let through', async () => {
    const src = `model M() {
  param W: f32[3] = ones()
  fn f(x: f32[3]) -> f32[3] {
    return x * W
  }
}`;
    const g = runPipeline(compile(src, 'M.f')).graph;
    const x = NDArray.from([3], [1, 2, 3]);
    const W = NDArray.from([3], [5, 5, 5]);
    for (const backend of ['interp', 'js', ...(WEBGPU ? (['webgpu'] as const) : [])] as const) {
      const exe = await makeExecutable(g, { backend });
      let err: unknown;
      await exe.run(new Map([['x', x], ['W', W]])).catch((e) => (err = e));
      expect(err).toBeInstanceOf(InputError);
      const [d] = (err as InputError).diagnostics;
      expect(d!.message).toBe('`W` is a parameter of the model, not an input');
      // It points at the declaration and says how to set it.
      expect(src.slice(d!.span!.start, d!.span!.end)).toContain('param W');
      expect(d!.help).toContain('setParam');
      // Nothing ran: W keeps its values. A name no graph node has (another program's input) is let through.
      expect(Array.from((await exe.run(new Map([['x', x], ['y', x]]))).values().next().value!.data)).toEqual([1, 2, 3]);
    }
  });

  it('i32 values that are not whole numbers, and bools other than 0 and 1, are DL0605', async () => {
    const exe = await makeExecutable(graph('plain'), { backend: 'js' });
    const m = NDArray.from([3], [0, 1, 1]);
    expect(await inputErrors(() => exe.run(new Map([['n', NDArray.from([3], [1, 2.5, 3])], ['m', m]])))).toEqual(['DL0605: input `n` holds 2.5 at [1], which is not a whole number (the input is i32)']);
    expect(await inputErrors(() => exe.run(new Map([['n', NDArray.from([3], [1, 2, 3])], ['m', NDArray.from([3], [0, 2, 1])]])))).toEqual(['DL0605: input `m` holds 2 at [1], but a bool is 0 or 1']);
    // Valid values run, and i32 inputs that are not indices may hold any i32.
    const out = await exe.run(new Map([['n', NDArray.from([3], [-7, 2 ** 31 - 2, 0])], ['m', m]]));
    expect(Array.from(out.values().next().value!.data)).toEqual([-6, 2 ** 31 - 1, 1]);
  });

  it('checkIndexRanges: false lets labels outside their range through (the ops then apply their own rule)', async () => {
    const y = NDArray.from([2], [4, 7]);
    const interp = await (await makeExecutable(graph('loss'), { backend: 'interp', checkIndexRanges: false })).run(new Map([['x', X], ['y', y]]));
    const js = await (await makeExecutable(graph('loss'), { backend: 'js', precision: 'f64', checkIndexRanges: false })).run(new Map([['x', X], ['y', y]]));
    expect(js.get('out')!.data[0]).toBeCloseTo(interp.get('out')!.data[0]!, 12);
    expect(evaluate(graph('loss'), { x: X, y }, { checkIndexRanges: false }).get('out')!.data[0]).toBe(interp.get('out')!.data[0]);
  });
});

describe('the runtime refuses values it would truncate or wrap', () => {
  it('JsExecutor.run: an i32 input that is not a whole number in the i32 range, a bool that is not 0 or 1', async () => {
    const c = compileGraph(graph('plain'), { backend: 'js' });
    const ex = await JsExecutor.create(c.manifest, c.js!);
    expect(() => ex.run({ n: [1, 2.5, 3], m: [0, 1, 0] })).toThrow('`n` is i32: value 2.5 at index 1 is not a whole number in the i32 range');
    expect(() => ex.run({ n: [1, 2 ** 31, 3], m: [0, 1, 0] })).toThrow('value 2147483648 at index 1');
    expect(() => ex.run({ n: [1, 2, 3], m: [0, 3, 0] })).toThrow('`m` is bool: value 3 at index 1 is not 0 or 1');
    expect(Array.from(Object.values(ex.run({ n: [1, 2, 3], m: [0, 1, 0] }))[0]!)).toEqual([2, 3, 4]);
  });
});

describe('a compiled program checks labels and indices by itself (bundles run without the compiler)', () => {
  it('the manifest gives each label or index input its range', () => {
    const c = compileGraph(graph('both'), { backend: 'js' });
    const t = c.manifest.buffers.find((b) => b.name === 't' && b.role === 'input')!;
    expect(t.range).toMatchObject({ lo: 0, hi: 4 });
    expect(c.manifest.buffers.find((b) => b.name === 'E' && b.role === 'input')!.range).toBeUndefined();
  });

  it('JsExecutor.run refuses class labels outside their range, naming the input; checkRanges = false lets them through', async () => {
    const c = compileGraph(graph('loss'), { backend: 'js' });
    const ex = await JsExecutor.create(c.manifest, c.js!);
    expect(() => ex.run({ x: X.data, y: [1, 4] })).toThrow(/input `y` holds class labels.*value 4 at index 1 is outside 0\.\.3/);
    ex.checkRanges = false;
    expect(Number.isFinite(ex.run({ x: X.data, y: [1, 4] })['out']![0]!)).toBe(true);
  });

  it.runIf(WEBGPU)('WebGpuExecutor.run refuses them too, before writing any input', async () => {
    const { getDevice, WebGpuExecutor } = await import('../../src/runtime/webgpu-executor.js');
    const c = compileGraph(graph('embed'), { backend: 'webgpu' });
    const ex = await WebGpuExecutor.create((await getDevice())!, { manifest: c.manifest, wgsl: c.wgsl! });
    const E = Array.from({ length: 15 }, (_, i) => i);
    await expect(ex.run({ E, t: [0, 1, 5, 2] })).rejects.toThrow(/input `t` holds .*value 5 at index 2 is outside 0\.\.4/);
    const ok = await ex.run({ E, t: [0, 1, 4, 2] });
    expect(Array.from(Object.values(ok)[0]!).slice(6, 9)).toEqual([12, 13, 14]);
  });
});
