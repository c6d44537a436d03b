/**
 * @file Reductions over a set of axes. The reduced axes are removed from the shape;
 * `keepdims` is a reshape added by the frontend.
 */
import * as C from '../compose.js';
import type { GraphBuilder } from '../builder.js';
import type { Node } from '../graph.js';
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, defaultCost, opError, type Draw, type OpDef, type VjpRule } from '../op.js';
import { div, mul } from './ad.js';
import type { Expr } from '../../kernel/expr.js';
import type { ExprContext, Template } from '../op.js';
import { binaryScalar } from './elementwise.js';
import { argBeats } from './numeric-rules.js';

/** Output element: a reduction over fresh loop indices standing for the reduced axes. */
function reduceExpr(name: string, axes: (a: any) => number[]) {
  return ({ attrs, idx, read, inputs, out, fresh }: ExprContext): Expr => {
    const ax = axes(attrs);
    const vars = ax.map((a) => ({ v: fresh(), n: inputs[0]!.shape[a]! }));
    let k = 0;
    const inIdx = inputs[0]!.shape.map((_, d) => (ax.includes(d) ? { k: 'idx' as const, v: vars[ax.indexOf(d)]!.v } : idx[k++]!));
    return { k: 'red', op: name, vars, body: read(0, inIdx), t: out.dtype };
  };
}
import { formatType, numel, stridesOf, type TensorType } from '../types.js';

export type ReduceAttrs = { axes: number[] };

function checkAxes(op: string, x: TensorType, axes: readonly number[]): void {
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= x.shape.length || seen.has(a)) {
      opError('DL0307', (w) => `\`${op}\` cannot reduce axis ${a} of ${formatType(x)}${w}`);
    }
    seen.add(a);
  }
}

/** The output shape and, for each input element, the flat output index it reduces into. */
export function reductionMap(shape: readonly number[], axes: readonly number[]): { outShape: number[]; target: Int32Array } {
  const keep = shape.map((_, i) => !axes.includes(i));
  const outShape = shape.filter((_, i) => keep[i]);
  const outStrides = stridesOf(outShape);
  const target = new Int32Array(numel(shape));
  forEachIndex(shape, (f, idx) => {
    let o = 0;
    let k = 0;
    for (let d = 0; d < idx.length; d++) if (keep[d]) o += idx[d]! * outStrides[k++]!;
    target[f] = o;
  });
  return { outShape, target };
}

/** Broadcasts a reduced value back over the reduced axes of `x`. */
export function unreduce(b: GraphBuilder, v: Node, x: Node, axes: readonly number[]): Node {
  const kept = C.reshape(b, v, x.type.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return C.broadcastTo(b, kept, x.type.shape);
}

// d Σx = broadcast of the cotangent.
const sumGrad: VjpRule<ReduceAttrs> = ({ b, node, attrs, g }) => [unreduce(b, g, node.inputs[0]!, attrs.axes)];

// d max: the cotangent goes to the elements equal to the max, split equally among ties.
const extremumGrad: VjpRule<ReduceAttrs> = ({ b, node, attrs, g }) => {
  const x = node.inputs[0]!;
  const hit = C.cast(b, C.binary(b, 'eq', x, unreduce(b, node, x, attrs.axes)), x.type.dtype);
  const count = unreduce(b, b.add('reduce_sum', [hit], { axes: attrs.axes }), x, attrs.axes);
  return [mul(b, hit, div(b, unreduce(b, g, x, attrs.axes), count))];
};

function reduceCase(d: Draw, distinct: boolean) {
  const shape = d.shape(1, 3, 4);
  const axes = shape.map((_, i) => i).filter(() => d.bool());
  return { inputs: [{ dtype: 'f32' as const, shape, domain: distinct ? ('distinct' as const) : ('any' as const) }], attrs: { axes } };
}

/** A reduction combining with the elementwise op `monoid.combine` (its scalar rule: i32 wraps, NaN propagates). */
function reduceOp(name: string, doc: string, accepts: 'numeric', vjp: VjpRule<ReduceAttrs>, monoid: { readonly combine: string; readonly identity: number }): OpDef<ReduceAttrs> {
  const combine = binaryScalar(monoid.combine);
  return defineOp<ReduceAttrs>({
    name,
    kind: 'reduce',
    doc,
    arity: 1,
    attrs: { axes: 'ints' },
    infer([x], a) {
      checkAxes(name, x!, a.axes);
      if (accepts === 'numeric' && x!.dtype === 'bool') {
        opError('DL0303', (w) => `\`${name}\` needs a numeric tensor, got ${formatType(x!)}${w}`, 'convert first with `cast(x, f32)`');
      }
      return { dtype: x!.dtype, shape: x!.shape.filter((_, i) => !a.axes.includes(i)) };
    },
    evaluate([x], a, out) {
      const { target } = reductionMap(x!.shape, a.axes);
      const data = new Float64Array(numel(out.shape)).fill(monoid.identity);
      for (let i = 0; i < x!.size; i++) data[target[i]!] = combine(data[target[i]!]!, x!.data[i]!, out.dtype);
      return new NDArray(out.shape, data);
    },
    cost: (ins, out) => ({ flops: numel(ins[0]!.shape), bytes: defaultCost(ins, out).bytes }),
    vjp,
    monoid,
    expr: reduceExpr(name, (a: ReduceAttrs) => a.axes),
    test: { sample: (d) => reduceCase(d, name !== 'reduce_sum'), order: 2 },
    simplify({ b, inputs: [x], attrs, type }) {
      if (attrs.axes.length === 0) return x;
      // Reducing a broadcast over exactly repeated axes: max/min give the value, sum n·value.
      if (x!.op !== 'broadcast') return undefined;
      const src = x!.inputs[0]!;
      if (!attrs.axes.every((a) => src.type.shape[a] === 1)) return undefined;
      // The source without the reduced axes, broadcast again over the kept ones.
      const kept = src.type.shape.filter((_, i) => !attrs.axes.includes(i));
      const r = C.broadcastTo(b, C.reshape(b, src, kept), type.shape);
      const n = attrs.axes.reduce((p, a) => p * x!.type.shape[a]!, 1);
      return name !== 'reduce_sum' || n === 1 ? r : mul(b, r, n);
    },
  });
}

export const REDUCE = [
  reduceOp('reduce_sum', 'sum over axes (an i32 sum wraps)', 'numeric', sumGrad, { combine: 'add', identity: 0 }),
  reduceOp('reduce_max', 'maximum over axes (NaN if any element is; −∞ for an empty reduction; ties share the gradient)', 'numeric', extremumGrad, { combine: 'max', identity: -Infinity }),
  reduceOp('reduce_min', 'minimum over axes (NaN if any element is; +∞ for an empty reduction; ties share the gradient)', 'numeric', extremumGrad, { combine: 'min', identity: Infinity }),
];

/**
 * "v beats best" per backend, the same rule as `argBeats`: plain `>`/`<` for i32; for f32 a NaN
 * beats any number (JS: v !== v), in WGSL through a prelude helper that tests the bits.
 */
function beatsTemplates(arg: 'max' | 'min'): Readonly<Record<'js' | 'wgsl', Template>> {
  const cmp = arg === 'max' ? '>' : '<';
  return {
    js: ({ args: [v, best], types }) => (types[0] === 'f32' ? `(${v} !== ${v} ? ${best} === ${best} : ${v} ${cmp} ${best})` : `(${v} ${cmp} ${best})`),
    wgsl: ({ args: [v, best], types, helper }) => (types[0] === 'f32' ? `${helper(`dlc_arg${arg}_beats`)}(${v}, ${best})` : `(${v} ${cmp} ${best})`),
  };
}

function argOp(name: string, doc: string, arg: 'max' | 'min'): OpDef<{ axis: number }> {
  return defineOp<{ axis: number }>({
    name,
    kind: 'reduce',
    doc,
    arity: 1,
    attrs: { axis: 'int' },
    infer([x], a) {
      checkAxes(name, x!, [a.axis]);
      if (x!.dtype === 'bool') opError('DL0303', (w) => `\`${name}\` needs a numeric tensor, got ${formatType(x!)}${w}`);
      if (x!.shape[a.axis] === 0) opError('DL0311', (w) => `\`${name}\` over an empty axis${w}`);
      return { dtype: 'i32', shape: x!.shape.filter((_, i) => i !== a.axis) };
    },
    evaluate([x], a, out) {
      const { target } = reductionMap(x!.shape, [a.axis]);
      const n = numel(out.shape);
      const best = new Float64Array(n).fill(NaN);
      const index = new Float64Array(n);
      const inner = stridesOf(x!.shape)[a.axis]!;
      const len = x!.shape[a.axis]!;
      for (let i = 0; i < x!.size; i++) {
        const t = target[i]!;
        const k = Math.floor(i / inner) % len;
        const v = x!.data[i]!;
        if (k === 0 || argBeats(arg, v, best[t]!)) {
          best[t] = v;
          index[t] = k;
        }
      }
      return new NDArray(out.shape, index);
    },
    // The result is an integer index: no gradient flows back.
    vjp: () => [undefined],
    monoid: { arg, beats: beatsTemplates(arg) },
    expr: reduceExpr(name, (a: { axis: number }) => [a.axis]),
    test: {
      sample(d) {
        const shape = d.shape(1, 3, 4);
        return { inputs: [{ dtype: 'f32', shape, domain: 'distinct' }], attrs: { axis: d.int(0, shape.length - 1) } };
      },
      order: 0,
    },
  });
}

export const ARG = [
  argOp('argmax', 'index of the largest element along an axis (first on ties; the first NaN if any)', 'max'),
  argOp('argmin', 'index of the smallest element along an axis (first on ties; the first NaN if any)', 'min'),
];
