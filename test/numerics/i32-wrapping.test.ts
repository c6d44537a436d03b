/**
 * i32 arithmetic is two's-complement wrapping on every backend (docs/ops.md, "Integer
 * arithmetic"): the interpreter, constant folding, JS f64, JS f32 and WebGPU agree bit for bit.
 * Expected values are computed here from the definition (Math.imul, `| 0`), not by a backend.
 */
import { describe, it } from 'vitest';
import { expectEverywhere } from './backends.js';

const MIN = -2147483648;
const MAX = 2147483647;
const wrap = (v: number) => v | 0;


const X = [1234567891, -1234567891, MAX, MIN, 65536, 3, 0, -1];
const Y = [747796405, 747796405, 2, -1, 65536, -7, 5, MIN];

describe('i32 arithmetic wraps (two’s complement) on every backend', () => {
  it('x * 747796405, x + y, x - y, x * y, -x and abs(x)', async () => {
    const src = [
      'fn f(x: i32[8], y: i32[8]) -> (i32[8], i32[8], i32[8], i32[8], i32[8], i32[8]) {',
      '  return (x * 747796405, x + y, x - y, x * y, -x, abs(x))',
      '}',
    ].join('\n');
    await expectEverywhere(src, { x: { shape: [8], data: X }, y: { shape: [8], data: Y } }, {
      out0: X.map((x) => Math.imul(x, 747796405)),
      out1: X.map((x, i) => wrap(x + Y[i]!)),
      out2: X.map((x, i) => wrap(x - Y[i]!)),
      out3: X.map((x, i) => Math.imul(x, Y[i]!)),
      out4: X.map((x) => wrap(-x)),
      out5: X.map((x) => wrap(Math.abs(x))),
    });
  });

  it('an intermediate result wraps before the next op reads it ((x + x) // 2, x * x > 0)', async () => {
    const src = 'fn f(x: i32[8]) -> (i32[8], bool[8]) {\n  return ((x + x) // 2, x * x > 0)\n}\n';
    const floorDiv2 = (v: number) => Math.floor(v / 2);
    await expectEverywhere(src, { x: { shape: [8], data: X } }, {
      out0: X.map((x) => floorDiv2(wrap(x + x))),
      out1: X.map((x) => (Math.imul(x, x) > 0 ? 1 : 0)),
    });
  });

  it('integer powers are repeated wrapping products (x ** 3)', async () => {
    const src = 'fn f(x: i32[8]) -> i32[8] {\n  return x ** 3\n}\n';
    await expectEverywhere(src, { x: { shape: [8], data: X } }, { out: X.map((x) => Math.imul(Math.imul(x, x), x)) });
  });

  it('// and % floor; x // 0 = 0 and x % 0 = x; MIN // -1 = MIN and MIN % -1 = 0', async () => {
    const a = [7, 7, -7, -7, MIN, MIN, 5, -5, 0, MAX];
    const b = [2, -2, 2, -2, -1, 1, 0, 0, 0, -1];
    const src = 'fn f(a: i32[10], b: i32[10]) -> (i32[10], i32[10]) {\n  return (a // b, a % b)\n}\n';
    await expectEverywhere(src, { a: { shape: [10], data: a }, b: { shape: [10], data: b } }, {
      out0: [3, -4, -4, 3, MIN, MIN, 0, 0, 0, -MAX],
      out1: [1, -1, 1, -1, 0, 0, 5, -5, 0, 0],
    });
  });

  it('sum over i32 wraps (a short row, and a row long enough for the WebGPU workgroup tree)', async () => {
    const long = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? MAX : i % 3 === 1 ? 1234567891 : -5));
    const src = 'fn f(x: i32[3], y: i32[300]) -> (i32, i32) {\n  return (sum(x), sum(y))\n}\n';
    await expectEverywhere(src, { x: { shape: [3], data: [MAX, 1, 5] }, y: { shape: [300], data: long } }, {
      out0: [wrap(MIN + 5)],
      out1: [long.reduce((s, v) => wrap(s + v), 0)],
    });
  });

  it('constants fold with the same wrapping ([1234567891, -3] * 747796405 + x)', async () => {
    const src = 'fn f(x: i32[2]) -> i32[2] {\n  return [1234567891, -3] * 747796405 + x\n}\n';
    await expectEverywhere(src, { x: { shape: [2], data: [0, MAX] } }, {
      out: [Math.imul(1234567891, 747796405), wrap(Math.imul(-3, 747796405) + MAX)],
    });
  });
});

describe('cast(x, i32) truncates toward zero and saturates; NaN is 0', () => {
  it('is the same on every backend for NaN, ±∞, out-of-range and fractional values', async () => {
    const x = [NaN, Infinity, -Infinity, 3e9, -3e9, 2147483520, -2147483648, -2.7, 2.7, -0.5, 1e-30, -0];
    const src = 'fn f(x: f32[12]) -> i32[12] {\n  return cast(x, i32)\n}\n';
    await expectEverywhere(src, { x: { shape: [12], data: x } }, {
      out: [0, MAX, MIN, MAX, MIN, 2147483520, MIN, -2, 2, 0, 0, 0],
    });
  });
});

describe('i32 matrix products wrap like the sum of wrapped products', () => {
  it('x @ y on i32 (a 4×4 block and its edges) agrees with the definition', async () => {
    const x = [1234567891, MAX, -3, MIN, 7, 65536, 5, -5, 46341, 1, 2, 3, -46341, 9, MAX, 0, 65536, MIN];
    const y = [747796405, 2, MAX, -1, 65536, 65536, 46341, 3, -2, 8, 1, MIN];
    const [M, K, N] = [6, 3, 4];
    const want: number[] = [];
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s = wrap(s + Math.imul(x[i * K + k]!, y[k * N + j]!));
        want.push(s);
      }
    }
    const src = 'fn f(x: i32[6, 3], y: i32[3, 4]) -> i32[6, 4] {\n  return x @ y\n}\n';
    await expectEverywhere(src, { x: { shape: [M, K], data: x }, y: { shape: [K, N], data: y } }, { out: want });
  });
});

describe('a matrix product whose fused epilogue changes the dtype', () => {
  it('f32 @ f32 stored as i32 (cast(a @ b > 0.5, i32) * 7) and i32 @ i32 stored as f32 keep their arithmetic', async () => {
    const a = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, -1, 0, 2, 0.25, 0.25, 0];
    const b = [1, 0, 0, 0, 0.5, 1, 0, 2, 0, 0, 1, 3];
    // Multiples of 2⁸: the products overflow, and their wrapped sums (multiples of 2¹⁶) are exact in f32.
    const xi = [8388607, 1, 0, 2, -1, 3, 4, 5, 6, 7, 8, 9, 4823, 65536, 1, -2, 3, -8388608].map((v) => v * 256);
    const yi = [65536, 2, 8388607, -1, 65536, 1, 0, 3, -2, 8, 1, 12345].map((v) => v * 256);
    const [M, K, N] = [6, 3, 4];
    const prod = (x: number[], y: number[], int: boolean) => {
      const out: number[] = [];
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s = int ? wrap(s + Math.imul(x[i * K + k]!, y[k * N + j]!)) : s + x[i * K + k]! * y[k * N + j]!;
          out.push(s);
        }
      }
      return out;
    };
    const src = [
      'fn f(a: f32[6, 3], b: f32[3, 4], xi: i32[6, 3], yi: i32[3, 4]) -> (i32[6, 4], f32[6, 4]) {',
      '  return (cast(a @ b > 0.5, i32) * 7, cast(xi @ yi, f32))',
      '}',
    ].join('\n');
    await expectEverywhere(src, { a: { shape: [M, K], data: a }, b: { shape: [K, N], data: b }, xi: { shape: [M, K], data: xi }, yi: { shape: [K, N], data: yi } }, {
      out0: prod(a, b, false).map((v) => (v > 0.5 ? 7 : 0)),
      out1: prod(xi, yi, true).map((v) => Math.fround(v)),
    });
  });
});
