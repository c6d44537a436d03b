/**
 * State updates (Graph.updates) on every backend: a step written as a pure `.dl` function is turned
 * into a graph that writes its new values into its parameters. The compiled programs must agree
 * with the interpreter step after step, write parameters in place where that is safe (no copies,
 * no extra outputs), and stay right where it is not (a swap, a transposed update, a state that
 * is also returned).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/index.js';
import { buildGraph } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import { buildKernels } from '../../src/kernel/build.js';
import { idx, ix, lit } from '../../src/kernel/expr.js';
import { verifyKernelProgram } from '../../src/kernel/verify.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { WEBGPU } from '../helpers/webgpu.js';

/** The graph of `entry` with the outputs named in `writes` turned into updates of those states. */
function stepGraph(src: string, entry: string, writes: Record<string, string>): Graph {
  const g = compile(src, entry, { path: 'step.dl' });
  const outputs = g.outputs.filter((o) => !(o.name in writes));
  const updates = g.outputs.filter((o) => o.name in writes).map((o) => ({ name: writes[o.name]!, node: o.node }));
  const step = buildGraph(g.name, g.inputs, outputs, updates);
  expect(verifyGraph(step)).toEqual([]);
  return runPipeline(step).graph;
}

const SGD = `
model Lin(d: int = 3, k: int = 2) {
  param W: f32[d, k] = glorot_uniform
  param b: f32[k] = 0.1
  fn loss(x: f32[B, d], y: f32[B, k]) -> f32 {
    return mean((x @ W + b - y) ** 2)
  }
  fn step(x: f32[B, d], y: f32[B, k]) {
    let (l, g) = value_and_grad(loss(x, y), self)
    let W1 = W - 0.1 * g.W
    let b1 = b - 0.1 * g.b
    return l, W1, b1
  }
}
`;

/** Adam-like: moments live in parameters of their own and the weight update reads the new moments. */
const MOMENTS = `
model Lin(d: int = 3, k: int = 2) {
  param W: f32[d, k] = glorot_uniform
  param m: f32[d, k] = zeros
  param v: f32[d, k] = zeros
  fn step(x: f32[B, d], y: f32[B, k]) {
    let (l, g) = value_and_grad(mean((x @ W - y) ** 2), W)
    let m1 = 0.9 * m + 0.1 * g
    let v1 = 0.999 * v + 0.001 * g * g
    let W1 = W - 0.01 * m1 / (sqrt(v1) + 1e-8)
    return l, W1, m1, v1
  }
}
`;

const SWAP = `
model S(n: int = 4) {
  param a: f32[n] = normal
  param c: f32[n] = normal
  fn step(x: f32[n]) {
    let s = sum(a * x)
    return s, c, a
  }
}
`;

const TRANSPOSE = `
model T(n: int = 3) {
  param W: f32[n, n] = normal
  fn step(x: f32[n]) {
    let s = sum(x @ W)
    let W1 = W.T * 0.5 + 1.0
    return s, W1, W
  }
}
`;

const BACKENDS: ExecBackend[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];

function inputs(g: Graph, seed: number): Map<string, NDArray> {
  return new Map(g.inputs.map((n) => [String(n.attrs['name']), randomArray(n.type.dtype, n.type.shape, seed, String(n.attrs['name']))]));
}

/** Runs `steps` steps on the interpreter and on `backend`; outputs and every state must agree after each. */
async function agreeOverSteps(g: Graph, backend: ExecBackend, steps: number, tol: number): Promise<void> {
  const ref = await makeExecutable(g, { backend: 'interp', seed: 3 });
  const ex = await makeExecutable(g, { backend, seed: 3 });
  for (let s = 0; s < steps; s++) {
    const x = inputs(g, s);
    const a = await ref.run(x);
    const b = await ex.run(x);
    for (const [name, v] of a) expect(Array.from(b.get(name)!.data).map((y, i) => Math.abs(y - v.data[i]!)).every((d) => d <= tol), `output ${name} at step ${s}`).toBe(true);
    const sa = await ref.getState();
    const sb = await ex.getState();
    for (const [name, t] of sa) {
      const u = sb.get(name)!;
      const worst = Math.max(...Array.from(t.data, (y, i) => Math.abs(y - Number(u.data[i]))));
      expect(worst, `state ${name} after step ${s + 1} on ${backend}`).toBeLessThanOrEqual(tol);
    }
  }
}

describe('state updates', () => {
  it('an SGD step writes W and b in place: no copy kernels, no outputs but the loss, no temporaries for them', () => {
    const g = stepGraph(SGD, 'Lin.step', { W1: 'W', b1: 'b' });
    expect(g.outputs.map((o) => o.name)).toEqual(['l']);
    const p = buildKernels(g);
    expect(verifyKernelProgram(p)).toEqual([]);
    expect(p.kernels.some((k) => k.source.ops.includes('update'))).toBe(false);
    expect(p.updates.map((u) => [u.name, p.buffers[u.buf]!.role])).toEqual([['W', 'param'], ['b', 'param']]);
    expect(p.buffers.filter((b) => b.role === 'temp' && b.name.includes('update'))).toEqual([]);
    expect(p.outputs.map((o) => o.name)).toEqual(['l']);
  });

  it('moments and the weight that reads the new moments are all written in place', () => {
    const g = stepGraph(MOMENTS, 'Lin.step', { W1: 'W', m1: 'm', v1: 'v' });
    const p = buildKernels(g);
    expect(verifyKernelProgram(p)).toEqual([]);
    expect(p.kernels.some((k) => k.source.ops.includes('update'))).toBe(false);
    expect(p.updates.map((u) => p.buffers[u.buf]!.name)).toEqual(['W', 'm', 'v']);
  });

  it('a swap is one kernel that computes both elements before storing either: in place, no copies', () => {
    const swap = buildKernels(stepGraph(SWAP, 'S.step', { c: 'a', a: 'c' }));
    expect(verifyKernelProgram(swap)).toEqual([]);
    expect(swap.kernels.filter((k) => k.source.ops.includes('update'))).toHaveLength(0);
    // Kernel by kernel, the second copy would read a state the first has overwritten: one of them is copied at the end.
    const unfused = buildKernels(stepGraph(SWAP, 'S.step', { c: 'a', a: 'c' }), { fuse: false });
    expect(unfused.kernels.filter((k) => k.source.ops.includes('update'))).toHaveLength(1);
  });

  it('a transposed update, or a state that is also returned, is copied into its state at the end', () => {
    const t = buildKernels(stepGraph(TRANSPOSE, 'T.step', { W1: 'W' }));
    expect(verifyKernelProgram(t)).toEqual([]);
    expect(t.kernels.filter((k) => k.source.ops.includes('update'))).toHaveLength(1);
    expect(t.kernels[t.kernels.length - 1]!.source.ops).toEqual(['update']);
    // The kernel verifier rejects a kernel that writes W from other elements of W (a race between threads).
    const w = t.updates[0]!.buf;
    const racing = { ...t, kernels: [...t.kernels, { kind: 'map' as const, name: 'k_race', domain: [9], vars: ['i0'], outputs: [{ buf: w, value: { k: 'load' as const, buf: w, i: ix('-', lit(8), idx('i0')), t: 'f32' as const } }], source: { ops: ['update'], spans: [] } }] };
    expect(verifyKernelProgram(racing).join('\n')).toMatch(/k_race writes state W and reads it at another element/);
  });

  it('the interpreter applies updates after computing everything (a swap swaps)', async () => {
    const g = stepGraph(SWAP, 'S.step', { c: 'a', a: 'c' });
    const ex = await makeExecutable(g, { backend: 'interp', seed: 1 });
    const before = await ex.getState();
    await ex.run(inputs(g, 0));
    const after = await ex.getState();
    expect(Array.from(after.get('a')!.data)).toEqual(Array.from(before.get('c')!.data));
    expect(Array.from(after.get('c')!.data)).toEqual(Array.from(before.get('a')!.data));
  });

  for (const backend of BACKENDS) {
    it(`agrees with the interpreter step after step on ${backend}`, async () => {
      await agreeOverSteps(stepGraph(SGD, 'Lin.step', { W1: 'W', b1: 'b' }), backend, 4, 1e-5);
      await agreeOverSteps(stepGraph(MOMENTS, 'Lin.step', { W1: 'W', m1: 'm', v1: 'v' }), backend, 4, 1e-5);
      await agreeOverSteps(stepGraph(SWAP, 'S.step', { c: 'a', a: 'c' }), backend, 3, 1e-5);
      // W is updated and also returned: the output is the value before the step.
      await agreeOverSteps(stepGraph(TRANSPOSE, 'T.step', { W1: 'W' }), backend, 3, 1e-5);
    });
    it(`one kernel per primitive (fuse: false) also agrees on ${backend}`, async () => {
      for (const [g, state] of [[stepGraph(MOMENTS, 'Lin.step', { W1: 'W', m1: 'm', v1: 'v' }), 'W'], [stepGraph(SWAP, 'S.step', { c: 'a', a: 'c' }), 'a']] as const) {
        const ref = await makeExecutable(g, { backend: 'interp', seed: 2 });
        const ex = await makeExecutable(g, { backend, seed: 2, fuse: false });
        for (let s = 0; s < 3; s++) {
          await ref.run(inputs(g, s));
          await ex.run(inputs(g, s));
        }
        const a = (await ref.getState()).get(state)!;
        const b = (await ex.getState()).get(state)!;
        expect(Math.max(...Array.from(a.data, (y, i) => Math.abs(y - Number(b.data[i]))))).toBeLessThan(1e-5);
      }
    });
  }
});
