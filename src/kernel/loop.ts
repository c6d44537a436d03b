/**
 * @file Loops in a kernel program: a `scan` node (src/ir/ops/scan.ts) becomes its body's kernels,
 * built once from the body graph with a fusion plan of its own, and a `ProgramLoop` that runs them
 * `trips` times. Each carry gets a buffer the body reads; the initial values are copied in before
 * the first step and each step's new values after it; each per-step input gets a row buffer that a
 * copy fills at each step; captures are read where they are. The results go into the scan's packed
 * buffer: each stacked output's row after each step, the final carries after the last step.
 */
import type { Node } from '../ir/graph.js';
import { scanInputRole, scanParts, type ScanAttrs } from '../ir/ops/scan.js';
import { numel } from '../ir/types.js';
import { splatValue } from '../ir/const-value.js';
import type { Builder } from './build.js';
import { planFusion } from './fuse.js';
import type { Kernel, KernelProgram, LoopCopy, ProgramLoop } from './program.js';
import { readsBuffer, readsOnlyOwnElement, renameKernel } from './in-place.js';
import { kernelWrites } from './liveness.js';

const copy = (src: number, dst: number, size: number, at: { srcOffset?: number; srcStep?: number; dstOffset?: number; dstStep?: number } = {}): LoopCopy => ({
  src,
  dst,
  size,
  srcOffset: at.srcOffset ?? 0,
  srcStep: at.srcStep ?? 0,
  dstOffset: at.dstOffset ?? 0,
  dstStep: at.dstStep ?? 0,
});

/**
 * Where node n's elements lie contiguously in row-major order in a buffer (the buffer and the
 * element offset), looking through reshapes and slices of leading rows; undefined otherwise.
 */
function contiguous(b: Builder, n: Node): { buf: number; offset: number } | undefined {
  const own = b.bufferOf(n);
  if (own !== undefined) return { buf: own, offset: 0 };
  const x = n.inputs[0];
  if (n.op === 'reshape') return contiguous(b, x!);
  if (n.op !== 'slice') return undefined;
  const start = n.attrs['start'] as number[];
  const stop = n.attrs['stop'] as number[];
  const step = n.attrs['step'] as number[];
  const shape = x!.type.shape;
  if (step[0] !== 1 || shape.some((d, i) => i > 0 && (start[i] !== 0 || stop[i] !== d))) return undefined;
  const inner = contiguous(b, x!);
  return inner && { buf: inner.buf, offset: inner.offset + start[0]! * numel(shape.slice(1)) };
}

/** The kernels and loop of scan node n, writing its packed result into `out`. */
export function buildLoop(b: Builder, n: Node, out: number): void {
  const a = n.attrs as unknown as ScanAttrs;
  const body = n.body!;
  // Carries and rows are copied from where they are; captures are read in place, so they need buffers of their own.
  const views = n.inputs.map((x, i) => (scanInputRole(a, i) === 'capture' ? undefined : contiguous(b, x)));
  // An initial carry that is one value repeated (zeros) fills the carry's buffer: no kernel.
  const fills = n.inputs.map((x, i) => (scanInputRole(a, i) === 'carry' && !views[i] ? splatValue(x) : undefined));
  const ins = n.inputs.map((x, i) => views[i]?.buf ?? (fills[i] !== undefined ? -1 : b.ensureBuffer(x, 'loop_in')));
  const at = (i: number) => views[i]?.offset ?? 0;
  const enter: LoopCopy[] = [];
  const before: LoopCopy[] = [];
  const carryBuf: number[] = [];
  body.inputs.forEach((x, i) => {
    const role = scanInputRole(a, i);
    if (role === 'capture') {
      b.bind(x, ins[i]!);
      return;
    }
    const buf = b.addBuffer(`loop${n.id}_${role === 'carry' ? 'c' : 'x'}${i}`, x, 'arena', 'temp');
    b.bind(x, buf);
    const size = numel(x.type.shape);
    if (role === 'carry') {
      carryBuf.push(buf);
      enter.push(fills[i] !== undefined ? { ...copy(buf, buf, size), fill: fills[i] } : copy(ins[i]!, buf, size, { srcOffset: at(i) }));
    } else before.push(copy(ins[i]!, buf, size, { srcOffset: at(i), srcStep: size }));
  });
  const savedPlan = b.plan;
  b.plan = planFusion(body, b.fusion);
  b.bindSources(body, []);
  const first = b.kernels.length;
  b.depth++;
  b.buildNodes(body, new Map());
  // Each result's value in a buffer. A new carry must not be read from another carry's buffer
  // (the copies after the step would overwrite it first): such a value gets a temporary.
  const carrySet = new Set(carryBuf);
  const src = body.outputs.map((o, i) => {
    const have = b.bufferOf(o.node);
    const own = i < a.carries ? carryBuf[i] : undefined;
    if (have !== undefined && (!carrySet.has(have) || have === own || i >= a.carries)) return have;
    const buf = b.addBuffer(`loop${n.id}_r${i}`, o.node, 'arena', 'temp');
    b.mapKernel(o.node, buf, (idx) => b.read(o.node, idx));
    return buf;
  });
  // A body with no kernel of its own (every result is an input) still runs as a loop: one copy kernel.
  if (b.kernels.length === first) {
    const o = body.outputs[0]!;
    const buf = b.addBuffer(`loop${n.id}_r0`, o.node, 'arena', 'temp');
    b.mapKernel(o.node, buf, (idx) => b.read(o.node, idx));
    src[0] = buf;
  }
  b.depth--;
  b.plan = savedPlan;
  const parts = scanParts(body, a);
  const after: LoopCopy[] = [];
  const exit: LoopCopy[] = [];
  parts.forEach((p, i) => {
    if (!p.stacked) return;
    const row = p.size / a.trips;
    // A carry before the step (what a backward pass stores) is stacked before the body runs: the
    // body never writes a carry's buffer, and after the step the new carries are copied over it.
    (carrySet.has(src[i]!) ? before : after).push(copy(src[i]!, out, row, { dstOffset: p.offset, dstStep: row }));
  });
  parts.forEach((p, k) => {
    if (p.stacked) return;
    if (src[k] !== carryBuf[k]) after.push(copy(src[k]!, carryBuf[k]!, p.size));
    exit.push(copy(carryBuf[k]!, out, p.size, { dstOffset: p.offset }));
  });
  const counter = b.addBuffer(`loop${n.id}_step`, { ...n, type: { dtype: 'i32', shape: [2] } }, 'arena', 'temp');
  const loop: ProgramLoop = {
    name: `loop${n.id}`,
    first,
    count: b.kernels.length - first,
    trips: a.trips,
    reverse: a.reverse,
    depth: b.depth,
    counter,
    enter,
    before,
    after,
    exit,
    source: b.source([n]),
  };
  b.loops.push(loop);
}

/**
 * `merge` (sibling fusion) applied to each run of kernels between loop bounds on its own, so no
 * kernel moves into, out of or across a loop; the loops' ranges follow.
 */
export function mergeSiblingsInLoops(p: KernelProgram, merge: (ks: readonly Kernel[]) => Kernel[]): KernelProgram {
  const loops = p.loops ?? [];
  if (loops.length === 0) return { ...p, kernels: merge(p.kernels) };
  const cuts = [...new Set([0, p.kernels.length, ...loops.flatMap((l) => [l.first, l.first + l.count])])].sort((x, y) => x - y);
  const start = new Map<number, number>();
  const kernels: Kernel[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    start.set(cuts[i]!, kernels.length);
    kernels.push(...merge(p.kernels.slice(cuts[i], cuts[i + 1])));
  }
  start.set(p.kernels.length, kernels.length);
  return {
    ...p,
    kernels,
    loops: loops.map((l) => {
      const first = start.get(l.first)!;
      return { ...l, first, count: start.get(l.first + l.count)! - first };
    }),
  };
}

/**
 * A new carry computed by one kernel of the body straight into the carry's buffer, instead of into
 * a temporary copied over it after the step, where that is safe: the kernel has one output (or is a
 * matrix product) and reads the carry only at the element it writes, and no later kernel of the
 * step reads the carry (the stored carry before the step is copied before the body runs). A
 * gradient accumulated over the steps (Σ_t ∂W) is then one kernel per step and no copy.
 */
export function carriesInPlace(p: KernelProgram): KernelProgram {
  if (!p.loops?.length) return p;
  const kernels = [...p.kernels];
  const loops = p.loops.map((l) => {
    const carries = new Set(l.enter.map((c) => c.dst));
    // temporary → the carry it now is
    const into = new Map<number, number>();
    for (const c of l.after) {
      if (!carries.has(c.dst) || c.src === c.dst || into.has(c.src) || inPlaceWriter(kernels, l, c.src, c.dst, p) < 0) continue;
      into.set(c.src, c.dst);
      for (let i = l.first; i < l.first + l.count; i++) kernels[i] = renameKernel(kernels[i]!, (b) => (b === c.src ? c.dst : b));
    }
    // The copy into the carry goes; other copies of the temporary read the carry (the same value).
    const after = l.after.filter((c) => into.get(c.src) !== c.dst).map((c) => ({ ...c, src: into.get(c.src) ?? c.src }));
    return { ...l, after };
  });
  return { ...p, kernels, loops };
}

/** The index of the kernel that may write `temp` into `carry` in place, or -1. */
function inPlaceWriter(kernels: readonly Kernel[], l: ProgramLoop, temp: number, carry: number, p: KernelProgram): number {
  const end = l.first + l.count;
  const writers = kernels.map((k, i) => [k, i] as const).filter(([k, i]) => i >= l.first && i < end && kernelWrites(k).includes(temp));
  if (writers.length !== 1) return -1;
  const [k, at] = writers[0]!;
  if (p.buffers[temp]!.space !== 'arena' || p.buffers[temp]!.role !== 'temp') return -1;
  if (k.kind === 'map' && k.outputs.length !== 1) return -1;
  if (readsBuffer(k, carry) && !readsOnlyOwnElement(k, carry)) return -1;
  for (let i = at + 1; i < end; i++) if (readsBuffer(kernels[i]!, carry)) return -1;
  // Nothing outside the loop reads the temporary (it is the body's own).
  for (let i = 0; i < kernels.length; i++) if ((i < l.first || i >= end) && readsBuffer(kernels[i]!, temp)) return -1;
  if ((p.loops ?? []).some((o) => o !== l && [...o.enter, ...o.before, ...o.after, ...o.exit].some((c) => c.src === temp || c.dst === temp))) return -1;
  if (l.before.some((c) => c.src === temp) || l.exit.some((c) => c.src === temp)) return -1;
  return at;
}
