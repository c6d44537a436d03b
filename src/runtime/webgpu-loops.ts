/**
 * @file Loops on WebGPU (manifest `loops`): the body's pipelines are the kernels' own, created once
 * and dispatched at every step; the copies that move carries and per-step rows are dispatches of
 * one small copy shader, each with a fixed parameter block. Between two bodies one dispatch does
 * both the copies after a step and those before the next (where they touch disjoint memory), so a
 * step is its body plus one copy dispatch. The step is in no block: the GPU keeps it in the loop's
 * counter buffer (zeroed before the first step, advanced by the copies between steps), and the copy
 * shader reads it to offset its rows, so T steps record the same few blocks over and over. Imports
 * nothing from the compiler.
 */
import type { Manifest, ManifestCopy, ManifestLoop } from './manifest.js';

/**
 * The copy shader (bindings as every kernel's: state, arena, the parameter block). One dispatch
 * does every copy of a phase: workgroup row y does copy y. Block words: 0 copies, 1–2 the
 * counter word the step is read from (space, word), 3–4 the word the next step is written to
 * (thread 0, when 5 = 1: between two steps) or zeroed (when 5 = 2: before the first), 6 trips, 7 reverse;
 * copy j at 8 + 8j: source space, word, step; destination space, word, step; size; which step
 * (0: the counter's, 1: the next, for the copies before the next step's body). Source space 2 is
 * a fill: the source word is the value's bits.
 */
export const LOOP_COPY_WGSL = `@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;
fn w(i: u32) -> u32 { return P[i / 4u][i % 4u]; }
fn rd(space: u32, i: u32) -> u32 { if (space == 0u) { return S[i]; } if (space == 2u) { return i; } return A[i]; }
fn wr(space: u32, i: u32, v: u32) { if (space == 0u) { S[i] = v; } else { A[i] = v; } }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let mode = w(5u);
  if (g.x == 0u && g.y == 0u && mode != 0u) {
    var next = 0u;
    if (mode == 1u) { next = rd(w(1u), w(2u)) + 1u; }
    wr(w(3u), w(4u), next);
  }
  if (g.y >= w(0u)) { return; }
  let c = 8u + 8u * g.y;
  var t = 0u;
  if (w(c + 2u) != 0u || w(c + 5u) != 0u) {
    t = rd(w(1u), w(2u)) + w(c + 7u);
    if (w(7u) == 1u) { t = w(6u) - 1u - t; }
  }
  let src = w(c + 1u) + t * w(c + 2u);
  let dst = w(c + 4u) + t * w(c + 5u);
  let fill = w(c) == 2u;
  for (var i = g.x; i < w(c + 6u); i = i + nw.x * 64u) {
    wr(w(c + 3u), dst + i, select(rd(w(c), src + i), src, fill));
  }
}
`;

/** One dispatch of a run: a kernel (by index), or the copy shader with parameter block `block`. */
export type Dispatch = { readonly kernel: number } | { readonly block: number; readonly workgroups: readonly [number, number, number] };

/** The bits of a fill value as the buffer stores it (f32, or i32 and bool as integers). */
function bits(v: number, dtype: string): number {
  if (dtype !== 'f32') return (dtype === 'bool' ? (v ? 1 : 0) : v) >>> 0;
  return new Uint32Array(new Float32Array([v]).buffer)[0]!;
}

/** Elements each thread of a copy dispatch copies (at least). */
const COPY_PER_THREAD = 16;

/** Copies per dispatch (the block's 256 words: 8 of header, 8 per copy). */
const PER_BLOCK = 31;

/** A copy of a phase, and whether it is for the next step (before its body, done with the copies after this one). */
interface Staged {
  readonly c: ManifestCopy;
  readonly next: boolean;
}

/**
 * The copies after a step and before the next in one dispatch, or undefined where two of them
 * would touch the same memory (nothing orders the copies of one dispatch). A copy before the
 * step that reads a carry the copies after the step write reads the carry's new value where it
 * comes from instead.
 */
function betweenSteps(m: Manifest, l: ManifestLoop): Staged[] | undefined {
  const written = new Map(l.after.filter((c) => c.fill === undefined && c.srcStep === 0 && c.dstStep === 0 && c.srcOffset === 0 && c.dstOffset === 0).map((c) => [c.dst, c] as const));
  const before = l.before.map((c) => {
    const w = c.fill === undefined && c.srcStep === 0 ? written.get(c.src) : undefined;
    return w && c.srcOffset + c.size <= w.size ? { ...c, src: w.src } : c;
  });
  const all: Staged[] = [...l.after.map((c) => ({ c, next: false })), ...before.map((c) => ({ c, next: true }))];
  // Each copy's reach over all steps: [first word, last word) of its source and destination.
  const reach = (buf: number, offset: number, step: number, size: number) => {
    const at = m.buffers[buf]!.offset / 4 + offset;
    return { space: m.buffers[buf]!.space, lo: at, hi: at + step * (l.trips - 1) + size };
  };
  const reads = all.map(({ c }) => (c.fill === undefined ? reach(c.src, c.srcOffset, c.srcStep, c.size) : undefined));
  const writes = all.map(({ c }) => reach(c.dst, c.dstOffset, c.dstStep, c.size));
  const overlap = (a: { space: string; lo: number; hi: number }, b: { space: string; lo: number; hi: number }) => a.space === b.space && a.lo < b.hi && b.lo < a.hi;
  for (let i = 0; i < all.length; i++) {
    for (let j = 0; j < all.length; j++) {
      if (i === j) continue;
      if (overlap(writes[i]!, writes[j]!) || (reads[j] && overlap(writes[i]!, reads[j]!))) return undefined;
    }
  }
  return all;
}

/** The parameter blocks of the copy shader (u32 words) and the dispatches of one run, in order. */
export function loopSchedule(m: Manifest): { blocks: number[][]; dispatches: Dispatch[]; units: { name: string; from: number; to: number }[] } {
  const loops = [...(m.loops ?? [])].sort((a, b) => a.first - b.first || a.depth - b.depth);
  const blocks: number[][] = [];
  const word = (buf: number) => m.buffers[buf]!.offset / 4;
  const space = (buf: number) => (m.buffers[buf]!.space === 'state' ? 0 : 1);
  /**
   * The dispatches of one phase: its copies, reading the step from counter word `read` (plus one
   * for copies marked `next`); `mode` 1 writes read + 1 to word `write` (between two steps), 2
   * zeroes it (the start of the loop).
   */
  const phase = (l: ManifestLoop, cs: readonly Staged[], read: number, write: number, mode: 0 | 1 | 2): Dispatch[] => {
    const out: Dispatch[] = [];
    for (let at = 0; at < Math.max(cs.length, mode ? 1 : 0); at += PER_BLOCK) {
      const part = cs.slice(at, at + PER_BLOCK);
      const last = at + PER_BLOCK >= cs.length;
      const cnt = space(l.counter);
      const head = [part.length, cnt, word(l.counter) + read, cnt, word(l.counter) + write, last ? mode : 0, l.trips, l.reverse ? 1 : 0];
      // A fill reads no buffer: source space 2, its value's bits as the source word.
      const src = (c: ManifestCopy) => (c.fill !== undefined ? [2, bits(c.fill, m.buffers[c.dst]!.dtype), 0] : [space(c.src), word(c.src) + c.srcOffset, c.srcStep]);
      blocks.push([...head, ...part.flatMap(({ c, next }) => [...src(c), space(c.dst), word(c.dst) + c.dstOffset, c.dstStep, c.size, next ? 1 : 0])]);
      // Each thread copies COPY_PER_THREAD elements or more: lavapipe pays per workgroup (a
      // 16384-element copy took 0.8 ms as 256 workgroups of one element per thread, 0.2 ms as 16).
      const size = Math.max(1, ...part.map(({ c }) => c.size));
      out.push({ block: m.kernels.length + blocks.length - 1, workgroups: [Math.min(1024, Math.ceil(size / (64 * COPY_PER_THREAD))), Math.max(1, part.length), 1] });
    }
    return out;
  };
  const now = (cs: readonly ManifestCopy[]): Staged[] => cs.map((c) => ({ c, next: false }));
  const emit = (from: number, to: number, depth: number): Dispatch[] => {
    const out: Dispatch[] = [];
    for (let i = from; i < to; ) {
      const l = loops.find((x) => x.first === i && x.depth === depth);
      if (!l) {
        out.push({ kernel: i++ });
        continue;
      }
      // The step alternates between the counter's two words: the copies after step s read it
      // from one word and write s + 1 into the other, which the next step's copies read, so no
      // dispatch writes a word it reads.
      const body = emit(l.first, l.first + l.count, depth + 1);
      out.push(...phase(l, now(l.enter), 1, 0, 2));
      const between = betweenSteps(m, l);
      if (between) {
        const mid = [phase(l, between, 0, 1, 1), phase(l, between, 1, 0, 1)];
        const r = (l.trips - 1) % 2;
        out.push(...phase(l, now(l.before), 0, 0, 0));
        for (let t = 0; t + 1 < l.trips; t++) out.push(...body, ...mid[t % 2]!);
        out.push(...body, ...phase(l, now(l.after), r, r, 0));
      } else {
        const step = (r: number) => [...phase(l, now(l.before), r, 1 - r, 1), ...body, ...phase(l, now(l.after), r, r, 0)];
        const even = step(0);
        const odd = step(1);
        for (let t = 0; t < l.trips; t++) out.push(...(t % 2 ? odd : even));
      }
      out.push(...phase(l, now(l.exit), 0, 0, 0));
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
