/**
 * Several training steps over one state (issue 9: a GAN's critic and generator steps alternate
 * over one model): `makeExecutables` compiles them together, every parameter of a name is one
 * tensor at one offset, and alternating the steps on JS and WebGPU gives the interpreter's trajectory.
 */
import { describe, expect, it } from 'vitest';
import { lowerTrain, makeExecutables, NDArray } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { compileShared } from '../../src/codegen/compile-shared.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { WEBGPU } from '../helpers/webgpu.js';

const GAN = `
model Gan {
  layer gen = Linear(3, 2)
  layer critic = Linear(2, 1)

  fn critic_loss(x: f32[B, 2], z: f32[B, 3]) -> f32 {
    return mean(critic(stop_gradient(gen(z)))) - mean(critic(x))
  }

  fn gen_loss(z: f32[B, 3]) -> f32 {
    return -mean(critic(gen(z)))
  }
}

let gan = Gan()

train critic_step {
  loss = gan.critic_loss
  optimizer = adam(lr = 0.05, b1 = 0.5)
  params = [gan.critic]
}

train gen_step {
  loss = gan.gen_loss
  optimizer = adam(lr = 0.05, b1 = 0.5)
  params = [gan.gen]
}
`;

const BACKENDS: ('js' | 'webgpu')[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];

function step(name: string): Graph {
  const r = lowerTrain(GAN, name, { dims: { B: 4 }, path: 'gan.dl' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return runPipeline(r.graph!).graph;
}

function batch(g: Graph, k: number): Map<string, NDArray> {
  return new Map(g.inputs.map((n) => [String(n.attrs['name']), randomArray(n.type.dtype, n.type.shape, k, String(n.attrs['name']))]));
}

describe('training steps that share one state', () => {
  it('place every shared parameter at one offset, each program its own inputs and outputs', () => {
    const [c, g] = compileShared([step('critic_step'), step('gen_step')], { backend: 'js' });
    const at = (m: typeof c.manifest, name: string) => m.buffers.find((b) => b.name === name && (b.role === 'param' || b.role === 'state'))?.offset;
    for (const name of ['gan.gen.W', 'gan.gen.b', 'gan.critic.W', 'gan.critic.b']) expect(at(g!.manifest, name), name).toBe(at(c!.manifest, name));
    expect(c!.manifest.state.bytes).toBe(g!.manifest.state.bytes);
    // Each step's optimizer state is its own; the regions of inputs, outputs and constants do not overlap.
    const own = (m: typeof c.manifest) => m.buffers.filter((b) => b.space === 'state' && !(b.role === 'param' || b.role === 'state'));
    const ends = own(c!.manifest).map((b) => b.offset);
    const starts = own(g!.manifest).map((b) => b.offset);
    expect(Math.min(...starts)).toBeGreaterThan(Math.max(...ends));
  });

  it.each(BACKENDS)('alternating critic and generator steps on %s follows the interpreter, and each step sees the other\'s update', async (backend) => {
    const graphs = [step('critic_step'), step('gen_step')];
    const ref = await makeExecutables(graphs, { backend: 'interp', seed: 4 });
    const js = await makeExecutables(graphs, { backend, seed: 4 });
    const start = await ref[1]!.getParams();
    for (let k = 0; k < 6; k++) {
      const which = k % 2;
      const x = batch(graphs[which]!, k);
      const a = (await ref[which]!.run(x)).get('loss')!.data[0]!;
      const b = (await js[which]!.run(x)).get('loss')!.data[0]!;
      expect(Math.abs(a - b), `loss of step ${k}`).toBeLessThan(1e-4);
    }
    // Both executables of a backend see one state: the critic's weight moved (critic steps) and the
    // generator's (generator steps), and either executable reads them as they are now.
    const sa = await ref[1]!.getParams();
    const sb = await js[1]!.getParams();
    const viaCritic = await js[0]!.getParams();
    for (const [name, t] of sa) {
      // (The critic's bias cancels in its loss, so its gradient is zero and it stays.)
      if (name !== 'gan.critic.b') expect(Array.from(t.data), `${name} moved`).not.toEqual(Array.from(start.get(name)!.data));
      expect(Math.max(...Array.from(t.data, (v, i) => Math.abs(v - Number(sb.get(name)!.data[i]))))).toBeLessThan(1e-4);
      expect(Array.from(viaCritic.get(name)!.data)).toEqual(Array.from(sb.get(name)!.data));
    }
    // Each step counted its own steps.
    expect(Array.from((await js[0]!.getState()).get('critic_step/step')!.data)).toEqual([3]);
    expect(Array.from((await js[1]!.getState()).get('gen_step/step')!.data)).toEqual([3]);
  });

  it('refuses programs that give one name two types', () => {
    const other = lowerTrain(GAN.replace('layer critic = Linear(2, 1)', 'layer critic = Linear(2, 3)'), 'gen_step', { dims: { B: 4 } }).graph!;
    expect(() => compileShared([step('critic_step'), other], { backend: 'js' })).toThrow(/gan\.critic\.W` is f32\[2, 1\] in .* but f32\[2, 3\]/);
  });
});
