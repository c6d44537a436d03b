/**
 * @file dot_general: the one contraction primitive (matmul, batched matmul, matvec, outer
 * products, and convolutions after `unfold`). Output axes: batch, then lhs free, then rhs free.
 */
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, opError } from '../op.js';
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
          for (let j = 0; j < J; j++) data[oo + j]! += lv * R[ro + j]!;
        }
      }
    }
    return new NDArray(out.shape, data);
  },
  cost([l, r], out, a) {
    const K = numel(a.lhs_contract.map((d) => l!.shape[d]!));
    return { flops: 2 * numel(out.shape) * K, bytes: (numel(l!.shape) + numel(r!.shape) + numel(out.shape)) * 4 };
  },
});
