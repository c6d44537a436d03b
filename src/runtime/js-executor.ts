/**
 * @file Runs a program compiled for the JS backend: loads its ES module (from source text or an
 * already imported module), owns its memory, and maps named inputs and outputs to buffers.
 * Imports nothing from the compiler, so it works in a browser as well.
 */
import { bufferByName, checkManifest, type Manifest, type ManifestBuffer } from './manifest.js';
import { checkCallInputs, initState, makeSpace, readBuffer, writeBuffer, type Space } from './memory.js';
import { StateWriter, type Tensor } from './state.js';

export interface JsModule {
  run(state: { f: Float32Array | Float64Array; i: Int32Array }, arena: { f: Float32Array | Float64Array; i: Int32Array }): void;
  readonly kernels?: readonly ((...a: unknown[]) => void)[];
}

export type TypedArray = Float32Array | Float64Array | Int32Array;

interface SharedMemory {
  readonly state: Space;
  readonly arena: Space;
  readonly initialized: Set<string>;
}

/** The one precision of programs that share memory. */
export function sharedPrecision(ms: readonly Manifest[]): 'f32' | 'f64' {
  const p = ms[0]!.precision;
  if (ms.some((m) => m.precision !== p || m.state.bytes !== ms[0]!.state.bytes)) throw new Error('programs that share a state must be compiled together (compileShared), in one precision');
  return p;
}

/** Imports an ES module from its source text. */
export async function importSource(source: string): Promise<JsModule> {
  const b64 = typeof Buffer !== 'undefined' ? Buffer.from(source, 'utf8').toString('base64') : btoa(unescape(encodeURIComponent(source)));
  return (await import(`data:text/javascript;base64,${b64}`)) as JsModule;
}

export class JsExecutor extends StateWriter {
  readonly state: Space;
  readonly arena: Space;

  private constructor(
    readonly manifest: Manifest,
    readonly module: JsModule,
    seed: number,
    memory?: SharedMemory,
  ) {
    super();
    this.state = memory?.state ?? makeSpace(manifest.state.bytes, manifest.precision);
    this.arena = memory?.arena ?? makeSpace(manifest.arena.bytes, manifest.precision);
    initState(manifest, this.state, seed, memory?.initialized);
  }

  static async create(manifest: unknown, module: string | JsModule, seed = 0): Promise<JsExecutor> {
    const m = checkManifest(manifest);
    const mod = typeof module === 'string' ? await importSource(module) : module;
    return new JsExecutor(m, mod, seed);
  }

  /**
   * Executors of programs compiled together over one state (`compileShared`): they share one
   * memory, so running them in turn alternates over one state. Their arena is one too (one
   * program runs at a time).
   */
  static async createShared(programs: readonly { readonly manifest: unknown; readonly module: string | JsModule }[], seed = 0): Promise<JsExecutor[]> {
    const ms = programs.map((p) => checkManifest(p.manifest));
    if (ms.length === 1) return [await JsExecutor.create(ms[0], programs[0]!.module, seed)];
    const precision = sharedPrecision(ms);
    const memory: SharedMemory = {
      state: makeSpace(Math.max(...ms.map((m) => m.state.bytes)), precision),
      arena: makeSpace(Math.max(...ms.map((m) => m.arena.bytes)), precision),
      initialized: new Set(),
    };
    const mods = await Promise.all(programs.map((p) => (typeof p.module === 'string' ? importSource(p.module) : p.module)));
    return ms.map((m, i) => new JsExecutor(m, mods[i]!, seed, memory));
  }

  setParam(name: string, values: ArrayLike<number>): void {
    const b = bufferByName(this.manifest, name, 'param');
    if (!b) throw new Error(`no parameter \`${name}\``);
    writeBuffer(this.state, b, this.manifest.precision, values);
  }

  getParam(name: string): TypedArray {
    const b = bufferByName(this.manifest, name, 'param');
    if (!b) throw new Error(`no parameter \`${name}\``);
    return readBuffer(this.state, b, this.manifest.precision);
  }

  /** The model parameters (role `param`) by name: copies of their current values. */
  getParams(): Map<string, Tensor> {
    return this.read('params');
  }

  /** Every persistent tensor (parameters, optimizer state, step counters) by name. */
  getState(): Map<string, Tensor> {
    return this.read('state');
  }

  private read(which: 'params' | 'state'): Map<string, Tensor> {
    return new Map(this.buffers(which).map(({ slot, buffer }) => [slot.name, { dtype: slot.dtype, shape: slot.shape, data: readBuffer(this.state, buffer, this.manifest.precision) }]));
  }

  protected put(b: ManifestBuffer, values: ArrayLike<number>): void {
    writeBuffer(this.state, b, this.manifest.precision, values);
  }

  /** Runs the program on named inputs; returns the named outputs. */
  run(inputs: Readonly<Record<string, ArrayLike<number>>>): Record<string, TypedArray> {
    checkCallInputs(this.manifest, inputs, this.checkRanges);
    for (const name of this.manifest.inputs) writeBuffer(this.state, bufferByName(this.manifest, name, 'input')!, this.manifest.precision, inputs[name]!);
    this.module.run(this.state, this.arena);
    const out: Record<string, TypedArray> = {};
    for (const name of this.manifest.outputs) out[name] = readBuffer(this.state, bufferByName(this.manifest, name, 'output')!, this.manifest.precision);
    return out;
  }
}
