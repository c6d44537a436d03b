/**
 * Statistical tests of the random built-ins with fixed seeds. Bounds are five standard errors for
 * means, variances and rates (a false failure has probability below 1e-6 per check), and the
 * 99.99% quantile for chi-square statistics: a wrong generator or mapping fails them, fair noise
 * does not.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/index.js';
import { makeExecutable } from '../../src/exec.js';
import { NORMAL_UNIT, normalOfBits, threefry } from '../../src/ir/ops/random.js';

const N = 60_000;

/** The outputs of `fn` (no inputs) compiled from `src`, on the JS backend in f64 (the interpreter's values). */
async function draw(src: string, fn = 'f', seed = 1): Promise<Map<string, number[]>> {
  const ex = await makeExecutable(compile(src, fn, { path: 'stats.dl' }), { backend: 'js', precision: 'f64', seed });
  return new Map([...(await ex.run(new Map()))].map(([k, v]) => [k, Array.from(v.data)]));
}
const one = async (body: string, type: string, seed = 1) => (await draw(`fn f() -> ${type} {\n  return ${body}\n}`, 'f', seed)).get('out')!;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};
function correlation(a: number[], b: number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
/** Pearson's chi-square of observed counts against expected probabilities. */
function chiSquare(xs: number[], probs: number[]): number {
  const counts = new Array(probs.length).fill(0);
  for (const x of xs) counts[x]++;
  return counts.reduce((s, c, k) => s + (c - xs.length * probs[k]!) ** 2 / (xs.length * probs[k]!), 0);
}
/** The standard normal CDF: erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, far below the bins' width). */
function phi(x: number): number {
  const a = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * a);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
/** Five standard errors of a mean of n values with standard deviation sd. */
const se5 = (sd: number, n = N) => (5 * sd) / Math.sqrt(n);

describe('moments', () => {
  it('uniform([n]) is U[0, 1): mean 1/2, variance 1/12, within [0, 1)', async () => {
    const u = await one(`uniform([${N}])`, `f32[${N}]`);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(se5(Math.sqrt(1 / 12)));
    // Var(s²) ≈ (μ₄ − σ⁴)/n with μ₄ = 1/80 for U[0, 1).
    expect(Math.abs(variance(u) - 1 / 12)).toBeLessThan(se5(Math.sqrt(1 / 80 - 1 / 144)));
    // Each of 10 bins holds a tenth (chi-square, 9 degrees of freedom, 99.99% quantile 33.7).
    expect(chiSquare(u.map((x) => Math.floor(x * 10)), new Array(10).fill(0.1))).toBeLessThan(33.7);
  });

  it('uniform(shape, low, high) spans [low, high)', async () => {
    const u = await one(`uniform([${N}], -2.0, 6.0)`, `f32[${N}]`);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(6);
    expect(Math.abs(mean(u) - 2)).toBeLessThan(se5(8 * Math.sqrt(1 / 12)));
  });

  it('normal([n]) is N(0, 1): mean, variance, fourth moment and tails', async () => {
    const z = await one(`normal([${N}])`, `f32[${N}]`);
    expect(Math.abs(mean(z))).toBeLessThan(se5(1));
    // Var(s²) = 2σ⁴/n for a normal.
    expect(Math.abs(variance(z) - 1)).toBeLessThan(se5(Math.sqrt(2)));
    // E z⁴ = 3, Var z⁴ = 105 − 9 = 96.
    expect(Math.abs(mean(z.map((x) => x ** 4)) - 3)).toBeLessThan(se5(Math.sqrt(96)));
    // P(|z| > 2) = 0.0455.
    const p2 = 0.0455;
    expect(Math.abs(mean(z.map((x) => (Math.abs(x) > 2 ? 1 : 0))) - p2)).toBeLessThan(se5(Math.sqrt(p2 * (1 - p2))));
  });

  it('normal([n]) follows Φ: chi-square over 20 equiprobable bins, and the tails past 3σ', async () => {
    const z = await one(`normal([${N}])`, `f32[${N}]`);
    // Bin k holds Φ(z) in [k/20, (k+1)/20): 19 degrees of freedom, 99.99% quantile 45.0.
    expect(chiSquare(z.map((x) => Math.min(19, Math.floor(phi(x) * 20))), new Array(20).fill(0.05))).toBeLessThan(45.0);
    const p3 = 2 * (1 - phi(3));
    expect(Math.abs(mean(z.map((x) => (Math.abs(x) > 3 ? 1 : 0))) - p3)).toBeLessThan(se5(Math.sqrt(p3 * (1 - p3))));
  });

  it('normal(shape, mean, std) is N(mean, std²)', async () => {
    const z = await one(`normal([${N}], 2.0, 3.0)`, `f32[${N}]`);
    expect(Math.abs(mean(z) - 2)).toBeLessThan(se5(3));
    expect(Math.abs(variance(z) - 9)).toBeLessThan(se5(9 * Math.sqrt(2)));
  });

  it('bernoulli(p, shape) is 1 at rate p and 0 otherwise', async () => {
    for (const p of [0.05, 0.3, 0.5]) {
      const b = await one(`bernoulli(${p}, [${N}])`, `f32[${N}]`);
      expect(new Set(b)).toEqual(new Set([0, 1]));
      expect(Math.abs(mean(b) - p), `p = ${p}`).toBeLessThan(se5(Math.sqrt(p * (1 - p))));
    }
  });

  it('bernoulli(p_tensor) follows each element\'s probability', async () => {
    const b = await one(`bernoulli(cast(iota([${N / 2}, 2], 1), f32) * 0.8)`, `f32[${N / 2}, 2]`);
    const col = (j: number) => b.filter((_, i) => i % 2 === j);
    expect(col(0).every((x) => x === 0)).toBe(true);
    expect(Math.abs(mean(col(1)) - 0.8)).toBeLessThan(se5(0.4, N / 2));
  });

  it('bernoulli with p = 0 and p = 1 is constant', async () => {
    expect(new Set(await one('bernoulli(0.0, [1000])', 'f32[1000]'))).toEqual(new Set([0]));
    expect(new Set(await one('bernoulli(1.0, [1000])', 'f32[1000]'))).toEqual(new Set([1]));
  });
});

describe('dropout', () => {
  it('keeps a fraction 1 − p, scales the kept by 1/(1 − p), and preserves the mean', async () => {
    for (const p of [0.1, 0.5]) {
      const y = await one(`dropout(ones([${N}]), ${p}, training=true)`, `f32[${N}]`);
      const scale = Math.fround(1 / (1 - p));
      expect(new Set(y)).toEqual(new Set([0, scale]));
      const kept = mean(y.map((v) => (v === 0 ? 0 : 1)));
      expect(Math.abs(kept - (1 - p)), `p = ${p}`).toBeLessThan(se5(Math.sqrt(p * (1 - p))));
      expect(Math.abs(mean(y) - 1)).toBeLessThan(se5(scale * Math.sqrt(p * (1 - p))));
    }
  });

  it('with p = 0 is the identity', async () => {
    const y = await one('dropout(cast(iota([100]), f32), 0.0)', 'f32[100]');
    expect(y).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('integer and categorical draws (chi-square)', () => {
  it('randint(shape, low, high) is uniform on [low, high)', async () => {
    const r = await one(`randint([${N}], -3, 9)`, `i32[${N}]`);
    expect(Math.min(...r)).toBe(-3);
    expect(Math.max(...r)).toBe(8);
    // 11 degrees of freedom: the 99.99% quantile is 38.1.
    expect(chiSquare(r.map((x) => x + 3), new Array(12).fill(1 / 12))).toBeLessThan(38.1);
  });

  it('randint(shape, n) with i32 tensor bounds draws below each bound', async () => {
    const r = await one(`randint([${N / 4}, 4], iota([${N / 4}, 4], 1) + 1)`, `i32[${N / 4}, 4]`);
    r.forEach((x, i) => expect(x >= 0 && x <= i % 4).toBe(true));
    // The column with bound 4 is uniform on 0..3 (3 degrees of freedom, 99.99% quantile 21.1).
    expect(chiSquare(r.filter((_, i) => i % 4 === 3), [0.25, 0.25, 0.25, 0.25])).toBeLessThan(21.1);
  });

  it('categorical(logits) samples softmax(logits) in each row', async () => {
    const probs = [0.1, 0.2, 0.3, 0.4];
    const rows = 20_000;
    const src = `fn f() -> i32[${rows}] {\n  let l = log(broadcast_to([${probs.join(', ')}], [${rows}, 4])) + 5.0\n  return categorical(l)\n}`;
    const s = (await draw(src)).get('out')!;
    // 3 degrees of freedom: the 99.99% quantile is 21.1.
    expect(chiSquare(s, probs)).toBeLessThan(21.1);
  });

  it('categorical along axis 0 gives one sample per column', async () => {
    const src = 'fn f() -> i32[3] {\n  return categorical(zeros([5, 3]), 0)\n}';
    const s = (await draw(src)).get('out')!;
    expect(s.every((x) => x >= 0 && x < 5)).toBe(true);
  });
});

describe('independence', () => {
  it('two call sites draw independent streams', async () => {
    const src = `fn f() -> (f32[${N}], f32[${N}]) {\n  return (uniform([${N}]), uniform([${N}]))\n}`;
    const d = await draw(src);
    const [a, b] = [d.get('out0')!, d.get('out1')!];
    expect(a).not.toEqual(b);
    expect(Math.abs(correlation(a, b))).toBeLessThan(se5(1));
  });

  it('the same call site in two loop iterations and two inlined calls draws differently', async () => {
    const src = `
fn noise(n: int) -> f32[${N}] {
  return normal([${N}])
}
fn f() -> (f32[${N}], f32[${N}], f32[${N}], f32[${N}]) {
  let a = zeros([${N}])
  let b = zeros([${N}])
  for i in 0..2 {
    a = b
    b = uniform([${N}])
  }
  return (a, b, noise(1), noise(1))
}`;
    const d = await draw(src);
    // Outputs in return order (a returned name names its output).
    const [l0, l1, n0, n1] = [...d.values()];
    expect(l0).not.toEqual(l1);
    expect(Math.abs(correlation(l0!, l1!))).toBeLessThan(se5(1));
    expect(n0).not.toEqual(n1);
    expect(Math.abs(correlation(n0!, n1!))).toBeLessThan(se5(1));
  });

  it('neighbouring elements are uncorrelated (lag-1 serial correlation)', async () => {
    const u = await one(`uniform([${N}])`, `f32[${N}]`);
    expect(Math.abs(correlation(u.slice(1), u.slice(0, -1)))).toBeLessThan(se5(1));
  });

  it('normal draws z and z² uncorrelated (a symmetric distribution)', async () => {
    const src = `fn f() -> (f32[${N}], f32[${N}]) {\n  let z = normal([${N}])\n  return (z, z * z)\n}`;
    const d = await draw(src);
    const z = d.get('z')!;
    // z and z² are uncorrelated for a symmetric distribution; a skewed angle would correlate them.
    expect(Math.abs(correlation(z, d.get('out1')!))).toBeLessThan(se5(1));
  });
});

describe('reproducibility', () => {
  const src = `fn f() -> f32[${N}] {\n  return normal([${N}])\n}`;

  it('the same seed gives the same draws, another seed independent ones', async () => {
    const a = (await draw(src, 'f', 4)).get('out')!;
    const b = (await draw(src, 'f', 4)).get('out')!;
    const c = (await draw(src, 'f', 5)).get('out')!;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(Math.abs(correlation(a, c))).toBeLessThan(se5(1));
  });

  it('draws depend on the seed, not on a recompilation', async () => {
    const g1 = compile(src, 'f', { path: 'stats.dl' });
    const g2 = compile(src, 'f', { path: 'stats.dl' });
    const run = async (g: typeof g1) => Array.from((await (await makeExecutable(g, { backend: 'interp', seed: 9 })).run(new Map())).get('out')!.data);
    expect(await run(g2)).toEqual(await run(g1));
  });
});

describe('the fixed-point Box–Muller transform (random_normal)', () => {
  /** The exact transform of the same words: u = (2⌊b₁/2⌋ + 1)/2³², v = b₂/2³², √(−2 ln u) · cos 2πv in f64. */
  const exact = (b1: number, b2: number) => Math.sqrt(-2 * Math.log((2 * Math.floor(b1 / 2) + 1) / 2 ** 32)) * Math.cos((2 * Math.PI * b2) / 2 ** 32);
  const M = 1_000_000;

  it('is within 2⁻²¹ (one grid step) of the exact transform over 10⁶ Threefry word pairs, and on a grid of 2⁻²¹', () => {
    let worst = 0;
    let tail4 = 0;
    for (let i = 0; i < M; i++) {
      const b1 = threefry(7, 3, i, 0) >>> 0;
      const b2 = threefry(7, 3, i, 1) >>> 0;
      const z = normalOfBits(b1, b2);
      worst = Math.max(worst, Math.abs(z - exact(b1, b2)));
      if (!Number.isInteger(z / NORMAL_UNIT)) throw new Error(`${z} is not a multiple of 2⁻²¹`);
      if (Math.abs(z) > 4) tail4++;
    }
    expect(worst).toBeLessThanOrEqual(NORMAL_UNIT);
    // P(|z| > 4) = 6.334e-5: the far tail is there, at its rate (five standard errors).
    const p4 = 6.334e-5;
    expect(Math.abs(tail4 / M - p4)).toBeLessThan(se5(Math.sqrt(p4 * (1 - p4)), M));
  });

  it('covers the ends of its range: u at 2⁻³² (|z| = 6.66), every octant boundary, and u next to 1', () => {
    // u = 2⁻³²: the largest radius, √(64 ln 2) = 6.6604.
    for (const b2 of [0, 0x40000000, 0x80000000, 0xc0000000, 0xffffffff, 0x20000000, 0x60000000, 0xa0000000, 0xe0000000, 0x1fffffff]) {
      expect(Math.abs(normalOfBits(0, b2) - exact(0, b2)), `b2 = ${b2}`).toBeLessThanOrEqual(NORMAL_UNIT);
    }
    // u within 2⁻³¹ of 1: r ≈ 2⁻¹⁵, where √ magnifies the log's last-bit error; still within 2⁻¹⁵ absolute.
    for (const b1 of [0xffffffff, 0xfffffffe, 0xfffff000]) {
      expect(Math.abs(normalOfBits(b1, 0) - exact(b1, 0))).toBeLessThan(2 ** -15);
    }
    // Opposite angles give opposite draws: the octant reduction is symmetric.
    expect(normalOfBits(12345, 0x80000000)).toBe(-normalOfBits(12345, 0));
  });
});

describe('permutation', () => {
  it('permutation(n) holds each of 0 … n − 1 once, uncorrelated with position', async () => {
    const n = 4000;
    const p = await one(`permutation(${n})`, `i32[${n}]`);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(Math.abs(correlation(p, p.map((_, i) => i)))).toBeLessThan(se5(1, n));
    expect(Math.abs(correlation(p.slice(1), p.slice(0, -1)))).toBeLessThan(se5(1, n));
  });

  it('permutation(4) draws each of the 24 orders equally often (chi-square over 4800 seeds)', async () => {
    const ex = await makeExecutable(compile('fn f() -> i32[4] {\n  return permutation(4)\n}', 'f', { path: 'stats.dl' }), { backend: 'js', precision: 'f64', seed: 0 });
    const orders = new Map<string, number>();
    const runs = 4800;
    for (let s = 0; s < runs; s++) {
      ex.setState(new Map([['rng/seed', { dtype: 'i32' as const, shape: [], data: [s] }]]), { partial: true });
      const key = Array.from((await ex.run(new Map())).get('out')!.data).join('');
      orders.set(key, (orders.get(key) ?? 0) + 1);
    }
    expect(orders.size).toBe(24);
    const e = runs / 24;
    const chi = [...orders.values()].reduce((t, c) => t + (c - e) ** 2 / e, 0);
    // 23 degrees of freedom: 99.99% quantile 52.6.
    expect(chi).toBeLessThan(52.6);
  });
});
