/**
 * @file Compiling a graph for a backend and running it from TypeScript: typed arrays in, typed
 * arrays out. The interpreter, the JS backend and the WebGPU backend share one interface.
 */
import { error, type Diagnostic } from './diagnostics/diagnostic.js';
import type { Graph } from './ir/graph.js';
import { NDArray } from './ir/ndarray.js';
import { initParams, interpret } from './interp/interpret.js';
import { compileGraph, type BackendName, type CompiledProgram } from './codegen/compile.js';
import type { MemoryOptions, Precision } from './kernel/memory.js';
import type { DeviceLimits } from './codegen/wgsl/limits.js';
import { JsExecutor } from './runtime/js-executor.js';
import { getDevice, ShaderCompileError, WebGpuExecutor } from './runtime/webgpu-executor.js';
import { checkInputs } from './input-check.js';
import { indexRanges } from './ir/index-ranges.js';
import { isOptimizerState } from './ir/graph.js';
import { checkTensors, type SetOptions, type Slot, type Tensor } from './runtime/state.js';

export type ExecBackend = 'interp' | BackendName;

export interface ExecOptions {
  readonly backend: ExecBackend;
  readonly precision?: Precision;
  /** Seed for parameter initialization (identical on every backend). */
  readonly seed?: number;
  readonly limits?: DeviceLimits;
  /** false: one kernel per primitive (to compare against fusion); default true. */
  readonly fuse?: boolean;
  /**
   * false: let label and index inputs outside their valid range through (to test what the ops do
   * with them); shapes, whole numbers and the i32 range are always checked. Default true.
   */
  readonly checkIndexRanges?: boolean;
  /** The arena's memory plan (`{ planner: 'none' }`: no reuse, to compare against planning). */
  readonly memory?: MemoryOptions;
}

export interface Executable {
  readonly backend: ExecBackend;
  readonly compiled?: CompiledProgram;
  /**
   * Runs one call; `outputs` names the results to return (all by default; WebGPU reads back only
   * those). Throws InputError (DL0605, DL0606) when an input is missing, of the wrong shape, or
   * holds values its dtype or use cannot take (src/input-check.ts).
   */
  run(inputs: ReadonlyMap<string, NDArray>, outputs?: readonly string[]): Promise<Map<string, NDArray>>;
  /** Replaces a parameter's values (row-major, the parameter's size). */
  setParam(name: string, values: ArrayLike<number>): void;
  /** The model parameters (names without a `/`) by name: copies of their current values (WebGPU reads them back). */
  getParams(): Promise<Map<string, Tensor>>;
  /** Every persistent tensor: the parameters, optimizer state and step counters. */
  getState(): Promise<Map<string, Tensor>>;
  /**
   * Replaces parameters by name; every tensor is checked (known name, dtype, shape, value count,
   * values) before any is written, and a StateError names those that do not fit. The map must
   * give every parameter unless `partial`.
   */
  setParams(tensors: ReadonlyMap<string, Tensor>, opts?: SetOptions): void;
  /** Replaces persistent tensors (parameters and optimizer state) by name; checked like setParams. */
  setState(tensors: ReadonlyMap<string, Tensor>, opts?: SetOptions): void;
  /** Kernels dispatched per call (0 for the interpreter). */
  readonly kernelCount: number;
}

export class BackendError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
  }
}

function toNd(g: Graph, out: Record<string, ArrayLike<number>>, names?: readonly string[]): Map<string, NDArray> {
  return new Map(g.outputs.filter((o) => !names || names.includes(o.name)).map((o) => [o.name, NDArray.from(o.node.type.shape, out[o.name]!)]));
}

function checkParam(g: Graph, name: string, values: ArrayLike<number>): void {
  const p = g.params.find((x) => String(x.attrs['name']) === name);
  if (!p) throw new Error(`no parameter \`${name}\`; the parameters are ${g.params.map((x) => `\`${String(x.attrs['name'])}\``).join(', ') || 'none'}`);
  const n = p.type.shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`parameter \`${name}\` has ${n} values (${p.type.dtype}[${p.type.shape.join(', ')}]), got ${values.length}`);
}

/** Maps a WGSL compile failure to the kernel's `.dl` source and the WGSL line. */
export function shaderDiagnostic(e: ShaderCompileError, compiled: CompiledProgram): Diagnostic {
  const k = compiled.program.kernels.find((x) => x.name === e.kernel);
  const lines = e.code.split('\n');
  const notes = e.messages.map((m) => `WGSL ${e.kernel}.wgsl:${m.line}:${m.col}: ${m.message}${lines[m.line - 1] ? ` — \`${lines[m.line - 1]!.trim()}\`` : ''}`);
  return error('DL0502', `the WebGPU shader generated for this operation (${k?.source.ops.join(', ') ?? e.kernel}) failed to compile`, {
    span: k?.source.spans[0],
    notes,
    // Not "use --backend js": a kernel the WGSL renderer gets wrong may be wrong for JS too.
    help: 'this is a bug in dlc: please report it with this .dl file; the reference interpreter (`dlc run` without --backend) does not generate code and gives the result meanwhile',
  });
}

/** The persistent tensors of a graph: its parameters (names without `/`), and with `state` the optimizer state too. */
export function graphSlots(g: Graph, which: 'params' | 'state'): Slot[] {
  const out: Slot[] = [];
  for (const p of g.params) {
    const name = String(p.attrs['name']);
    const role = isOptimizerState(name) ? 'state' : 'param';
    if (which === 'state' || role === 'param') out.push({ name, dtype: p.type.dtype, shape: p.type.shape, role });
  }
  return out;
}

export async function makeExecutable(g: Graph, opts: ExecOptions): Promise<Executable> {
  const seed = opts.seed ?? 0;
  const ranges = indexRanges(g);
  const check = (inputs: ReadonlyMap<string, NDArray>) => checkInputs(g, inputs, { ranges: opts.checkIndexRanges !== false }, ranges);
  if (opts.backend === 'interp') {
    const params = initParams(g, seed);
    return {
      backend: 'interp',
      kernelCount: 0,
      run: async (inputs, names) => {
        check(inputs);
        const out = interpret(g, inputs, params);
        return names ? new Map([...out].filter(([k]) => names.includes(k))) : out;
      },
      setParam: (name, values) => {
        checkParam(g, name, values);
        const old = params.get(name)!;
        params.set(name, NDArray.from(old.shape, values));
      },
      getParams: async () => read('params'),
      getState: async () => read('state'),
      setParams: (tensors, o) => write('params', tensors, o),
      setState: (tensors, o) => write('state', tensors, o),
    };
    function read(which: 'params' | 'state'): Map<string, Tensor> {
      return new Map(graphSlots(g, which).map((s) => [s.name, { dtype: s.dtype, shape: s.shape, data: Float64Array.from(params.get(s.name)!.data) }]));
    }
    function write(which: 'params' | 'state', tensors: ReadonlyMap<string, Tensor>, o: SetOptions = {}): void {
      const slots = graphSlots(g, which);
      checkTensors(slots, tensors, which, o);
      for (const s of slots) {
        const t = tensors.get(s.name);
        if (t) params.set(s.name, NDArray.from(s.shape, t.data));
      }
    }
  }
  const compiled = compileGraph(g, { backend: opts.backend, ...(opts.precision ? { precision: opts.precision } : {}), ...(opts.limits ? { limits: opts.limits } : {}), ...(opts.fuse === false ? { fuse: false } : {}), ...(opts.memory ? { memory: opts.memory } : {}) });
  if (compiled.diagnostics.some((d) => d.severity === 'error')) throw new BackendError(compiled.diagnostics);
  const kernelCount = compiled.program.kernels.length;
  const flat = (inputs: ReadonlyMap<string, NDArray>) => Object.fromEntries([...inputs].map(([k, v]) => [k, v.data]));
  if (opts.backend === 'js') {
    const ex = await JsExecutor.create(compiled.manifest, compiled.js!, seed);
    ex.checkRanges = opts.checkIndexRanges !== false;
    return {
      backend: 'js',
      compiled,
      kernelCount,
      run: async (inputs, names) => {
        check(inputs);
        return toNd(g, ex.run(flat(inputs)), names);
      },
      setParam: (name, values) => {
        checkParam(g, name, values);
        ex.setParam(name, values);
      },
      getParams: async () => ex.getParams(),
      getState: async () => ex.getState(),
      setParams: (tensors, o) => ex.setParams(tensors, o),
      setState: (tensors, o) => ex.setState(tensors, o),
    };
  }
  const device = await getDevice();
  if (!device) throw new BackendError([error('DL0501', 'no WebGPU adapter was found', { help: 'on Linux without a GPU, run scripts/setup-webgpu.sh (Mesa lavapipe); or use --backend js' })]);
  let ex: WebGpuExecutor;
  try {
    ex = await WebGpuExecutor.create(device, { manifest: compiled.manifest, wgsl: compiled.wgsl! }, seed);
    ex.checkRanges = opts.checkIndexRanges !== false;
  } catch (e) {
    if (e instanceof ShaderCompileError) throw new BackendError([shaderDiagnostic(e, compiled)]);
    throw e;
  }
  return {
    backend: 'webgpu',
    compiled,
    kernelCount,
    run: async (inputs, names) => {
      check(inputs);
      return toNd(g, await ex.run(flat(inputs), names), names);
    },
    setParam: (name, values) => {
      checkParam(g, name, values);
      ex.setParam(name, values);
    },
    getParams: () => ex.getParams(),
    getState: () => ex.getState(),
    setParams: (tensors, o) => ex.setParams(tensors, o),
    setState: (tensors, o) => ex.setState(tensors, o),
  };
}
