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
import { renderWgsl, shaderHeader, type WgslShader } from './wgsl/shader.js';

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
  /** WGSL source per kernel name (WebGPU backend); kernels that share a shader have the same text. */
  readonly wgsl?: ReadonlyMap<string, string>;
  /** Each distinct WGSL source once, by file name (`manifest.shaders`). */
  readonly shaders?: ReadonlyMap<string, string>;
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
  let shaders: Map<string, string> | undefined;
  const rendered = new Map<string, WgslShader & { shader: number }>();
  if (opts.backend === 'js') js = renderJsModule(program, precision);
  else {
    const limits = opts.limits ?? DEFAULT_LIMITS;
    diagnostics.push(...checkLimits(program, limits));
    wgsl = new Map();
    dispatch = new Map();
    shaders = new Map();
    // Kernels whose shaders differ only in their parameters share one shader file.
    const groups = new Map<string, Kernel[]>();
    for (const k of program.kernels) {
      const s = renderWgsl(k, program, limits);
      if (!groups.has(s.code)) groups.set(s.code, []);
      groups.get(s.code)!.push(k);
      rendered.set(k.name, { ...s, shader: [...groups.keys()].indexOf(s.code) });
      dispatch.set(k.name, s.workgroups);
    }
    [...groups].forEach(([code, ks], i) => {
      const text = `${shaderHeader(ks)}\n${code}`;
      shaders!.set(`s${i}.wgsl`, text);
      for (const k of ks) wgsl!.set(k.name, text);
    });
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
      ...(wgsl ? { shader: rendered.get(k.name)!.shader, params: [...rendered.get(k.name)!.params], workgroups: dispatch!.get(k.name)! } : {}),
    })),
    ...(program.loops?.length
      ? { loops: program.loops.map((l) => ({ name: l.name, first: l.first, count: l.count, trips: l.trips, reverse: l.reverse, depth: l.depth, counter: l.counter, enter: [...l.enter], before: [...l.before], after: [...l.after], exit: [...l.exit] })) }
      : {}),
    ...(shaders ? { shaders: [...shaders.keys()] } : {}),
    ...(js ? { js: 'program.js' } : {}),
  };
  return { manifest, program, ...(js ? { js } : {}), ...(wgsl ? { wgsl, shaders: shaders!, dispatch: dispatch! } : {}), diagnostics };
}
