/**
 * @file Sliding windows. `unfold` extracts the windows of the last n axes (n = window rank) into
 * new trailing axes — a pure index map, so a convolution is unfold + dot_general and pooling is
 * unfold + a reduction, and all three differentiate through the same two ops. `fold` is its
 * transpose: it sums each window element back to the position it was read from.
 */
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, opError, type Draw } from '../op.js';
import { add, idx as loopIdx, ix, lit, mul, op, type Expr } from '../../kernel/expr.js';
import { clampIndex } from './movement.js';
import { formatShape, formatType, numel, stridesOf, type TensorType } from '../types.js';

export type WindowAttrs = {
  window: number[];
  stride: number[];
  dilation: number[];
  pad_lo: number[];
  pad_hi: number[];
};

/** Output size of one windowed axis: ⌊(x + lo + hi − d(k − 1) − 1) / s⌋ + 1. */
export function windowOutSize(x: number, k: number, s: number, d: number, lo: number, hi: number): number {
  return Math.floor((x + lo + hi - d * (k - 1) - 1) / s) + 1;
}

function checkWindow(op: string, spatial: readonly number[], a: WindowAttrs, what: TensorType): number[] {
  const n = a.window.length;
  const lists = [a.stride, a.dilation, a.pad_lo, a.pad_hi];
  const ints = [...a.window, ...a.stride, ...a.dilation, ...a.pad_lo, ...a.pad_hi].every(Number.isInteger);
  if (!ints || lists.some((l) => l.length !== n) || spatial.length !== n) {
    opError('DL0311', (w) => `\`${op}\` needs ${n} sizes for each of window, stride, dilation and padding of ${formatType(what)}${w}`);
  }
  if (a.window.some((k) => k < 1) || a.stride.some((s) => s < 1) || a.dilation.some((d) => d < 1) || [...a.pad_lo, ...a.pad_hi].some((p) => p < 0)) {
    opError('DL0311', (w) => `window sizes, strides and dilations must be at least 1 and paddings at least 0${w}`);
  }
  return spatial.map((x, i) => {
    const o = windowOutSize(x, a.window[i]!, a.stride[i]!, a.dilation[i]!, a.pad_lo[i]!, a.pad_hi[i]!);
    if (o < 1) {
      opError(
        'DL0311',
        (w) =>
          `a window of ${a.window[i]} (dilation ${a.dilation[i]}) does not fit in an axis of size ${x} with padding ${a.pad_lo[i]}+${a.pad_hi[i]}${w}`,
      );
    }
    return o;
  });
}

/** For each (lead, out-spatial, window) element: the flat index of the source, or −1 for padding. */
function windowSources(lead: readonly number[], spatial: readonly number[], outSp: readonly number[], a: WindowAttrs): Int32Array {
  const n = spatial.length;
  const inStrides = stridesOf([...lead, ...spatial]);
  const shape = [...lead, ...outSp, ...a.window];
  const src = new Int32Array(numel(shape));
  const L = lead.length;
  forEachIndex(shape, (f, idx) => {
    let off = 0;
    for (let d = 0; d < L; d++) off += idx[d]! * inStrides[d]!;
    for (let i = 0; i < n; i++) {
      const pos = idx[L + i]! * a.stride[i]! + idx[L + n + i]! * a.dilation[i]! - a.pad_lo[i]!;
      if (pos < 0 || pos >= spatial[i]!) {
        src[f] = -1;
        return;
      }
      off += pos * inStrides[L + i]!;
    }
    src[f] = off;
  });
  return src;
}

function windowCase(d: Draw): { lead: number[]; spatial: number[]; attrs: WindowAttrs } {
  const n = d.int(1, 2);
  const lead = d.shape(0, 2, 2);
  const window = Array.from({ length: n }, () => d.int(1, 3));
  const stride = Array.from({ length: n }, () => d.int(1, 2));
  const dilation = Array.from({ length: n }, () => d.int(1, 2));
  const pad_lo = Array.from({ length: n }, () => d.int(0, 1));
  const pad_hi = Array.from({ length: n }, () => d.int(0, 1));
  // Large enough for at least one window.
  const spatial = window.map((k, i) => dilation[i]! * (k - 1) + 1 + d.int(0, 3));
  return { lead, spatial, attrs: { window, stride, dilation, pad_lo, pad_hi } };
}

function windowAttrs(a: WindowAttrs): WindowAttrs {
  return { window: [...a.window], stride: [...a.stride], dilation: [...a.dilation], pad_lo: [...a.pad_lo], pad_hi: [...a.pad_hi] };
}

export const unfold = defineOp<WindowAttrs & { value: number }>({
  name: 'unfold',
  kind: 'movement',
  doc: 'sliding windows of the last n axes as new trailing axes: [..., X] → [..., O, K] (padding reads `value`)',
  arity: 1,
  attrs: { window: 'ints', stride: 'ints', dilation: 'ints', pad_lo: 'ints', pad_hi: 'ints', value: 'float' },
  infer([x], a) {
    const n = a.window.length;
    if (n < 1 || n > x!.shape.length) opError('DL0311', (w) => `a ${n}-d window needs at least ${n} axes, got ${formatType(x!)}${w}`);
    const lead = x!.shape.slice(0, x!.shape.length - n);
    const outSp = checkWindow('unfold', x!.shape.slice(x!.shape.length - n), a, x!);
    return { dtype: x!.dtype, shape: [...lead, ...outSp, ...a.window] };
  },
  evaluate([x], a, out) {
    const n = a.window.length;
    const lead = x!.shape.slice(0, x!.rank - n);
    const spatial = x!.shape.slice(x!.rank - n);
    const src = windowSources(lead, spatial, out.shape.slice(lead.length, lead.length + n), a);
    const data = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) data[i] = src[i]! < 0 ? a.value : x!.data[src[i]!]!;
    return new NDArray(out.shape, data);
  },
  cost: (_ins, out) => ({ flops: 0, bytes: numel(out.shape) * 8 }),
  // x[lead, o·s + k·d − lo], or `value` outside the input.
  expr({ idx, read, attrs, inputs, out }) {
    const n = attrs.window.length;
    const xs = inputs[0]!.shape;
    const L = xs.length - n;
    const conds: Expr[] = [];
    const src = idx.slice(0, L) as Expr[];
    for (let i = 0; i < n; i++) {
      const pos = ix('-', add(mul(idx[L + i]!, lit(attrs.stride[i]!)), mul(idx[L + n + i]!, lit(attrs.dilation[i]!))), lit(attrs.pad_lo[i]!));
      const X = xs[L + i]!;
      if (attrs.pad_lo[i] || attrs.pad_hi[i]) {
        conds.push(ix('>=', pos, lit(0)), ix('<', pos, lit(X)));
        src.push(clampIndex(pos, X));
      } else src.push(pos);
    }
    const v = read(0, src);
    if (conds.length === 0) return v;
    const inside = conds.reduce((a, c) => ix('&&', a, c));
    return op('select', [inside, v, lit(attrs.value, out.dtype)], out.dtype);
  },
  vjp: ({ b, node, attrs, g }) => {
    const xs = node.inputs[0]!.type.shape;
    return [b.add('fold', [g], { ...windowAttrs(attrs), spatial: xs.slice(xs.length - attrs.window.length) })];
  },
  test: {
    sample(d) {
      const c = windowCase(d);
      return { inputs: [{ dtype: 'f32', shape: [...c.lead, ...c.spatial] }], attrs: { ...c.attrs, value: d.pick([0, 2.5]) } };
    },
    order: 2,
  },
});

export const fold = defineOp<WindowAttrs & { spatial: number[] }>({
  name: 'fold',
  kind: 'window',
  doc: 'transpose of unfold: [..., O, K] → [..., X], summing window elements that overlap',
  arity: 1,
  attrs: { window: 'ints', stride: 'ints', dilation: 'ints', pad_lo: 'ints', pad_hi: 'ints', spatial: 'ints' },
  infer([g], a) {
    const n = a.window.length;
    if (n < 1 || 2 * n > g!.shape.length) opError('DL0311', (w) => `fold needs ${2 * n} trailing window axes, got ${formatType(g!)}${w}`);
    const lead = g!.shape.slice(0, g!.shape.length - 2 * n);
    const outSp = checkWindow('fold', a.spatial, a, g!);
    const have = g!.shape.slice(g!.shape.length - 2 * n);
    const want = [...outSp, ...a.window];
    if (have.some((d, i) => d !== want[i])) opError('DL0302', (w) => `fold expects trailing axes ${formatShape(want)}, got ${formatType(g!)}${w}`);
    return { dtype: g!.dtype, shape: [...lead, ...a.spatial] };
  },
  evaluate([g], a, out) {
    const n = a.window.length;
    const lead = out.shape.slice(0, out.shape.length - n);
    const outSp = g!.shape.slice(lead.length, lead.length + n);
    const src = windowSources(lead, a.spatial, outSp, a);
    const data = new Float64Array(numel(out.shape));
    for (let i = 0; i < src.length; i++) if (src[i]! >= 0) data[src[i]!]! += g!.data[i]!;
    return new NDArray(out.shape, data);
  },
  cost: (ins, out) => ({ flops: numel(ins[0]!.shape), bytes: (numel(ins[0]!.shape) + numel(out.shape)) * 4 }),
  vjp: ({ b, attrs, g }) => [b.add('unfold', [g], { ...windowAttrs(attrs), value: 0 })],
  // Σ over window positions k of g[lead, o, k] where o·s + k·d − lo = x (when o is whole and in range).
  expr({ idx, read, attrs, inputs, out, fresh }) {
    const n = attrs.window.length;
    const gs = inputs[0]!.shape;
    const L = gs.length - 2 * n;
    const vars = attrs.window.map((k) => ({ v: fresh(), n: k }));
    const conds: Expr[] = [];
    const oIdx: Expr[] = [];
    for (let i = 0; i < n; i++) {
      const O = gs[L + i]!;
      const s = attrs.stride[i]!;
      const t = ix('-', add(idx[L + i]!, lit(attrs.pad_lo[i]!)), mul(loopIdx(vars[i]!.v), lit(attrs.dilation[i]!)));
      const tc = ix('max', t, lit(0));
      conds.push(ix('>=', t, lit(0)));
      if (s > 1) conds.push(ix('==', ix('%', tc, lit(s)), lit(0)));
      const o = ix('/', tc, lit(s));
      conds.push(ix('<', o, lit(O)));
      oIdx.push(clampIndex(o, O));
    }
    const v = read(0, [...idx.slice(0, L), ...oIdx, ...vars.map((w) => loopIdx(w.v))]);
    const inside = conds.reduce((a, c) => ix('&&', a, c));
    return { k: 'red', op: 'reduce_sum', vars, body: op('select', [inside, v, lit(0, out.dtype)], out.dtype), t: out.dtype };
  },
  test: {
    sample(d) {
      const c = windowCase(d);
      const outSp = c.spatial.map((x, i) => windowOutSize(x, c.attrs.window[i]!, c.attrs.stride[i]!, c.attrs.dilation[i]!, c.attrs.pad_lo[i]!, c.attrs.pad_hi[i]!));
      return { inputs: [{ dtype: 'f32', shape: [...c.lead, ...outSp, ...c.attrs.window] }], attrs: { ...c.attrs, spatial: c.spatial } };
    },
    order: 2,
  },
});
