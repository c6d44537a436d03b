/**
 * @file Liveness over the kernel schedule: for each arena temporary, the kernel that first writes
 * it and the kernel that last reads it (indices into `program.kernels`). Buffers of the state
 * space (inputs, parameters, optimizer state, outputs, constants) live across calls and are not
 * planned; only the arena is.
 */
import { loadsOf } from './expr.js';
import { loopCopyBuffers, type Kernel, type KernelProgram } from './program.js';

/** The buffers kernel k reads (loads in outputs, lets and epilogue; contraction operands; a routine's inputs, result and scratch). */
export function kernelReads(k: Kernel): Set<number> {
  const reads = new Set<number>();
  if (k.kind === 'map') {
    for (const o of k.outputs) loadsOf(o.value, reads);
    for (const l of k.lets ?? []) loadsOf(l.value, reads);
  } else if (k.kind === 'contraction') {
    reads.add(k.a.buf);
    reads.add(k.b.buf);
    if (k.epilogue) loadsOf(k.epilogue.value, reads);
  } else {
    for (const i of k.inputs) reads.add(i.buf);
    // A routine works in its result (and scratch) as it goes.
    reads.add(k.out);
    if (k.scratch) reads.add(k.scratch.buf);
  }
  return reads;
}

/** The buffers kernel k writes. */
export function kernelWrites(k: Kernel): number[] {
  if (k.kind === 'map') return k.outputs.map((o) => o.buf);
  return k.kind === 'routine' && k.scratch ? [k.out, k.scratch.buf] : [k.out];
}

/** An arena buffer's live range: it holds a value from kernel `first` through kernel `last` (inclusive). */
export interface LiveRange {
  readonly buf: number;
  readonly first: number;
  readonly last: number;
}

/**
 * The live range of every arena buffer, in buffer order. A buffer no kernel touches gets the
 * empty range at kernel 0 (it still needs no memory beyond its own).
 */
export function liveness(p: KernelProgram): LiveRange[] {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const touch = (buf: number, at: number) => {
    if (!first.has(buf)) first.set(buf, at);
    last.set(buf, at);
  };
  p.kernels.forEach((k, at) => {
    for (const b of kernelWrites(k)) touch(b, at);
    for (const b of kernelReads(k)) touch(b, at);
  });
  // A loop runs its kernels again and again: whatever it touches (its kernels, its copies) lives
  // through all of it (a loop inside another, through all of the outer one).
  for (const l of [...(p.loops ?? [])].sort((a, b) => b.depth - a.depth)) {
    const lo = l.first;
    const hi = l.first + l.count - 1;
    const touched = new Set(loopCopyBuffers(l));
    for (let at = lo; at <= hi; at++) {
      for (const b of kernelWrites(p.kernels[at]!)) touched.add(b);
      for (const b of kernelReads(p.kernels[at]!)) touched.add(b);
    }
    for (const b of touched) {
      first.set(b, Math.min(first.get(b) ?? lo, lo));
      last.set(b, Math.max(last.get(b) ?? hi, hi));
    }
  }
  return p.buffers.filter((b) => b.space === 'arena').map((b) => ({ buf: b.id, first: first.get(b.id) ?? 0, last: last.get(b.id) ?? 0 }));
}

/** Whether two live ranges share a kernel (their values are needed at the same time). */
export function overlapsInTime(a: { first: number; last: number }, b: { first: number; last: number }): boolean {
  return a.first <= b.last && b.first <= a.last;
}
