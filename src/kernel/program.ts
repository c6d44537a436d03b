/**
 * @file A kernel program: buffers with a memory plan, and kernels in execution order. This is
 * what both backends render and what the bundle manifest describes.
 */
import type { Span } from '../diagnostics/source.js';
import type { Attrs } from '../ir/op.js';
import type { DType } from '../ir/types.js';
import type { InitSpec } from '../runtime/init.js';
import type { ManifestCopy, ManifestLoop } from '../runtime/manifest.js';
import type { Expr } from './expr.js';

/**
 * `state` holds what lives across calls and is seen by the caller (inputs, parameters,
 * outputs, constants); `arena` holds intermediates.
 */
export type Space = 'state' | 'arena';
/** `param`: a model parameter; `state`: optimizer state or a step counter (its name has a `/`). */
export type BufferRole = 'input' | 'param' | 'state' | 'output' | 'const' | 'temp';

export interface BufferInfo {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
  readonly space: Space;
  readonly role: BufferRole;
  /** Byte offset in its space, from the memory plan. */
  offset: number;
  readonly values?: readonly number[];
  readonly init?: InitSpec;
  /** The source of the value this buffer holds (for device-limit diagnostics). */
  readonly span?: Span;
}

/** Where a kernel came from, for reports and for errors in generated code. */
export interface KernelSource {
  readonly ops: readonly string[];
  readonly spans: readonly Span[];
  /** Ids of the IR nodes computed in the kernel. */
  readonly nodes?: readonly number[];
}

/** A value computed once per outer index and referred to by name (`ref`) in the outputs. */
export interface KernelLet {
  readonly name: string;
  readonly value: Expr;
}

/**
 * Every element of `domain` gets each output's value (row-major into the output buffer). In a
 * row kernel, the axes listed in `inner` form the row: `lets` are computed once per index of
 * the other (outer) axes, before the row's elements.
 */
export interface MapKernel {
  readonly kind: 'map';
  readonly name: string;
  readonly domain: readonly number[];
  /** Loop index names, one per domain axis. */
  readonly vars: readonly string[];
  readonly outputs: readonly { readonly buf: number; readonly value: Expr }[];
  readonly lets?: readonly KernelLet[];
  /** Positions in `domain` of the row axes (empty or absent: no row). */
  readonly inner?: readonly number[];
  readonly source: KernelSource;
}

/** One axis of an operand's batch, row or column group: its size and its stride in the buffer. */
export interface Level {
  readonly n: number;
  readonly stride: number;
}

/**
 * A strided operand: element (b, r, c) is at offset + b·sb + r·sr + c·sc. When a group is made
 * of axes that do not merge into one stride (the heads of a multi-head attention, a transposed
 * batch), `levels` lists each group's axes, outermost first, and the index of a group is split
 * into digits over them (`sb`, `sr`, `sc` are then unused).
 */
export interface Strided {
  readonly buf: number;
  readonly offset: number;
  readonly sb: number;
  readonly sr: number;
  readonly sc: number;
  readonly levels?: { readonly b: readonly Level[]; readonly r: readonly Level[]; readonly c: readonly Level[] };
}

/**
 * The offset of index `i` (code) in a group of levels, as code: Σ digit_k · stride_k. `div`
 * and `mod` spell integer division and remainder in the target language.
 */
export function levelOffset(levels: readonly Level[], i: string, div: (a: string, b: number) => string, mod: (a: string, b: number) => string): string {
  const terms: string[] = [];
  let inner = 1;
  for (let k = levels.length - 1; k >= 0; k--) {
    const { n, stride } = levels[k]!;
    if (stride !== 0 && n > 1) {
      const q = inner === 1 ? i : div(i, inner);
      const digit = k === 0 ? q : mod(q, n);
      terms.push(stride === 1 ? `(${digit})` : `(${digit}) * ${stride}`);
    }
    inner *= n;
  }
  return terms.length ? terms.join(' + ') : '0';
}

/** C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n], C contiguous [B, M, N]. Backends tile it. */
export interface ContractionKernel {
  readonly kind: 'contraction';
  readonly name: string;
  readonly out: number;
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: Strided;
  readonly b: Strided;
  readonly dtype: DType;
  /**
   * Computed from each result `acc` (a `ref`) before it is stored; `vars` name the multi-index
   * of the result in `shape` (the contraction's output shape).
   */
  readonly epilogue?: { readonly vars: readonly string[]; readonly shape: readonly number[]; readonly value: Expr; readonly t: DType };
  readonly source: KernelSource;
}

/**
 * An op's routine (src/ir/routine.ts) over each of `batch` matrices: input k's matrix bt starts
 * at element bt·inputs[k].size of its (contiguous) buffer, the result's at bt·outSize, the
 * scratch area's at bt·scratch.size.
 */
export interface RoutineKernel {
  readonly kind: 'routine';
  readonly name: string;
  /** The op whose routine this is. */
  readonly op: string;
  readonly attrs: Attrs;
  readonly batch: number;
  /** The routine's sizes (`Routine.dims`). */
  readonly dims: readonly number[];
  readonly inputs: readonly { readonly buf: number; readonly size: number }[];
  readonly out: number;
  readonly outSize: number;
  readonly scratch?: { readonly buf: number; readonly size: number };
  readonly source: KernelSource;
}

export type Kernel = MapKernel | ContractionKernel | RoutineKernel;

export interface Binding {
  readonly name: string;
  readonly buf: number;
}

/**
 * A copy of `size` elements between two buffers of one dtype, from element srcOffset + t·srcStep
 * to dstOffset + t·dstStep at step t of its loop (steps 0 for copies made once).
 */
export type LoopCopy = ManifestCopy;

/**
 * A loop (a `scan`, src/ir/ops/scan.ts): kernels `first` … `first + count − 1` (its body, compiled
 * once) run `trips` times, at t = 0 … trips − 1 (t = trips − 1 … 0 when `reverse`). The carries
 * and per-step rows move by copies: `enter` once before the first step (the initial carries),
 * `before` at each step before the body (the rows of the per-step inputs), `after` at each step
 * after it (the rows of the stacked outputs, then the new carries), `exit` once after the last
 * step (the final carries into the result). A loop inside a loop has a range inside its range.
 */
export interface ProgramLoop extends ManifestLoop {
  readonly source: KernelSource;
}

/** The buffers a loop's copies read and write. */
export function loopCopyBuffers(l: ProgramLoop): number[] {
  return [l.counter, ...[...l.enter, ...l.before, ...l.after, ...l.exit].flatMap((c) => [c.src, c.dst])];
}

/** The innermost loop each kernel is in (undefined: none), by kernel index. */
export function loopOfKernel(p: KernelProgram): (ProgramLoop | undefined)[] {
  const out: (ProgramLoop | undefined)[] = p.kernels.map(() => undefined);
  for (const l of [...(p.loops ?? [])].sort((a, b) => a.depth - b.depth)) for (let i = l.first; i < l.first + l.count; i++) out[i] = l;
  return out;
}

export interface KernelProgram {
  readonly name: string;
  readonly buffers: readonly BufferInfo[];
  readonly kernels: readonly Kernel[];
  /** The loops over ranges of `kernels` (none: the kernels run once, in order). */
  readonly loops?: readonly ProgramLoop[];
  readonly inputs: readonly Binding[];
  readonly params: readonly Binding[];
  readonly outputs: readonly Binding[];
  /** The states each call writes (a training step's parameters and optimizer state), by buffer. */
  readonly updates: readonly Binding[];
  /** Bytes of each space after planning. */
  stateBytes: number;
  arenaBytes: number;
  /** What the memory plan of the arena achieved (src/kernel/memory.ts). */
  memory?: MemorySummary;
}

/** The arena plan's numbers, in bytes (each buffer's size rounded up to the 256-byte alignment). */
export interface MemorySummary {
  /** The planner that placed the buffers. */
  readonly planner: 'none' | 'greedy-by-size' | 'best-fit';
  /** Every temporary in a range of its own (no reuse). */
  readonly naive: number;
  /** The arena the plan needs: the highest end of any buffer. */
  readonly peak: number;
  /** The largest sum of bytes live at one kernel: no plan of these buffers needs less. */
  readonly lowerBound: number;
  /** Temporaries written over an input that dies at the writing kernel. */
  readonly inPlace: number;
  /** Arena buffers planned. */
  readonly buffers: number;
}
