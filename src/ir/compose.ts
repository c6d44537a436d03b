/**
 * @file Composite operations built from primitives: broadcasting arithmetic, keepdims
 * reductions, NumPy matmul, convolution and pooling (unfold + contraction/reduction), one-hot.
 * The frontend lowers the language's built-ins through these, and gradient rules reuse them.
 * User mistakes surface as OpError, which the caller places at the offending expression.
 */
import type { GraphBuilder } from './builder.js';
import type { Node } from './graph.js';
import { opError } from './op.js';
import { broadcastShapes, formatShape, formatType, normAxis, numel, sameShape, type DType, type Shape } from './types.js';

type B = GraphBuilder;

export function scalarConst(b: B, value: number, dtype: DType): Node {
  return b.add('constant', [], { dtype, shape: [], value });
}

export function fullLike(b: B, value: number, like: Node): Node {
  return broadcastTo(b, scalarConst(b, value, like.type.dtype), like.type.shape);
}

export function reshape(b: B, x: Node, shape: Shape): Node {
  return sameShape(x.type.shape, shape) ? x : b.add('reshape', [x], { shape: [...shape] });
}

/** NumPy broadcasting of one tensor to a shape (prepends size-1 axes, then repeats them). */
export function broadcastTo(b: B, x: Node, shape: Shape): Node {
  const xs = x.type.shape;
  if (sameShape(xs, shape)) return x;
  const full = broadcastShapes(xs, shape);
  if (xs.length > shape.length || !full || !sameShape(full, shape)) {
    opError('DL0302', (w) => `cannot broadcast ${formatType(x.type)} to ${formatShape(shape)}${w}`);
  }
  const lifted = reshape(b, x, [...new Array<number>(shape.length - xs.length).fill(1), ...xs]);
  return sameShape(lifted.type.shape, shape) ? lifted : b.add('broadcast', [lifted], { shape: [...shape] });
}

/** Broadcasts all operands to their common shape. */
export function broadcastAll(b: B, xs: readonly Node[], what = 'operands'): Node[] {
  let shape: number[] = [];
  for (const x of xs) {
    const s = broadcastShapes(shape, x.type.shape);
    if (!s) {
      const list = xs.map((t) => formatType(t.type)).join(' and ');
      opError('DL0302', (w) => `shapes do not broadcast${w}: the ${what} are ${list}`, 'axes must be equal or 1, counted from the right');
    }
    shape = s;
  }
  return xs.map((x) => broadcastTo(b, x, shape));
}

/** A binary elementwise op with NumPy broadcasting. */
export function binary(b: B, op: string, x: Node, y: Node): Node {
  const [bx, by] = broadcastAll(b, [x, y]);
  return b.add(op, [bx!, by!]);
}

export function select(b: B, c: Node, x: Node, y: Node): Node {
  const [bc, bx, by] = broadcastAll(b, [c, x, y], 'condition and branches');
  return b.add('select', [bc!, bx!, by!]);
}

export function cast(b: B, x: Node, dtype: DType): Node {
  return x.type.dtype === dtype ? x : b.add('cast', [x], { dtype });
}

/** Normalizes reduction axes (negative allowed; undefined = all) to sorted unique axes. */
export function normAxes(x: Node, axes: readonly number[] | undefined): number[] {
  const r = x.type.shape.length;
  if (axes === undefined) return [...Array(r).keys()];
  const out = new Set<number>();
  for (const a of axes) {
    const n = normAxis(a, r);
    if (n === undefined) opError('DL0307', (w) => `axis ${a} is out of range for ${formatType(x.type)}${w}`, r === 0 ? 'a scalar has no axes' : `axes go from ${-r} to ${r - 1}`);
    if (out.has(n)) opError('DL0307', (w) => `axis ${a} is given twice${w}`);
    out.add(n);
  }
  return [...out].sort((p, q) => p - q);
}

function keepDims(b: B, x: Node, reduced: Node, axes: readonly number[], keepdims: boolean): Node {
  return keepdims ? reshape(b, reduced, x.type.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : reduced;
}

export function reduce(b: B, op: 'reduce_sum' | 'reduce_max' | 'reduce_min', x: Node, axes?: readonly number[], keepdims = false): Node {
  const ax = normAxes(x, axes);
  const r = ax.length ? b.add(op, [x], { axes: ax }) : x;
  return keepDims(b, x, r, ax, keepdims);
}

export function mean(b: B, x: Node, axes?: readonly number[], keepdims = false): Node {
  const ax = normAxes(x, axes);
  const n = numel(ax.map((a) => x.type.shape[a]!));
  const s = reduce(b, 'reduce_sum', x, ax, keepdims);
  return binary(b, 'div', s, scalarConst(b, n, x.type.dtype));
}

export function argReduce(b: B, op: 'argmax' | 'argmin', x: Node, axis: number | undefined, keepdims = false): Node {
  if (axis === undefined) {
    const flat = reshape(b, x, [numel(x.type.shape)]);
    return b.add(op, [flat], { axis: 0 });
  }
  const [a] = normAxes(x, [axis]);
  const r = b.add(op, [x], { axis: a! });
  return keepDims(b, x, r, [a!], keepdims);
}

/** Reshape with at most one −1 (inferred) dimension. */
export function reshapeInfer(b: B, x: Node, shape: readonly number[]): Node {
  const unknown = shape.filter((d) => d === -1).length;
  const known = numel(shape.filter((d) => d !== -1));
  const total = numel(x.type.shape);
  if (unknown > 1) opError('DL0308', (w) => `only one dimension can be -1 in a reshape${w}`);
  if (shape.some((d) => d < -1 || !Number.isInteger(d))) opError('DL0308', (w) => `reshape sizes must be whole numbers ≥ 0 (or one -1), got ${formatShape(shape)}${w}`);
  let out = [...shape];
  if (unknown === 1) {
    if (known === 0 || total % known !== 0) {
      opError('DL0308', (w) => `cannot reshape ${formatType(x.type)} (${total} elements) to ${formatShape(shape)}${w}: ${total} is not a multiple of ${known}`);
    }
    out = shape.map((d) => (d === -1 ? total / known : d));
  }
  if (numel(out) !== total) {
    opError('DL0308', (w) => `cannot reshape ${formatType(x.type)} (${total} elements) to ${formatShape(out)} (${numel(out)} elements)${w}`);
  }
  return reshape(b, x, out);
}

export function permute(b: B, x: Node, perm: readonly number[]): Node {
  const r = x.type.shape.length;
  const p = perm.map((a) => normAxis(a, r) ?? a);
  return p.every((a, i) => a === i) && p.length === r ? x : b.add('permute', [x], { perm: p });
}

/** Swaps the last two axes (`x.T`). */
export function transposeLast2(b: B, x: Node): Node {
  const r = x.type.shape.length;
  if (r < 2) opError('DL0307', (w) => `\`.T\` swaps the last two axes, but ${formatType(x.type)} has ${r === 0 ? 'none' : 'only one'}${w}`);
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return b.add('permute', [x], { perm });
}

function dot(b: B, l: Node, r: Node, lb: number[], rb: number[], lc: number[], rc: number[]): Node {
  return b.add('dot_general', [l, r], { lhs_batch: lb, rhs_batch: rb, lhs_contract: lc, rhs_contract: rc });
}

/** NumPy `@`: vectors, matrices, and stacks of matrices with broadcast batch axes. */
export function matmul(b: B, x: Node, y: Node): Node {
  const xr = x.type.shape.length;
  const yr = y.type.shape.length;
  if (xr === 0 || yr === 0) {
    opError('DL0311', (w) => `\`@\` needs tensors with at least one axis, got ${formatType(x.type)} and ${formatType(y.type)}${w}`, 'use `*` to multiply by a scalar');
  }
  if (yr === 1) return dot(b, x, y, [], [], [xr - 1], [0]);
  if (xr === 1) return dot(b, x, y, [], [], [0], [yr - 2]);
  if (yr === 2) return dot(b, x, y, [], [], [xr - 1], [0]);
  if (xr === 2) {
    // [M, K] @ [*B, K, N]: contract, then move M behind the batch axes.
    const out = dot(b, x, y, [], [], [1], [yr - 2]); // [M, *B, N]
    const nb = yr - 2;
    return permute(b, out, [...Array.from({ length: nb }, (_, i) => i + 1), 0, nb + 1]);
  }
  const bx = x.type.shape.slice(0, xr - 2);
  const by = y.type.shape.slice(0, yr - 2);
  const batch = broadcastShapes(bx, by);
  if (!batch) {
    opError('DL0302', (w) => `the batch axes of ${formatType(x.type)} and ${formatType(y.type)} do not broadcast${w}`);
  }
  const xx = broadcastTo(b, x, [...batch, ...x.type.shape.slice(xr - 2)]);
  const yy = broadcastTo(b, y, [...batch, ...y.type.shape.slice(yr - 2)]);
  const nb = batch.length;
  const ax = [...Array(nb).keys()];
  return dot(b, xx, yy, ax, ax, [nb + 1], [nb]);
}

export interface ConvOptions {
  stride: number[];
  dilation: number[];
  padLo: number[];
  padHi: number[];
  groups: number;
}

/**
 * Cross-correlation (the deep-learning "convolution"): x [N, C, *S], w [O, C/groups, *K] →
 * [N, O, *S']. Built as unfold (the windows, a view) and one contraction.
 */
export function conv(b: B, x: Node, w: Node, o: ConvOptions, name = 'conv'): Node {
  const n = w.type.shape.length - 2;
  const xs = x.type.shape;
  const ws = w.type.shape;
  if (n < 1 || xs.length !== n + 2) {
    opError(
      'DL0311',
      (wh) => `\`${name}\` expects input [batch, channels, ${spatialNames(n)}] and weight [out, in/groups, ${kernelNames(n)}], got ${formatType(x.type)} and ${formatType(w.type)}${wh}`,
    );
  }
  const [N, C] = [xs[0]!, xs[1]!];
  const [O, Cg] = [ws[0]!, ws[1]!];
  const g = o.groups;
  if (!(Number.isInteger(g) && g >= 1) || C % g !== 0 || O % g !== 0) {
    opError('DL0311', (wh) => `\`${name}\` with groups=${g} needs input channels (${C}) and output channels (${O}) divisible by ${g}${wh}`);
  }
  if (Cg !== C / g) {
    opError(
      'DL0311',
      (wh) => `\`${name}\`: the input has ${C} channels but the weight ${formatType(w.type)} expects ${Cg * g}${g > 1 ? ` (${Cg} per group × ${g} groups)` : ''}${wh}`,
      'the weight layout is [out_channels, in_channels / groups, kernel…]',
    );
  }
  const u = b.add('unfold', [x], {
    window: ws.slice(2),
    stride: o.stride,
    dilation: o.dilation,
    pad_lo: o.padLo,
    pad_hi: o.padHi,
    value: 0,
  }); // [N, C, *So, *K]
  const So = u.type.shape.slice(2, 2 + n);
  const sp = (from: number) => Array.from({ length: n }, (_, i) => from + i);
  if (g === 1) {
    const out = dot(b, u, w, [], [], [1, ...sp(2 + n)], [1, ...sp(2)]); // [N, *So, O]
    return permute(b, out, [0, n + 1, ...sp(1)]);
  }
  const ug = reshape(b, u, [N, g, C / g, ...So, ...ws.slice(2)]);
  const wg = reshape(b, w, [g, O / g, Cg, ...ws.slice(2)]);
  const out = dot(b, ug, wg, [1], [0], [2, ...sp(3 + n)], [2, ...sp(3)]); // [g, N, *So, O/g]
  const moved = permute(b, out, [1, 0, 2 + n, ...sp(2)]); // [N, g, O/g, *So]
  return reshape(b, moved, [N, O, ...So]);
}

function spatialNames(n: number): string {
  return n === 1 ? 'length' : n === 2 ? 'height, width' : n === 3 ? 'depth, height, width' : `${n} spatial axes`;
}

function kernelNames(n: number): string {
  return n === 1 ? 'k' : n === 2 ? 'kh, kw' : `${n} kernel sizes`;
}

/** Max or average pooling over the trailing n axes of [N, C, *S]. Average counts padding as 0. */
export function pool(b: B, kind: 'max' | 'avg', x: Node, window: number[], stride: number[], padLo: number[], padHi: number[]): Node {
  const n = window.length;
  if (x.type.shape.length < n + 1) {
    opError('DL0311', (w) => `${kind} pooling over ${n} axes needs at least ${n + 1} axes, got ${formatType(x.type)}${w}`);
  }
  const u = b.add('unfold', [x], {
    window,
    stride,
    dilation: window.map(() => 1),
    pad_lo: padLo,
    pad_hi: padHi,
    value: kind === 'max' ? -Infinity : 0,
  });
  const r = u.type.shape.length;
  const axes = Array.from({ length: n }, (_, i) => r - n + i);
  if (kind === 'max') return b.add('reduce_max', [u], { axes });
  const s = b.add('reduce_sum', [u], { axes });
  return binary(b, 'div', s, scalarConst(b, numel(window), x.type.dtype));
}

/** one_hot(labels, n): labels i32[*S] → dtype[*S, n]. */
export function oneHot(b: B, labels: Node, n: number, dtype: DType): Node {
  if (labels.type.dtype !== 'i32') opError('DL0303', (w) => `one_hot labels must be i32, got ${formatType(labels.type)}${w}`);
  const shape = [...labels.type.shape, n];
  const classes = b.add('iota', [], { dtype: 'i32', shape, axis: shape.length - 1 });
  const lab = broadcastTo(b, reshape(b, labels, [...labels.type.shape, 1]), shape);
  return cast(b, b.add('eq', [lab, classes]), dtype);
}

/** Joins tensors along an existing axis (negative axes count from the end). */
export function concat(b: B, xs: readonly Node[], axis: number): Node {
  if (xs.length === 0) opError('DL0311', (w) => `nothing to concatenate${w}`);
  const r = xs[0]!.type.shape.length;
  const a = normAxis(axis, r);
  if (a === undefined) opError('DL0307', (w) => `axis ${axis} is out of range for ${formatType(xs[0]!.type)}${w}`);
  return xs.length === 1 ? xs[0]! : b.add('concat', [...xs], { axis: a! });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(b: B, xs: readonly Node[], axis: number): Node {
  if (xs.length === 0) opError('DL0311', (w) => `nothing to stack${w}`);
  const shape = xs[0]!.type.shape;
  const a = normAxis(axis, shape.length + 1);
  if (a === undefined) opError('DL0307', (w) => `axis ${axis} is out of range for stacking ${formatType(xs[0]!.type)}${w}`);
  for (const x of xs) {
    if (!sameShape(x.type.shape, shape)) {
      opError('DL0302', (w) => `cannot stack tensors of different shapes${w}: ${formatType(xs[0]!.type)} and ${formatType(x.type)}`);
    }
  }
  const lifted = xs.map((x) => reshape(b, x, [...shape.slice(0, a!), 1, ...shape.slice(a!)]));
  return concat(b, lifted, a!);
}
