/**
 * @file From an optimized IR graph to a runnable program for a backend: kernels, memory plan,
 * generated code and manifest.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { spanLocation } from '../diagnostics/source.js';
import { indexRanges } from '../ir/index-ranges.js';
import type { Graph } from '../ir/graph.js';
import { buildKernels } from '../kernel/build.js';
import { planMemory, type MemoryOptions, type Precision } from '../kernel/memory.js';
import type { Kernel, KernelProgram } from '../kernel/program.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from '../runtime/manifest.js';
import { renderJsModule } from './js/module.js';
import { checkLimits, DEFAULT_LIMITS, type DeviceLimits } from './wgsl/limits.js';
import { renderWgsl } from './wgsl/shader.js';

export type BackendName = 'js' | 'webgpu';

export interface CodegenOptions {
  readonly backend: BackendName;
  /** f64 is for the JS backend only (WebGPU computes in f32). */
  readonly precision?: Precision;
  /** WebGPU device limits checked at compile time (default: WebGPU's guaranteed minimums). */
  readonly limits?: DeviceLimits;
  /** false: one kernel per primitive (the unfused baseline); default true. */
  readonly fuse?: boolean;
  /** The arena's memory plan (default: the default planner, in place on). */
  readonly memory?: MemoryOptions;
}

export interface CompiledProgram {
  readonly manifest: Manifest;
  readonly program: KernelProgram;
  /** The ES module source (JS backend). */
  readonly js?: string;
  /** WGSL source per kernel name (WebGPU backend). */
  readonly wgsl?: ReadonlyMap<string, string>;
  readonly dispatch?: ReadonlyMap<string, readonly [number, number, number]>;
  readonly diagnostics: Diagnostic[];
}

function kernelSources(k: Kernel): string[] {
  return k.source.spans.map(spanLocation);
}

export function compileGraph(g: Graph, opts: CodegenOptions): CompiledProgram {
  const precision: Precision = opts.backend === 'webgpu' ? 'f32' : (opts.precision ?? 'f32');
  const program = planMemory(buildKernels(g, { fuse: opts.fuse !== false }), precision, opts.memory);
  const diagnostics: Diagnostic[] = [];
  let js: string | undefined;
  let wgsl: Map<string, string> | undefined;
  let dispatch: Map<string, readonly [number, number, number]> | undefined;
  if (opts.backend === 'js') js = renderJsModule(program, precision);
  else {
    const limits = opts.limits ?? DEFAULT_LIMITS;
    diagnostics.push(...checkLimits(program, limits));
    wgsl = new Map();
    dispatch = new Map();
    for (const k of program.kernels) {
      const s = renderWgsl(k, program, limits);
      wgsl.set(k.name, s.code);
      dispatch.set(k.name, s.workgroups);
    }
  }
  const ranges = indexRanges(g);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: g.name,
    backend: opts.backend,
    precision,
    state: { bytes: program.stateBytes },
    arena: { bytes: program.arenaBytes },
    ...(program.memory ? { memory: { ...program.memory } } : {}),
    buffers: program.buffers.map((b) => ({
      name: b.name,
      role: b.role,
      dtype: b.dtype,
      shape: [...b.shape],
      space: b.space,
      offset: b.offset,
      ...(b.init ? { init: b.init } : {}),
      ...(b.values ? { values: [...b.values] } : {}),
      ...(b.role === 'input' && ranges.has(b.name) ? { range: { lo: ranges.get(b.name)!.lo, hi: ranges.get(b.name)!.hi, use: ranges.get(b.name)!.use } } : {}),
    })),
    inputs: program.inputs.map((i) => i.name),
    params: program.params.map((i) => i.name),
    outputs: program.outputs.map((i) => i.name),
    ...(program.updates.length ? { updates: program.updates.map((u) => u.name) } : {}),
    kernels: program.kernels.map((k) => ({
      name: k.name,
      kind: k.kind,
      ops: [...k.source.ops],
      sources: kernelSources(k),
      ...(wgsl ? { wgsl: `${k.name}.wgsl`, workgroups: dispatch!.get(k.name)! } : {}),
    })),
    ...(js ? { js: 'program.js' } : {}),
  };
  return { manifest, program, ...(js ? { js } : {}), ...(wgsl ? { wgsl, dispatch: dispatch! } : {}), diagnostics };
}
