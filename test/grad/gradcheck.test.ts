/**
 * `dlc gradcheck` and the `gradcheck` library function, including a planted wrong rule, a planted
 * simplify bug and a planted code generation bug: what is checked is the program after the whole
 * pipeline, on the backend asked for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compile, evaluate, NDArray } from '../../src/index.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';
import { randomArray } from '../../src/gradcheck/check.js';
import type { OpDef, VjpRule } from '../../src/ir/op.js';
import { OPS } from '../../src/ir/ops/index.js';
import { add, mul, sq } from '../../src/ir/ops/ad.js';
import { WEBGPU } from '../helpers/webgpu.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** Runs `body` with one field of op `op`'s definition replaced. */
async function withOp<K extends keyof OpDef, T>(op: string, key: K, value: OpDef[K], body: () => Promise<T>): Promise<T> {
  const def = OPS.get(op) as { -readonly [P in keyof OpDef]: OpDef[P] };
  const saved = def[key];
  def[key] = value;
  try {
    return await body();
  } finally {
    def[key] = saved;
  }
}

/** Runs `body` with the VJP rule of `op` replaced. */
const withRule = <T>(op: string, rule: VjpRule, body: () => Promise<T>) => withOp(op, 'vjp', rule, body);

const TANH_NET = 'fn loss(x: f32[B, 3], w: f32[3]) -> f32 { return sum(tanh(x @ w)) }';

describe('gradcheck', () => {
  it('passes on correct gradients and reports per-tensor errors', async () => {
    const r = await gradcheck(TANH_NET, 't.dl', { runs: 10, seed: 1 });
    expect(r.ok).toBe(true);
    expect(r.functions.map((f) => f.fn)).toEqual(['loss']);
    const names = r.functions[0]!.tensors.map((t) => t.name).sort();
    expect(names).toEqual(['w', 'x']);
    for (const t of r.functions[0]!.tensors) expect(t.maxRelErr).toBeLessThan(1e-6);
  });

  it('reports a planted wrong VJP rule with a counterexample shrunk to the smallest sizes', async () => {
    // tanh′ = 1 − tanh², planted as 1 + tanh².
    const r = await withRule('tanh', ({ b, node, g }) => [mul(b, g, add(b, 1, sq(b, node)))], () => gradcheck(TANH_NET, 't.dl', { runs: 30, seed: 7 }));
    expect(r.ok).toBe(false);
    const f = r.functions[0]!;
    expect(f.ok).toBe(false);
    expect(f.counterexample?.dims).toEqual({ B: 1 });
    expect(f.counterexample!.failures.length).toBeGreaterThan(0);
    expect(f.tensors.every((t) => !t.ok)).toBe(true);
  });

  it('makes `dlc gradcheck` exit 1 and print the shrunk case and a replay command', async () => {
    const file = new URL('./fixtures/tanh-net.dl', import.meta.url).pathname;
    const ok = await capture(['gradcheck', file, '--runs', '5']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('ok   loss');
    const bad = await withRule('tanh', ({ b, node, g }) => [mul(b, g, add(b, 1, sq(b, node)))], () => capture(['gradcheck', file, '--runs', '20']));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('FAIL loss');
    expect(bad.out).toContain('smallest failing case: B=1');
    expect(bad.out).toMatch(/replay: dlc gradcheck .* --fn loss --seed \d+ --dim B=1/);
  });

  it('fails where the function is not finite instead of comparing NaN with NaN', async () => {
    // log of a normally drawn x is NaN for x < 0: nothing is checked there.
    const r = await gradcheck('fn loss(x: f32[4]) -> f32 { return sum(log(x)) }', 'nan.dl', { runs: 10, seed: 1 });
    expect(r.ok).toBe(false);
  });

  it('rejects a function that does not return a scalar', async () => {
    const r = await gradcheck('fn f(x: f32[3]) { return tanh(x) }', 't.dl', { fn: 'f' });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0604']);
  });

  it('honours --wrt', async () => {
    const r = await gradcheck(TANH_NET, 't.dl', { runs: 3, wrt: ['w'] });
    expect(r.functions[0]!.tensors.map((t) => t.name)).toEqual(['w']);
  });
});

describe('gradcheck checks the program that ships', () => {
  // The gradient of a slice is a pad of the cotangent; here the cotangent is a splat of ones.
  const SLICE = 'fn loss(x: f32[3]) -> f32 { return sum(x[0:1]) }';

  it('the simplified graph: a simplify bug that folds a pad of a splat to the splat fails (600e66f)', async () => {
    expect((await gradcheck(SLICE, 's.dl', { runs: 5 })).ok).toBe(true);
    // Planted: pad forgets its padding value, so a pad of ones folds to ones, as before 600e66f
    // (the gradient became [1, 1, 1]). The unsimplified gradient graph is right.
    const r = await withOp('pad', 'fill', undefined, () => gradcheck(SLICE, 's.dl', { runs: 5 }));
    expect(r.ok).toBe(false);
    expect(r.functions[0]!.counterexample!.failures[0]!.variable.name).toBe('x');
    expect(r.checked).toContain('simplified graph');
  });

  it('--backend js checks the fused JS program in f64: a planted code generation bug fails', async () => {
    const ok = await gradcheck(TANH_NET, 't.dl', { runs: 5, backend: 'js' });
    expect(ok.ok).toBe(true);
    for (const t of ok.functions[0]!.tensors) expect(t.maxRelErr).toBeLessThan(1e-6);
    expect(ok.checked).toBe('the fused JS program in float64; finite differences on the fused JS forward program in float64');
    // Planted: the JS backend computes sin for tanh; the interpreter is unchanged.
    const tanh = OPS.get('tanh')!;
    const emit = { ...tanh.emit!, js: (c: { args: readonly string[] }) => `Math.sin(${c.args[0]})` } as OpDef['emit'];
    const bad = await withOp('tanh', 'emit', emit, () => gradcheck(TANH_NET, 't.dl', { runs: 5, backend: 'js' }));
    expect(bad.ok).toBe(false);
    expect((await withOp('tanh', 'emit', emit, () => gradcheck(TANH_NET, 't.dl', { runs: 5 }))).ok).toBe(true);
  });

  it('--backend js --precision f32 compares the f32 program with f64 finite differences', async () => {
    const r = await gradcheck(TANH_NET, 't.dl', { runs: 5, backend: 'js', precision: 'f32' });
    expect(r.ok).toBe(true);
    const worst = Math.max(...r.functions[0]!.tensors.map((t) => t.maxRelErr));
    // f32 rounding shows, within the f32 tolerance.
    expect(worst).toBeGreaterThan(1e-12);
    expect(worst).toBeLessThan(1e-3);
  });

  it('`dlc gradcheck --backend js` says what it checked and replays with the same backend', async () => {
    const file = new URL('./fixtures/tanh-net.dl', import.meta.url).pathname;
    const ok = await capture(['gradcheck', file, '--runs', '3', '--backend', 'js']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('checked: the fused JS program in float64');
    const bad = await withRule('tanh', ({ b, node, g }) => [mul(b, g, add(b, 1, sq(b, node)))], () => capture(['gradcheck', file, '--runs', '5', '--backend', 'js']));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/replay: dlc gradcheck .* --fn loss --backend js --seed \d+/);
    const usage = await capture(['gradcheck', file, '--backend', 'webgpu', '--precision', 'f64']);
    expect(usage.code).toBe(2);
  });

  it.runIf(WEBGPU)('--backend webgpu checks the WebGPU program', async () => {
    const r = await gradcheck(TANH_NET, 't.dl', { runs: 2, backend: 'webgpu', dims: { B: 2 } });
    expect(r.diagnostics).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checked).toContain('WebGPU');
  });
});

describe('every example passes gradcheck', () => {
  const dir = new URL('../../examples/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.dl'));
  it.each(files)('%s', async (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    // Sizes start at 2: a language model over one token has no next token to predict.
    const r = await gradcheck(text, `examples/${file}`, { runs: 3, seed: 2, minDim: 2, maxDim: 3 });
    const failures = r.functions.filter((f) => !f.ok).map((f) => `${f.fn}: ${JSON.stringify(f.counterexample)}`);
    expect(failures).toEqual([]);
    expect(r.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'DL0604')).toEqual([]);
  });
});

describe('second-order examples agree with finite differences', () => {
  const hvp = readFileSync(new URL('../../examples/hvp.dl', import.meta.url), 'utf8');

  it('the Hessian-vector product equals the central difference of the gradient', () => {
    const hv = compile(hvp, 'hvp', { dims: { B: 4 } });
    const gw = compile(hvp, 'grad_w1', { dims: { B: 4 } });
    const inputs: Record<string, NDArray> = {};
    for (const i of hv.inputs) inputs[String(i.attrs['name'])] = randomArray('f32', i.type.shape, 4, String(i.attrs['name']));
    const got = evaluate(hv, inputs).get('out')!;
    const eps = 1e-6;
    const shifted = (s: number) => {
      const W1 = inputs['W1']!;
      const v = inputs['v']!;
      const moved = new NDArray(W1.shape, W1.data.map((w, k) => w + s * eps * v.data[k]!));
      return evaluate(gw, { ...inputs, W1: moved }).get('out')!;
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    got.data.forEach((h, k) => expect(Math.abs(h - (plus.data[k]! - minus.data[k]!) / (2 * eps))).toBeLessThan(1e-7));
  });

  it('forward-over-reverse (jvp of the gradient) equals reverse-over-reverse', () => {
    const fwd = compile(hvp, 'hvp_forward', { dims: { B: 4 } });
    const rev = compile(hvp, 'hvp', { dims: { B: 4 } });
    const W1 = randomArray('f32', [3, 5], 9, 'W1');
    const v = randomArray('f32', [3, 5], 9, 'v');
    const x = NDArray.from([4, 3], Array.from({ length: 12 }, (_, i) => i / 10));
    const y = NDArray.fill([4, 2], 1);
    const W2 = NDArray.from([5, 2], Array.from({ length: 10 }, (_, i) => i / 20 - 0.2));
    const a = evaluate(fwd, { W1, W2, x, y, v }).get('hv')!;
    const b = evaluate(rev, { W1, W2, x, y, v }).get('out')!;
    a.data.forEach((h, k) => expect(Math.abs(h - b.data[k]!)).toBeLessThan(1e-12));
  });

  it('the WGAN-GP critic gradients (second order in the critic) agree with finite differences', async () => {
    const wgan = readFileSync(new URL('../../examples/wgan-gp.dl', import.meta.url), 'utf8');
    const r = await gradcheck(wgan, 'wgan-gp.dl', { fn: 'Critic.critic_loss', runs: 10, seed: 3, dims: { B: 3 } });
    expect(r.ok).toBe(true);
    const params = r.functions[0]!.tensors.filter((t) => t.kind === 'param').map((t) => t.name);
    expect(params).toEqual(expect.arrayContaining(['l1.W', 'l1.b', 'l2.W']));
  });
});
