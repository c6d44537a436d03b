/**
 * @file Loops on WebGPU (manifest `loops`): the body's pipelines are the kernels' own, created once
 * and dispatched at every step; the copies that move carries and per-step rows are dispatches of
 * one small copy shader, each with a fixed parameter block. The step is not in any block: the GPU
 * keeps it in the loop's counter buffer (reset before the first step, incremented after each), and
 * the copy shader reads it to offset its rows, so recording T steps records the same dispatches T
 * times with the same dynamic offsets. Imports nothing from the compiler.
 */
import type { Manifest, ManifestCopy, ManifestLoop } from './manifest.js';

/** The copy shader (bindings as every kernel's: state, arena, the parameter block). */
export const LOOP_COPY_WGSL = `@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;
fn w(i: u32) -> u32 { return P[i / 4u][i % 4u]; }
fn rd(space: u32, i: u32) -> u32 { if (space == 0u) { return S[i]; } return A[i]; }
fn wr(space: u32, i: u32, v: u32) { if (space == 0u) { S[i] = v; } else { A[i] = v; } }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let mode = w(11u);
  if (mode == 1u) { if (g.x == 0u && g.y == 0u) { wr(w(7u), w(8u), 0u); } return; }
  if (mode == 2u) { if (g.x == 0u && g.y == 0u) { wr(w(7u), w(8u), rd(w(7u), w(8u)) + 1u); } return; }
  let c = rd(w(7u), w(8u));
  var t = c;
  if (w(10u) == 1u) { t = w(9u) - 1u - c; }
  let i = g.x + g.y * nw.x * 64u;
  if (i >= w(6u)) { return; }
  wr(w(3u), w(4u) + t * w(5u) + i, rd(w(0u), w(1u) + t * w(2u) + i));
}
`;

/** One dispatch of a run: a kernel (by index), or the copy shader with parameter block `block`. */
export type Dispatch = { readonly kernel: number } | { readonly block: number; readonly workgroups: readonly [number, number, number] };

const MODE = { copy: 0, reset: 1, increment: 2 } as const;

/** The parameter blocks of the copy shader (u32 words) and the dispatches of one run, in order. */
export function loopSchedule(m: Manifest): { blocks: number[][]; dispatches: Dispatch[]; units: { name: string; from: number; to: number }[] } {
  const loops = [...(m.loops ?? [])].sort((a, b) => a.first - b.first || a.depth - b.depth);
  const blocks: number[][] = [];
  const word = (buf: number) => m.buffers[buf]!.offset / 4;
  const space = (buf: number) => (m.buffers[buf]!.space === 'state' ? 0 : 1);
  const block = (l: ManifestLoop, mode: number, c?: ManifestCopy): Dispatch => {
    const cnt = [space(l.counter), word(l.counter), l.trips, l.reverse ? 1 : 0, mode];
    const copy = c ? [space(c.src), word(c.src) + c.srcOffset, c.srcStep, space(c.dst), word(c.dst) + c.dstOffset, c.dstStep, c.size] : [0, 0, 0, 0, 0, 0, 0];
    blocks.push([...copy, ...cnt]);
    const groups = Math.max(1, Math.ceil((c?.size ?? 1) / 64));
    const x = Math.min(groups, 65535);
    return { block: m.kernels.length + blocks.length - 1, workgroups: [x, Math.ceil(groups / x), 1] };
  };
  const emit = (from: number, to: number, depth: number): Dispatch[] => {
    const out: Dispatch[] = [];
    for (let i = from; i < to; ) {
      const l = loops.find((x) => x.first === i && x.depth === depth);
      if (!l) {
        out.push({ kernel: i++ });
        continue;
      }
      const step = [...l.before.map((c) => block(l, MODE.copy, c)), ...emit(l.first, l.first + l.count, depth + 1), ...l.after.map((c) => block(l, MODE.copy, c)), block(l, MODE.increment)];
      out.push(block(l, MODE.reset), ...l.enter.map((c) => block(l, MODE.copy, c)));
      for (let t = 0; t < l.trips; t++) out.push(...step);
      out.push(...l.exit.map((c) => block(l, MODE.copy, c)));
      i = l.first + l.count;
    }
    return out;
  };
  // The top level in units: each kernel, each loop (for error scopes that name what failed).
  const dispatches: Dispatch[] = [];
  const units: { name: string; from: number; to: number }[] = [];
  for (let i = 0; i < m.kernels.length; ) {
    const l = loops.find((x) => x.first === i && x.depth === 0);
    const from = dispatches.length;
    dispatches.push(...emit(i, l ? l.first + l.count : i + 1, 0));
    units.push({ name: l ? `${l.name} (kernels ${m.kernels[l.first]!.name} … ${m.kernels[l.first + l.count - 1]!.name}, ${l.trips} steps)` : m.kernels[i]!.name, from, to: dispatches.length });
    i = l ? l.first + l.count : i + 1;
  }
  return { blocks, dispatches, units };
}
