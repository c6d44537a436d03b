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

export const threefry = new Function(`${THREEFRY_SOURCE}\nreturn dlc_threefry;`)() as (k0: number, k1: number, c0: number, c1: number) => number;
const randomIntScalar = new Function(`${THREEFRY_SOURCE}\n${RANDOM_INT_SOURCE}\nreturn dlc_random_int;`)() as (k0: number, k1: number, c0: number, c1: number, n: number) => number;

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

export const RANDOM = [randomUniform, randomInt];
