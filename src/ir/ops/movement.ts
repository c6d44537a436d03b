/**
 * @file Movement primitives: they only rearrange elements. Each is written as an index map
 * (output multi-index → input multi-index, or none for padding), the form codegen turns into
 * address arithmetic instead of a copy.
 */
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, opError, type OpDef } from '../op.js';
import { formatShape, formatType, numel, type TensorType } from '../types.js';

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

const moveCost = (ins: readonly TensorType[], out: TensorType) => ({ flops: 0, bytes: numel(out.shape) * 8 });

export const reshape = defineOp<{ shape: number[] }>({
  name: 'reshape',
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
});

export const permute = defineOp<{ perm: number[] }>({
  name: 'permute',
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
});

export const broadcast = defineOp<{ shape: number[] }>({
  name: 'broadcast',
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
});

export const slice = defineOp<{ start: number[]; stop: number[]; step: number[] }>({
  name: 'slice',
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
});

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
});

export const reverse = defineOp<{ axes: number[] }>({
  name: 'reverse',
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
});

export const MOVEMENT: OpDef[] = [reshape, permute, broadcast, slice, pad, reverse, concat];
