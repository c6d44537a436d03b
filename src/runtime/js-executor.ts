/**
 * @file Runs a program compiled for the JS backend: loads its ES module (from source text or an
 * already imported module), owns its memory, and maps named inputs and outputs to buffers.
 * Imports nothing from the compiler, so it works in a browser as well.
 */
import { bufferByName, checkManifest, type Manifest } from './manifest.js';
import { initState, makeSpace, readBuffer, writeBuffer, type Space } from './memory.js';
import { checkTensors, manifestSlots, type SetOptions, type Tensor } from './state.js';
import { readWeights } from './weights.js';

export interface JsModule {
  run(state: { f: Float32Array | Float64Array; i: Int32Array }, arena: { f: Float32Array | Float64Array; i: Int32Array }): void;
  readonly kernels?: readonly ((...a: unknown[]) => void)[];
}

export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Imports an ES module from its source text. */
export async function importSource(source: string): Promise<JsModule> {
  const b64 = typeof Buffer !== 'undefined' ? Buffer.from(source, 'utf8').toString('base64') : btoa(unescape(encodeURIComponent(source)));
  return (await import(`data:text/javascript;base64,${b64}`)) as JsModule;
}

export class JsExecutor {
  readonly state: Space;
  readonly arena: Space;

  private constructor(
    readonly manifest: Manifest,
    readonly module: JsModule,
    seed: number,
  ) {
    this.state = makeSpace(manifest.state.bytes, manifest.precision);
    this.arena = makeSpace(manifest.arena.bytes, manifest.precision);
    initState(manifest, this.state, seed);
  }

  static async create(manifest: unknown, module: string | JsModule, seed = 0): Promise<JsExecutor> {
    const m = checkManifest(manifest);
    const mod = typeof module === 'string' ? await importSource(module) : module;
    return new JsExecutor(m, mod, seed);
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

  /**
   * Replaces parameters by name. Every tensor is checked (name, dtype, shape, value count, values)
   * before any is written; a StateError lists those that do not fit. All of them unless `partial`.
   */
  setParams(tensors: ReadonlyMap<string, Tensor>, opts: SetOptions = {}): void {
    this.write('params', tensors, opts);
  }

  /**
   * Loads a weights file (safetensors bytes) into the parameters: it must hold every parameter and
   * nothing else (a SafetensorsError or StateError names the tensor; nothing is written then).
   */
  loadWeights(bytes: Uint8Array, file = 'weights file'): void {
    this.setParams(readWeights(bytes, file));
  }

  /** Replaces persistent tensors (parameters and optimizer state) by name; checked like setParams. */
  setState(tensors: ReadonlyMap<string, Tensor>, opts: SetOptions = {}): void {
    this.write('state', tensors, opts);
  }

  private read(which: 'params' | 'state'): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const s of manifestSlots(this.manifest, which)) out.set(s.name, { dtype: s.dtype, shape: s.shape, data: readBuffer(this.state, bufferByName(this.manifest, s.name, s.role)!, this.manifest.precision) });
    return out;
  }

  private write(which: 'params' | 'state', tensors: ReadonlyMap<string, Tensor>, opts: SetOptions): void {
    const slots = manifestSlots(this.manifest, which);
    checkTensors(slots, tensors, which, opts);
    for (const s of slots) {
      const t = tensors.get(s.name);
      if (t) writeBuffer(this.state, bufferByName(this.manifest, s.name, s.role)!, this.manifest.precision, t.data);
    }
  }

  /** Runs the program on named inputs; returns the named outputs. */
  run(inputs: Readonly<Record<string, ArrayLike<number>>>): Record<string, TypedArray> {
    for (const name of this.manifest.inputs) {
      const v = inputs[name];
      if (!v) throw new Error(`missing input \`${name}\``);
      writeBuffer(this.state, bufferByName(this.manifest, name, 'input')!, this.manifest.precision, v);
    }
    this.module.run(this.state, this.arena);
    const out: Record<string, TypedArray> = {};
    for (const name of this.manifest.outputs) out[name] = readBuffer(this.state, bufferByName(this.manifest, name, 'output')!, this.manifest.precision);
    return out;
  }
}
