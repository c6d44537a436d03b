/**
 * @file A kernel program: buffers with a memory plan, and kernels in execution order. This is
 * what both backends render and what the bundle manifest describes.
 */
import type { Span } from '../diagnostics/source.js';
import type { DType } from '../ir/types.js';
import type { InitSpec } from '../runtime/init.js';
import type { Expr } from './expr.js';

/**
 * `state` holds what lives across calls and is seen by the caller (inputs, parameters,
 * outputs, constants); `arena` holds intermediates.
 */
export type Space = 'state' | 'arena';
export type BufferRole = 'input' | 'param' | 'output' | 'const' | 'temp';

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

/** A strided operand: element (b, r, c) is at offset + b·sb + r·sr + c·sc. */
export interface Strided {
  readonly buf: number;
  readonly offset: number;
  readonly sb: number;
  readonly sr: number;
  readonly sc: number;
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

export type Kernel = MapKernel | ContractionKernel;

export interface Binding {
  readonly name: string;
  readonly buf: number;
}

export interface KernelProgram {
  readonly name: string;
  readonly buffers: readonly BufferInfo[];
  readonly kernels: readonly Kernel[];
  readonly inputs: readonly Binding[];
  readonly params: readonly Binding[];
  readonly outputs: readonly Binding[];
  /** Bytes of each space after planning. */
  stateBytes: number;
  arenaBytes: number;
}
