/**
 * Random draws under differentiation and in training steps: gradients flow through a
 * reparameterized draw to its mean and scale and through dropout's kept elements, never into the
 * draw; a train step draws afresh each step, reproducibly from the seed; the seed is state that
 * `dlc run` fills by itself; and misuse is a diagnostic (DL0316, DL0203).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, compile, gradcheck, lowerTrain } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import { WEBGPU } from '../helpers/webgpu.js';

const outputs = async (g: Graph, inputs: Record<string, number[]>, seed = 0) => {
  const ex = await makeExecutable(g, { backend: 'interp', seed });
  const m = new Map(g.inputs.map((n) => [String(n.attrs['name']), NDArray.from(n.type.shape, inputs[String(n.attrs['name'])]!)]));
  return [...(await ex.run(m)).values()].map((a) => Array.from(a.data));
};

describe('gradients and random draws', () => {
  it('mu + sigma * normal(...) passes the finite-difference gradient check in mu and sigma', async () => {
    const src = `
fn elbo_like(mu: f32[6], sigma: f32[6]) -> f32 {
  let z = mu + sigma * normal([6])
  return sum(z * z * z) + sum(tanh(normal([6], mu, sigma)))
}`;
    const r = await gradcheck(src, 'reparam.dl', { runs: 6, seed: 3 });
    expect(r.diagnostics).toEqual([]);
    const f = r.functions[0]!;
    expect(f.ok, JSON.stringify(f.counterexample)).toBe(true);
    expect(f.tensors.map((t) => t.name).sort()).toEqual(['mu', 'sigma']);
  });

  it('the gradient of mu + sigma·ε is 1 in mu and ε in sigma: nothing flows into the draw', async () => {
    const src = `
fn f(mu: f32[64], sigma: f32[64]) -> (f32[64], f32[64], f32[64]) {
  let y = mu + sigma * normal([64])
  return (y, grad(sum(y), mu), grad(sum(y), sigma))
}`;
    const mu = Array.from({ length: 64 }, (_, i) => i / 10 - 3);
    const sigma = Array.from({ length: 64 }, (_, i) => 0.5 + i / 32);
    const [y, gmu, gsigma] = await outputs(compile(src, 'f'), { mu, sigma });
    expect(gmu).toEqual(new Array(64).fill(1));
    gsigma!.forEach((g, i) => expect(g).toBeCloseTo((y![i]! - mu[i]!) / sigma[i]!, 10));
    // ε is a standard normal, not a constant.
    expect(new Set(gsigma).size).toBe(64);
  });

  it('dropout passes the gradient of the kept elements, scaled by 1/(1 − p)', async () => {
    const src = `
fn f(x: f32[200]) -> (f32[200], f32[200]) {
  let d = dropout(x, 0.3, training=true)
  return (d, grad(sum(d), x))
}`;
    const x = Array.from({ length: 200 }, (_, i) => 1 + i);
    const [d, g] = await outputs(compile(src, 'f'), { x });
    const s = Math.fround(1 / 0.7);
    d!.forEach((v, i) => expect(g![i]).toBe(v === 0 ? 0 : s));
    expect(g!.filter((v) => v === 0).length).toBeGreaterThan(20);
  });

  it('uniform(shape, low, high) differentiates in its bounds only', async () => {
    const src = `
fn f(lo: f32[50], hi: f32[50]) -> (f32[50], f32[50], f32[50]) {
  let u = uniform([50], lo, hi)
  return (u, grad(sum(u), lo), grad(sum(u), hi))
}`;
    const lo = new Array(50).fill(-1);
    const hi = new Array(50).fill(3);
    const [u, glo, ghi] = await outputs(compile(src, 'f'), { lo, hi });
    // u = lo + (hi − lo)·r, so d/dlo = 1 − r and d/dhi = r with r = (u − lo)/(hi − lo).
    u!.forEach((v, i) => {
      const r = (v + 1) / 4;
      expect(ghi![i]).toBeCloseTo(r, 12);
      expect(glo![i]).toBeCloseTo(1 - r, 12);
    });
  });
});

const TRAIN = `
model Noisy {
  param w: f32[4] = ones
  fn loss(x: f32[8, 4]) -> f32 {
    return sum(dropout(x * w, 0.5)) + sum(normal([4]) * w)
  }
}
train still = Noisy.loss with sgd(lr = 0.0)
`;

function stepGraph(): Graph {
  const r = lowerTrain(TRAIN, 'still', { path: 'noisy.dl' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}

const X = new Map([['x', NDArray.from([8, 4], Array.from({ length: 32 }, (_, i) => 1 + (i % 5)))]]);

async function losses(backend: ExecBackend, seed: number, steps = 4): Promise<number[]> {
  const ex = await makeExecutable(stepGraph(), { backend, seed });
  const out: number[] = [];
  for (let s = 0; s < steps; s++) out.push((await ex.run(X)).get('loss')!.data[0]!);
  return out;
}

describe('random draws in a train step', () => {
  it('read the seed state and the step counter, and update neither the seed nor anything random', () => {
    const g = stepGraph();
    const names = g.params.map((p) => String(p.attrs['name']));
    expect(names).toContain('rng/seed');
    expect(names).toContain('still/step');
    // One step counter node, shared by the draws and the increment.
    expect(names.filter((n) => n === 'still/step')).toHaveLength(1);
    expect(g.updates.map((u) => u.name)).not.toContain('rng/seed');
  });

  it('draw fresh noise every step (with lr = 0 only the noise changes the loss), the same for the same seed', async () => {
    const a = await losses('interp', 3);
    expect(new Set(a).size).toBe(a.length);
    expect(await losses('interp', 3)).toEqual(a);
    const b = await losses('interp', 4);
    expect(b).not.toEqual(a);
  });

  it.each(['js', ...(WEBGPU ? ['webgpu'] : [])] as ExecBackend[])('draw on %s what the interpreter draws, step after step', async (backend) => {
    const ref = await losses('interp', 3);
    const got = await losses(backend, 3);
    got.forEach((v, i) => expect(Math.abs(v - ref[i]!), `step ${i + 1}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]!))));
  });

  it.each(['js', ...(WEBGPU ? ['webgpu'] : [])] as ExecBackend[])('train with the interpreter\'s masks on %s: the backward pass reads the step the forward pass drew with', async (backend) => {
    const src = `
model Drop {
  layer l1 = Linear(4, 16)
  layer l2 = Linear(16, 3)
  fn loss(x: f32[8, 4], y: i32[8]) -> f32 {
    return cross_entropy(l2(dropout(tanh(l1(x)), 0.5)), y)
  }
}
train fit = Drop.loss with sgd(lr = 0.5)
`;
    const g = lowerTrain(src, 'fit', { path: 'drop.dl' }).graph!;
    const batch = new Map([
      ['x', NDArray.from([8, 4], Array.from({ length: 32 }, (_, i) => Math.fround(Math.sin(i))))],
      ['y', NDArray.from([8], [0, 1, 2, 0, 1, 2, 0, 1])],
    ]);
    const ref = await makeExecutable(g, { backend: 'interp', seed: 2 });
    const ex = await makeExecutable(g, { backend, seed: 2 });
    for (let s = 0; s < 4; s++) {
      await ref.run(batch);
      await ex.run(batch);
    }
    const [a, b] = [await ref.getState(), await ex.getState()];
    for (const [name, t] of a) {
      const worst = Math.max(...Array.from(t.data, (v, i) => Math.abs(v - b.get(name)!.data[i]!)));
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it('keep rng/seed in the state: the run\'s seed, unchanged by steps', async () => {
    const ex = await makeExecutable(stepGraph(), { backend: 'js', seed: 77 });
    await ex.run(X);
    const state = await ex.getState();
    expect(Array.from(state.get('rng/seed')!.data)).toEqual([77]);
    expect(Array.from(state.get('still/step')!.data)).toEqual([1]);
  });
});

describe('entry points with draws', () => {
  it('need no new inputs: the seed is state, initialized from the run\'s seed', async () => {
    const g = compile('fn f(x: f32[3]) -> f32[3] {\n  return x + uniform([3])\n}', 'f');
    expect(g.inputs.map((n) => String(n.attrs['name']))).toEqual(['x']);
    expect(g.params.map((n) => String(n.attrs['name']))).toEqual(['rng/seed']);
    const run = async (seed: number) => (await outputs(g, { x: [0, 0, 0] }, seed))[0]!;
    expect(await run(1)).toEqual(await run(1));
    expect(await run(1)).not.toEqual(await run(2));
  });

  it('a program without draws has no seed state', () => {
    expect(compile('fn f(x: f32[3]) -> f32[3] {\n  return x * 2.0\n}', 'f').params).toEqual([]);
  });
});

describe('diagnostics', () => {
  const codes = (body: string) => check(`fn f(x: f32[4, 8]) -> f32[4, 8] {\n  return ${body}\n}\n`, 'bad.dl').diagnostics.map((d) => d.code);

  it.each([
    ['dropout(x, 1.0)', 'DL0316'],
    ['dropout(x, -0.1)', 'DL0316'],
    ['x * bernoulli(1.5, [4, 8])', 'DL0316'],
    ['cast(randint([4, 8], 5, 5), f32)', 'DL0316'],
    ['x * bernoulli(0.5)', 'DL0203'],
    ['uniform([4, 8], zeros([3]))', 'DL0302'],
    ['x + uniform(x)', 'DL0310'],
    ['dropout(cast(x, i32), 0.5)', 'DL0303'],
  ])('%s is %s', (body, code) => {
    expect(codes(body)).toContain(code);
  });

  it('points at the probability', () => {
    const d = check('fn f(x: f32[4]) -> f32[4] {\n  return dropout(x, 1.5)\n}\n', 'bad.dl').diagnostics[0]!;
    expect(d.code).toBe('DL0316');
    expect(d.span!.file.position(d.span!.start)).toEqual({ line: 2, col: 21 });
  });

  it('keeps normal(…) and uniform(…) initializers of parameters', () => {
    const src = 'model M {\n  param W: f32[3] = normal(0, 0.02)\n  param b: f32[3] = uniform(-0.1, 0.1)\n  fn f(x: f32[3]) -> f32[3] {\n    return x * W + b + normal([3])\n  }\n}\n';
    expect(check(src, 'init.dl').diagnostics).toEqual([]);
    const g = compile(src, 'M.f');
    expect(g.params.map((p) => (p.attrs['init'] as { kind: string }).kind).sort()).toEqual(['normal', 'seed', 'uniform']);
  });
});

describe('docs/random.md', () => {
  it('has example programs that compile, with their training steps', () => {
    const text = readFileSync(new URL('../../docs/random.md', import.meta.url), 'utf8');
    const programs = [...text.matchAll(/^```dl program\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) {
      const r = check(p, 'random.md');
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.checked.some((c) => c.startsWith('train '))).toBe(true);
    }
  });
});

describe('call-site keys', () => {
  it('do not depend on the file\'s path: the same program draws the same under any name', async () => {
    const src = 'fn f() -> f32[16] {\n  return normal([16])\n}\n';
    const run = async (path: string) => (await outputs(compile(src, 'f', { path }), {}, 3))[0]!;
    expect(await run('/somewhere/else/model.dl')).toEqual(await run('model.dl'));
  });
});
