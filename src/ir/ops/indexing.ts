/**
 * @file Data-dependent indexing: gather (take along an axis, e.g. an embedding lookup) and its
 * transpose scatter_add. An index outside [0, n) — negative ones included — is clamped to the
 * nearest valid one, on every backend (a GPU cannot raise an error; values from outside the
 * program are checked where they enter, see src/ir/index-ranges.ts).
 */
import { NDArray } from '../ndarray.js';
import { defineOp, opError } from '../op.js';
import { idx as loopIdx, ix, lit, op, type Expr } from '../../kernel/expr.js';
import { clampIndex } from './movement.js';
import { formatType, numel, type TensorType } from '../types.js';

/** An index clamped into [0, n): −1 reads element 0, n reads element n − 1. */
const clampValue = (v: number, n: number) => Math.min(Math.max(Math.trunc(v), 0), n - 1);

/** The same rule as an index expression. */
function indexExpr(i: Expr, n: number): Expr {
  return clampIndex(i, n);
}

function checkIndices(op: string, idx: TensorType): void {
  if (idx.dtype !== 'i32') opError('DL0303', (w) => `\`${op}\` indices must be i32, got ${formatType(idx)}${w}`, 'convert with `cast(i, i32)`');
}

export const gather = defineOp<{ axis: number }>({
  name: 'gather',
  kind: 'indexing',
  doc: 'gather(x, idx): take x[…, idx[j], …] along `axis`; shape x[:axis] + idx + x[axis+1:]',
  arity: 2,
  attrs: { axis: 'int' },
  infer([x, idx], a) {
    checkIndices('gather', idx!);
    if (!(a.axis >= 0 && a.axis < x!.shape.length)) opError('DL0307', (w) => `cannot index axis ${a.axis} of ${formatType(x!)}${w}`);
    if (x!.shape[a.axis] === 0) opError('DL0309', (w) => `cannot index into the empty axis ${a.axis} of ${formatType(x!)}${w}`);
    return { dtype: x!.dtype, shape: [...x!.shape.slice(0, a.axis), ...idx!.shape, ...x!.shape.slice(a.axis + 1)] };
  },
  evaluate([x, idx], a, out) {
    const outer = numel(x!.shape.slice(0, a.axis));
    const n = x!.shape[a.axis]!;
    const inner = numel(x!.shape.slice(a.axis + 1));
    const m = idx!.size;
    const data = new Float64Array(numel(out.shape));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) {
        const k = clampValue(idx!.data[j]!, n);
        data.set(x!.data.subarray((o * n + k) * inner, (o * n + k + 1) * inner), (o * m + j) * inner);
      }
    }
    return new NDArray(out.shape, data);
  },
  cost: (ins, out) => ({ flops: 0, bytes: (numel(out.shape) * 2 + numel(ins[1]!.shape)) * 4 }),
  // x[pre, clamp(idx[j]), post]: an index read from the index tensor.
  expr({ idx, read, attrs, inputs }) {
    const [x, ind] = inputs as [typeof inputs[0], typeof inputs[0]];
    const r = ind!.shape.length;
    const j = idx.slice(attrs.axis, attrs.axis + r);
    const k = indexExpr(read(1, j), x!.shape[attrs.axis]!);
    return read(0, [...idx.slice(0, attrs.axis), k, ...idx.slice(attrs.axis + r)]);
  },
  // d gather = scatter-add of the cotangent to the gathered rows (repeated indices accumulate).
  vjp: ({ b, node, attrs, g }) => {
    const [x, idx] = node.inputs as [typeof node, typeof node];
    return [b.add('scatter_add', [idx, g], { axis: attrs.axis, size: x.type.shape[attrs.axis]! }), undefined];
  },
  test: {
    sample(d) {
      const shape = d.shape(1, 3, 4);
      const axis = d.int(0, shape.length - 1);
      return {
        inputs: [
          { dtype: 'f32', shape },
          { dtype: 'i32', shape: d.shape(0, 2, 4), domain: { int: shape[axis]! } },
        ],
        attrs: { axis },
      };
    },
    order: 2,
  },
});

export const scatterAdd = defineOp<{ axis: number; size: number }>({
  name: 'scatter_add',
  kind: 'indexing',
  doc: 'scatter_add(idx, u): zeros of size `size` on `axis`, with u[…, j, …] added at idx[j] (the transpose of gather)',
  arity: 2,
  attrs: { axis: 'int', size: 'int' },
  infer([idx, u], a) {
    checkIndices('scatter_add', idx!);
    const r = idx!.shape.length;
    const lead = u!.shape.slice(a.axis, a.axis + r);
    const ok = a.axis >= 0 && a.axis + r <= u!.shape.length && lead.every((d, i) => d === idx!.shape[i]) && a.size >= 1;
    if (!ok) opError('DL0302', (w) => `scatter_add of ${formatType(u!)} by indices ${formatType(idx!)} at axis ${a.axis}${w}`);
    return { dtype: u!.dtype, shape: [...u!.shape.slice(0, a.axis), a.size, ...u!.shape.slice(a.axis + r)] };
  },
  evaluate([idx, u], a, out) {
    const outer = numel(u!.shape.slice(0, a.axis));
    const m = idx!.size;
    const inner = numel(u!.shape.slice(a.axis + idx!.shape.length));
    const n = a.size;
    const data = new Float64Array(numel(out.shape));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) {
        const k = clampValue(idx!.data[j]!, n);
        for (let t = 0; t < inner; t++) data[(o * n + k) * inner + t]! += u!.data[(o * m + j) * inner + t]!;
      }
    }
    return new NDArray(out.shape, data);
  },
  vjp: ({ b, node, attrs, g }) => [undefined, b.add('gather', [g, node.inputs[0]!], { axis: attrs.axis })],
  // Computed per output element (no atomics): Σ_j [clamp(idx[j]) = k] · u[pre, j, post].
  expr({ idx, read, attrs, inputs, out, fresh }) {
    const ind = inputs[0]!;
    const vars = ind.shape.map((n) => ({ v: fresh(), n }));
    const j = vars.map((v) => loopIdx(v.v));
    const k = idx[attrs.axis]!;
    const hit = ix('==', indexExpr(read(0, j), attrs.size), k);
    const u = read(1, [...idx.slice(0, attrs.axis), ...j, ...idx.slice(attrs.axis + 1)]);
    return { k: 'red', op: 'reduce_sum', vars, body: op('select', [hit, u, lit(0, out.dtype)], out.dtype), t: out.dtype };
  },
  test: {
    sample(d) {
      const idx = d.shape(0, 2, 3);
      const lead = d.shape(0, 2, 3);
      const size = d.int(1, 4);
      return {
        inputs: [
          { dtype: 'i32', shape: idx, domain: { int: size } },
          { dtype: 'f32', shape: [...lead, ...idx, ...d.shape(0, 1, 3)] },
        ],
        attrs: { axis: lead.length, size },
      };
    },
    order: 2,
  },
});
