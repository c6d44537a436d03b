/**
 * Training and evaluation modes (docs/language.md §15, docs/random.md): `training()` is true only
 * while lowering a train step's loss, `dropout` drops only there, and `state` members (batch norm's
 * running statistics) are written by the step and read by evaluation. BatchNorm's running mean and
 * (unbiased) variance after k steps match a TypeScript computation, evaluation matches the formula
 * with those statistics, and the JS and WebGPU backends agree with the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { check, lower, lowerTrain } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { makeExecutable, makeExecutables, type ExecBackend } from '../../src/exec.js';
import { WEBGPU } from '../helpers/webgpu.js';

const errors = (ds: readonly { severity: string; code: string }[]) => ds.filter((d) => d.severity === 'error').map((d) => d.code);

describe('training()', () => {
  const SRC = `
model M {
  param w: f32[2] = ones
  fn mode(x: f32[2]) -> f32 {
    if training() {
      return sum(x * w)
    }
    return 100.0 + sum(x * w)
  }
}
train fit = M.mode with sgd(lr = 0.0)
`;
  it('is false in an entry point and true in a train step', async () => {
    const e = lower(SRC, 'M.mode');
    expect(errors(e.diagnostics)).toEqual([]);
    const x = new Map([['x', NDArray.from([2], [1, 2])]]);
    const ev = await makeExecutable(e.graph!, { backend: 'interp' });
    expect((await ev.run(x)).get(e.graph!.outputs[0]!.name)!.data[0]).toBe(103);
    const t = lowerTrain(SRC, 'fit');
    expect(errors(t.diagnostics)).toEqual([]);
    const tr = await makeExecutable(t.graph!, { backend: 'interp' });
    expect((await tr.run(x)).get('loss')!.data[0]).toBe(3);
  });
});

describe('dropout in evaluation', () => {
  const SRC = `
model D {
  param w: f32[64] = ones
  fn out(x: f32[64]) -> f32[64] {
    return dropout(x * w, 0.5)
  }
  fn forced(x: f32[64]) -> f32[64] {
    return dropout(x * w, 0.5, training=true)
  }
  fn loss(x: f32[64]) -> f32 {
    return sum(out(x))
  }
}
train fit = D.loss with sgd(lr = 0.0)
`;
  const x = new Map([['x', NDArray.from([64], Array.from({ length: 64 }, (_, i) => i + 1))]]);
  it('is the identity outside a train step, with no draw in the graph', async () => {
    const e = lower(SRC, 'D.out');
    expect(e.graph!.nodes.filter((n) => n.op.startsWith('random')).length).toBe(0);
    const y = (await (await makeExecutable(e.graph!, { backend: 'interp' })).run(x)).values().next().value!;
    expect(Array.from(y.data)).toEqual(Array.from(x.get('x')!.data));
  });
  it('drops in a train step, and with training=true anywhere', async () => {
    const f = lower(SRC, 'D.forced');
    const y = Array.from((await (await makeExecutable(f.graph!, { backend: 'interp' })).run(x)).values().next().value!.data);
    expect(y.filter((v) => v === 0).length).toBeGreaterThan(10);
    const t = lowerTrain(SRC, 'fit');
    const loss = (await (await makeExecutable(t.graph!, { backend: 'interp' })).run(x)).get('loss')!.data[0]!;
    expect(loss).not.toBe((64 * 65) / 2);
  });
  it('takes a static mode (DL0310 for a tensor)', () => {
    const d = check('fn f(x: f32[4]) -> f32[4] {\n  return dropout(x, 0.5, training=x > 0.0)\n}\n').diagnostics;
    expect(errors(d)).toEqual(['DL0310']);
  });
});

describe('state members', () => {
  it('are assigned only in a train step (DL0317) and are never trained', () => {
    const SRC = `
model S {
  param w: f32[3] = ones
  state count: f32[3] = zeros
  fn bad(x: f32[3]) -> f32 {
    count = count + 1.0
    return sum(x * w)
  }
  fn loss(x: f32[3]) -> f32 {
    if training() {
      count += 1.0
    }
    return sum(x * w * count)
  }
}
train fit = S.loss with sgd(lr = 0.1)
train only_state {
  loss = S.loss
  optimizer = sgd(lr = 0.1)
  freeze = [w]
}
`;
    const bad = lower(SRC, 'S.bad').diagnostics.find((d) => d.code === 'DL0317');
    expect(bad?.message).toContain('`count` is state');
    const t = lowerTrain(SRC, 'fit');
    expect(errors(t.diagnostics)).toEqual([]);
    expect(t.info!.params).toEqual(['w']);
    expect(t.info!.modelState).toEqual(['count']);
    expect(t.graph!.updates.map((u) => u.name)).toContain('count');
    expect(t.graph!.updates.map((u) => u.name).filter((n) => n.startsWith('fit/count'))).toEqual([]);
    // With w frozen nothing is trainable: the state does not count as a parameter.
    expect(errors(lowerTrain(SRC, 'only_state').diagnostics)).toEqual(['DL0705']);
  });
  it('hold the last assigned value after the step, and reads after an assignment see it', async () => {
    const SRC = `
model S {
  param w: f32[1] = ones
  state c: f32[1] = zeros
  fn loss(x: f32[1]) -> f32 {
    c = c + x
    c = c * 2.0
    return sum(w * c)
  }
}
train fit = S.loss with sgd(lr = 0.0)
`;
    const t = lowerTrain(SRC, 'fit');
    const ex = await makeExecutable(t.graph!, { backend: 'interp' });
    const x = new Map([['x', NDArray.from([1], [3])]]);
    expect((await ex.run(x)).get('loss')!.data[0]).toBe(6);
    expect((await ex.run(x)).get('loss')!.data[0]).toBe(18);
    expect(Array.from((await ex.getState()).get('c')!.data)).toEqual([18]);
  });
});

// ---- BatchNorm ---------------------------------------------------------------------------------

const BN = `
model Net(c: int = 3) {
  layer bn = BatchNorm(c, momentum = 0.2)
  fn forward(x: f32[B, c, L]) -> f32[B, c, L] {
    return bn(x)
  }
  fn loss(x: f32[B, c, L], y: f32[B, c, L]) -> f32 {
    let e = bn(x) - y
    return mean(e * e)
  }
}
train fit = Net.loss with sgd(lr = 0.1)
`;
const B = 4, Cn = 3, L = 2, MOM = 0.2, EPS = 1e-5;

function batch(step: number): Map<string, NDArray> {
  const n = B * Cn * L;
  const x = Array.from({ length: n }, (_, i) => {
    const c = Math.floor(i / L) % Cn;
    return Math.fround(2 * c - 1 + Math.sin(1.7 * i + 0.9 * step) * (1 + c));
  });
  const y = Array.from({ length: n }, (_, i) => Math.fround(Math.cos(0.3 * i + step)));
  return new Map([
    ['x', NDArray.from([B, Cn, L], x)],
    ['y', NDArray.from([B, Cn, L], y)],
  ]);
}

/** Per channel: the mean and the biased variance over the batch and length axes. */
function stats(x: ArrayLike<number>): { mu: number[]; v: number[] } {
  const mu: number[] = [], v: number[] = [];
  for (let c = 0; c < Cn; c++) {
    const vals: number[] = [];
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) vals.push(x[(b * Cn + c) * L + l]!);
    const m = vals.reduce((s, a) => s + a, 0) / vals.length;
    mu.push(m);
    v.push(vals.reduce((s, a) => s + (a - m) ** 2, 0) / vals.length);
  }
  return { mu, v };
}

function graphs(): { step: Graph; evalFwd: Graph; evalLoss: Graph } {
  const opts = { dims: { B, L }, path: 'bn.dl' };
  const t = lowerTrain(BN, 'fit', opts);
  expect(errors(t.diagnostics)).toEqual([]);
  const f = lower(BN, 'Net.forward', opts);
  const l = lower(BN, 'Net.loss', opts);
  return { step: t.graph!, evalFwd: f.graph!, evalLoss: l.graph! };
}

const K = 5;

describe('BatchNorm', () => {
  it('updates running mean and unbiased variance as PyTorch does; evaluation uses them', async () => {
    const g = graphs();
    expect(g.step.updates.map((u) => u.name)).toEqual(expect.arrayContaining(['bn.running_mean', 'bn.running_var']));
    const [step, fwd, evalLoss] = await makeExecutables([g.step, g.evalFwd, g.evalLoss], { backend: 'interp' });
    let rm = [0, 0, 0], rv = [1, 1, 1];
    const n = B * L;
    for (let s = 0; s < K; s++) {
      const x = batch(s);
      const { mu, v } = stats(x.get('x')!.data);
      rm = rm.map((r, c) => (1 - MOM) * r + MOM * mu[c]!);
      rv = rv.map((r, c) => (1 - MOM) * r + MOM * v[c]! * (n / (n - 1)));
      await step!.run(x);
    }
    const st = await step!.getState();
    const got = (k: string) => Array.from(st.get(k)!.data);
    got('bn.running_mean').forEach((a, c) => expect(Math.abs(a - rm[c]!), `mean ${c}`).toBeLessThan(1e-5));
    got('bn.running_var').forEach((a, c) => expect(Math.abs(a - rv[c]!), `var ${c}`).toBeLessThan(1e-5));
    // The affine parameters were trained.
    expect(got('bn.gamma')).not.toEqual([1, 1, 1]);

    // Evaluation: (x − running_mean) / √(running_var + eps) · γ + β, by hand.
    const x = batch(K);
    const out = (await fwd!.run(x)).values().next().value!.data;
    const gamma = got('bn.gamma'), beta = got('bn.beta');
    const xd = x.get('x')!.data;
    for (let i = 0; i < xd.length; i++) {
      const c = Math.floor(i / L) % Cn;
      const want = ((xd[i]! - rm[c]!) / Math.sqrt(rv[c]! + EPS)) * gamma[c]! + beta[c]!;
      expect(Math.abs(out[i]! - want), `element ${i}`).toBeLessThan(1e-5);
    }
    // The train step (batch statistics) and evaluation (running statistics) differ on one batch.
    const lossEval = (await evalLoss!.run(x)).values().next().value!.data[0]!;
    const before = await step!.getState();
    const lossTrain = (await step!.run(x)).get('loss')!.data[0]!;
    expect(Math.abs(lossTrain - lossEval)).toBeGreaterThan(1e-3);
    // Training mode by hand: batch statistics with γ, β before the step.
    const { mu, v } = stats(xd);
    const yd = x.get('y')!.data;
    const g0 = Array.from(before.get('bn.gamma')!.data), b0 = Array.from(before.get('bn.beta')!.data);
    let se = 0;
    for (let i = 0; i < xd.length; i++) {
      const c = Math.floor(i / L) % Cn;
      se += (((xd[i]! - mu[c]!) / Math.sqrt(v[c]! + EPS)) * g0[c]! + b0[c]! - yd[i]!) ** 2;
    }
    expect(Math.abs(lossTrain - se / xd.length)).toBeLessThan(1e-5);
  });

  const BACKENDS: ExecBackend[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];
  for (const backend of BACKENDS) {
    it(`agrees with the interpreter on ${backend}: losses, running statistics and evaluation`, async () => {
      const g = graphs();
      const ref = await makeExecutable(g.step, { backend: 'interp', seed: 3 });
      const ex = await makeExecutable(g.step, { backend, seed: 3 });
      for (let s = 0; s < K; s++) {
        const a = (await ref.run(batch(s))).get('loss')!.data[0]!;
        const b = (await ex.run(batch(s))).get('loss')!.data[0]!;
        expect(Math.abs(a - b), `loss at step ${s + 1}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(a)));
      }
      const sa = await ref.getState(), sb = await ex.getState();
      for (const [name, t] of sa) {
        const u = sb.get(name)!;
        Array.from(t.data).forEach((y, i) => expect(Math.abs(y - Number(u.data[i])), `${name}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(y))));
      }
      const evRef = await makeExecutable(g.evalFwd, { backend: 'interp' });
      const evEx = await makeExecutable(g.evalFwd, { backend });
      evRef.setParams(await ref.getParams());
      evEx.setParams(await ex.getParams());
      const x = batch(K);
      const ya = (await evRef.run(x)).values().next().value!.data;
      const yb = (await evEx.run(x)).values().next().value!.data;
      Array.from(ya).forEach((y, i) => expect(Math.abs(y - yb[i]!), `eval[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(y))));
    });
  }
});

describe('the word `state`', () => {
  it('is still an ordinary name outside a model member, and grad(…, self) leaves state out', () => {
    const SRC = `
fn f(state: f32[2]) -> f32[2] {
  let states = state * 2.0
  return states
}
model S {
  param w: f32[2] = ones
  state seen: f32[2] = ones
  fn g(x: f32[2]) -> f32[2] {
    return grad(sum(x * w * seen), self).w
  }
}
`;
    expect(errors(check(SRC).diagnostics)).toEqual([]);
    const bad = SRC.replace('self).w', 'self).seen');
    const d = lower(bad, 'S.g').diagnostics.filter((x) => x.severity === 'error');
    expect(d.length).toBe(1);
    expect(d[0]!.message).toContain('seen');
  });
});
