/**
 * @file dot_general: the one contraction primitive (matmul, batched matmul, matvec, outer
 * products, and convolutions after `unfold`). Output axes: batch, then lhs free, then rhs free.
 */
import { forEachIndex, NDArray } from '../ndarray.js';
import type { Node } from '../graph.js';
import type { GraphBuilder } from '../builder.js';
import { defineOp, opError, type Draw, type ExprContext, type VjpContext } from '../op.js';
import { idx as loopIdx, op, type Expr } from '../../kernel/expr.js';

/** The generic form (codegen tiles it): Σ_k lhs[b, i, k] · rhs[b, k, j]. */
function dotExpr({ attrs: a, idx, read, inputs, out, fresh }: ExprContext<DotAttrs>): Expr {
  const [l, r] = inputs as [typeof inputs[0], typeof inputs[0]];
  const nb = a.lhs_batch.length;
  const lf = freeAxes(l!.shape.length, a.lhs_batch, a.lhs_contract);
  const rf = freeAxes(r!.shape.length, a.rhs_batch, a.rhs_contract);
  const vars = a.lhs_contract.map((ax) => ({ v: fresh(), n: l!.shape[ax]! }));
  const li = new Array<Expr>(l!.shape.length);
  const ri = new Array<Expr>(r!.shape.length);
  a.lhs_batch.forEach((ax, i) => (li[ax] = idx[i]!));
  a.rhs_batch.forEach((ax, i) => (ri[ax] = idx[i]!));
  lf.forEach((ax, i) => (li[ax] = idx[nb + i]!));
  rf.forEach((ax, i) => (ri[ax] = idx[nb + lf.length + i]!));
  a.lhs_contract.forEach((ax, i) => (li[ax] = loopIdx(vars[i]!.v)));
  a.rhs_contract.forEach((ax, i) => (ri[ax] = loopIdx(vars[i]!.v)));
  return { k: 'red', op: 'reduce_sum', vars, body: op('mul', [read(0, li), read(1, ri)], out.dtype), t: out.dtype };
}
import { formatType, numel, type TensorType } from '../types.js';

export type DotAttrs = {
  lhs_batch: number[];
  rhs_batch: number[];
  lhs_contract: number[];
  rhs_contract: number[];
};

export function freeAxes(rank: number, batch: readonly number[], contract: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rank; i++) if (!batch.includes(i) && !contract.includes(i)) out.push(i);
  return out;
}

function validAxes(t: TensorType, axes: readonly number[]): boolean {
  return axes.every((a) => Number.isInteger(a) && a >= 0 && a < t.shape.length) && new Set(axes).size === axes.length;
}

/** Copies x into the layout [batch…, free…, contract…] (or the order given). */
function transposed(x: NDArray, order: readonly number[]): Float64Array {
  const shape = order.map((a) => x.shape[a]!);
  const data = new Float64Array(x.size);
  forEachIndex(shape, (f, idx) => {
    let off = 0;
    for (let d = 0; d < order.length; d++) off += idx[d]! * x.strides[order[d]!]!;
    data[f] = x.data[off]!;
  });
  return data;
}

/** The permutation that puts axis `order[k]` of a result at position order[k]. */
function inversePerm(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((axis, k) => (inv[axis] = k));
  return inv;
}

/**
 * d lhs[b, lf, lc] = Σ_rf g[b, lf, rf] · rhs[b, rc, rf] (and symmetrically for rhs): each
 * cotangent is another dot_general of g with the other operand, permuted into place.
 */
function dotVjp({ b, node, attrs: a, g }: VjpContext<DotAttrs>): Node[] {
  const [l, r] = node.inputs as [Node, Node];
  const nb = a.lhs_batch.length;
  const lf = freeAxes(l.type.shape.length, a.lhs_batch, a.lhs_contract);
  const rf = freeAxes(r.type.shape.length, a.rhs_batch, a.rhs_contract);
  const gBatch = [...Array(nb).keys()];
  const gL = lf.map((_, i) => nb + i);
  const gR = rf.map((_, i) => nb + lf.length + i);
  const identity = (o: number[]) => o.every((v, i) => v === i);
  const place = (x: Node, order: number[]) => (identity(order) ? x : b.add('permute', [x], { perm: inversePerm(order) }));
  /**
   * The cotangent of one operand (`self`) contracts g's axes that belong to the other operand
   * (`other`) with other's free axes. Either operand order works; take the one whose result is
   * already laid out like `self`, so no transpose is needed.
   */
  const cotangent = (selfBatch: number[], selfFree: number[], selfContract: number[], gSelf: number[], other: Node, otherBatch: number[], otherFree: number[], otherContract: number[], gOther: number[]) => {
    const rest = [...otherContract].sort((p, q) => p - q).map((ax) => selfContract[otherContract.indexOf(ax)]!);
    const orderA = [...selfBatch, ...selfFree, ...rest];
    const orderB = [...selfBatch, ...rest, ...selfFree];
    if (!identity(orderA) && identity(orderB)) {
      return place(b.add('dot_general', [other, g], { lhs_batch: [...otherBatch], rhs_batch: gBatch, lhs_contract: otherFree, rhs_contract: gOther }), orderB);
    }
    return place(b.add('dot_general', [g, other], { lhs_batch: gBatch, rhs_batch: [...otherBatch], lhs_contract: gOther, rhs_contract: otherFree }), orderA);
  };
  return [
    cotangent(a.lhs_batch, lf, a.lhs_contract, gL, r, a.rhs_batch, rf, a.rhs_contract, gR),
    cotangent(a.rhs_batch, rf, a.rhs_contract, gR, l, a.lhs_batch, lf, a.lhs_contract, gL),
  ];
}

/** A random contraction: shared batch and contracted axes, free axes on each side, shuffled. */
function dotCase(d: Draw) {
  const nb = d.int(0, 1);
  const nc = d.int(0, 2);
  const nlf = d.int(0, 2);
  const nrf = d.int(0, 2);
  const size = () => d.int(1, 3);
  const batch = Array.from({ length: nb }, size);
  const contract = Array.from({ length: nc }, size);
  const layout = (nf: number) => {
    const roles = [...batch.map((s, i) => ({ role: 'b', i, s })), ...contract.map((s, i) => ({ role: 'c', i, s })), ...Array.from({ length: nf }, (_, i) => ({ role: 'f', i, s: size() }))];
    const order: typeof roles = [];
    while (roles.length) order.push(roles.splice(d.int(0, roles.length - 1), 1)[0]!);
    const find = (role: string) => order.map((o, ax) => ({ ...o, ax })).filter((o) => o.role === role).sort((p, q) => p.i - q.i).map((o) => o.ax);
    return { shape: order.map((o) => o.s), batch: find('b'), contract: find('c') };
  };
  const L = layout(nlf);
  const R = layout(nrf);
  return {
    inputs: [
      { dtype: 'f32' as const, shape: L.shape },
      { dtype: 'f32' as const, shape: R.shape },
    ],
    attrs: { lhs_batch: L.batch, rhs_batch: R.batch, lhs_contract: L.contract, rhs_contract: R.contract },
  };
}

/**
 * slice(dot_general(l, r)) as dot_general(slice(l), slice(r)) when the slice restricts batch and
 * free axes only (a contracted axis is not in the output): the product computes just the part
 * that is read. Undefined when `dot` is not a product.
 */
export function sliceThroughDot(b: GraphBuilder, dot: Node, start: readonly number[], stop: readonly number[], step: readonly number[]): Node | undefined {
  if (dot.op !== 'dot_general') return undefined;
  const a = dot.attrs as unknown as DotAttrs;
  const [l, r] = dot.inputs as [Node, Node];
  const lf = freeAxes(l.type.shape.length, a.lhs_batch, a.lhs_contract);
  const rf = freeAxes(r.type.shape.length, a.rhs_batch, a.rhs_contract);
  const whole = (x: Node) => ({ start: x.type.shape.map(() => 0), stop: [...x.type.shape], step: x.type.shape.map(() => 1) });
  const ls = whole(l);
  const rs = whole(r);
  const set = (s: typeof ls, axis: number, d: number) => {
    s.start[axis] = start[d]!;
    s.stop[axis] = stop[d]!;
    s.step[axis] = step[d]!;
  };
  const nb = a.lhs_batch.length;
  start.forEach((_, d) => {
    if (d < nb) {
      set(ls, a.lhs_batch[d]!, d);
      set(rs, a.rhs_batch[d]!, d);
    } else if (d < nb + lf.length) set(ls, lf[d - nb]!, d);
    else set(rs, rf[d - nb - lf.length]!, d);
  });
  const cut = (x: Node, s: typeof ls) => (s.start.every((v, i) => v === 0 && s.stop[i] === x.type.shape[i] && s.step[i] === 1) ? x : b.add('slice', [x], s));
  return b.add('dot_general', [cut(l, ls), cut(r, rs)], dot.attrs);
}

export const dotGeneral = defineOp<DotAttrs>({
  name: 'dot_general',
  kind: 'contraction',
  doc: 'batched tensor contraction: Σ_k lhs[b, i, k] · rhs[b, k, j] over the named axes',
  arity: 2,
  attrs: { lhs_batch: 'ints', rhs_batch: 'ints', lhs_contract: 'ints', rhs_contract: 'ints' },
  infer([l, r], a) {
    const disjoint = (b: number[], c: number[]) => b.every((x) => !c.includes(x));
    if (
      !validAxes(l!, [...a.lhs_batch, ...a.lhs_contract]) ||
      !validAxes(r!, [...a.rhs_batch, ...a.rhs_contract]) ||
      a.lhs_batch.length !== a.rhs_batch.length ||
      a.lhs_contract.length !== a.rhs_contract.length ||
      !disjoint(a.lhs_batch, a.lhs_contract) ||
      !disjoint(a.rhs_batch, a.rhs_contract)
    ) {
      opError('DL0307', (w) => `invalid contraction axes for ${formatType(l!)} and ${formatType(r!)}${w}`);
    }
    if (l!.dtype !== r!.dtype || l!.dtype === 'bool') {
      opError('DL0303', (w) => `cannot multiply ${formatType(l!)} by ${formatType(r!)}${w}`, l!.dtype !== r!.dtype ? 'convert one side with `cast`' : undefined);
    }
    a.lhs_contract.forEach((la, i) => {
      const ra = a.rhs_contract[i]!;
      if (l!.shape[la] !== r!.shape[ra]) {
        opError('DL0301', (w) => `cannot contract ${l!.shape[la]} with ${r!.shape[ra]}${w}: left is ${formatType(l!)}, right is ${formatType(r!)}`);
      }
    });
    a.lhs_batch.forEach((la, i) => {
      const ra = a.rhs_batch[i]!;
      if (l!.shape[la] !== r!.shape[ra]) {
        opError('DL0302', (w) => `batch sizes ${l!.shape[la]} and ${r!.shape[ra]} differ${w}: left is ${formatType(l!)}, right is ${formatType(r!)}`);
      }
    });
    const lf = freeAxes(l!.shape.length, a.lhs_batch, a.lhs_contract);
    const rf = freeAxes(r!.shape.length, a.rhs_batch, a.rhs_contract);
    return {
      dtype: l!.dtype,
      shape: [...a.lhs_batch.map((d) => l!.shape[d]!), ...lf.map((d) => l!.shape[d]!), ...rf.map((d) => r!.shape[d]!)],
    };
  },
  evaluate([l, r], a, out) {
    const lf = freeAxes(l!.rank, a.lhs_batch, a.lhs_contract);
    const rf = freeAxes(r!.rank, a.rhs_batch, a.rhs_contract);
    const B = numel(a.lhs_batch.map((d) => l!.shape[d]!));
    const I = numel(lf.map((d) => l!.shape[d]!));
    const J = numel(rf.map((d) => r!.shape[d]!));
    const K = numel(a.lhs_contract.map((d) => l!.shape[d]!));
    const L = transposed(l!, [...a.lhs_batch, ...lf, ...a.lhs_contract]); // [B, I, K]
    const R = transposed(r!, [...a.rhs_batch, ...a.rhs_contract, ...rf]); // [B, K, J]
    const data = new Float64Array(B * I * J);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) {
        const lo = (b * I + i) * K;
        const oo = (b * I + i) * J;
        for (let k = 0; k < K; k++) {
          const lv = L[lo + k]!;
          const ro = (b * K + k) * J;
          // i32 wraps: each product with Math.imul, each partial sum with | 0 (docs/ops.md).
          if (out.dtype === 'i32') for (let j = 0; j < J; j++) data[oo + j] = (data[oo + j]! + Math.imul(lv, R[ro + j]!)) | 0;
          else for (let j = 0; j < J; j++) data[oo + j]! += lv * R[ro + j]!;
        }
      }
    }
    return new NDArray(out.shape, data);
  },
  cost([l, r], out, a) {
    const K = numel(a.lhs_contract.map((d) => l!.shape[d]!));
    return { flops: 2 * numel(out.shape) * K, bytes: (numel(l!.shape) + numel(r!.shape) + numel(out.shape)) * 4 };
  },
  vjp: dotVjp,
  expr: dotExpr,
  test: { sample: dotCase, order: 2 },
});
