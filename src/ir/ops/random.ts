/**
 * @file Counter-based random primitives (docs/random.md). A draw is a pure function of a 64-bit
 * key (k0, k1) and a 64-bit counter (c0, c1), all i32 tensors of the output's shape: Threefry-2x32
 * with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; JAX's
 * generator), built only from 32-bit add, xor and rotate, which JavaScript and WGSL compute
 * exactly. The JS helper, the WGSL helper and the reference evaluation are generated from the one
 * round schedule below, so the three agree bit for bit.
 */
import { NDArray } from '../ndarray.js';
import { defineOp, defaultCost, opError, type Draw, type ExprContext } from '../op.js';
import { formatType, sameShape, type TensorType } from '../types.js';
import { op as opExpr } from '../../kernel/expr.js';

/** Threefry-2x32's rotation constants, one per round (repeating every 8). */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
const ROUNDS = 20;
/** The key schedule's parity constant. */
const PARITY = 0x1bd11bda;
/** 2⁻²⁴: a 24-bit integer times it is exact in f32 and f64. */
export const UNIT = 5.9604644775390625e-8;

/** The rounds as statements over x0, x1 and the key words ks0..ks2, in a given spelling. */
function schedule(s: { add: (a: string, b: string) => string; rotl: (x: string, r: number) => string; int: (v: number) => string }): string[] {
  const ks = ['ks0', 'ks1', 'ks2'];
  const out: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    out.push(`x0 = ${s.add('x0', 'x1')};`, `x1 = ${s.rotl('x1', ROTATIONS[r % 8]!)} ^ x0;`);
    if (r % 4 === 3) {
      const j = (r + 1) / 4;
      out.push(`x0 = ${s.add('x0', ks[j % 3]!)};`, `x1 = ${s.add('x1', `${ks[(j + 1) % 3]!} + ${s.int(j)}`)};`);
    }
  }
  return out;
}

/** Word 0 of Threefry-2x32-20 of counter (c0, c1) under key (k0, k1), as a uint32 (inputs are int32 or uint32). */
export const THREEFRY_SOURCE = `function dlc_threefry(k0, k1, c0, c1) {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (${PARITY} ^ ks0 ^ ks1) >>> 0;
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  ${schedule({ add: (a, b) => `(${a} + ${b}) >>> 0`, rotl: (x, r) => `((${x} << ${r}) | (${x} >>> ${32 - r}))`, int: String }).join('\n  ')}
  return x0 >>> 0;
}`;

export const WGSL_THREEFRY = `fn dlc_threefry(k0: i32, k1: i32, c0: i32, c1: i32) -> u32 {
  let ks0 = bitcast<u32>(k0);
  let ks1 = bitcast<u32>(k1);
  let ks2 = ${PARITY}u ^ ks0 ^ ks1;
  var x0 = bitcast<u32>(c0) + ks0;
  var x1 = bitcast<u32>(c1) + ks1;
  ${schedule({ add: (a, b) => `${a} + ${b}`, rotl: (x, r) => `((${x} << ${r}u) | (${x} >> ${32 - r}u))`, int: (v) => `${v}u` }).join('\n  ')}
  return x0;
}`;

/** An integer in [0, n) from the bits (n ≤ 0 gives 0): the remainder, biased by less than n / 2³². */
export const RANDOM_INT_SOURCE = `function dlc_random_int(k0, k1, c0, c1, n) {
  return n > 0 ? dlc_threefry(k0, k1, c0, c1) % n : 0;
}`;

export const WGSL_RANDOM_INT = `fn dlc_random_int(k0: i32, k1: i32, c0: i32, c1: i32, n: i32) -> i32 {
  if (n <= 0) { return 0i; }
  return bitcast<i32>(dlc_threefry(k0, k1, c0, c1) % bitcast<u32>(n));
}`;

/** Threefry's rounds ending with both output words in x0 and x1, in JavaScript (inputs int32 or uint32). */
const JS_ROUNDS = `const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (${PARITY} ^ ks0 ^ ks1) >>> 0;
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  ${schedule({ add: (a, b) => `(${a} + ${b}) >>> 0`, rotl: (x, r) => `((${x} << ${r}) | (${x} >>> ${32 - r}))`, int: String }).join('\n  ')}`;

const WGSL_ROUNDS = `let ks0 = bitcast<u32>(k0);
  let ks1 = bitcast<u32>(k1);
  let ks2 = ${PARITY}u ^ ks0 ^ ks1;
  var x0 = bitcast<u32>(c0) + ks0;
  var x1 = bitcast<u32>(c1) + ks1;
  ${schedule({ add: (a, b) => `${a} + ${b}`, rotl: (x, r) => `((${x} << ${r}u) | (${x} >> ${32 - r}u))`, int: (v) => `${v}u` }).join('\n  ')}`;

/*
 * Standard normals from both Threefry words by Box–Muller in fixed point, with integer operations
 * only (32-bit add, subtract, shift, compare, and products split into 16-bit halves), so the
 * interpreter, JavaScript (f32 and f64) and WGSL compute the same bits whatever a shader compiler
 * does to float arithmetic. z = √(−2 ln u) · cos(2πv) with u = (2⌊b₁/2⌋ + 1) / 2³² in (0, 1) and
 * v = b₂ / 2³², rounded to a multiple of 2⁻²¹ (|z| < 6.7 · 2²¹ < 2²⁴, so the f32 is exact):
 * - log₂ of u's mantissa bit by bit by repeated squaring (30 bits), then R² = 2 ln 2 · (−log₂ u)
 *   as a 60-bit number (Q54) in two words, and r = ⌊√R²⌋ digit by digit (Q27);
 * - the angle reduced to an octant, θ in [0, π/4] (Q31), and cos θ or sin θ by their Taylor series
 *   to θ¹² and θ¹³ (truncation below 10⁻¹²) in nested form, each level in [0.69, 1] (Q31).
 * Measured over 3·10⁶ draws: within 2⁻²¹ of the exactly computed transform of the same u and v,
 * except very close to r = 0 (u within 10⁻⁶ of 1), where √ magnifies the 10⁻⁹ error of the log.
 */
/** 2 ln 2 in Q31 (R² = 2 ln 2 · (−log₂ u)). */
const TWO_LN2_Q31 = 2977044472;
/** π/4 in Q32. */
const PI_4_Q32 = 3373259426;
/** The nested Taylor series' factors 1/((2k−1)·2k) (cos) and 1/(2k·(2k+1)) (sin), k = 1..6, in Q32. */
export const COS_Q32 = [1, 2, 3, 4, 5, 6].map((k) => Math.round(2 ** 32 / ((2 * k - 1) * 2 * k)));
export const SIN_Q32 = [1, 2, 3, 4, 5, 6].map((k) => Math.round(2 ** 32 / (2 * k * (2 * k + 1))));
/** 2⁻²¹: the grid of normal draws. */
export const NORMAL_UNIT = 4.76837158203125e-7;

/** Nested series t = 1 − y·c_k·t from the innermost factor out, in JavaScript (y in Q32, t in Q31). */
const jsSeries = (cs: readonly number[]) => cs.map((c) => c).reverse().map((c) => `t = 2147483648 - dlc_mulhi(dlc_mulhi(y, ${c}), t);`).join(' ');
const wgslSeries = (cs: readonly number[]) => cs.map((c) => c).reverse().map((c) => `t = 0x80000000u - dlc_mulhi(dlc_mulhi(y, ${c}u), t);`).join(' ');

/** The high 32 bits of the 64-bit product of two uint32: exact in f64 (each partial product is below 2⁴⁸). */
export const MULHI_SOURCE = `function dlc_mulhi(a, b) {
  return Math.floor((a * (b >>> 16) + Math.floor((a * (b & 0xffff)) / 65536)) / 65536);
}`;

export const WGSL_MULHI = `fn dlc_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}`;

export const NORMAL_OF_SOURCE = `function dlc_normal_of(b1, b2) {
  const m = ((b1 >>> 1) * 2 + 1) >>> 0;
  const e = 31 - Math.clz32(m);
  let x = (m * 2 ** (31 - e)) >>> 0;
  let frac = 0;
  for (let i = 0; i < 30; i++) {
    const sq = dlc_mulhi(x, x);
    frac = frac * 2;
    if (sq >= 2147483648) { frac += 1; x = sq; } else { x = (sq * 2 + (Math.imul(x, x) >>> 31)) >>> 0; }
  }
  const a = 32 - e;
  const h1 = dlc_mulhi(${TWO_LN2_Q31}, a);
  const l1 = Math.imul(${TWO_LN2_Q31}, a) >>> 0;
  const ah = ((h1 << 23) | (l1 >>> 9)) >>> 0;
  const al = (l1 << 23) >>> 0;
  const h2 = dlc_mulhi(${TWO_LN2_Q31}, frac);
  const l2 = Math.imul(${TWO_LN2_Q31}, frac) >>> 0;
  const bh = h2 >>> 7;
  const bl = ((l2 >>> 7) | (h2 << 25)) >>> 0;
  const lo = (al - bl) >>> 0;
  const hi = (ah - bh - (al < bl ? 1 : 0)) >>> 0;
  let res = 0;
  let rem = 0;
  for (let j = 26; j >= 0; j -= 2) {
    rem = rem * 4 + ((hi >>> j) & 3);
    const trial = res * 4 + 1;
    res = res * 2;
    if (rem >= trial) { rem -= trial; res += 1; }
  }
  for (let j = 30; j >= 0; j -= 2) {
    rem = rem * 4 + ((lo >>> j) & 3);
    const trial = res * 4 + 1;
    res = res * 2;
    if (rem >= trial) { rem -= trial; res += 1; }
  }
  const o = b2 >>> 29;
  const w = (o & 1) === 1 ? 536870912 - (b2 & 0x1fffffff) : b2 & 0x1fffffff;
  const th = dlc_mulhi(w * 4, ${PI_4_Q32}) * 2;
  const y = dlc_mulhi(th, th);
  let t = 2147483648;
  let g = 0;
  if ((((o + 1) >>> 1) & 1) === 1) { ${jsSeries(SIN_Q32)} g = dlc_mulhi(th, t); } else { ${jsSeries(COS_Q32)} g = t; }
  const z = (dlc_mulhi(res, g) + 16) >>> 5;
  return ((((o + 2) >>> 2) & 1) === 1 ? 0 - z : z) * ${NORMAL_UNIT};
}`;

export const WGSL_NORMAL_OF = `fn dlc_normal_of(b1: u32, b2: u32) -> f32 {
  let m = ((b1 >> 1u) << 1u) | 1u;
  let e = firstLeadingBit(m);
  var x = m << (31u - e);
  var frac = 0u;
  for (var i = 0u; i < 30u; i++) {
    let sq = dlc_mulhi(x, x);
    frac = frac << 1u;
    if (sq >= 0x80000000u) { frac = frac | 1u; x = sq; } else { x = (sq << 1u) | ((x * x) >> 31u); }
  }
  let a = 32u - e;
  let h1 = dlc_mulhi(${TWO_LN2_Q31}u, a);
  let l1 = ${TWO_LN2_Q31}u * a;
  let ah = (h1 << 23u) | (l1 >> 9u);
  let al = l1 << 23u;
  let h2 = dlc_mulhi(${TWO_LN2_Q31}u, frac);
  let l2 = ${TWO_LN2_Q31}u * frac;
  let bh = h2 >> 7u;
  let bl = (l2 >> 7u) | (h2 << 25u);
  let lo = al - bl;
  let hi = ah - bh - select(0u, 1u, al < bl);
  var res = 0u;
  var rem = 0u;
  for (var j = 0u; j < 14u; j++) {
    rem = (rem << 2u) | ((hi >> (26u - 2u * j)) & 3u);
    let trial = (res << 2u) | 1u;
    res = res << 1u;
    if (rem >= trial) { rem = rem - trial; res = res | 1u; }
  }
  for (var j = 0u; j < 16u; j++) {
    rem = (rem << 2u) | ((lo >> (30u - 2u * j)) & 3u);
    let trial = (res << 2u) | 1u;
    res = res << 1u;
    if (rem >= trial) { rem = rem - trial; res = res | 1u; }
  }
  let o = b2 >> 29u;
  let w = select(b2 & 0x1fffffffu, 0x20000000u - (b2 & 0x1fffffffu), (o & 1u) == 1u);
  let th = dlc_mulhi(w << 2u, ${PI_4_Q32}u) << 1u;
  let y = dlc_mulhi(th, th);
  var t = 0x80000000u;
  var g = 0u;
  if ((((o + 1u) >> 1u) & 1u) == 1u) { ${wgslSeries(SIN_Q32)} g = dlc_mulhi(th, t); } else { ${wgslSeries(COS_Q32)} g = t; }
  let z = i32((dlc_mulhi(res, g) + 16u) >> 5u);
  return f32(select(z, -z, (((o + 2u) >> 2u) & 1u) == 1u)) * ${NORMAL_UNIT};
}`;

/** A standard normal of key (k0, k1) and counter (c0, c1): both words of one Threefry call through dlc_normal_of. */
export const RANDOM_NORMAL_SOURCE = `function dlc_random_normal(k0, k1, c0, c1) {
  ${JS_ROUNDS}
  return dlc_normal_of(x0 >>> 0, x1 >>> 0);
}`;

export const WGSL_RANDOM_NORMAL = `fn dlc_random_normal(k0: i32, k1: i32, c0: i32, c1: i32) -> f32 {
  ${WGSL_ROUNDS}
  return dlc_normal_of(x0, x1);
}`;

/** The random helpers of each backend's prelude (src/codegen/{js,wgsl}/prelude.ts), by name. */
export const RANDOM_JS_HELPERS: Readonly<Record<string, string>> = {
  dlc_threefry: THREEFRY_SOURCE,
  dlc_random_int: RANDOM_INT_SOURCE,
  dlc_mulhi: MULHI_SOURCE,
  dlc_normal_of: NORMAL_OF_SOURCE,
  dlc_random_normal: RANDOM_NORMAL_SOURCE,
};

export const RANDOM_WGSL_HELPERS: Readonly<Record<string, string>> = {
  dlc_threefry: WGSL_THREEFRY,
  dlc_random_int: WGSL_RANDOM_INT,
  dlc_mulhi: WGSL_MULHI,
  dlc_normal_of: WGSL_NORMAL_OF,
  dlc_random_normal: WGSL_RANDOM_NORMAL,
};

export const threefry = new Function(`${THREEFRY_SOURCE}\nreturn dlc_threefry;`)() as (k0: number, k1: number, c0: number, c1: number) => number;
const randomIntScalar = new Function(`${THREEFRY_SOURCE}\n${RANDOM_INT_SOURCE}\nreturn dlc_random_int;`)() as (k0: number, k1: number, c0: number, c1: number, n: number) => number;
/** The standard normal of a key and counter: the one JavaScript source every backend's helper matches bit for bit. */
export const randomNormalScalar = new Function(`${MULHI_SOURCE}\n${NORMAL_OF_SOURCE}\n${RANDOM_NORMAL_SOURCE}\nreturn dlc_random_normal;`)() as (k0: number, k1: number, c0: number, c1: number) => number;
/** Box–Muller in fixed point of two uint32 words (exposed for the accuracy test). */
export const normalOfBits = new Function(`${MULHI_SOURCE}\n${NORMAL_OF_SOURCE}\nreturn dlc_normal_of;`)() as (b1: number, b2: number) => number;

/** The uniform in [0, 1) of a draw's bits: the top 24 bits times 2⁻²⁴, exact in f32. */
export const unitOf = (bits: number) => (bits >>> 8) * UNIT;

/** Flops of one Threefry-2x32-20 evaluation (add, rotate, xor per round, and the key injections). */
const THREEFRY_FLOPS = ROUNDS * 4 + 12;

const KEY_WORDS = ['k0', 'k1', 'c0', 'c1'];

function checkKey(op: string, ins: readonly TensorType[], names: readonly string[]): TensorType {
  const first = ins[0]!;
  ins.forEach((t, i) => {
    if (t.dtype !== 'i32') opError('DL0303', (w) => `\`${op}\` needs an i32 \`${names[i]}\`, got ${formatType(t)}${w}`);
    if (!sameShape(t.shape, first.shape)) opError('DL0302', (w) => `\`${op}\` needs equal shapes, got ${formatType(first)} and ${formatType(t)}${w}`);
  });
  return first;
}

function sameIndex(name: string) {
  return ({ idx, read, inputs, out }: ExprContext) => opExpr(name, inputs.map((_, i) => read(i, idx)), out.dtype);
}

/** Key and counter words drawn over the whole i32 range (the `int` domain is [0, n)). */
function keyCase(d: Draw, extra: number) {
  const shape = d.shape(0, 3, 4);
  return {
    inputs: [
      ...KEY_WORDS.map(() => ({ dtype: 'i32' as const, shape, domain: { int: 2 ** 31 - 1 } })),
      ...Array.from({ length: extra }, () => ({ dtype: 'i32' as const, shape, domain: { int: 40 } })),
    ],
    attrs: {},
  };
}

export const randomUniform = defineOp<Record<string, never>>({
  name: 'random_uniform',
  kind: 'elementwise',
  doc: 'a uniform draw in [0, 1) from key (k0, k1) and counter (c0, c1): the top 24 of the Threefry-2x32-20 bits times 2⁻²⁴ (exact in f32); not differentiable into the draw',
  arity: 4,
  attrs: {},
  infer(ins) {
    return { dtype: 'f32', shape: checkKey('random_uniform', ins, KEY_WORDS).shape };
  },
  evaluate([k0, k1, c0, c1], _a, out) {
    const data = new Float64Array(k0!.size);
    for (let i = 0; i < data.length; i++) data[i] = unitOf(threefry(k0!.data[i]!, k1!.data[i]!, c0!.data[i]!, c1!.data[i]!));
    return new NDArray(out.shape, data);
  },
  cost: (ins, out) => defaultCost(ins, out, THREEFRY_FLOPS),
  // The key and counter are integers: nothing flows back into the draw.
  vjp: () => [undefined, undefined, undefined, undefined],
  expr: sameIndex('random_uniform'),
  emit: {
    js: (c) => `((${c.helper('dlc_threefry')}(${c.args.join(', ')}) >>> 8) * ${UNIT})`,
    wgsl: (c) => `(f32(${c.helper('dlc_threefry')}(${c.args.join(', ')}) >> 8u) * ${UNIT})`,
  },
  test: { sample: (d) => keyCase(d, 0), order: 0 },
});

export const randomInt = defineOp<Record<string, never>>({
  name: 'random_int',
  kind: 'elementwise',
  doc: 'a uniform integer in [0, n) from key (k0, k1) and counter (c0, c1): the Threefry-2x32-20 bits (as uint32) mod n, 0 where n ≤ 0',
  arity: 5,
  attrs: {},
  infer(ins) {
    return { dtype: 'i32', shape: checkKey('random_int', ins, [...KEY_WORDS, 'n']).shape };
  },
  evaluate([k0, k1, c0, c1, n], _a, out) {
    const data = new Float64Array(k0!.size);
    for (let i = 0; i < data.length; i++) data[i] = randomIntScalar(k0!.data[i]!, k1!.data[i]!, c0!.data[i]!, c1!.data[i]!, n!.data[i]!);
    return new NDArray(out.shape, data);
  },
  cost: (ins, out) => defaultCost(ins, out, THREEFRY_FLOPS + 2),
  vjp: () => [undefined, undefined, undefined, undefined, undefined],
  expr: sameIndex('random_int'),
  emit: {
    js: (c) => (c.helper('dlc_threefry'), `${c.helper('dlc_random_int')}(${c.args.join(', ')})`),
    wgsl: (c) => (c.helper('dlc_threefry'), `${c.helper('dlc_random_int')}(${c.args.join(', ')})`),
  },
  test: { sample: (d) => keyCase(d, 1), order: 0 },
});

/** Flops of the fixed-point Box–Muller transform (30 squarings, 30 square-root digits, 13 series levels, 4 ops per 16-bit product). */
const NORMAL_FLOPS = 2 * THREEFRY_FLOPS + 30 * 20 + 30 * 8 + 13 * 40 + 60;

export const randomNormal = defineOp<Record<string, never>>({
  name: 'random_normal',
  kind: 'elementwise',
  doc: 'a standard normal draw from key (k0, k1) and counter (c0, c1): Box–Muller of both Threefry-2x32-20 words in 32-bit integer arithmetic, a multiple of 2⁻²¹ (exact in f32 on every backend); not differentiable into the draw',
  arity: 4,
  attrs: {},
  infer(ins) {
    return { dtype: 'f32', shape: checkKey('random_normal', ins, KEY_WORDS).shape };
  },
  evaluate([k0, k1, c0, c1], _a, out) {
    const data = new Float64Array(k0!.size);
    for (let i = 0; i < data.length; i++) data[i] = randomNormalScalar(k0!.data[i]!, k1!.data[i]!, c0!.data[i]!, c1!.data[i]!);
    return new NDArray(out.shape, data);
  },
  cost: (ins, out) => defaultCost(ins, out, NORMAL_FLOPS),
  vjp: () => [undefined, undefined, undefined, undefined],
  expr: sameIndex('random_normal'),
  emit: {
    js: (c) => (c.helper('dlc_mulhi'), c.helper('dlc_normal_of'), c.helper('dlc_random_normal') + `(${c.args.join(', ')})`),
    wgsl: (c) => (c.helper('dlc_mulhi'), c.helper('dlc_normal_of'), c.helper('dlc_random_normal') + `(${c.args.join(', ')})`),
  },
  test: { sample: (d) => keyCase(d, 0), order: 0 },
});

export const RANDOM = [randomUniform, randomInt, randomNormal];
