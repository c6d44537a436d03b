/**
 * @file The kernel report: for each kernel, the source lines it came from, the primitives it
 * computes, what it writes, its flops and bytes moved; and for each value stored in a buffer of
 * its own (a fusion that did not happen), why.
 */
import { spanLocation } from '../diagnostics/source.js';
import type { Graph, Node } from '../ir/graph.js';
import { costOf } from '../ir/op.js';
import { getOp } from '../ir/ops/index.js';
import { formatType } from '../ir/types.js';
import { buildKernels } from './build.js';
import { planFusion } from './fuse.js';
import { kernelReads, kernelWrites, liveness } from './liveness.js';
import { alignedBytes, planMemory, type MemoryOptions } from './memory.js';
import { loopOfKernel, type Kernel, type KernelProgram, type MemorySummary } from './program.js';

export interface KernelReportEntry {
  readonly name: string;
  readonly kind: Kernel['kind'];
  /** Row kernels compute per-row reductions once and reuse them. */
  readonly row: boolean;
  readonly ops: readonly string[];
  readonly lines: readonly string[];
  readonly outputs: readonly string[];
  readonly flops: number;
  readonly bytes: number;
  /** The loop the kernel runs in, with its trip count (flops and bytes are per step). */
  readonly loop?: string;
}

export interface RefusedFusion {
  readonly value: string;
  readonly op: string;
  readonly line: string;
  readonly reason: string;
}

export interface KernelReport {
  readonly name: string;
  readonly primitives: number;
  readonly unfused: number;
  readonly fused: number;
  readonly kernels: readonly KernelReportEntry[];
  readonly refused: readonly RefusedFusion[];
  /** The arena's memory plan (f32). */
  readonly memory: MemoryReport;
}

/** An arena buffer in the plan: where it lives (bytes) and when (kernel indices, inclusive). */
export interface ArenaBuffer {
  readonly name: string;
  readonly bytes: number;
  readonly offset: number;
  readonly first: number;
  readonly last: number;
}

export interface MemoryReport extends MemorySummary {
  readonly arena: readonly ArenaBuffer[];
}

/** The plan of a planned program's arena, buffer by buffer. */
export function memoryReport(p: KernelProgram, precision: 'f32' | 'f64' = 'f32'): MemoryReport {
  if (!p.memory) throw new Error('internal: memoryReport of a program without a memory plan');
  const arena = liveness(p).map((r) => {
    const b = p.buffers[r.buf]!;
    return { name: b.name, bytes: alignedBytes(b, precision), offset: b.offset, first: r.first, last: r.last };
  });
  return { ...p.memory, arena };
}

function bufferBytes(p: KernelProgram, ids: Iterable<number>): number {
  let b = 0;
  for (const id of ids) b += p.buffers[id]!.size * 4;
  return b;
}

export function kernelReport(g: Graph, memory: MemoryOptions = {}): KernelReport {
  const fused = planMemory(buildKernels(g), 'f32', memory);
  const unfused = buildKernels(g, { fuse: false });
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  // A kernel inside a loop computes nodes of the loop's body (node ids are the body's own).
  const inLoop = loopOfKernel(fused);
  const bodyIds = new Map((fused.loops ?? []).map((l) => [l, new Map((l.depth === 0 ? byId.get(l.source.nodes?.[0] ?? -1)?.body?.nodes ?? [] : []).map((n) => [n.id, n]))]));
  const kernels = fused.kernels.map((k, at): KernelReportEntry => {
    const loop = inLoop[at];
    const ids = loop ? bodyIds.get(loop)! : byId;
    const nodes = (k.source.nodes ?? []).map((id) => ids.get(id)).filter((n): n is Node => n !== undefined);
    const flops = nodes.reduce((s, n) => s + costOf(getOp(n.op), n.inputs.map((i) => i.type), n.type, n.attrs).flops, 0);
    const reads = kernelReads(k);
    const writes = kernelWrites(k);
    const lines = [...new Set(k.source.spans.map((s) => spanLocation(s).replace(/:\d+$/, '')))];
    return {
      name: k.name,
      kind: k.kind,
      row: k.kind === 'map' && (k.lets?.length ?? 0) > 0,
      ops: nodes.filter((n) => getOp(n.op).kind !== 'movement').map((n) => n.op),
      lines,
      outputs: writes.map((b) => `${fused.buffers[b]!.name}: ${formatType({ dtype: fused.buffers[b]!.dtype, shape: fused.buffers[b]!.shape })}`),
      flops,
      bytes: bufferBytes(fused, reads) + bufferBytes(fused, writes),
      ...(loop ? { loop: `${loop.name} × ${loop.trips}` } : {}),
    };
  });
  const plan = planFusion(g);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const refused: RefusedFusion[] = [];
  for (const [n, reason] of plan.reasons) {
    if (outputs.has(n) || (getOp(n.op).kind === 'contraction' && !reason.startsWith('no epilogue'))) continue;
    refused.push({ value: `%${n.id}: ${formatType(n.type)}`, op: n.op, line: n.span ? spanLocation(n.span) : '?', reason });
  }
  const primitives = g.nodes.filter((n) => getOp(n.op).kind !== 'source').length;
  return { name: g.name, primitives, unfused: unfused.kernels.length, fused: fused.kernels.length, kernels, refused, memory: memoryReport(fused) };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatKernelReport(r: KernelReport): string {
  const out = [`${r.name}: ${r.fused} kernels (${r.unfused} without fusion, ${r.primitives} primitives)`, ''];
  r.kernels.forEach((k, i) => {
    out.push(`${String(i).padStart(3)}  ${k.name}  [${k.kind}${k.row ? ', row' : ''}]  ${human(k.flops)}flop  ${human(k.bytes)}B${k.loop ? `  (per step of ${k.loop})` : ''}`);
    out.push(`     ops:     ${k.ops.join(' ') || '(copy)'}`);
    out.push(`     from:    ${k.lines.join(', ') || '?'}`);
    out.push(`     writes:  ${k.outputs.join(', ')}`);
  });
  if (r.refused.length) {
    out.push('', 'values stored in a buffer of their own instead of being fused into their readers:');
    for (const f of r.refused) out.push(`  ${f.value} ${f.op} (${f.line}): ${f.reason}`);
  }
  out.push('', ...formatMemory(r.memory));
  return out.join('\n') + '\n';
}

/** The memory lines of the report: the totals, then each arena buffer's bytes, offset and kernels. */
export function formatMemory(m: MemoryReport): string[] {
  const times = m.lowerBound > 0 ? ` (${(m.peak / m.lowerBound).toFixed(2)}x)` : '';
  const out = [
    `memory (arena, f32): planned peak ${human(m.peak)}B with ${m.planner}; lower bound ${human(m.lowerBound)}B${times}; no reuse ${human(m.naive)}B`,
    `     ${m.buffers} temporaries, ${m.inPlace} written in place over an input that dies at their kernel`,
  ];
  const width = Math.max(0, ...m.arena.map((b) => b.name.length));
  for (const b of m.arena) out.push(`  ${b.name.padEnd(width)}  ${human(b.bytes).padStart(7)}B  at ${String(b.offset).padStart(8)}  kernels ${b.first}..${b.last}`);
  return out;
}
