/**
 * A training step compiled from a `train` declaration agrees with the interpreter on every backend,
 * step after step, for every optimizer of the standard library (with clipping, a schedule, weight
 * decay and a frozen parameter), after the whole pipeline (simplify, fusion, in-place updates).
 * The step is one program whose only output is the loss; it writes parameters, moments and the
 * step counter in place, with no copies for the standard optimizers.
 */
import { describe, expect, it } from 'vitest';
import { lowerTrain } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import { buildKernels } from '../../src/kernel/build.js';
import { verifyKernelProgram } from '../../src/kernel/verify.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { WEBGPU } from '../helpers/webgpu.js';

const MODEL = `
model Net(d: int = 5, h: int = 6, k: int = 3) {
  layer l1 = Linear(d, h)
  layer l2 = Linear(h, k)
  fn loss(x: f32[B, d], y: i32[B]) -> f32 {
    return cross_entropy(l2(tanh(l1(x))), y)
  }
}
`;

const OPTIMIZERS: Record<string, string> = {
  sgd: 'sgd(lr = 0.1, weight_decay = 0.01)',
  momentum: 'momentum(lr = 0.05, beta = 0.9)',
  nesterov: 'nesterov(lr = 0.05)',
  adagrad: 'adagrad(lr = 0.1)',
  rmsprop: 'rmsprop(lr = 0.01)',
  adam: 'adam(lr = 0.01)',
  adamw: 'adamw(lr = 0.01, weight_decay = 0.1)',
};

function stepOf(opt: string, extra = ''): Graph {
  const src = `${MODEL}\ntrain fit {\n  loss = Net.loss\n  optimizer = ${opt}\n${extra}}\n`;
  const r = lowerTrain(src, 'fit', { dims: { B: 4 }, path: 'step.dl' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

function batch(g: Graph, step: number): Map<string, NDArray> {
  return new Map(g.inputs.map((n) => [String(n.attrs['name']), randomArray(n.type.dtype, n.type.shape, step, String(n.attrs['name']), n.type.dtype === 'i32' ? { int: 3 } : 'any')]));
}

async function agree(g: Graph, backend: ExecBackend, steps: number, frozen: readonly string[] = []): Promise<void> {
  const ref = await makeExecutable(g, { backend: 'interp', seed: 5 });
  const ex = await makeExecutable(g, { backend, seed: 5 });
  const start = await ref.getState();
  for (let s = 0; s < steps; s++) {
    const x = batch(g, s);
    const a = (await ref.run(x)).get('loss')!.data[0]!;
    const b = (await ex.run(x)).get('loss')!.data[0]!;
    expect(Math.abs(a - b), `loss at step ${s + 1}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(a)));
  }
  const sa = await ref.getState();
  const sb = await ex.getState();
  expect([...sb.keys()].sort()).toEqual([...sa.keys()].sort());
  for (const [name, t] of sa) {
    const u = sb.get(name)!;
    const scale = Math.max(1, ...Array.from(t.data, Math.abs));
    const worst = Math.max(...Array.from(t.data, (y, i) => Math.abs(y - Number(u.data[i]))));
    expect(worst, `${name} after ${steps} steps on ${backend}`).toBeLessThan(2e-4 * scale);
  }
  // The steps changed every trained state, and left the frozen ones as they were.
  for (const name of frozen) expect(Array.from(sa.get(name)!.data), `${name} is frozen`).toEqual(Array.from(start.get(name)!.data));
  for (const [name, t] of sa) if (!name.endsWith('/step') && !frozen.includes(name)) expect(Array.from(t.data), `${name} moved`).not.toEqual(Array.from(start.get(name)!.data));
  expect(Array.from(sa.get('fit/step')!.data)).toEqual([steps]);
}

const BACKENDS: ExecBackend[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];

describe('a training step on every backend', () => {
  for (const [name, opt] of Object.entries(OPTIMIZERS)) {
    it(`${name}: one output, every state written in place (no copies), kernels verified`, () => {
      const g = runPipeline(stepOf(opt)).graph;
      expect(g.outputs.map((o) => o.name)).toEqual(['loss']);
      const p = buildKernels(g);
      expect(verifyKernelProgram(p)).toEqual([]);
      expect(p.kernels.filter((k) => k.source.ops.includes('update')).map((k) => k.name)).toEqual([]);
      expect(p.updates.length).toBe(g.updates.length);
      expect(p.outputs.map((o) => o.name)).toEqual(['loss']);
    });
    for (const backend of BACKENDS) {
      it(`${name} agrees with the interpreter over 3 steps on ${backend}`, () => agree(stepOf(opt), backend, 3));
    }
  }
  for (const backend of BACKENDS) {
    it(`adam with clip_norm, a cosine schedule and a frozen bias agrees on ${backend}; the frozen bias stays put`, async () => {
      const g = stepOf('adam(lr = 0.05)', '  clip_norm = 0.5\n  schedule = cosine_lr(total = 10, warmup = 2)\n  freeze = [l2.b]\n');
      expect(g.updates.map((u) => u.name)).not.toContain('l2.b');
      expect(g.params.map((p) => String(p.attrs['name']))).toContain('l2.b');
      await agree(g, backend, 4, ['l2.b']);
    });
  }
});
