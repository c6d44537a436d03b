/**
 * @file Compiling a graph for a backend and running it from TypeScript: typed arrays in, typed
 * arrays out. The interpreter, the JS backend and the WebGPU backend share one interface.
 */
import { error, type Diagnostic } from './diagnostics/diagnostic.js';
import type { Graph } from './ir/graph.js';
import { NDArray } from './ir/ndarray.js';
import { initParams, interpret, type ParamStore } from './interp/interpret.js';
import { compileGraph, type BackendName, type CompiledProgram } from './codegen/compile.js';
import { compileShared } from './codegen/compile-shared.js';
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
   * holds values its dtype or use cannot take, or when a name given is a parameter's (set those
   * with setParam / setParams) (src/input-check.ts); nothing runs then. Other names are ignored.
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
  return (await makeExecutables([g], opts))[0]!;
}

/**
 * Executables of several graphs over ONE persistent state: parameters and optimizer state of the
 * same name are one tensor, so running the programs in turn (a GAN's critic and generator steps,
 * a training step and the loss on validation data) alternates over one state with nothing
 * copied. Graphs that give one name different types are refused.
 */
export async function makeExecutables(graphs: readonly Graph[], opts: ExecOptions): Promise<Executable[]> {
  const seed = opts.seed ?? 0;
  if (opts.backend === 'interp') {
    const params: ParamStore = new Map();
    for (const g of graphs) initParams(g, seed, params);
    return graphs.map((g) => interpExecutable(g, params, opts));
  }
  const codegen = { backend: opts.backend, ...(opts.precision ? { precision: opts.precision } : {}), ...(opts.limits ? { limits: opts.limits } : {}), ...(opts.fuse === false ? { fuse: false } : {}), ...(opts.memory ? { memory: opts.memory } : {}) };
  const compiled = graphs.length === 1 ? [compileGraph(graphs[0]!, codegen)] : compileShared(graphs, codegen);
  for (const c of compiled) if (c.diagnostics.some((d) => d.severity === 'error')) throw new BackendError(c.diagnostics);
  if (opts.backend === 'js') {
    const exs = await JsExecutor.createShared(compiled.map((c) => ({ manifest: c.manifest, module: c.js! })), seed);
    return graphs.map((g, i) => wrap(g, compiled[i]!, exs[i]!, opts, 'js'));
  }
  const device = await getDevice();
  if (!device) throw new BackendError([error('DL0501', 'no WebGPU adapter was found', { help: 'on Linux without a GPU, run scripts/setup-webgpu.sh (Mesa lavapipe); or use --backend js' })]);
  let exs: WebGpuExecutor[];
  try {
    exs = await WebGpuExecutor.createShared(device, compiled.map((c) => ({ manifest: c.manifest, wgsl: c.wgsl! })), seed);
  } catch (e) {
    if (e instanceof ShaderCompileError) throw new BackendError([shaderDiagnostic(e, compiled.find((c) => c.program.kernels.some((k) => k.name === e.kernel)) ?? compiled[0]!)]);
    throw e;
  }
  return graphs.map((g, i) => wrap(g, compiled[i]!, exs[i]!, opts, 'webgpu'));
}

function inputChecker(g: Graph, opts: ExecOptions): (inputs: ReadonlyMap<string, NDArray>) => void {
  const ranges = indexRanges(g);
  return (inputs) => checkInputs(g, inputs, { ranges: opts.checkIndexRanges !== false }, ranges);
}

function interpExecutable(g: Graph, params: ParamStore, opts: ExecOptions): Executable {
  const check = inputChecker(g, opts);
  const read = (which: 'params' | 'state'): Map<string, Tensor> =>
    new Map(graphSlots(g, which).map((s) => [s.name, { dtype: s.dtype, shape: s.shape, data: Float64Array.from(params.get(s.name)!.data) }]));
  const write = (which: 'params' | 'state', tensors: ReadonlyMap<string, Tensor>, o: SetOptions = {}): void => {
    const slots = graphSlots(g, which);
    checkTensors(slots, tensors, which, o);
    for (const s of slots) {
      const t = tensors.get(s.name);
      if (t) params.set(s.name, NDArray.from(s.shape, t.data));
    }
  };
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
}

/** An Executable over a compiled program's executor (JS or WebGPU). */
function wrap(g: Graph, compiled: CompiledProgram, ex: JsExecutor | WebGpuExecutor, opts: ExecOptions, backend: 'js' | 'webgpu'): Executable {
  const check = inputChecker(g, opts);
  ex.checkRanges = opts.checkIndexRanges !== false;
  const flat = (inputs: ReadonlyMap<string, NDArray>) => Object.fromEntries([...inputs].map(([k, v]) => [k, v.data]));
  return {
    backend,
    compiled,
    kernelCount: compiled.program.kernels.length,
    run: async (inputs, names) => {
      check(inputs);
      return toNd(g, await ex.run(flat(inputs), names), names);
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
