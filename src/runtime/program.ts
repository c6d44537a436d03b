/**
 * @file A loaded program (what `loadProgram` returns): its inputs and outputs by name with dtype
 * and shape, and `run`, which checks a call's inputs (every name known and given, the value count
 * of the shape, data of the dtype) before anything is written, on either backend.
 */
import { InputError } from './bundle-errors.js';
import type { JsExecutor, TypedArray } from './js-executor.js';
import type { DTypeName, Manifest } from './manifest.js';
import type { WebGpuExecutor } from './webgpu-executor.js';

/** An input or output of a program. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  /** Class labels or indices: the values it may hold, lo..hi-1, and what they are. */
  readonly range?: { readonly lo: number; readonly hi: number; readonly use: string };
}

/** An input's values: row-major data, optionally with its shape (which must then be the input's). */
export type InputValue = ArrayLike<number> | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

const FLOAT_ARRAYS = ['Float32Array', 'Float64Array'];
const INT_ARRAYS = ['Int32Array', 'Int16Array', 'Int8Array', 'Uint16Array', 'Uint8Array', 'Uint8ClampedArray'];

const typeText = (t: { dtype: string; shape: readonly number[] }) => `${t.dtype}[${t.shape.join(', ')}]`;

function kindOf(x: unknown): string {
  if (Array.isArray(x)) return 'Array';
  return ArrayBuffer.isView(x) ? x.constructor.name : typeof x;
}

/**
 * A program loaded by `loadProgram`: its name, backend, inputs and outputs (names, dtypes, shapes),
 * and `run`, which checks every input against them (an InputError names the first that does not
 * fit) before running on the backend's executor (`executor`, for parameters and state).
 */
export class Program {
  readonly backend: 'js' | 'webgpu';
  readonly name: string;
  readonly manifest: Manifest;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];

  constructor(readonly executor: JsExecutor | WebGpuExecutor) {
    this.manifest = executor.manifest;
    this.backend = this.manifest.backend;
    this.name = this.manifest.name;
    const info = (role: 'input' | 'output') => (name: string): TensorInfo => {
      const b = this.manifest.buffers.find((x) => x.name === name && x.role === role)!;
      return { name, dtype: b.dtype, shape: b.shape, ...(b.range ? { range: b.range } : {}) };
    };
    this.inputs = this.manifest.inputs.map(info('input'));
    this.outputs = this.manifest.outputs.map(info('output'));
  }

  /** The data of each input, checked against the program (an InputError names the first that does not fit). */
  checkInputs(inputs: Readonly<Record<string, InputValue>>): Record<string, ArrayLike<number>> {
    const fail = (input: string | undefined, problem: string): never => {
      throw new InputError(this.name, input, problem);
    };
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) fail(undefined, `run takes an object of inputs by name (${this.inputs.map((i) => i.name).join(', ')}), got ${kindOf(inputs)}`);
    const known = new Set(this.inputs.map((i) => i.name));
    for (const name of Object.keys(inputs)) if (!known.has(name)) fail(name, `the program has no input of this name (its inputs: ${[...known].join(', ') || 'none'})`);
    const out: Record<string, ArrayLike<number>> = {};
    for (const t of this.inputs) {
      const v = inputs[t.name];
      if (v === undefined || v === null) fail(t.name, `missing (the program takes ${typeText(t)})`);
      const hasShape = typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v) && 'data' in v;
      const data = hasShape ? (v as { data: ArrayLike<number> }).data : (v as ArrayLike<number>);
      if (hasShape) {
        const shape = (v as { shape: readonly number[] }).shape;
        if (!Array.isArray(shape) || shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) fail(t.name, `has shape [${Array.isArray(shape) ? shape.join(', ') : String(shape)}], the program takes ${typeText(t)}`);
      }
      const kind = kindOf(data);
      const isFloat = FLOAT_ARRAYS.includes(kind);
      if (kind !== 'Array' && !isFloat && !INT_ARRAYS.includes(kind)) fail(t.name, `must be an array or typed array of numbers, got ${kind}`);
      if (t.dtype !== 'f32' && isFloat) fail(t.name, `is ${kind} data, the program takes ${typeText(t)} (pass an Int32Array or an array of whole numbers)`);
      const n = t.shape.reduce((a, d) => a * d, 1);
      if (data.length !== n) fail(t.name, `has ${data.length} values, the program takes ${typeText(t)} (${n} values)`);
      if (kind === 'Array') {
        for (let k = 0; k < n; k++) if (typeof data[k] !== 'number') fail(t.name, `value at index ${k} is ${kindOf(data[k])}, not a number`);
      }
      if (t.dtype !== 'f32') {
        for (let k = 0; k < n; k++) {
          const x = data[k]!;
          if (!Number.isInteger(x) || (t.dtype === 'bool' ? x !== 0 && x !== 1 : x < -(2 ** 31) || x >= 2 ** 31)) fail(t.name, `value ${x} at index ${k} is not ${t.dtype === 'bool' ? '0 or 1' : 'a whole number in the i32 range'}`);
        }
      }
      if (t.range) {
        for (let k = 0; k < n; k++) if (!(data[k]! >= t.range.lo && data[k]! < t.range.hi)) fail(t.name, `holds ${t.range.use}: value ${data[k]} at index ${k} is outside ${t.range.lo}..${t.range.hi - 1}`);
      }
      out[t.name] = data;
    }
    return out;
  }

  /** Runs the program on named inputs (checked first); resolves to the named outputs. */
  async run(inputs: Readonly<Record<string, InputValue>>): Promise<Record<string, TypedArray>> {
    return this.executor.run(this.checkInputs(inputs));
  }

  /** Frees the program's GPU buffers (nothing to do on the JS backend). */
  destroy(): void {
    if ('destroy' in this.executor) this.executor.destroy();
  }
}
