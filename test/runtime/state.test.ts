/**
 * The state API of compiled programs (Executable and the runtime's executors): getParams and
 * getState read every persistent tensor by name, setParams and setState check every tensor
 * (name, dtype, shape, value count, values) before writing any, on the interpreter, JS and WebGPU.
 */
import { describe, expect, it } from 'vitest';
import { compile, makeExecutable, NDArray, type Graph } from '../../src/index.js';
import type { ExecBackend, Executable } from '../../src/exec.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { StateError, type Tensor } from '../../src/runtime/state.js';
import { WEBGPU } from '../helpers/webgpu.js';
import { readExample } from '../helpers/compile.js';

/**
 * LinearRegression.forward (params `w` f32[3], `b` f32) plus two optimizer-state tensors, as a
 * train lowering names them: `fit/w/m` (f32[3]) and the step counter `fit/step` (i32), read by
 * two extra outputs so the program keeps them.
 */
function program(): Graph {
  const fwd = compile(readExample('linear-regression.dl'), 'LinearRegression.forward', { dims: { N: 2 } });
  const b = new GraphBuilder();
  const map = b.import(fwd);
  const m = b.add('param', [], { name: 'fit/w/m', dtype: 'f32', shape: [3], init: { kind: 'zeros', args: {} } });
  const step = b.add('param', [], { name: 'fit/step', dtype: 'i32', shape: [], init: { kind: 'zeros', args: {} } });
  const outputs = [
    ...fwd.outputs.map((o) => ({ name: 'y', node: map.get(o.node)! })),
    { name: 'm_sum', node: b.add('reduce_sum', [m], { axes: [0] }) },
    { name: 'step2', node: b.add('add', [step, step]) },
  ];
  return b.finish('state_test', fwd.inputs.map((i) => map.get(i)!), outputs);
}

const X = NDArray.from([2, 3], [1, 2, 3, -1, 0.5, 2]);
const tensor = (dtype: Tensor['dtype'], shape: number[], data: number[]): Tensor => ({ dtype, shape, data });
const values = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) }]));

function stateError(f: () => void): StateError {
  try {
    f();
  } catch (e) {
    if (e instanceof StateError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const BACKENDS: { backend: ExecBackend; skip: boolean }[] = [
  { backend: 'interp', skip: false },
  { backend: 'js', skip: false },
  { backend: 'webgpu', skip: !WEBGPU },
];

describe.each(BACKENDS)('state API on $backend', ({ backend, skip }) => {
  const make = (): Promise<Executable> => makeExecutable(program(), { backend, seed: 3 });

  it.skipIf(skip)('reads parameters (role param) and all persistent state by name, as initialized', async () => {
    const exe = await make();
    const ref = await makeExecutable(program(), { backend: 'interp', seed: 3 });
    const params = await exe.getParams();
    expect([...params.keys()].sort()).toEqual(['b', 'w']);
    expect(params.get('w')).toMatchObject({ dtype: 'f32', shape: [3] });
    expect(params.get('b')).toMatchObject({ dtype: 'f32', shape: [] });
    // Same seeded initial values as the interpreter (to f32 rounding).
    const w0 = Array.from((await ref.getParams()).get('w')!.data);
    Array.from(params.get('w')!.data).forEach((v, i) => expect(v).toBeCloseTo(w0[i]!, 6));
    expect(w0.some((v) => v !== 0)).toBe(true);
    const state = await exe.getState();
    expect([...state.keys()].sort()).toEqual(['b', 'fit/step', 'fit/w/m', 'w']);
    expect(values(state)['fit/step']).toEqual({ dtype: 'i32', shape: [], data: [0] });
    expect(values(state)['fit/w/m']).toEqual({ dtype: 'f32', shape: [3], data: [0, 0, 0] });
  });

  it.skipIf(skip)('setParams and setState write what the program then computes with and getState reads back', async () => {
    const exe = await make();
    exe.setParams(new Map([
      ['w', tensor('f32', [3], [0.5, -2, 0.25])],
      ['b', tensor('f32', [], [1.5])],
    ]));
    // y = X w + b by hand: [0.5 - 4 + 0.75 + 1.5, -0.5 - 1 + 0.5 + 1.5]
    const out = await exe.run(new Map([['X', X]]));
    expect(Array.from(out.get('y')!.data)).toEqual([-1.25, 0.5]);
    exe.setState(new Map([
      ['fit/w/m', tensor('f32', [3], [1, 2, 4])],
      ['fit/step', tensor('i32', [], [21])],
    ]), { partial: true });
    const out2 = await exe.run(new Map([['X', X]]));
    expect(out2.get('m_sum')!.data[0]).toBe(7);
    expect(out2.get('step2')!.data[0]).toBe(42);
    expect(values(await exe.getState())).toEqual({
      w: { dtype: 'f32', shape: [3], data: [0.5, -2, 0.25] },
      b: { dtype: 'f32', shape: [], data: [1.5] },
      'fit/w/m': { dtype: 'f32', shape: [3], data: [1, 2, 4] },
      'fit/step': { dtype: 'i32', shape: [], data: [21] },
    });
    // A full state map from getState loads back into a fresh program (a checkpoint round trip).
    const other = await make();
    other.setState(await exe.getState());
    expect(values(await other.getState())).toEqual(values(await exe.getState()));
    expect(Array.from((await other.run(new Map([['X', X]]))).get('y')!.data)).toEqual([-1.25, 0.5]);
  });

  it.skipIf(skip)('checks every tensor before writing any, and names each one that does not fit', async () => {
    const exe = await make();
    const before = values(await exe.getState());
    const e = stateError(() =>
      exe.setState(new Map([
        ['w', tensor('f32', [3], [9, 9, 9])], // fine, but must not be written
        ['b', tensor('f32', [1], [1])], // shape [1] is not a scalar
        ['fit/step', tensor('i32', [], [2.5])],
        ['fit/w/m', tensor('i32', [3], [1, 2, 3])], // dtype
        ['nope', tensor('f32', [], [0])],
      ])),
    );
    expect(e.problems.map((p) => p.tensor).sort()).toEqual(['b', 'fit/step', 'fit/w/m', 'nope']);
    expect(e.message).toContain('`b`: is f32[1] but the program\'s state tensor is f32[]');
    expect(e.message).toContain('`fit/step`: is i32: value 2.5 at index 0 is not a whole number');
    expect(e.message).toContain('`nope`: the program has no state tensor of this name');
    expect(values(await exe.getState())).toEqual(before);
    // A value count that does not match the shape; a parameter map that leaves one out.
    expect(stateError(() => exe.setParams(new Map([['w', tensor('f32', [3], [1, 2])], ['b', tensor('f32', [], [0])]]))).message).toBe('`w`: f32[3] has 3 values, got 2');
    const missing = stateError(() => exe.setParams(new Map([['w', tensor('f32', [3], [1, 2, 3])]])));
    expect(missing.problems).toEqual([{ tensor: 'b', kind: 'missing', message: "`b`: missing (the program's parameter is f32[])" }]);
    expect(missing.message).toMatch(/pass \{ partial: true \}/);
    // Optimizer state is not a parameter.
    expect(stateError(() => exe.setParams(new Map([['fit/step', tensor('i32', [], [1])]]), { partial: true })).message).toMatch(/^`fit\/step`: the program has no parameter of this name \(its parameters: `[wb]`, `[wb]`\)$/);
    expect(values(await exe.getState())).toEqual(before);
  });

  it.skipIf(skip)('partial writes leave the other tensors as they were', async () => {
    const exe = await make();
    const w = Array.from((await exe.getParams()).get('w')!.data);
    exe.setParams(new Map([['b', tensor('f32', [], [-3])]]), { partial: true });
    const p = values(await exe.getParams());
    expect(p['b']!.data).toEqual([-3]);
    expect(p['w']!.data).toEqual(w);
  });
});

/**
 * A step program (state updates `fit/m` ← m + x, `fit/step` ← step + 1): the state after a step
 * is what getState reads, and setState of an earlier snapshot makes the next step repeat exactly
 * (what resuming from a checkpoint relies on).
 */
function stepProgram(): Graph {
  const b = new GraphBuilder();
  const x = b.add('input', [], { name: 'x', dtype: 'f32', shape: [2] });
  const m = b.add('param', [], { name: 'fit/m', dtype: 'f32', shape: [2], init: { kind: 'zeros', args: {} } });
  const step = b.add('param', [], { name: 'fit/step', dtype: 'i32', shape: [], init: { kind: 'zeros', args: {} } });
  const one = b.add('constant', [], { dtype: 'i32', shape: [], value: 1 });
  const outputs = [{ name: 'total', node: b.add('reduce_sum', [m], { axes: [0] }) }];
  const updates = [
    { name: 'fit/m', node: b.add('add', [m, x]) },
    { name: 'fit/step', node: b.add('add', [step, one]) },
  ];
  return b.finish('step', [x], outputs, updates);
}

describe.each(BACKENDS.filter((b) => !b.skip))('state API across training steps on $backend', ({ backend }) => {
  it('reads the state a step wrote, and a snapshot set back makes the step repeat exactly', async () => {
    const exe = await makeExecutable(stepProgram(), { backend });
    const x = new Map([['x', NDArray.from([2], [1.5, -2])]]);
    await exe.run(x);
    const snapshot = await exe.getState();
    expect(values(snapshot)).toEqual({ 'fit/m': { dtype: 'f32', shape: [2], data: [1.5, -2] }, 'fit/step': { dtype: 'i32', shape: [], data: [1] } });
    expect((await exe.getParams()).size).toBe(0);
    const after = values(await (await exe.run(x), exe.getState()));
    expect(after['fit/step']!.data).toEqual([2]);
    exe.setState(snapshot);
    await exe.run(x);
    expect(values(await exe.getState())).toEqual(after);
  });
});
