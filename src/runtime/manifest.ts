/**
 * @file The manifest of a compiled program: memory layout, buffers, kernels and entry points.
 * Versioned from the start; the runtimes refuse a manifest version they do not know.
 */
import type { InitSpec } from './init.js';

/** The `format` of every program manifest. */
export const MANIFEST_FORMAT = 'dlc-program';
/** 2: WebGPU kernels name a shared shader (`shader`, an index into `shaders`) and carry `params`. */
export const MANIFEST_VERSION = 2;

export type DTypeName = 'f32' | 'i32' | 'bool';

/** A buffer of a program: where a tensor lives in one of the two memory spaces, and what it is. */
export interface ManifestBuffer {
  readonly name: string;
  /** `param`: a model parameter; `state`: optimizer state or a step counter (a name with a `/`). */
  readonly role: 'input' | 'param' | 'state' | 'output' | 'const' | 'temp';
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  readonly space: 'state' | 'arena';
  /** Byte offset in its space. */
  readonly offset: number;
  readonly init?: InitSpec;
  readonly values?: readonly number[];
  /**
   * An input holding class labels or indices: the values it may hold, lo..hi-1, and what it is
   * (`class labels of a one_hot over 10 classes`). The runtimes refuse others.
   */
  readonly range?: { readonly lo: number; readonly hi: number; readonly use: string };
}

/** A kernel of a program, in execution order: what it computes and where that came from in the source. */
export interface ManifestKernel {
  readonly name: string;
  /** `routine`: a linear-algebra algorithm per matrix (src/ir/routine.ts). */
  readonly kind: 'map' | 'contraction' | 'routine';
  /** The primitives this kernel computes. */
  readonly ops: readonly string[];
  /** `file:line:col` of the source of each primitive. */
  readonly sources: readonly string[];
  /** WebGPU: the kernel's shader, an index into `Manifest.shaders` (kernels share shaders). */
  readonly shader?: number;
  /**
   * WebGPU: the kernel's parameter block (u32 values: buffer offsets, loop bounds, constant
   * index terms), bound at binding 2 as a uniform `array<vec4<u32>, 64>` (1 KiB per kernel).
   */
  readonly params?: readonly number[];
  readonly workgroups?: readonly [number, number, number];
}

/**
 * A copy of a loop (src/kernel/program.ts `ProgramLoop`): `size` elements from buffer `src` (an
 * index into `buffers`) at element srcOffset + t·srcStep to buffer `dst` at dstOffset + t·dstStep.
 */
export interface ManifestCopy {
  readonly src: number;
  readonly srcOffset: number;
  readonly srcStep: number;
  readonly dst: number;
  readonly dstOffset: number;
  readonly dstStep: number;
  readonly size: number;
  /** When set, the destination is filled with this value instead (`src` is unused). */
  readonly fill?: number;
}

/**
 * Kernels first … first + count − 1 run `trips` times at t = 0 … trips − 1 (reversed when
 * `reverse`); copies move carries and rows: `enter` once, `before` and `after` each step, `exit`
 * once at the end. `counter` is an i32 buffer the WebGPU runtime keeps the step in (src/runtime/webgpu-loops.ts).
 */
export interface ManifestLoop {
  readonly name: string;
  readonly first: number;
  readonly count: number;
  readonly trips: number;
  readonly reverse: boolean;
  /** How many loops this one is inside. */
  readonly depth: number;
  /** An i32 buffer of two elements for the step (the WebGPU runtime counts the steps in it). */
  readonly counter: number;
  readonly enter: readonly ManifestCopy[];
  readonly before: readonly ManifestCopy[];
  readonly after: readonly ManifestCopy[];
  readonly exit: readonly ManifestCopy[];
}

/**
 * A compiled program's manifest (`manifest.json` of a bundle): memory layout, buffers, kernels and
 * entry points, versioned; docs/backends.md ("The manifest") describes every field.
 */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly name: string;
  readonly backend: 'js' | 'webgpu';
  readonly precision: 'f32' | 'f64';
  readonly state: { readonly bytes: number };
  readonly arena: { readonly bytes: number };
  /**
   * The arena's memory plan, in bytes: `naive` with no reuse, `peak` as planned (the arena's
   * size), `lowerBound` the most bytes live at one kernel; `inPlace` outputs written over a dying input.
   */
  readonly memory?: { readonly planner: string; readonly naive: number; readonly peak: number; readonly lowerBound: number; readonly inPlace: number; readonly buffers: number };
  readonly buffers: readonly ManifestBuffer[];
  readonly inputs: readonly string[];
  readonly params: readonly string[];
  readonly outputs: readonly string[];
  /** The parameters and optimizer state each call writes (a training step), in place in the state space. */
  readonly updates?: readonly string[];
  readonly kernels: readonly ManifestKernel[];
  /** Loops over ranges of `kernels` (programs with `for` loops that stay loops). */
  readonly loops?: readonly ManifestLoop[];
  /** WGSL files (relative to the manifest), each distinct shader once, when built for WebGPU. */
  readonly shaders?: readonly string[];
  /** The JavaScript module file, when the program was built for the JS backend. */
  readonly js?: string;
  /**
   * A safetensors file (relative to the manifest) with trained values for every parameter, when
   * the program was built with `--params`; the bundle loaders write them over the initializers.
   */
  readonly weights?: string;
  /**
   * Every other file of the program (the JS module, the shaders, the weights) with its size in
   * bytes and SHA-256 (lowercase hex): written by `dlc build`, checked by the bundle loaders.
   */
  readonly files?: readonly ManifestFile[];
  /**
   * The SHA-256 of this manifest's JSON without this field (`integrityText` in digest.ts): a
   * manifest edited after `dlc build` wrote it is refused by the bundle loaders.
   */
  readonly integrity?: string;
}

/** A file of a bundle: its name (relative to the file that lists it), size and SHA-256. */
export interface ManifestFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export const BUNDLE_FORMAT = 'dlc-bundle';
export const BUNDLE_VERSION = 1;

/**
 * `bundle.json`, at the top of a bundle directory written by `dlc build`: the program's
 * directory for each backend (each with its manifest.json) and every file of the bundle.
 */
export interface BundleIndex {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: number;
  readonly name: string;
  /** The directory of each backend's program, relative to bundle.json (`js`, `webgpu`). */
  readonly backends: { readonly js?: string; readonly webgpu?: string };
  /** README.md, index.d.ts and each backend's manifest.json, with sizes and SHA-256. */
  readonly files: readonly ManifestFile[];
  /** The SHA-256 of this file's JSON without this field, as a manifest's `integrity`. */
  readonly integrity: string;
}

/**
 * The manifest, when its format and version are this runtime's (else an Error). The bundle loaders
 * check much more (validate.ts: structure, integrity, files); this is the executors' quick check.
 */
export function checkManifest(m: unknown): Manifest {
  const x = m as Partial<Manifest> | null;
  if (!x || x.format !== MANIFEST_FORMAT) throw new Error('not a dlc program manifest');
  if (x.version !== MANIFEST_VERSION) throw new Error(`manifest version ${String(x.version)} is not supported (this runtime reads version ${MANIFEST_VERSION})`);
  return x as Manifest;
}

export function bufferByName(m: Manifest, name: string, role?: ManifestBuffer['role']): ManifestBuffer | undefined {
  return m.buffers.find((b) => b.name === name && (role === undefined || b.role === role));
}
