/**
 * @file Elementwise primitives: unary math, binary arithmetic and comparisons, select and cast.
 * Inputs of a binary op have equal shapes; broadcasting is made explicit by `broadcast` nodes
 * (see compose.ts), so each op here maps element i of its inputs to element i of its output.
 */
import * as C from '../compose.js';
import type { Node } from '../graph.js';
import { NDArray } from '../ndarray.js';
import { defineOp, defaultCost, opError, type Domain, type Draw, type OpCase, type OpDef } from '../op.js';
import { formatType, sameShape, type DType, type TensorType } from '../types.js';
import type { GraphBuilder } from '../builder.js';
import { add, div, mask, mul, neg, sq, sub, un } from './ad.js';
import { isSplat, splatValue } from '../const-value.js';
import type { EmitContext, ExprContext, SimplifyContext, Template } from '../op.js';
import { op as opExpr } from '../../kernel/expr.js';
import { erf } from './special.js';
import { f32ToI32, signOf } from './numeric-rules.js';

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

/**
 * Rounds a float64 result to what the output dtype can hold: an integer result wraps like two's
 * complement (mod 2³²); a float converted to i32 goes through `f32ToI32` (it saturates) instead.
 */
export function toDType(v: number, dtype: DType): number {
  if (dtype === 'i32') return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
  // NaN is true, as in NumPy and the backends' x != 0.
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return v;
}

function mapData(out: TensorType, n: number, f: (i: number) => number): NDArray {
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = toDType(f(i), out.dtype);
  return new NDArray(out.shape, data);
}

/** d/dx of a unary op as IR: gets the input x, the output y and the output cotangent g. */
type UnaryGrad = (b: GraphBuilder, x: Node, y: Node, g: Node) => Node;

/** A JS and a WGSL template. */
type Emit = { js: Template; wgsl: Template };

const call = (js: string, wgsl: string): Emit => ({ js: (c) => `${js}(${c.args.join(', ')})`, wgsl: (c) => `${wgsl}(${c.args.join(', ')})` });
const helper = (name: string): Emit => ({ js: (c) => `${c.helper(name)}(${c.args.join(', ')})`, wgsl: (c) => `${c.helper(name)}(${c.args.join(', ')})` });
const infix = (js: string, wgsl = js): Emit => ({ js: (c) => `(${c.args[0]} ${js} ${c.args[1]})`, wgsl: (c) => `(${c.args[0]} ${wgsl} ${c.args[1]})` });
/**
 * i32 arithmetic wraps (two's complement). WGSL's does; JavaScript computes in float64, so an
 * i32 result is brought back to 32 bits right away (`| 0`), before anything else reads it.
 */
const wrapJs = (c: EmitContext, code: string) => (c.out === 'i32' ? `(${code} | 0)` : code);
/** −x in source: a space before an operand that starts with a minus (a negative literal), or `--` would be a decrement. */
const negated = (x: string) => (x.startsWith('-') ? `- ${x}` : `-${x}`);
const wrappingInfix = (sym: string): Emit => ({ js: (c) => wrapJs(c, `(${c.args[0]} ${sym} ${c.args[1]})`), wgsl: (c) => `(${c.args[0]} ${sym} ${c.args[1]})` });
/**
 * max/min propagate NaN and take +0 over −0 for max (−0 for min), as Math.max/min do. WGSL's
 * builtins leave NaN to the implementation, so f32 goes through prelude helpers; i32 is exact.
 */
const extremum = (name: 'max' | 'min'): Emit => ({
  js: (c) => `Math.${name}(${c.args.join(', ')})`,
  wgsl: (c) => `${c.out === 'f32' ? c.helper(`dlc_${name}`) : name}(${c.args.join(', ')})`,
});

/** Every elementwise op computes its element from its inputs' elements at the same index. */
function sameIndexExpr(name: string) {
  return ({ idx, read, inputs, out }: ExprContext) => opExpr(name, inputs.map((_, i) => read(i, idx)), out.dtype);
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
  /** The gradient rule; null when the op is not differentiable. */
  grad: UnaryGrad | null;
  /** Where test inputs come from (default: any real number). */
  domain?: Domain;
  emit: Emit;
}

function elementwiseCase(d: Draw, dtype: DType, arity: number, domain: Domain = 'any'): OpCase {
  const shape = d.shape(0, 3, 4);
  return { inputs: Array.from({ length: arity }, () => ({ dtype, shape, domain })), attrs: {} };
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
    vjp: s.grad ? ({ b, node, g }) => [s.grad!(b, node.inputs[0]!, node, g)] : null,
    expr: sameIndexExpr(s.name),
    emit: s.emit,
    test: {
      sample: (d) => elementwiseCase(d, CLASS_MEMBERS[s.accepts][0]!, 1, s.domain),
      order: s.grad ? 2 : 0,
    },
  });
}

export interface BinarySpec {
  name: string;
  doc: string;
  accepts: DTypeClass;
  result?: DType;
  fn: (a: number, b: number, dtype: DType) => number;
  flops?: number;
  /** Cotangents of (a, b) given the output y and its cotangent g; absent for bool results. */
  grad?: (b: GraphBuilder, x: Node, y: Node, out: Node, g: Node) => [Node | undefined, Node | undefined];
  domain?: [Domain, Domain];
  simplify?: (ctx: SimplifyContext) => Node | undefined;
  emit: Emit;
}

/** The scalar function of each binary op (reductions combine with it). */
const SCALAR_BINARY = new Map<string, BinarySpec['fn']>();

/** `name`'s scalar function with its result rounded to the dtype (i32 wraps). */
export function binaryScalar(name: string): (a: number, b: number, dtype: DType) => number {
  const fn = SCALAR_BINARY.get(name);
  if (!fn) throw new Error(`internal: ${name} is not a binary elementwise op`);
  return (a, b, dtype) => toDType(fn(a, b, dtype), dtype);
}

export function binaryOp(s: BinarySpec): OpDef {
  SCALAR_BINARY.set(s.name, s.fn);
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
    ...(s.simplify ? { simplify: s.simplify } : {}),
    expr: sameIndexExpr(s.name),
    emit: s.emit,
    // Comparisons and logic produce bool: no gradient flows back through them.
    vjp: s.grad ? ({ b, node, g }) => s.grad!(b, node.inputs[0]!, node.inputs[1]!, node, g) : () => [],
    test: {
      sample(d) {
        const dt = s.accepts === 'bool' ? 'bool' : s.accepts === 'any' ? d.pick(['f32', 'i32', 'bool'] as DType[]) : 'f32';
        const c = elementwiseCase(d, dt, 2);
        const dom = s.domain ?? [dt === 'bool' ? 'bool' : 'any', dt === 'bool' ? 'bool' : 'any'];
        return { attrs: {}, inputs: c.inputs.map((t, i) => ({ ...t, domain: dom[i]! })) };
      },
      order: s.grad ? 2 : 0,
    },
  });
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const SQRT_PI_2 = 1.1283791670955126; // 2/√π

export const UNARY = [
  { ...unaryOp({ name: 'neg', emit: { js: (c) => wrapJs(c, `(${negated(c.args[0]!)})`), wgsl: (c) => `(${negated(c.args[0]!)})` }, doc: 'negation −x', accepts: 'numeric', fn: (x) => -x, grad: (b, _x, _y, g) => neg(b, g) }), simplify: ({ inputs: [x] }: SimplifyContext) => (x!.op === 'neg' ? x!.inputs[0] : undefined) },
  // d eˣ = eˣ
  unaryOp({ name: 'exp', emit: call('Math.exp', 'exp'), doc: 'eˣ', accepts: 'float', fn: Math.exp, flops: 4, grad: (b, _x, y, g) => mul(b, g, y) }),
  // d log x = 1/x
  unaryOp({ name: 'log', emit: { js: (c) => `Math.log(${c.args[0]})`, wgsl: (c) => `${c.helper('dlc_log')}(${c.args[0]})` }, doc: 'natural logarithm', accepts: 'float', fn: Math.log, flops: 4, grad: (b, x, _y, g) => div(b, g, x), domain: 'positive' }),
  // d log(1+x) = 1/(1+x)
  unaryOp({ name: 'log1p', emit: { js: (c) => `Math.log1p(${c.args[0]})`, wgsl: (c) => `${c.helper('dlc_log1p')}(${c.args[0]})` }, doc: 'log(1 + x), accurate near 0', accepts: 'float', fn: Math.log1p, flops: 4, grad: (b, x, _y, g) => div(b, g, add(b, x, 1)), domain: 'positive' }),
  // d √x = 1/(2√x)
  unaryOp({ name: 'sqrt', emit: { js: (c) => `Math.sqrt(${c.args[0]})`, wgsl: (c) => `${c.helper('dlc_sqrt')}(${c.args[0]})` }, doc: 'square root', accepts: 'float', fn: Math.sqrt, flops: 2, grad: (b, _x, y, g) => div(b, mul(b, g, 0.5), y), domain: 'positive' }),
  // d x^{-1/2} = −½ x^{-3/2} = −½ y³
  unaryOp({ name: 'rsqrt', emit: { js: (c) => `(1 / Math.sqrt(${c.args[0]}))`, wgsl: (c) => `inverseSqrt(${c.args[0]})` }, doc: '1 / √x', accepts: 'float', fn: (x) => 1 / Math.sqrt(x), flops: 2, grad: (b, _x, y, g) => mul(b, g, mul(b, -0.5, mul(b, y, sq(b, y)))), domain: 'positive' }),
  // d|x| = sign(x), taken as 0 at 0
  unaryOp({
    name: 'abs', emit: { js: (c) => wrapJs(c, `Math.abs(${c.args[0]})`), wgsl: (c) => `abs(${c.args[0]})` },
    doc: '|x| (its derivative at 0 is taken to be 0; abs of the most negative i32 wraps to itself)',
    accepts: 'numeric',
    fn: Math.abs,
    grad: (b, x, _y, g) => add(b, mask(b, C.binary(b, 'gt', x, C.fullLike(b, 0, x)), g), mask(b, C.binary(b, 'lt', x, C.fullLike(b, 0, x)), neg(b, g))),
    domain: 'nonzero',
  }),
  unaryOp({ name: 'sign', emit: { js: (c) => `${c.helper('dlc_sign')}(${c.args[0]})`, wgsl: (c) => `${c.out === 'f32' ? c.helper('dlc_sign') : 'sign'}(${c.args[0]})` }, doc: 'the sign, −1, 0 or +1 (sign(0) = 0); not differentiable', accepts: 'numeric', fn: signOf, grad: null }),
  // d tanh = 1 − tanh²
  unaryOp({ name: 'tanh', emit: { js: (c) => `Math.tanh(${c.args[0]})`, wgsl: (c) => `${c.helper('dlc_tanh')}(${c.args[0]})` }, doc: 'hyperbolic tangent', accepts: 'float', fn: Math.tanh, flops: 6, grad: (b, _x, y, g) => mul(b, g, sub(b, 1, sq(b, y))) }),
  // dσ = σ(1 − σ)
  unaryOp({ name: 'sigmoid', emit: helper('dlc_sigmoid'), doc: 'logistic σ(x) = 1 / (1 + e⁻ˣ), evaluated without overflow', accepts: 'float', fn: sigmoid, flops: 6, grad: (b, _x, y, g) => mul(b, g, mul(b, y, sub(b, 1, y))) }),
  unaryOp({ name: 'sin', emit: call('Math.sin', 'sin'), doc: 'sine', accepts: 'float', fn: Math.sin, flops: 4, grad: (b, x, _y, g) => mul(b, g, un(b, 'cos', x)) }),
  unaryOp({ name: 'cos', emit: call('Math.cos', 'cos'), doc: 'cosine', accepts: 'float', fn: Math.cos, flops: 4, grad: (b, x, _y, g) => neg(b, mul(b, g, un(b, 'sin', x))) }),
  // d erf = 2/√π e^{−x²}
  unaryOp({ name: 'erf', emit: helper('dlc_erf'), doc: 'error function', accepts: 'float', fn: erf, flops: 12, grad: (b, x, _y, g) => mul(b, g, mul(b, SQRT_PI_2, un(b, 'exp', neg(b, sq(b, x))))) }),
  unaryOp({ name: 'floor', emit: call('Math.floor', 'floor'), doc: 'round down; not differentiable', accepts: 'float', fn: Math.floor, grad: null }),
  unaryOp({ name: 'ceil', emit: call('Math.ceil', 'ceil'), doc: 'round up; not differentiable', accepts: 'float', fn: Math.ceil, grad: null }),
  unaryOp({ name: 'not', emit: { js: (c) => `(!${c.args[0]})`, wgsl: (c) => `(!${c.args[0]})` }, doc: 'logical not', accepts: 'bool', fn: (x) => (x ? 0 : 1), grad: null }),
];

/** x ⊕ e → x for the identity element e (on the right only when `rightOnly`). */
function identityOperand(e: number, rightOnly = false) {
  return ({ inputs: [x, y] }: SimplifyContext): Node | undefined => {
    if (isSplat(y!, e)) return x;
    if (!rightOnly && isSplat(x!, e)) return y;
    return undefined;
  };
}

/**
 * Weight of the first operand in d max(a, b): 1 where a wins, ½ on ties, 0 where b wins. A NaN
 * wins (it is the value returned), so its gradient goes to it: a NaN a is a != a.
 */
function winShare(b: GraphBuilder, x: Node, y: Node, wins: 'gt' | 'lt'): Node {
  const w = C.select(b, C.binary(b, 'eq', x, y), C.fullLike(b, 0.5, x), C.fullLike(b, 0, x));
  const beats = C.binary(b, wins, x, y);
  const aWins = x.type.dtype === 'f32' ? b.add('or', [beats, C.binary(b, 'ne', x, x)]) : beats;
  return C.select(b, aWins, C.fullLike(b, 1, x), w);
}

export const BINARY = [
  binaryOp({ name: 'add', emit: wrappingInfix('+'), doc: 'a + b', accepts: 'numeric', fn: (a, b) => a + b, grad: (_b, _x, _y, _o, g) => [g, g], simplify: identityOperand(0) }),
  binaryOp({ name: 'sub', emit: wrappingInfix('-'), doc: 'a − b', accepts: 'numeric', fn: (a, b) => a - b, grad: (b, _x, _y, _o, g) => [g, neg(b, g)], simplify: identityOperand(0, true) }),
  binaryOp({
    name: 'mul',
    emit: { js: (c) => (c.out === 'i32' ? `Math.imul(${c.args[0]}, ${c.args[1]})` : `(${c.args[0]} * ${c.args[1]})`), wgsl: (c) => `(${c.args[0]} * ${c.args[1]})` },
    doc: 'a × b',
    accepts: 'numeric',
    // float64 would round an i32 product above 2⁵³ before it wraps.
    fn: (a, b, dt) => (dt === 'i32' ? Math.imul(a, b) : a * b), grad: (b, x, y, _o, g) => [mul(b, g, y), mul(b, g, x)], simplify: identityOperand(1) }),
  binaryOp({
    name: 'div',
    emit: {
      js: (c) => (c.out === 'i32' ? `${c.helper('dlc_idiv')}(${c.args[0]}, ${c.args[1]})` : `(${c.args[0]} / ${c.args[1]})`),
      wgsl: (c) => (c.out === 'i32' ? `${c.helper('dlc_idiv')}(${c.args[0]}, ${c.args[1]})` : `(${c.args[0]} / ${c.args[1]})`),
    },
    doc: 'a / b (integer division truncates toward zero; for i32, x / 0 is 0 and −2³¹ / −1 wraps to −2³¹)',
    accepts: 'numeric',
    fn: (a, b, dt) => (dt === 'i32' ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b),
    simplify: identityOperand(1, true),
    // d(a/b) = da/b − (a/b)·db/b
    grad: (b, _x, y, o, g) => {
      const gy = div(b, g, y);
      return [gy, neg(b, mul(b, gy, o))];
    },
    domain: ['any', 'nonzero'],
  }),
  binaryOp({
    name: 'pow', emit: call('Math.pow', 'pow'),
    doc: 'aᵇ',
    accepts: 'float',
    fn: Math.pow,
    flops: 8,
    // d aᵇ = b·a^{b−1} da + aᵇ·log(a) db
    grad: (b, x, y, o, g) => [mul(b, g, mul(b, y, C.binary(b, 'pow', x, sub(b, y, 1)))), mul(b, g, mul(b, o, un(b, 'log', x)))],
    domain: ['positive', 'any'],
  }),
  binaryOp({
    name: 'max', emit: extremum('max'),
    doc: 'elementwise maximum (NaN if either is NaN; on ties the gradient is split equally)',
    accepts: 'numeric',
    fn: (a, b) => Math.max(a, b),
    grad: (b, x, y, _o, g) => {
      const w = winShare(b, x, y, 'gt');
      return [mul(b, g, w), mul(b, g, sub(b, 1, w))];
    },
    domain: ['distinct', 'distinct'],
  }),
  binaryOp({
    name: 'min', emit: extremum('min'),
    doc: 'elementwise minimum (NaN if either is NaN; on ties the gradient is split equally)',
    accepts: 'numeric',
    fn: (a, b) => Math.min(a, b),
    grad: (b, x, y, _o, g) => {
      const w = winShare(b, x, y, 'lt');
      return [mul(b, g, w), mul(b, g, sub(b, 1, w))];
    },
    domain: ['distinct', 'distinct'],
  }),
  binaryOp({ name: 'eq', emit: infix('===', '=='), doc: 'a == b', accepts: 'any', result: 'bool', fn: (a, b) => (a === b ? 1 : 0) }),
  // NaN != x is true. WGSL's f32 != may be an ordered compare (false for NaN): spell it !(a == b).
  binaryOp({ name: 'ne', emit: { js: (c) => `(${c.args[0]} !== ${c.args[1]})`, wgsl: (c) => (c.types[0] === 'f32' ? `(!(${c.args[0]} == ${c.args[1]}))` : `(${c.args[0]} != ${c.args[1]})`) }, doc: 'a != b (true when either is NaN)', accepts: 'any', result: 'bool', fn: (a, b) => (a !== b ? 1 : 0) }),
  binaryOp({ name: 'lt', emit: infix('<'), doc: 'a < b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a < b ? 1 : 0) }),
  binaryOp({ name: 'le', emit: infix('<='), doc: 'a <= b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a <= b ? 1 : 0) }),
  binaryOp({ name: 'gt', emit: infix('>'), doc: 'a > b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a > b ? 1 : 0) }),
  binaryOp({ name: 'ge', emit: infix('>='), doc: 'a >= b', accepts: 'numeric', result: 'bool', fn: (a, b) => (a >= b ? 1 : 0) }),
  binaryOp({ name: 'and', emit: infix('&&'), doc: 'logical and', accepts: 'bool', fn: (a, b) => (a && b ? 1 : 0) }),
  binaryOp({ name: 'or', emit: infix('||'), doc: 'logical or', accepts: 'bool', fn: (a, b) => (a || b ? 1 : 0) }),
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
  expr: sameIndexExpr('select'),
  emit: { js: (c) => `(${c.args[0]} ? ${c.args[1]} : ${c.args[2]})`, wgsl: (c) => `select(${c.args[2]}, ${c.args[1]}, ${c.args[0]})` },
  simplify({ inputs: [c, x, y] }) {
    if (x === y) return x;
    const v = splatValue(c!);
    return v === undefined ? undefined : v ? x : y;
  },
  // The gradient goes to the branch that was chosen (no `not` for the second: select(c, 0, g)).
  vjp: ({ b, node, g }) => {
    const c = node.inputs[0]!;
    return [undefined, mask(b, c, g), C.select(b, c, C.fullLike(b, 0, g), g)];
  },
  test: {
    sample(d) {
      const shape = d.shape(0, 3, 4);
      return { attrs: {}, inputs: [{ dtype: 'bool', shape, domain: 'bool' }, { dtype: 'f32', shape }, { dtype: 'f32', shape }] };
    },
    order: 2,
  },
});

export const cast = defineOp<{ dtype: DType }>({
  name: 'cast',
  kind: 'elementwise',
  doc: 'convert to another dtype (f32 → i32 truncates toward zero and saturates, NaN → 0; → bool is x ≠ 0)',
  arity: 1,
  attrs: { dtype: 'dtype' },
  infer([x], a) {
    return { dtype: a.dtype, shape: x!.shape };
  },
  evaluate([x], _a, out) {
    return mapData(out, x!.size, (i) => (out.dtype === 'i32' ? f32ToI32(x!.data[i]!) : x!.data[i]!));
  },
  simplify: ({ inputs: [x], attrs }) => (x!.type.dtype === attrs.dtype ? x : undefined),
  expr: sameIndexExpr('cast'),
  emit: { js: castJs, wgsl: castWgsl },
  // Only float → float casts carry a gradient (the identity).
  vjp: ({ node, g }) => [node.inputs[0]!.type.dtype === 'f32' && node.type.dtype === 'f32' ? g : undefined],
  test: {
    sample: (d) => ({ inputs: [{ dtype: 'f32', shape: d.shape(0, 3, 4) }], attrs: { dtype: d.pick(['f32', 'i32', 'bool'] as DType[]) } }),
    order: 2,
  },
});

function castJs(c: EmitContext): string {
  const [a] = c.args;
  const from = c.types[0];
  if (from === c.out) return a!;
  if (c.out === 'bool') return `(${a} !== 0)`;
  if (from === 'bool') return `(${a} ? 1 : 0)`;
  return c.out === 'i32' ? `${c.helper('dlc_f2i')}(${a})` : a!;
}

function castWgsl(c: EmitContext): string {
  const [a] = c.args;
  const from = c.types[0];
  if (from === c.out) return a!;
  // NaN is true: !(x == 0.0), as != may be an ordered compare (see `ne`).
  if (c.out === 'bool') return from === 'f32' ? `(!(${a} == 0.0))` : `(${a} != 0)`;
  if (from === 'bool') return c.out === 'f32' ? `select(0.0, 1.0, ${a})` : `select(0, 1, ${a})`;
  return c.out === 'i32' ? `${c.helper('dlc_f2i')}(${a})` : `${c.out}(${a})`;
}

/** Identity whose gradient is zero: the value is treated as a constant by differentiation. */
export const stopGradient = defineOp({
  name: 'stop_gradient',
  kind: 'elementwise',
  doc: 'identity that blocks differentiation (the value is treated as a constant)',
  arity: 1,
  attrs: {},
  infer: ([x]) => x!,
  evaluate: ([x]) => x!,
  cost: () => ({ flops: 0, bytes: 0 }),
  vjp: () => [undefined],
  expr: ({ idx, read }) => read(0, idx),
  emit: { js: (c) => c.args[0]!, wgsl: (c) => c.args[0]! },
  test: { sample: (d) => elementwiseCase(d, 'f32', 1), order: 0 },
});
