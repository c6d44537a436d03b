/**
 * `train` declarations: the one-line and block forms, lowered to one training-step graph whose
 * state updates the interpreter applies. Optimizers here are defined in the test's own source
 * (a file may define its own, with the convention of src/stdlib/optim.dl), so every expected value
 * is computed by hand in plain JS below.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../helpers/golden.js';
import { check, initParams, interpret, lowerTrain, NDArray, trainNames, verifyGraph, type Graph, type ParamStore } from '../../src/index.js';

const LIN = `
model Lin {
  param W: f32[2, 1] = 0.5
  param b: f32[1] = 0.25
  fn loss(x: f32[B, 2], y: f32[B, 1]) -> f32 {
    let e = x @ W + b - y
    return mean(e * e)
  }
}
fn my_sgd(p: f32[*S], g: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1) -> f32[*S] {
  return p - lr * lr_factor * g
}
fn my_momentum(p: f32[*S], g: f32[*S], v: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1, beta: float = 0.9) -> (f32[*S], f32[*S]) {
  let v2 = beta * v + g
  return p - lr * lr_factor * v2, v2
}
fn decay_only(p: f32[*S], g: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1, weight_decay: float = 0.0) -> f32[*S] {
  return p - weight_decay * p
}
fn ramp(t: f32, k: float = 0.5) -> f32 {
  return k * t
}
`;

const X = [1, 2, 3, 4, 5, 6];
const Y = [1, 0, 1];
const batch = () =>
  new Map([
    ['x', NDArray.from([3, 2], X)],
    ['y', NDArray.from([3, 1], Y)],
  ]);

function build(src: string, name: string, B = 3): Graph {
  const r = lowerTrain(src, name, { dims: { B }, path: 'train.dl' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors.map((d) => `${d.code}: ${d.message}`)).toEqual([]);
  expect(verifyGraph(r.graph!)).toEqual([]);
  return r.graph!;
}

/** The linear model's loss and gradients, by hand: e = xW + b - y, loss = mean(e²). */
function reference(W: number[], b: number): { loss: number; gW: number[]; gb: number } {
  let loss = 0;
  const gW = [0, 0];
  let gb = 0;
  for (let i = 0; i < 3; i++) {
    const e = X[2 * i]! * W[0]! + X[2 * i + 1]! * W[1]! + b - Y[i]!;
    loss += (e * e) / 3;
    gW[0] += (2 * e * X[2 * i]!) / 3;
    gW[1] += (2 * e * X[2 * i + 1]!) / 3;
    gb += (2 * e) / 3;
  }
  return { loss, gW, gb };
}

const values = (ps: ParamStore, name: string) => [...ps.get(name)!.data];

describe('the one-line form', () => {
  it('plain SGD matches the hand-computed trace for 2 steps; the step counter counts them', () => {
    const g = build(LIN + 'train fit = Lin.loss with my_sgd(lr = 0.01)\n', 'fit');
    expect(g.outputs.map((o) => o.name)).toEqual(['loss']);
    expect(g.inputs.map((i) => String(i.attrs['name']))).toEqual(['x', 'y']);
    expect(g.updates.map((u) => u.name).sort()).toEqual(['W', 'b', 'fit/step']);
    const ps = initParams(g, 0);
    expect(values(ps, 'fit/step')).toEqual([0]);
    let W = [0.5, 0.5];
    let b = 0.25;
    for (let step = 1; step <= 2; step++) {
      const ref = reference(W, b);
      const out = interpret(g, batch(), ps);
      expect(out.get('loss')!.data[0]).toBeCloseTo(ref.loss, 10);
      W = W.map((w, i) => w - 0.01 * ref.gW[i]!);
      b -= 0.01 * ref.gb;
      values(ps, 'W').forEach((v, i) => expect(v).toBeCloseTo(W[i]!, 10));
      expect(values(ps, 'b')[0]).toBeCloseTo(b, 10);
      expect(values(ps, 'fit/step')).toEqual([step]);
    }
  });

  it('`train` and `with` stay ordinary names elsewhere', () => {
    const src = `
fn pick(x: f32[2], train: bool = true) -> f32[2] {
  let with = 2.0
  let trainer = with
  if train { return x * trainer }
  return x
}
fn use_pick(x: f32[2]) -> f32[2] { return pick(x, train = false) }
model Flag {
  param train: f32[1] = 1.0
  fn h(x: f32[1]) -> f32 { return sum(x * train) }
}
${LIN}
let train = Lin()
train fit = train.loss with my_sgd
`;
    const r = check(src, 'names.dl');
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
    expect(r.checked).toEqual(expect.arrayContaining(['pick', 'use_pick', 'Flag.h', 'train fit']));
    expect(r.checked).toContain('train fit');
    const g = build(src, 'fit');
    expect(g.updates.map((u) => u.name).sort()).toEqual(['fit/step', 'train.W', 'train.b']);
  });
});

describe('the block form', () => {
  it('frozen parameters keep their values; the others train', () => {
    const g = build(LIN + 'train fit {\n  loss = Lin.loss\n  optimizer = my_sgd(lr = 0.01)\n  freeze = [b]\n}\n', 'fit');
    expect(g.updates.map((u) => u.name).sort()).toEqual(['W', 'fit/step']);
    const ps = initParams(g, 0);
    const ref = reference([0.5, 0.5], 0.25);
    interpret(g, batch(), ps);
    expect(values(ps, 'b')).toEqual([0.25]);
    values(ps, 'W').forEach((v, i) => expect(v).toBeCloseTo(0.5 - 0.01 * ref.gW[i]!, 10));
    const r = lowerTrain(LIN + 'train fit {\n  loss = Lin.loss\n  optimizer = my_sgd(lr = 0.01)\n  freeze = [b]\n}\n', 'fit', { dims: { B: 3 } });
    expect(r.info).toMatchObject({ name: 'fit', loss: 'Lin.loss', optimizer: 'my_sgd', params: ['W'], frozen: ['b'], step: 'fit/step' });
  });

  it('optimizer state: a slot per parameter, named <train>/<param>/<slot>, zeros at first, updated each step', () => {
    const g = build(LIN + 'train mo { loss = Lin.loss; optimizer = my_momentum(lr = 0.01, beta = 0.5) }\n', 'mo');
    expect(g.updates.map((u) => u.name).sort()).toEqual(['W', 'b', 'mo/W/v', 'mo/b/v', 'mo/step']);
    const ps = initParams(g, 3);
    expect(values(ps, 'mo/W/v')).toEqual([0, 0]);
    let W = [0.5, 0.5];
    let b = 0.25;
    let vW = [0, 0];
    let vb = 0;
    for (let step = 1; step <= 2; step++) {
      const ref = reference(W, b);
      interpret(g, batch(), ps);
      vW = vW.map((v, i) => 0.5 * v + ref.gW[i]!);
      vb = 0.5 * vb + ref.gb;
      W = W.map((w, i) => w - 0.01 * vW[i]!);
      b -= 0.01 * vb;
      values(ps, 'mo/W/v').forEach((v, i) => expect(v).toBeCloseTo(vW[i]!, 10));
      values(ps, 'W').forEach((v, i) => expect(v).toBeCloseTo(W[i]!, 10));
      expect(values(ps, 'b')[0]).toBeCloseTo(b, 10);
    }
  });

  it('weight_decay reaches only parameters with 2 or more axes', () => {
    const g = build(LIN + 'train wd = Lin.loss with decay_only(weight_decay = 0.5)\n', 'wd');
    const ps = initParams(g, 0);
    interpret(g, batch(), ps);
    expect(values(ps, 'W')).toEqual([0.25, 0.25]);
    expect(values(ps, 'b')).toEqual([0.25]);
  });

  it('clip_norm scales all gradients together to the global norm', () => {
    const g = build(LIN + 'train c { loss = Lin.loss; optimizer = my_sgd(lr = 1.0); clip_norm = 0.01 }\n', 'c');
    const ps = initParams(g, 0);
    const ref = reference([0.5, 0.5], 0.25);
    const norm = Math.hypot(...ref.gW, ref.gb);
    expect(norm).toBeGreaterThan(0.01);
    interpret(g, batch(), ps);
    const scale = 0.01 / (norm + 1e-6);
    values(ps, 'W').forEach((v, i) => expect(v).toBeCloseTo(0.5 - scale * ref.gW[i]!, 10));
    expect(values(ps, 'b')[0]).toBeCloseTo(0.25 - scale * ref.gb, 10);
  });

  it('a schedule gives the learning-rate factor at t = 1, 2, …', () => {
    const g = build(LIN + 'train s { loss = Lin.loss; optimizer = my_sgd(lr = 0.01); schedule = ramp(k = 0.5) }\n', 's');
    const ps = initParams(g, 0);
    let W = [0.5, 0.5];
    let b = 0.25;
    for (let t = 1; t <= 2; t++) {
      const ref = reference(W, b);
      interpret(g, batch(), ps);
      W = W.map((w, i) => w - 0.01 * 0.5 * t * ref.gW[i]!);
      b -= 0.01 * 0.5 * t * ref.gb;
    }
    values(ps, 'W').forEach((v, i) => expect(v).toBeCloseTo(W[i]!, 10));
    expect(values(ps, 'b')[0]).toBeCloseTo(b, 10);
  });
});

describe('losses that are plain functions', () => {
  const SRC = `
fn my_sgd(p: f32[*S], g: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1) -> f32[*S] {
  return p - lr * lr_factor * g
}
model Two {
  layer l1 = Linear(2, 2)
  layer l2 = Linear(2, 1)
  fn forward(x: f32[B, 2]) -> f32[B, 1] { return l2(relu(l1(x))) }
}
let net = Two()
fn objective(x: f32[B, 2]) -> f32 {
  return mean(net(x))
}
train fit {
  loss = objective
  optimizer = my_sgd
  params = [net.l1]
  freeze = [net.l1.b]
}
train rough {
  loss = objective
  optimizer = my_sgd
  params = [net.l2, net.l1.W]
}
`;

  it('paths name layers of top-level instances', () => {
    expect(build(SRC, 'fit', 2).updates.map((u) => u.name).sort()).toEqual(['fit/step', 'net.l1.W']);
    expect(build(SRC, 'rough', 2).updates.map((u) => u.name).sort()).toEqual(['net.l1.W', 'net.l2.W', 'net.l2.b', 'rough/step']);
  });

  it('a path into a layer that does not exist suggests the members', () => {
    const r = lowerTrain(SRC.replace('params = [net.l1]', 'params = [net.l3]'), 'fit', { dims: { B: 2 } });
    expect(r.diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([['DL0703', '`net` has no layer or parameter `l3`', 'its layers and parameters are `l1`, `l2`']]);
  });

  it('a loss that cannot be differentiated is DL0401, reported at the expression', () => {
    const src = SRC.replace('return mean(net(x))', 'return mean(floor(net(x)))');
    const r = lowerTrain(src, 'fit', { dims: { B: 2 } });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0401']);
    expect(src.slice(r.diagnostics[0]!.span!.start, r.diagnostics[0]!.span!.end)).toBe('floor(net(x))');
  });
});

describe('several train declarations over one model (a GAN)', () => {
  const GAN = `
fn my_sgd(p: f32[*S], g: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1) -> f32[*S] {
  return p - lr * lr_factor * g
}
model Gan {
  layer gen = Linear(2, 2)
  layer critic = Linear(2, 1)
  fn critic_loss(x: f32[B, 2], z: f32[B, 2]) -> f32 {
    return mean(critic(gen(z))) - mean(critic(x))
  }
  fn gen_loss(z: f32[B, 2]) -> f32 {
    return -mean(critic(gen(z)))
  }
}
let gan = Gan()
train critic_step {
  loss = gan.critic_loss
  optimizer = my_sgd(lr = 0.1)
  params = [critic]
}
train gen_step {
  loss = gan.gen_loss
  optimizer = my_sgd(lr = 0.1)
  params = [gen]
  freeze = [gen.b]
}
`;

  it('share parameter names, and each step writes only its own parameters', () => {
    expect(trainNames(GAN)).toEqual(['critic_step', 'gen_step']);
    const c = build(GAN, 'critic_step', 2);
    const gstep = build(GAN, 'gen_step', 2);
    expect(c.updates.map((u) => u.name).sort()).toEqual(['critic_step/step', 'gan.critic.W', 'gan.critic.b']);
    expect(gstep.updates.map((u) => u.name).sort()).toEqual(['gan.gen.W', 'gen_step/step']);
    const names = (g: Graph) => g.params.map((p) => String(p.attrs['name']));
    expect(names(c)).toEqual(expect.arrayContaining(['gan.gen.W', 'gan.gen.b', 'gan.critic.W', 'gan.critic.b']));
    expect(names(gstep)).toEqual(expect.arrayContaining(['gan.gen.W', 'gan.gen.b', 'gan.critic.W', 'gan.critic.b']));
    // One store, both steps alternating over it.
    const ps = initParams(c, 7);
    initParams(gstep, 7, ps);
    const snapshot = () => new Map([...ps].map(([k, v]) => [k, [...v.data]]));
    const x = NDArray.from([2, 2], [1, 0, 0, 1]);
    const z = NDArray.from([2, 2], [0.5, -1, 2, 0.25]);
    const before = snapshot();
    interpret(c, new Map([['x', x], ['z', z]]), ps);
    const mid = snapshot();
    expect(mid.get('gan.gen.W')).toEqual(before.get('gan.gen.W'));
    expect(mid.get('gan.critic.W')).not.toEqual(before.get('gan.critic.W'));
    interpret(gstep, new Map([['z', z]]), ps);
    const after = snapshot();
    expect(after.get('gan.critic.W')).toEqual(mid.get('gan.critic.W'));
    expect(after.get('gan.gen.W')).not.toEqual(mid.get('gan.gen.W'));
    expect(after.get('gan.gen.b')).toEqual(mid.get('gan.gen.b'));
    expect(after.get('critic_step/step')).toEqual([1]);
    expect(after.get('gen_step/step')).toEqual([1]);
  });
});

describe('errors', () => {
  /** The diagnostics of `decl` appended to LIN, each checked to point into the declaration. */
  function errorsOf(decl: string, name = 'bad'): { code: string; message: string; help?: string; line?: number }[] {
    const src = LIN + decl;
    const start = LIN.length;
    const r = lowerTrain(src, name, { dims: { B: 3 }, path: 'bad.dl' });
    expect(r.graph).toBeUndefined();
    const ds = r.diagnostics.filter((d) => d.severity === 'error');
    for (const d of ds) {
      expect(d.span, `${d.code} has a span`).toBeDefined();
      expect(d.span!.start).toBeGreaterThanOrEqual(start);
    }
    // dlc check reports the same errors.
    const checked = check(src, 'bad.dl').diagnostics.map((d) => d.code);
    for (const d of ds) expect(checked).toContain(d.code);
    return ds.map((d) => ({ code: d.code, message: d.message, ...(d.help ? { help: d.help } : {}) }));
  }

  it('an unknown optimizer suggests the closest and lists the available ones', () => {
    const [e] = errorsOf('train bad = Lin.loss with my_sdg(lr = 0.1)\n');
    expect(e).toMatchObject({ code: 'DL0701', message: 'unknown optimizer `my_sdg`' });
    expect(e!.help).toContain('did you mean `my_sgd`?');
    expect(e!.help).toContain('`my_momentum`');
  });

  it('a function or built-in that is not an optimizer', () => {
    const [e] = errorsOf('train bad = Lin.loss with ramp\n');
    expect(e).toMatchObject({ code: 'DL0701' });
    expect(e!.message).toContain('`ramp` is not an optimizer: an optimizer is a function');
    const [f] = errorsOf('train bad = Lin.loss with exp\n');
    expect(f).toMatchObject({ code: 'DL0701', message: 'the built-in `exp` is not an optimizer' });
    const [g] = errorsOf('train bad { loss = Lin.loss; optimizer = my_sgd; schedule = my_sgd }\n');
    expect(g!.message).toContain('`my_sgd` is not a schedule');
  });

  it('an unknown hyperparameter, a wrong type, a positional one, one the step sets', () => {
    const [a] = errorsOf('train bad = Lin.loss with my_momentum(lr = 0.1, beat = 0.5)\n');
    expect(a).toMatchObject({ code: 'DL0702', message: '`my_momentum` has no hyperparameter `beat`', help: 'did you mean `beta`?' });
    const [b] = errorsOf('train bad = Lin.loss with my_sgd(lr = true)\n');
    expect(b).toMatchObject({ code: 'DL0702', message: 'the hyperparameter `lr` of `my_sgd` is a number, got the boolean true' });
    const [c] = errorsOf('train bad = Lin.loss with my_sgd(0.1)\n');
    expect(c).toMatchObject({ code: 'DL0702', message: 'hyperparameters of `my_sgd` are given by name' });
    const [d] = errorsOf('train bad = Lin.loss with my_sgd(t = 1.0)\n');
    expect(d!.message).toBe('`my_sgd` has no hyperparameter `t`: `t` is set by the training step');
  });

  it('an unknown parameter path', () => {
    const [e] = errorsOf('train bad {\n  loss = Lin.loss\n  optimizer = my_sgd\n  freeze = [B]\n}\n');
    expect(e).toMatchObject({ code: 'DL0703', message: 'unknown parameter or layer `B`' });
    expect(e!.help).toContain('`b`');
  });

  it('a loss that is not one f32 scalar', () => {
    const src = `model M {\n  param W: f32[2] = 1.0\n  fn f(x: f32[2]) -> f32[2] { return x * W }\n}\nfn my_sgd(p: f32[*S], g: f32[*S], t: f32, lr_factor: f32, lr: float = 0.1) -> f32[*S] { return p - lr * g }\ntrain bad = M.f with my_sgd\n`;
    const r = lowerTrain(src, 'bad');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0704']);
    expect(r.diagnostics[0]!.message).toBe('the loss `M.f` must return one f32 scalar, but returns f32[2]');
    expect(r.diagnostics[0]!.span!.start).toBe(src.indexOf('M.f with'));
  });

  it('a train name that clashes with another declaration', () => {
    const ds = check(LIN + 'train Lin = Lin.loss with my_sgd\n', 'clash.dl').diagnostics;
    expect(ds.map((d) => d.code)).toContain('DL0202');
  });

  it('nothing to train', () => {
    const [e] = errorsOf('train bad { loss = Lin.loss; optimizer = my_sgd; freeze = [W, b] }\n');
    expect(e).toMatchObject({ code: 'DL0705', message: '`train bad` has nothing to train: every parameter the loss `Lin.loss` uses is frozen' });
  });

  it('unknown, repeated and missing fields', () => {
    const a = errorsOf('train bad { loss = Lin.loss; optimiser = my_sgd }\n');
    expect(a.map((d) => d.message)).toEqual(['`train bad` needs an `optimizer` field', 'a `train` declaration has no field `optimiser`']);
    expect(a[1]).toMatchObject({ code: 'DL0706', message: 'a `train` declaration has no field `optimiser`', help: 'did you mean `optimizer`?' });
    const ds = errorsOf('train bad { loss = Lin.loss; loss = Lin.loss }\n');
    expect(ds.map((d) => d.message)).toEqual(['`train bad` needs an `optimizer` field', 'the field `loss` is given twice']);
  });

  it('`with` misspelled is a syntax error at that word', () => {
    const r = check(LIN + 'train bad = Lin.loss using my_sgd\n', 'w.dl');
    const e = r.diagnostics.find((d) => d.code === 'DL0102')!;
    expect(e.message).toBe('expected `with`, found `using`');
    expect(e.span!.start).toBe(LIN.length + 'train bad = Lin.loss '.length);
  });

  it('a stray `train` at the top level is a syntax error, not a crash', () => {
    for (const bad of ['train = 5\n', 'train\n', 'train fit\n', 'train fit = \n', 'train fit = Lin.loss with\n', 'train fit { loss = }\n', 'train fit { 3 }\n']) {
      const ds = check(LIN + bad, 'stray.dl').diagnostics;
      expect(ds.map((d) => d.code)).toContain('DL0102');
      expect(ds.map((d) => d.code)).not.toContain('DL9001');
    }
  });

  it('a train declaration that does not exist', () => {
    const r = lowerTrain(LIN + 'train fit = Lin.loss with my_sgd\n', 'fti');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0603']);
    expect(r.diagnostics[0]!.help).toBe('did you mean `fit`?');
  });
});

describe('the command line', () => {
  it('`dlc ir --train NAME` prints the step graph; `dlc check` lists the declaration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-train-'));
    try {
      const path = join(dir, 'fit.dl');
      writeFileSync(path, LIN + 'train fit = Lin.loss with my_momentum(lr = 0.01)\n');
      const ir = captureIo();
      expect(await main(['ir', path, '--train', 'fit', '--dim', 'B=4'], ir.io)).toBe(0);
      expect(ir.out()).toContain('graph fit(x: f32[4, 2], y: f32[4, 1])');
      expect(ir.out()).toMatch(/return loss=%\d+/);
      expect(ir.out()).toMatch(/update .*fit\/W\/v=%\d+.*fit\/step=%\d+/);
      const chk = captureIo();
      expect(await main(['check', path], chk.io)).toBe(0);
      expect(chk.out()).toMatch(/\d+ functions and 1 training step checked: .*Lin\.loss.*, train fit\)/);
      const bad = captureIo();
      expect(await main(['ir', path, '--train', 'fti'], bad.io)).toBe(1);
      expect(bad.err()).toContain('did you mean `fit`?');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('train declarations from random pieces', () => {
  const piece = fc.constantFrom(
    'train', 'with', 'fit', 'Lin', '.', 'loss', 'optimizer', 'params', 'freeze', 'clip_norm', 'schedule', 'my_sgd', 'my_momentum', 'ramp',
    'W', 'b', 'lr', 'beta', 'k', '=', '(', ')', '[', ']', '{', '}', ',', ';', '0.1', '2', 'true', '-1.0', '\n',
  );
  const decl = fc.array(piece, { maxLength: 24 }).map((ps) => ps.join(' '));

  it('check never throws, never reports an internal error, and every error has a span', () => {
    fc.assert(
      fc.property(decl, (text) => {
        const src = LIN + 'train fit ' + text + '\n';
        const r = check(src, 'rand.dl');
        for (const d of r.diagnostics) {
          expect(d.code, `${d.message} for ${JSON.stringify(text)}`).not.toBe('DL9001');
          if (d.severity === 'error' && d.code !== 'DL0102') expect(d.span, `${d.code} ${d.message} for ${JSON.stringify(text)}`).toBeDefined();
        }
      }),
      { numRuns: 300, seed: 9 },
    );
  });

  const field = fc.constantFrom('loss', 'optimizer', 'params', 'freeze', 'clip_norm', 'schedule', 'los');
  const value = fc.constantFrom(
    'Lin.loss', 'Lin', 'Lin.W', 'my_sgd', 'my_sgd(lr = 0.5)', 'my_momentum(beta = true)', 'my_momentum(0.1)', 'ramp', 'ramp(k = 2)', 'ramp(q = 1)',
    '[W]', '[b, W]', '[]', '[Lin]', '[W.x]', '[W[0]]', '[relu]', 'W', '1.0', '-1', '0', 'true', 'adam(lr = 1e-3)', 'cosine_lr(total = 10)', 'x + 1',
  );
  const optimizer = fc.constantFrom('my_sgd', 'my_sgd(lr = 0.5)', 'my_momentum', 'my_momentum(beta = 0.5)', 'sgd(lr = 0.1)', 'adam(lr = 1e-3, b2 = 0.99)', 'adamw', 'my_momentum(beta = true)', 'ramp');
  const extra = fc.array(fc.tuple(field, value), { maxLength: 3 });
  const block = fc
    .tuple(optimizer, extra, fc.boolean())
    .map(([opt, fs, plain]) => [...(plain ? [] : fs), ['loss', 'Lin.loss'], ['optimizer', opt]])
    .chain((fs) => fc.shuffledSubarray(fs, { minLength: fs.length }))
    .map((fs) => `{\n${fs.map(([f, v]) => `  ${f} = ${v}`).join('\n')}\n}`);

  it('block bodies of random fields: diagnostics or a verified graph, never a crash', () => {
    let graphs = 0;
    fc.assert(
      fc.property(block, (body) => {
        const src = LIN + 'train fit ' + body + '\n';
        const r = lowerTrain(src, 'fit', { dims: { B: 2 } });
        for (const d of r.diagnostics) expect(d.code, `${d.message} for ${JSON.stringify(body)}`).not.toBe('DL9001');
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        for (const d of errors) expect(d.span, `${d.code} ${d.message} for ${JSON.stringify(body)}`).toBeDefined();
        if (r.graph) {
          graphs++;
          expect(errors).toEqual([]);
          expect(verifyGraph(r.graph)).toEqual([]);
          expect(r.graph.outputs.map((o) => o.name)).toEqual(['loss']);
        } else expect(errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 300, seed: 11 },
    );
    expect(graphs).toBeGreaterThan(5);
  });
});
