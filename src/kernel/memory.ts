/**
 * @file The memory plan: byte offsets for every buffer in its space. The state space (inputs,
 * parameters, optimizer state, outputs, constants) lives across calls, so each of its buffers
 * keeps a range of its own. The arena holds temporaries, and a temporary needs its memory only
 * from the kernel that writes it to the last kernel that reads it (src/kernel/liveness.ts): the
 * planner places temporaries whose live ranges do not meet over the same bytes.
 *
 * - In place: a map kernel whose input temporary dies at that kernel, and that reads it only at
 *   the element it writes (the renderers compute all of an element's outputs before storing any),
 *   writes its output over that input. The two become one block of memory.
 * - Placement, two planners (measured in bench/memory.mjs, the better is the default):
 *   `greedy-by-size` (TFLite's GREEDY_BY_SIZE): blocks by decreasing size, each in the smallest
 *   gap between the blocks already placed that live at the same time, else above them;
 *   `best-fit` (XLA's heap simulator): the schedule is simulated kernel by kernel, each new block
 *   (largest first) taking the best-fitting free chunk, blocks freed after their last kernel.
 *
 * Offsets are aligned to 256 bytes, WebGPU's minimum storage-buffer offset alignment. Buffers of
 * different dtypes may share bytes: both spaces are one ArrayBuffer (one GPU buffer) seen as
 * float and int arrays.
 */
import type { DType } from '../ir/types.js';
import { readsOnlyOwnElement } from './in-place.js';
import { kernelReads, liveness, overlapsInTime, type LiveRange } from './liveness.js';
import type { Expr } from './expr.js';
import { loopOfKernel, type BufferInfo, type KernelProgram, type MapKernel, type MemorySummary } from './program.js';

export const ALIGN = 256;

export type Precision = 'f32' | 'f64';

export type Planner = MemorySummary['planner'];

/** The planner used unless one is asked for (the better on the examples and workloads). */
export const DEFAULT_PLANNER: Planner = 'greedy-by-size';

export interface MemoryOptions {
  /** `none`: every temporary in a range of its own. Default DEFAULT_PLANNER. */
  readonly planner?: Planner;
  /** Outputs written over inputs that die at their kernel (default true; never with `none`). */
  readonly inPlace?: boolean;
  /**
   * Programs that share their persistent state (several training steps over one model): the
   * state-space offset of each parameter and optimizer state by name, and where the program's
   * other state buffers (inputs, outputs, constants) begin. See src/codegen/compile-shared.ts.
   */
  readonly stateLayout?: StateLayout;
}

export interface StateLayout {
  readonly fixed: ReadonlyMap<string, number>;
  readonly base: number;
}

/** Whether a state-space buffer lives across calls (a parameter or optimizer state). */
export function isPersistent(b: BufferInfo): boolean {
  return b.role === 'param' || b.role === 'state';
}

export function elementBytes(dtype: DType, precision: Precision): number {
  return dtype === 'f32' && precision === 'f64' ? 8 : 4;
}

/** A buffer's bytes, rounded up to the alignment (at least one element). */
export function alignedBytes(b: BufferInfo, precision: Precision): number {
  return Math.ceil(Math.max(b.size * elementBytes(b.dtype, precision), 4) / ALIGN) * ALIGN;
}

/** Temporaries that share memory, one after another: a buffer and the outputs written over it. */
export interface Block {
  readonly bufs: readonly number[];
  readonly first: number;
  readonly last: number;
  readonly bytes: number;
  offset: number;
}

function hasReduction(e: Expr): boolean {
  switch (e.k) {
    case 'red':
      return true;
    case 'load':
      return hasReduction(e.i);
    case 'op':
      return e.a.some(hasReduction);
    case 'ix':
      return hasReduction(e.a) || hasReduction(e.b);
    default:
      return false;
  }
}

/**
 * Whether map kernel k may write arena buffer `out` over arena buffer `input`, which it reads and
 * which no later kernel reads: k reads `input` only at the element it writes, has no per-row
 * values or reductions (whose threads read elements that another thread writes), and the two
 * have the same element size (so element i of both is at the same bytes).
 */
export function mayWriteOver(p: KernelProgram, k: MapKernel, out: number, input: number, precision: Precision): boolean {
  const o = p.buffers[out]!;
  const i = p.buffers[input]!;
  if (o.space !== 'arena' || i.space !== 'arena' || out === input) return false;
  if (elementBytes(o.dtype, precision) !== elementBytes(i.dtype, precision)) return false;
  if ((k.lets?.length ?? 0) > 0 || k.outputs.some((x) => hasReduction(x.value))) return false;
  if (!k.outputs.some((x) => x.buf === out) || k.outputs.some((x) => x.buf === input)) return false;
  return kernelReads(k).has(input) && readsOnlyOwnElement(k, input);
}

/** The arena's blocks: one per temporary, or several joined where an output is written in place. */
export function arenaBlocks(p: KernelProgram, precision: Precision, inPlace: boolean): { blocks: Block[]; inPlace: number; ranges: LiveRange[] } {
  const ranges = liveness(p);
  const rangeOf = new Map(ranges.map((r) => [r.buf, r] as const));
  const groups = new Map<number, { bufs: number[]; first: number; last: number; bytes: number }>();
  const groupOf = new Map<number, number>();
  for (const r of ranges) {
    groups.set(r.buf, { bufs: [r.buf], first: r.first, last: r.last, bytes: alignedBytes(p.buffers[r.buf]!, precision) });
    groupOf.set(r.buf, r.buf);
  }
  let joined = 0;
  if (inPlace) {
    // Not inside a loop: its next step reads again what a kernel would write over.
    const inLoop = loopOfKernel(p);
    p.kernels.forEach((k, at) => {
      if (k.kind !== 'map' || inLoop[at]) return;
      const used = new Set<number>();
      for (const o of k.outputs) {
        const ro = rangeOf.get(o.buf);
        if (!ro || ro.first !== at || groups.get(groupOf.get(o.buf)!)!.bufs.length > 1) continue;
        const ob = alignedBytes(p.buffers[o.buf]!, precision);
        let best: number | undefined;
        let bestCost = Infinity;
        for (const input of kernelReads(k)) {
          const ri = rangeOf.get(input);
          if (!ri || ri.last !== at || ri.first >= at || used.has(input) || !mayWriteOver(p, k, o.buf, input, precision)) continue;
          const gb = groups.get(groupOf.get(input)!)!.bytes;
          // The block that fits the output most tightly; one that must grow costs its growth more.
          const cost = gb >= ob ? gb - ob : (ob - gb) * 4;
          if (cost < bestCost) [best, bestCost] = [input, cost];
        }
        if (best === undefined) continue;
        used.add(best);
        const g = groups.get(groupOf.get(best)!)!;
        g.bufs.push(o.buf);
        g.last = Math.max(g.last, ro.last);
        g.bytes = Math.max(g.bytes, ob);
        groups.delete(o.buf);
        groupOf.set(o.buf, groupOf.get(best)!);
        joined++;
      }
    });
  }
  const blocks = [...groups.values()].map((g) => ({ ...g, offset: 0 }));
  return { blocks, inPlace: joined, ranges };
}

/** The largest sum of bytes of blocks live at one kernel. */
export function lowerBound(blocks: readonly Block[]): number {
  const events: [number, number][] = [];
  for (const b of blocks) events.push([b.first, b.bytes], [b.last + 1, -b.bytes]);
  // At one kernel index, frees (of blocks whose last kernel was the one before) come first.
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let live = 0;
  let most = 0;
  for (const [, d] of events) {
    live += d;
    most = Math.max(most, live);
  }
  return most;
}

function bySize(a: Block, b: Block): number {
  return b.bytes - a.bytes || a.first - b.first || a.bufs[0]! - b.bufs[0]!;
}

/** TFLite's greedy by size: largest first, each into the tightest gap among blocks live with it. */
function greedyBySize(blocks: Block[]): void {
  const placed: Block[] = [];
  for (const b of [...blocks].sort(bySize)) {
    const near = placed.filter((x) => overlapsInTime(x, b)).sort((x, y) => x.offset - y.offset);
    let at = 0;
    let best = -1;
    let bestGap = Infinity;
    for (const x of near) {
      const gap = x.offset - at;
      if (gap >= b.bytes && gap < bestGap) [best, bestGap] = [at, gap];
      at = Math.max(at, x.offset + x.bytes);
    }
    b.offset = best >= 0 ? best : at;
    placed.push(b);
  }
}

/** XLA's heap simulator with a best-fit heap: allocations and frees in schedule order. */
function bestFit(blocks: Block[], kernels: number): void {
  let free: { at: number; n: number }[] = [];
  let top = 0;
  const born = new Map<number, Block[]>();
  const dies = new Map<number, Block[]>();
  for (const b of blocks) {
    born.set(b.first, [...(born.get(b.first) ?? []), b]);
    dies.set(b.last, [...(dies.get(b.last) ?? []), b]);
  }
  for (let t = 0; t < Math.max(kernels, 1); t++) {
    for (const b of (born.get(t) ?? []).sort(bySize)) {
      let best = -1;
      for (let c = 0; c < free.length; c++) if (free[c]!.n >= b.bytes && (best < 0 || free[c]!.n < free[best]!.n)) best = c;
      if (best >= 0) {
        const c = free[best]!;
        b.offset = c.at;
        c.at += b.bytes;
        c.n -= b.bytes;
        if (c.n === 0) free.splice(best, 1);
      } else {
        // No chunk fits: grow the heap, starting in a free chunk at its top.
        const last = free[free.length - 1];
        if (last && last.at + last.n === top) {
          b.offset = last.at;
          free.pop();
        } else b.offset = top;
        top = b.offset + b.bytes;
      }
    }
    for (const b of dies.get(t) ?? []) {
      free.push({ at: b.offset, n: b.bytes });
      free.sort((x, y) => x.at - y.at);
      const merged: { at: number; n: number }[] = [];
      for (const c of free) {
        const prev = merged[merged.length - 1];
        if (prev && prev.at + prev.n === c.at) prev.n += c.n;
        else merged.push({ ...c });
      }
      free = merged;
    }
  }
}

/** Places the arena's blocks; returns the arena's peak. */
export function placeBlocks(blocks: Block[], planner: Planner, kernels: number): number {
  if (planner === 'none') {
    let at = 0;
    for (const b of blocks) {
      b.offset = at;
      at += b.bytes;
    }
  } else if (planner === 'greedy-by-size') greedyBySize(blocks);
  else bestFit(blocks, kernels);
  return blocks.reduce((m, b) => Math.max(m, b.offset + b.bytes), 0);
}

/** Sets every buffer's offset, both spaces' sizes and `p.memory`. */
export function planMemory(p: KernelProgram, precision: Precision, opts: MemoryOptions = {}): KernelProgram {
  const planner = opts.planner ?? DEFAULT_PLANNER;
  const layout = opts.stateLayout;
  let state = layout?.base ?? 0;
  let end = state;
  for (const b of p.buffers) {
    if (b.space !== 'state') continue;
    const fixed = isPersistent(b) ? layout?.fixed.get(b.name) : undefined;
    if (fixed !== undefined) {
      b.offset = fixed;
      end = Math.max(end, fixed + alignedBytes(b, precision));
      continue;
    }
    b.offset = state;
    state += alignedBytes(b, precision);
  }
  state = Math.max(state, end);
  const { blocks, inPlace } = arenaBlocks(p, precision, planner !== 'none' && opts.inPlace !== false);
  const peak = placeBlocks(blocks, planner, p.kernels.length);
  for (const blk of blocks) for (const id of blk.bufs) p.buffers[id]!.offset = blk.offset;
  const naive = p.buffers.filter((b) => b.space === 'arena').reduce((s, b) => s + alignedBytes(b, precision), 0);
  p.stateBytes = Math.max(state, ALIGN);
  p.arenaBytes = Math.max(peak, ALIGN);
  p.memory = { planner, naive, peak, lowerBound: lowerBound(blocks), inPlace, buffers: blocks.reduce((s, b) => s + b.bufs.length, 0) };
  return p;
}

/**
 * Pairs of arena buffers that hold values at the same kernel and share bytes, other than an
 * output written in place over an input dying at its kernel (`mayWriteOver`). A correct plan has none.
 */
export function memoryConflicts(p: KernelProgram, precision: Precision): string[] {
  const ranges = liveness(p);
  const out: string[] = [];
  for (let x = 0; x < ranges.length; x++) {
    for (let y = x + 1; y < ranges.length; y++) {
      const a = ranges[x]!;
      const b = ranges[y]!;
      if (!overlapsInTime(a, b)) continue;
      const A = p.buffers[a.buf]!;
      const B = p.buffers[b.buf]!;
      const aEnd = A.offset + A.size * elementBytes(A.dtype, precision);
      const bEnd = B.offset + B.size * elementBytes(B.dtype, precision);
      if (aEnd <= B.offset || bEnd <= A.offset) continue;
      const [before, after] = a.first <= b.first ? [a, b] : [b, a];
      const k = p.kernels[after.first];
      const inPlace =
        before.last === after.first && before.first < after.first && p.buffers[before.buf]!.offset === p.buffers[after.buf]!.offset && k?.kind === 'map' && mayWriteOver(p, k, after.buf, before.buf, precision);
      if (!inPlace) out.push(`${A.name} (kernels ${a.first}..${a.last}, bytes ${A.offset}..${aEnd}) and ${B.name} (kernels ${b.first}..${b.last}, bytes ${B.offset}..${bEnd})`);
    }
  }
  return out;
}
