/**
 * @file Elementwise primitives: unary math, binary arithmetic and comparisons, select and cast.
 * Inputs of a binary op have equal shapes; broadcasting is made explicit by `broadcast` nodes
 * (see compose.ts), so each op here maps element i of its inputs to element i of its output.
 */
import { NDArray } from '../ndarray.js';
import { defineOp, defaultCost, opError, type OpDef } from '../op.js';
import { formatType, sameShape, type DType, type TensorType } from '../types.js';
import { erf } from './special.js';

/** Which dtypes an elementwise op accepts. */
export type DTypeClass = 'float' | 'numeric' | 'bool' | 'any';

const CLASS_MEMBERS: Record<DTypeClass, readonly DType[]> = {
  float: ['f32'],
  numeric: ['f32', 'i32'],
  bool: ['bool'],
  any: ['f32', 'i32', 'bool'],
};

const CLASS_WORDS: Record<DTypeClass, string> = {
  float: 'a float (f32) tensor',
  numeric: 'a numeric (f32 or i32) tensor',
  bool: 'a bool tensor',
  any: 'a tensor',
};

function checkClass(op: string, t: TensorType, cls: DTypeClass): void {
  if (!CLASS_MEMBERS[cls].includes(t.dtype)) {
    opError(
      'DL0303',
      (w) => `\`${op}\` needs ${CLASS_WORDS[cls]}, got ${formatType(t)}${w}`,
      t.dtype === 'i32' && cls === 'float' ? 'convert first with `cast(x, f32)`' : undefined,
    );
  }
}

/** Rounds a float64 result to what the output dtype can hold (i32 wraps like two's complement). */
export function toDType(v: number, dtype: DType): number {
  if (dtype === 'i32') return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
  if (dtype === 'bool') return v ? 1 : 0;
  return v;
}

function mapData(out: TensorType, n: number, f: (i: number) => number): NDArray {
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = toDType(f(i), out.dtype);
  return new NDArray(out.shape, data);
}

export interface UnarySpec {
  name: string;
  doc: string;
  accepts: DTypeClass;
  /** Output dtype when it is not the input's. */
  result?: DType;
  fn: (x: number) => number;
  /** Approximate cost in flops per element. */
  flops?: number;
}

export function unaryOp(s: UnarySpec): OpDef {
  return defineOp({
    name: s.name,
    kind: 'elementwise',
    doc: s.doc,
    arity: 1,
    attrs: {},
    infer([x]) {
      checkClass(s.name, x!, s.accepts);
      return { dtype: s.result ?? x!.dtype, shape: x!.shape };
    },
    evaluate([x], _a, out) {
      return mapData(out, x!.size, (i) => s.fn(x!.data[i]!));
    },
    cost: (ins, out) => defaultCost(ins, out, s.flops ?? 1),
  });
}

export interface BinarySpec {
  name: string;
  doc: string;
  accepts: DTypeClass;
  result?: DType;
  fn: (a: number, b: number, dtype: DType) => number;
  flops?: number;
}

export function binaryOp(s: BinarySpec): OpDef {
  return defineOp({
    name: s.name,
    kind: 'elementwise',
    doc: s.doc,
    arity: 2,
    attrs: {},
    infer([a, b]) {
      checkClass(s.name, a!, s.accepts);
      checkClass(s.name, b!, s.accepts);
      if (a!.dtype !== b!.dtype) {
        opError('DL0303', (w) => `\`${s.name}\` mixes ${a!.dtype} and ${b!.dtype}${w}`);
      }
      if (!sameShape(a!.shape, b!.shape)) {
        opError('DL0302', (w) => `\`${s.name}\` needs equal shapes, got ${formatType(a!)} and ${formatType(b!)}${w}`);
      }
      return { dtype: s.result ?? a!.dtype, shape: a!.shape };
    },
    evaluate([a, b], _x, out) {
      return mapData(out, a!.size, (i) => s.fn(a!.data[i]!, b!.data[i]!, out.dtype));
    },
    cost: (ins, out) => defaultCost(ins, out, s.flops ?? 1),
  });
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export const UNARY = [
  unaryOp({ name: 'neg', doc: 'negation −x', accepts: 'numeric', fn: (x) => -x }),
  unaryOp({ name: 'exp', doc: 'eˣ', accepts: 'float', fn: Math.exp, flops: 4 }),
  unaryOp({ name: 'log', doc: 'natural logarithm', accepts: 'float', fn: Math.log, flops: 4 }),
  unaryOp({ name: 'log1p', doc: 'log(1 + x), accurate near 0', accepts: 'float', fn: Math.log1p, flops: 4 }),
  unaryOp({ name: 'sqrt', doc: 'square root', accepts: 'float', fn: Math.sqrt, flops: 2 }),
  unaryOp({ name: 'rsqrt', doc: '1 / √x', accepts: 'float', fn: (x) => 1 / Math.sqrt(x), flops: 2 }),
  unaryOp({ name: 'abs', doc: '|x|', accepts: 'numeric', fn: Math.abs }),
  unaryOp({ name: 'sign', doc: 'sign: −1, 0 or +1 (sign(0) = 0)', accepts: 'numeric', fn: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0) }),
  unaryOp({ name: 'tanh', doc: 'hyperbolic tangent', accepts: 'float', fn: Math.tanh, flops: 6 }),
  unaryOp({ name: 'sigmoid', doc: 'logistic σ(x) = 1 / (1 + e⁻ˣ), evaluated without overflow', accepts: 'float', fn: sigmoid, flops: 6 }),
  unaryOp({ name: 'sin', doc: 'sine', accepts: 'float', fn: Math.sin, flops: 4 }),
  unaryOp({ name: 'cos', doc: 'cosine', accepts: 'float', fn: Math.cos, flops: 4 }),
  unaryOp({ name: 'erf', doc: 'error function', accepts: 'float', fn: erf, flops: 12 }),
  unaryOp({ name: 'floor', doc: 'round down', accepts: 'float', fn: Math.floor }),
  unaryOp({ name: 'ceil', doc: 'round up', accepts: 'float', fn: Math.ceil }),
  unaryOp({ name: 'not', doc: 'logical not', accepts: 'bool', fn: (x) => (x ? 0 : 1) }),
];

export const BINARY = [
  binaryOp({ name: 'add', doc: 'a + b', accepts: 'numeric', fn: (a, b) => a + b }),
  binaryOp({ name: 'sub', doc: 'a − b', accepts: 'numeric', fn: (a, b) => a - b }),
  binaryOp({ name: 'mul', doc: 'a × b', accepts: 'numeric', fn: (a, b) => a * b }),
  binaryOp({
    name: 'div',
    doc: 'a / b (integer division truncates toward zero; x / 0 is 0 for i32)',
    accepts: 'numeric',
    fn: (a, b, dt) => (dt === 'i32' ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b),
  }),
  binaryOp({ name: 'pow', doc: 'aᵇ', accepts: 'float', fn: Math.pow, flops: 8 }),
  binaryOp({ name: 'max', doc: 'elementwise maximum', accepts: 'numeric', fn: (a, b) => Math.max(a, b) }),
  binaryOp({ name: 'min', doc: 'elementwise minimum', accepts: 'numeric', fn: (a, b) => Math.min(a, b) }),
  binaryOp({ name: 'eq', doc: 'a == b', accepts: 'any', result: 'bool', fn: (a, b) => (a === b ? 1 : 0) }),
  binaryOp({ name: 'ne', doc: 'a != b', accepts: 'any', result: 'bool', fn: (a, b) => (a !== b ? 1 : 0) }),
  binaryOp({ name: 'lt', doc: 'a < b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a < b ? 1 : 0) }),
  binaryOp({ name: 'le', doc: 'a <= b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a <= b ? 1 : 0) }),
  binaryOp({ name: 'gt', doc: 'a > b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a > b ? 1 : 0) }),
  binaryOp({ name: 'ge', doc: 'a >= b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a >= b ? 1 : 0) }),
  binaryOp({ name: 'and', doc: 'logical and', accepts: 'bool', fn: (a, b) => (a && b ? 1 : 0) }),
  binaryOp({ name: 'or', doc: 'logical or', accepts: 'bool', fn: (a, b) => (a || b ? 1 : 0) }),
];

export const select = defineOp({
  name: 'select',
  kind: 'elementwise',
  doc: 'select(c, a, b): a where c is true, else b',
  arity: 3,
  attrs: {},
  infer([c, a, b]) {
    checkClass('select', c!, 'bool');
    if (a!.dtype !== b!.dtype) opError('DL0303', (w) => `the two branches of \`where\` are ${a!.dtype} and ${b!.dtype}${w}`);
    if (!sameShape(c!.shape, a!.shape) || !sameShape(a!.shape, b!.shape)) {
      opError('DL0302', (w) => `\`where\` needs equal shapes, got ${formatType(c!)}, ${formatType(a!)} and ${formatType(b!)}${w}`);
    }
    return { dtype: a!.dtype, shape: a!.shape };
  },
  evaluate([c, a, b], _x, out) {
    return mapData(out, c!.size, (i) => (c!.data[i] ? a!.data[i]! : b!.data[i]!));
  },
});

export const cast = defineOp<{ dtype: DType }>({
  name: 'cast',
  kind: 'elementwise',
  doc: 'convert to another dtype (float → int truncates; → bool is x ≠ 0)',
  arity: 1,
  attrs: { dtype: 'dtype' },
  infer([x], a) {
    return { dtype: a.dtype, shape: x!.shape };
  },
  evaluate([x], _a, out) {
    return mapData(out, x!.size, (i) => x!.data[i]!);
  },
});
