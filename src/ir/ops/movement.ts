/**
 * @file Movement primitives: they only rearrange elements. Each is written as an index map
 * (output multi-index → input multi-index, or none for padding), the form codegen turns into
 * address arithmetic instead of a copy.
 */
import type { GraphBuilder } from '../builder.js';
import type { Node } from '../graph.js';
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, opError, type Draw, type OpDef } from '../op.js';
import { sliceThroughDot } from './contraction.js';
import { add, flatIndex, ix, lit, mul, op, type Expr } from '../../kernel/expr.js';

/** An index clamped into [0, n): reads under a guard stay in bounds even when discarded. */
export function clampIndex(i: Expr, n: number): Expr {
  return ix('min', ix('max', i, lit(0)), lit(n - 1));
}

/** All of the conditions (bool expressions). */
function allOf(conds: readonly Expr[]): Expr {
  return conds.reduce((a, c) => ix('&&', a, c), lit(1, 'bool'));
}
import { formatShape, formatType, numel, sameShape, type TensorType } from '../types.js';

/** Evaluates a movement op from its index map: `src` writes the input index or returns false. */
function gatherBy(x: NDArray, out: TensorType, src: (o: readonly number[], i: number[]) => boolean, fill = 0): NDArray {
  const data = new Float64Array(numel(out.shape));
  const xs = x.strides;
  const i = new Array<number>(x.rank).fill(0);
  forEachIndex(out.shape, (f, o) => {
    if (!src(o, i)) {
      data[f] = fill;
      return;
    }
    let off = 0;
    for (let d = 0; d < i.length; d++) off += i[d]! * xs[d]!;
    data[f] = x.data[off]!;
  });
  return new NDArray(out.shape, data);
}

/** A random permutation of 0..n-1. */
export function drawPerm(d: Draw, n: number): number[] {
  const rest = [...Array(n).keys()];
  const out: number[] = [];
  while (rest.length) out.push(rest.splice(d.int(0, rest.length - 1), 1)[0]!);
  return out;
}

const f32 = 'f32' as const;

/**
 * Places g (the result of slicing with start/step) back into zeros of `shape`: the gradient of
 * `slice`. Strided axes are dilated by interleaving zeros (reshape + pad), then padded into place.
 */
export function unslice(b: GraphBuilder, g: Node, shape: readonly number[], start: readonly number[], step: readonly number[]): Node {
  let y = g;
  for (let ax = 0; ax < shape.length; ax++) {
    const s = step[ax]!;
    const n = y.type.shape[ax]!;
    if (s === 1 || n === 0) continue;
    const sh = y.type.shape;
    const lifted = b.add('reshape', [y], { shape: [...sh.slice(0, ax + 1), 1, ...sh.slice(ax + 1)] });
    const lo = lifted.type.shape.map(() => 0);
    const hi = lifted.type.shape.map((_, i) => (i === ax + 1 ? s - 1 : 0));
    const spread = b.add('pad', [lifted], { lo, hi, value: 0 });
    const merged = b.add('reshape', [spread], { shape: sh.map((d, i) => (i === ax ? d * s : d)) });
    const len = (n - 1) * s + 1;
    const mshape = merged.type.shape;
    y = b.add('slice', [merged], { start: mshape.map(() => 0), stop: mshape.map((d, i) => (i === ax ? len : d)), step: mshape.map(() => 1) });
  }
  const lo = [...start];
  const hi = shape.map((d, i) => d - start[i]! - y.type.shape[i]!);
  return lo.every((v) => v === 0) && hi.every((v) => v === 0) ? y : b.add('pad', [y], { lo, hi, value: 0 });
}

const moveCost = (ins: readonly TensorType[], out: TensorType) => ({ flops: 0, bytes: numel(out.shape) * 8 });

export const reshape = defineOp<{ shape: number[] }>({
  name: 'reshape',
  strided: true,
  kind: 'movement',
  doc: 'same elements in row-major order, new shape',
  arity: 1,
  attrs: { shape: 'ints' },
  infer([x], a) {
    if (a.shape.some((d) => !Number.isInteger(d) || d < 0) || numel(a.shape) !== numel(x!.shape)) {
      opError('DL0308', (w) => `cannot reshape ${formatType(x!)} (${numel(x!.shape)} elements) to ${formatShape(a.shape)} (${numel(a.shape)} elements)${w}`);
    }
    return { dtype: x!.dtype, shape: [...a.shape] };
  },
  evaluate([x], _a, out) {
    return new NDArray(out.shape, x!.data);
  },
  cost: () => ({ flops: 0, bytes: 0 }),
  simplify({ b, inputs: [x], attrs }) {
    if (sameShape(x!.type.shape, attrs.shape)) return x;
    if (x!.op === 'reshape') return b.add('reshape', [x!.inputs[0]!], { shape: [...attrs.shape] });
    return undefined;
  },
  vjp: ({ b, node, g }) => [b.add('reshape', [g], { shape: [...node.inputs[0]!.type.shape] })],
  expr: ({ idx, readFlat, out }) => readFlat(0, flatIndex(idx, out.shape)),
  test: {
    sample(d) {
      const shape = d.shape(0, 3, 4);
      return { inputs: [{ dtype: f32, shape }], attrs: { shape: d.bool() ? [...shape].reverse() : [shape.reduce((p, q) => p * q, 1)] } };
    },
    order: 2,
  },
});

export const permute = defineOp<{ perm: number[] }>({
  name: 'permute',
  strided: true,
  kind: 'movement',
  doc: 'reorder axes: output axis i is input axis perm[i]',
  arity: 1,
  attrs: { perm: 'ints' },
  infer([x], a) {
    const r = x!.shape.length;
    const ok = a.perm.length === r && [...a.perm].sort((p, q) => p - q).every((p, i) => p === i);
    if (!ok) opError('DL0307', (w) => `[${a.perm.join(', ')}] is not a permutation of the ${r} axes of ${formatType(x!)}${w}`);
    return { dtype: x!.dtype, shape: a.perm.map((p) => x!.shape[p]!) };
  },
  evaluate([x], a, out) {
    return gatherBy(x!, out, (o, i) => {
      for (let d = 0; d < o.length; d++) i[a.perm[d]!] = o[d]!;
      return true;
    });
  },
  cost: moveCost,
  simplify({ b, inputs: [x], attrs }) {
    if (attrs.perm.every((p, i) => p === i)) return x;
    if (x!.op === 'permute') {
      const inner = x!.attrs['perm'] as number[];
      return b.add('permute', [x!.inputs[0]!], { perm: attrs.perm.map((p) => inner[p]!) });
    }
    return undefined;
  },
  expr({ idx, read, attrs }) {
    const inIdx = new Array<Expr>(idx.length);
    attrs.perm.forEach((p, d) => (inIdx[p] = idx[d]!));
    return read(0, inIdx);
  },
  vjp: ({ b, attrs, g }) => {
    const inv = new Array<number>(attrs.perm.length);
    attrs.perm.forEach((p, i) => (inv[p] = i));
    return [b.add('permute', [g], { perm: inv })];
  },
  test: {
    sample(d) {
      const shape = d.shape(1, 4, 3);
      return { inputs: [{ dtype: f32, shape }], attrs: { perm: drawPerm(d, shape.length) } };
    },
    order: 2,
  },
});

export const broadcast = defineOp<{ shape: number[] }>({
  name: 'broadcast',
  strided: true,
  kind: 'movement',
  doc: 'repeat size-1 axes to a larger shape of the same rank',
  arity: 1,
  attrs: { shape: 'ints' },
  infer([x], a) {
    const ok = a.shape.length === x!.shape.length && x!.shape.every((d, i) => d === a.shape[i] || d === 1);
    if (!ok) opError('DL0302', (w) => `cannot broadcast ${formatType(x!)} to ${formatShape(a.shape)}${w}`);
    return { dtype: x!.dtype, shape: [...a.shape] };
  },
  evaluate([x], _a, out) {
    return gatherBy(x!, out, (o, i) => {
      for (let d = 0; d < o.length; d++) i[d] = x!.shape[d] === 1 ? 0 : o[d]!;
      return true;
    });
  },
  cost: moveCost,
  simplify({ b, inputs: [x], attrs }) {
    if (sameShape(x!.type.shape, attrs.shape)) return x;
    if (x!.op === 'broadcast') return b.add('broadcast', [x!.inputs[0]!], { shape: [...attrs.shape] });
    return undefined;
  },
  expr: ({ idx, read, inputs }) => read(0, inputs[0]!.shape.map((d, i) => (d === 1 ? lit(0) : idx[i]!))),
  // Broadcasting is undone here, in one place: sum over the axes that were repeated.
  vjp: ({ b, node, g }) => {
    const x = node.inputs[0]!;
    const axes = x.type.shape.flatMap((d, i) => (d === 1 && node.type.shape[i] !== 1 ? [i] : []));
    const summed = axes.length ? b.add('reduce_sum', [g], { axes }) : g;
    return [b.add('reshape', [summed], { shape: [...x.type.shape] })];
  },
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 4);
      const xs = shape.map((n) => (d.bool() ? 1 : n));
      return { inputs: [{ dtype: f32, shape: xs }], attrs: { shape } };
    },
    order: 2,
  },
});

export const slice = defineOp<{ start: number[]; stop: number[]; step: number[] }>({
  name: 'slice',
  strided: true,
  kind: 'movement',
  doc: 'x[start:stop:step] on every axis (step ≥ 1)',
  arity: 1,
  attrs: { start: 'ints', stop: 'ints', step: 'ints' },
  infer([x], a) {
    const r = x!.shape.length;
    if (a.start.length !== r || a.stop.length !== r || a.step.length !== r) {
      opError('DL0309', (w) => `slice of ${formatType(x!)} needs ${r} ranges${w}`);
    }
    const shape = x!.shape.map((dim, d) => {
      const s = a.start[d]!;
      const e = a.stop[d]!;
      const st = a.step[d]!;
      if (!(st >= 1 && s >= 0 && s <= e && e <= dim)) {
        opError('DL0309', (w) => `slice ${s}:${e}:${st} is out of range for axis ${d} of size ${dim}${w}`);
      }
      return Math.ceil((e - s) / st);
    });
    return { dtype: x!.dtype, shape };
  },
  evaluate([x], a, out) {
    return gatherBy(x!, out, (o, i) => {
      for (let d = 0; d < o.length; d++) i[d] = a.start[d]! + o[d]! * a.step[d]!;
      return true;
    });
  },
  cost: moveCost,
  simplify({ b, inputs: [x], attrs, soleReader }) {
    if (attrs.start.every((v, i) => v === 0 && attrs.stop[i] === x!.type.shape[i] && attrs.step[i] === 1)) return x;
    if (x!.op === 'pad') return sliceOfPad(b, x!, attrs.start, attrs.stop, attrs.step);
    if (x!.op === 'concat') {
      const part = sliceOfConcat(b, x!, attrs.start, attrs.stop, attrs.step);
      if (part) return part;
    }
    // The part of a product that is read, when nothing else reads the product (a loop's
    // gradient of h from the gradient of [x, h]).
    return soleReader?.(0) ? sliceThroughDot(b, x!, attrs.start, attrs.stop, attrs.step) : undefined;
  },
  vjp: ({ b, node, attrs, g }) => [unslice(b, g, node.inputs[0]!.type.shape, attrs.start, attrs.step)],
  expr: ({ idx, read, attrs }) => read(0, idx.map((i, d) => add(lit(attrs.start[d]!), mul(i, lit(attrs.step[d]!))))),
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 5);
      const start = shape.map((n) => d.int(0, n - 1));
      const stop = shape.map((n, i) => d.int(start[i]! + 1, n));
      const step = shape.map(() => d.int(1, 3));
      return { inputs: [{ dtype: f32, shape }], attrs: { start, stop, step } };
    },
    order: 2,
  },
});

/**
 * A slice of a pad that reads only the padded value (a splat) or only the padded tensor (a slice
 * of it): the cotangents of a loop's final carries, sliced from the padded cotangent of its packed
 * value, become the constants they are. Undefined when the slice reads both.
 */
function sliceOfPad(b: GraphBuilder, p: Node, start: readonly number[], stop: readonly number[], step: readonly number[]): Node | undefined {
  const x = p.inputs[0]!;
  const lo = p.attrs['lo'] as number[];
  const last = start.map((s, d) => s + Math.max(0, Math.ceil((stop[d]! - s) / step[d]!) - 1) * step[d]!);
  const shape = start.map((s, d) => Math.ceil((stop[d]! - s) / step[d]!));
  const outside = start.some((s, d) => last[d]! < lo[d]! || s >= lo[d]! + x.type.shape[d]!);
  if (outside || shape.some((n) => n === 0)) {
    const c = b.add('constant', [], { dtype: p.type.dtype, shape: [], value: p.attrs['value'] as number });
    if (shape.length === 0) return c;
    return b.add('broadcast', [b.add('reshape', [c], { shape: shape.map(() => 1) })], { shape });
  }
  const inside = start.every((s, d) => s >= lo[d]! && last[d]! < lo[d]! + x.type.shape[d]!);
  if (!inside) return undefined;
  return b.add('slice', [x], { start: start.map((s, d) => s - lo[d]!), stop: start.map((s, d) => last[d]! - lo[d]! + 1), step: [...step] });
}

/**
 * A slice of a concat that reads one of its parts only: a slice of that part (the real part of a
 * complex (re, im) stack is `re`, src/stdlib/complex.dl). Undefined when it reads two parts.
 */
function sliceOfConcat(b: GraphBuilder, c: Node, start: readonly number[], stop: readonly number[], step: readonly number[]): Node | undefined {
  const axis = c.attrs['axis'] as number;
  const first = start[axis]!;
  const last = first + Math.max(0, Math.ceil((stop[axis]! - first) / step[axis]!) - 1) * step[axis]!;
  let at = 0;
  for (const part of c.inputs) {
    const n = part.type.shape[axis]!;
    if (first >= at && last < at + n) {
      const moved = (v: readonly number[], to: number) => v.map((x, d) => (d === axis ? to : x));
      return b.add('slice', [part], { start: moved(start, first - at), stop: moved(stop, last - at + 1), step: [...step] });
    }
    at += n;
  }
  return undefined;
}

export const pad = defineOp<{ lo: number[]; hi: number[]; value: number }>({
  name: 'pad',
  kind: 'movement',
  doc: 'add lo[d] and hi[d] elements of `value` before and after each axis',
  arity: 1,
  attrs: { lo: 'ints', hi: 'ints', value: 'float' },
  infer([x], a) {
    const r = x!.shape.length;
    if (a.lo.length !== r || a.hi.length !== r || [...a.lo, ...a.hi].some((p) => !Number.isInteger(p) || p < 0)) {
      opError('DL0311', (w) => `padding of ${formatType(x!)} needs ${r} non-negative (before, after) pairs${w}`);
    }
    return { dtype: x!.dtype, shape: x!.shape.map((d, i) => d + a.lo[i]! + a.hi[i]!) };
  },
  evaluate([x], a, out) {
    return gatherBy(
      x!,
      out,
      (o, i) => {
        for (let d = 0; d < o.length; d++) {
          const v = o[d]! - a.lo[d]!;
          if (v < 0 || v >= x!.shape[d]!) return false;
          i[d] = v;
        }
        return true;
      },
      a.value,
    );
  },
  cost: moveCost,
  fill: (attrs) => attrs.value,
  simplify: ({ inputs: [x], attrs }) => ([...attrs.lo, ...attrs.hi].every((v) => v === 0) ? x : undefined),
  expr({ idx, read, attrs, inputs, out }) {
    const shape = inputs[0]!.shape;
    const src = idx.map((i, d) => ix('-', i, lit(attrs.lo[d]!)));
    const inside = allOf(src.flatMap((s, d) => (attrs.lo[d] || attrs.hi[d] ? [ix('>=', s, lit(0)), ix('<', s, lit(shape[d]!))] : [])));
    const value = read(0, src.map((s, d) => (attrs.lo[d] || attrs.hi[d] ? clampIndex(s, shape[d]!) : s)));
    const fill = lit(attrs.value, out.dtype);
    // A condition known at compile time: every element read here is inside, or all are padding.
    if (inside.k === 'lit') return inside.v ? value : fill;
    return op('select', [inside, value, fill], out.dtype);
  },
  vjp: ({ b, node, attrs, g }) => {
    const xs = node.inputs[0]!.type.shape;
    return [b.add('slice', [g], { start: [...attrs.lo], stop: xs.map((d, i) => attrs.lo[i]! + d), step: xs.map(() => 1) })];
  },
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 3);
      return { inputs: [{ dtype: f32, shape }], attrs: { lo: shape.map(() => d.int(0, 2)), hi: shape.map(() => d.int(0, 2)), value: d.pick([0, 1.5]) } };
    },
    order: 2,
  },
});

export const reverse = defineOp<{ axes: number[] }>({
  name: 'reverse',
  strided: true,
  kind: 'movement',
  doc: 'reverse the order of elements along axes',
  arity: 1,
  attrs: { axes: 'ints' },
  infer([x], a) {
    for (const ax of a.axes) if (!(ax >= 0 && ax < x!.shape.length)) opError('DL0307', (w) => `cannot reverse axis ${ax} of ${formatType(x!)}${w}`);
    return x!;
  },
  evaluate([x], a, out) {
    return gatherBy(x!, out, (o, i) => {
      for (let d = 0; d < o.length; d++) i[d] = a.axes.includes(d) ? x!.shape[d]! - 1 - o[d]! : o[d]!;
      return true;
    });
  },
  cost: moveCost,
  vjp: ({ b, attrs, g }) => [b.add('reverse', [g], { axes: [...attrs.axes] })],
  expr: ({ idx, read, attrs, out }) => read(0, idx.map((i, d) => (attrs.axes.includes(d) ? ix('-', lit(out.shape[d]! - 1), i) : i))),
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 4);
      return { inputs: [{ dtype: f32, shape }], attrs: { axes: shape.map((_, i) => i).filter(() => d.bool()) } };
    },
    order: 2,
  },
});

export const concat = defineOp<{ axis: number }>({
  name: 'concat',
  kind: 'movement',
  doc: 'join tensors along an existing axis',
  arity: 'variadic',
  attrs: { axis: 'int' },
  infer(xs, a) {
    const first = xs[0]!;
    const r = first.shape.length;
    if (!(a.axis >= 0 && a.axis < r)) opError('DL0307', (w) => `cannot concatenate ${formatType(first)} along axis ${a.axis}${w}`);
    let total = 0;
    for (const t of xs) {
      if (t.dtype !== first.dtype) opError('DL0303', (w) => `cannot concatenate ${first.dtype} with ${t.dtype}${w}`);
      const ok = t.shape.length === r && t.shape.every((d, i) => i === a.axis || d === first.shape[i]);
      if (!ok) {
        opError('DL0302', (w) => `cannot concatenate ${formatType(first)} and ${formatType(t)} along axis ${a.axis}: the other axes must match${w}`);
      }
      total += t.shape[a.axis]!;
    }
    return { dtype: first.dtype, shape: first.shape.map((d, i) => (i === a.axis ? total : d)) };
  },
  evaluate(xs, a, out) {
    const data = new Float64Array(numel(out.shape));
    const outer = numel(out.shape.slice(0, a.axis));
    const rowOut = numel(out.shape.slice(a.axis));
    let col = 0;
    for (const x of xs) {
      const row = numel(x.shape.slice(a.axis));
      for (let o = 0; o < outer; o++) data.set(x.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
      col += row;
    }
    return new NDArray(out.shape, data);
  },
  cost: moveCost,
  expr({ idx, read, attrs, inputs, out }) {
    // Nested selects over the ranges of the concatenation axis, last input innermost.
    const a = attrs.axis;
    const offsets: number[] = [];
    let at = 0;
    for (const t of inputs) {
      offsets.push(at);
      at += t.shape[a]!;
    }
    const readPart = (j: number) => read(j, idx.map((i, d) => (d === a ? clampIndex(ix('-', i, lit(offsets[j]!)), inputs[j]!.shape[a]!) : i)));
    let e = readPart(inputs.length - 1);
    for (let j = inputs.length - 2; j >= 0; j--) e = op('select', [ix('<', idx[a]!, lit(offsets[j + 1]!)), readPart(j), e], out.dtype);
    return e;
  },
  vjp: ({ b, node, attrs, g }) => {
    let at = 0;
    return node.inputs.map((x) => {
      const n = x.type.shape[attrs.axis]!;
      const start = g.type.shape.map((_, i) => (i === attrs.axis ? at : 0));
      const stop = g.type.shape.map((d, i) => (i === attrs.axis ? at + n : d));
      at += n;
      return b.add('slice', [g], { start, stop, step: g.type.shape.map(() => 1) });
    });
  },
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 3);
      const axis = d.int(0, shape.length - 1);
      const n = d.int(1, 3);
      return { inputs: Array.from({ length: n }, () => ({ dtype: f32, shape: shape.map((s, i) => (i === axis ? d.int(1, 3) : s)) })), attrs: { axis } };
    },
    order: 2,
  },
});

export const MOVEMENT: OpDef[] = [reshape, permute, broadcast, slice, pad, reverse, concat];
