/**
 * NaN propagates, as in NumPy and PyTorch, and every backend agrees exactly (docs/ops.md,
 * "Integers and NaN"): relu(NaN) = NaN, maximum/minimum with a NaN operand are NaN, max/min
 * reductions over a NaN are NaN, and argmax/argmin return the index of the first NaN.
 */
import { describe, expect, it } from 'vitest';
import { expectEverywhere, mismatches, runOn, TARGETS } from './backends.js';


describe('NaN propagates on every backend', () => {
  it('log and sqrt of a negative number are NaN even where a driver would fold exp(log(x)) or sqrt(x)·sqrt(x) to x (fuzz seed 167240)', async () => {
    const x = [-0.957, -2, 0, -0, NaN, 1];
    const src = 'fn f(x: f32[6]) -> (f32[6], f32[6], f32[6], f32[6]) {\n  return (exp(log(x)) + 1000.5, sqrt(x) * sqrt(x), log(x), sqrt(x))\n}\n';
    await expectEverywhere(src, { x: { shape: [6], data: x } }, {
      out0: [NaN, NaN, 1000.5, 1000.5, NaN, 1001.5],
      out1: [NaN, NaN, 0, 0, NaN, 1],
      out2: [NaN, NaN, -Infinity, -Infinity, NaN, 0],
      out3: [NaN, NaN, 0, -0, NaN, 1],
    });
  });

  it('relu(NaN) is NaN (relu(−0) = +0, relu(−1) = 0), so a NaN loss stays NaN', async () => {
    const src = 'fn f(x: f32[5]) -> (f32[5], f32) {\n  return (relu(x), sum(relu(x)))\n}\n';
    await expectEverywhere(src, { x: { shape: [5], data: [NaN, -0, -1, 2, Infinity] } }, {
      out0: [NaN, 0, 0, 2, Infinity],
      out1: [NaN],
    });
  });

  it('maximum/minimum: NaN if either operand is; +0 over −0 for maximum, −0 for minimum', async () => {
    const x = [NaN, 1, NaN, 0, -0, 3, -Infinity];
    const y = [1, NaN, NaN, -0, 0, 2, -Infinity];
    const src = 'fn f(x: f32[7], y: f32[7]) -> (f32[7], f32[7], f32[7]) {\n  return (maximum(x, y), minimum(x, y), max(x, 0.0))\n}\n';
    await expectEverywhere(src, { x: { shape: [7], data: x }, y: { shape: [7], data: y } }, {
      out0: [NaN, NaN, NaN, 0, 0, 3, -Infinity],
      out1: [NaN, NaN, NaN, -0, -0, 2, -Infinity],
      out2: [NaN, 1, NaN, 0, 0, 3, 0],
    });
  });

  it('max/min over an axis are NaN where the row holds a NaN (short rows, and a 100-long row for the WebGPU tree)', async () => {
    const rows = [1, NaN, 3, 0, -0, 0, 2, 5, 4];
    const long = Array.from({ length: 100 }, (_, i) => (i === 70 ? NaN : i - 50));
    const src = 'fn f(x: f32[3, 3], y: f32[100]) -> (f32[3], f32[3], f32, f32) {\n  return (max(x, axis=1), min(x, axis=1), max(y), min(y))\n}\n';
    await expectEverywhere(src, { x: { shape: [3, 3], data: rows }, y: { shape: [100], data: long } }, {
      out0: [NaN, 0, 5],
      out1: [NaN, -0, 2],
      out2: [NaN],
      out3: [NaN],
    });
  });

  it('argmax/argmin return the first NaN (NumPy), else the first extreme', async () => {
    const rows = [1, NaN, 3, NaN, 5, 2, 7, 7, -Infinity, -Infinity, -Infinity, -Infinity];
    const withNaN = Array.from({ length: 100 }, (_, i) => (i === 70 || i === 90 ? NaN : i % 7));
    const ties = Array.from({ length: 100 }, (_, i) => (i === 33 || i === 80 ? 200 : i === 20 || i === 95 ? -200 : i % 7));
    const src = [
      'fn f(x: f32[3, 4], y: f32[100], z: f32[100]) -> (i32[3], i32[3], i32, i32, i32, i32) {',
      '  return (argmax(x, axis=1), argmin(x, axis=1), argmax(y), argmin(y), argmax(z), argmin(z))',
      '}',
    ].join('\n');
    await expectEverywhere(src, { x: { shape: [3, 4], data: rows }, y: { shape: [100], data: withNaN }, z: { shape: [100], data: ties } }, {
      out0: [1, 2, 0],
      out1: [1, 1, 0],
      out2: [70],
      out3: [70],
      out4: [33],
      out5: [20],
    });
  });

  it('sign(NaN) is NaN, softplus(NaN) is NaN, NaN != NaN and a NaN cast to bool is true', async () => {
    const src = 'fn f(x: f32[4]) -> (f32[4], f32[4], bool[4], bool[4]) {\n  return (sign(x), softplus(x), cast(x, bool), x != x)\n}\n';
    const bad: string[] = [];
    for (const t of TARGETS) {
      const out = await runOn(t, src, { x: { shape: [4], data: [NaN, -0, -3, 2] } });
      bad.push(...mismatches(out.get('out0')!, [NaN, 0, -1, 1]).map((m) => `${t.name} sign${m}`));
      if (!Number.isNaN(out.get('out1')![0])) bad.push(`${t.name} softplus(NaN) = ${out.get('out1')![0]}`);
      bad.push(...mismatches(out.get('out2')!, [1, 0, 1, 1]).map((m) => `${t.name} cast${m}`));
      bad.push(...mismatches(out.get('out3')!, [1, 0, 0, 0]).map((m) => `${t.name} x != x${m}`));
    }
    expect(bad).toEqual([]);
  });

  it('gradients at a NaN: relu passes the cotangent through, maximum gives it to the NaN operand, a max over a NaN is NaN', async () => {
    const src = [
      'fn f(x: f32[3], y: f32[3]) -> (f32[3], f32[3], f32[3]) {',
      '  return (grad(sum(relu(x)), x), grad(max(y), y), grad(sum(maximum(x, y)), x))',
      '}',
    ].join('\n');
    await expectEverywhere(src, { x: { shape: [3], data: [NaN, 2, -1] }, y: { shape: [3], data: [1, NaN, 3] } }, {
      out0: [1, 1, 0],
      out1: [NaN, NaN, NaN],
      out2: [1, 0, 0], // maximum(NaN, 1) is x's NaN; maximum(2, NaN) is y's
    });
  });
});
