/** @file Host memory for a program: two spaces, each seen as a float and an int typed array. */
import { initialize } from './init.js';
import type { Manifest, ManifestBuffer } from './manifest.js';

export interface Space {
  readonly buffer: ArrayBuffer;
  readonly f: Float32Array | Float64Array;
  readonly i: Int32Array;
}

export function makeSpace(bytes: number, precision: 'f32' | 'f64'): Space {
  const buffer = new ArrayBuffer(bytes);
  return { buffer, f: precision === 'f64' ? new Float64Array(buffer) : new Float32Array(buffer), i: new Int32Array(buffer) };
}

export function elementSize(b: ManifestBuffer, precision: 'f32' | 'f64'): number {
  return b.dtype === 'f32' && precision === 'f64' ? 8 : 4;
}

export function elementCount(b: ManifestBuffer): number {
  return b.shape.reduce((p, q) => p * q, 1);
}

/**
 * Copies values into a buffer. i32 values must be whole numbers inside the i32 range and bools 0
 * or 1: anything else throws, instead of being truncated or wrapped differently per backend.
 */
export function writeBuffer(space: Space, b: ManifestBuffer, precision: 'f32' | 'f64', values: ArrayLike<number>): void {
  const n = elementCount(b);
  if (values.length !== n) throw new Error(`\`${b.name}\` needs ${n} values, got ${values.length}`);
  const at = b.offset / elementSize(b, precision);
  if (b.dtype === 'f32') {
    space.f.set(values, at);
    return;
  }
  for (let k = 0; k < n; k++) {
    const v = Number(values[k]);
    const ok = b.dtype === 'bool' ? v === 0 || v === 1 : Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    if (!ok) throw new Error(`\`${b.name}\` is ${b.dtype}: value ${v} at index ${k} is not ${b.dtype === 'bool' ? '0 or 1' : 'a whole number in the i32 range'}`);
    space.i[at + k] = v;
  }
}

export function readBuffer(space: Space, b: ManifestBuffer, precision: 'f32' | 'f64'): Float32Array | Float64Array | Int32Array {
  const at = b.offset / elementSize(b, precision);
  const n = elementCount(b);
  return b.dtype === 'f32' ? space.f.slice(at, at + n) : space.i.slice(at, at + n);
}

/**
 * Checks a call's inputs before any is written: each is given, and labels and indices lie in
 * their range (`checkRanges: false` lets them through, to test what the ops do with them).
 */
export function checkCallInputs(m: Manifest, inputs: Readonly<Record<string, ArrayLike<number>>>, checkRanges = true): void {
  for (const name of m.inputs) {
    const v = inputs[name];
    if (!v) throw new Error(`missing input \`${name}\``);
    const b = m.buffers.find((x) => x.name === name && x.role === 'input');
    if (!checkRanges || !b?.range) continue;
    const { lo, hi, use } = b.range;
    for (let k = 0; k < v.length; k++) {
      const x = Number(v[k]);
      if (!(x >= lo && x < hi)) throw new Error(`input \`${name}\` holds ${use}: value ${x} at index ${k} is outside ${lo}..${hi - 1}`);
    }
  }
}

/**
 * Writes constants and freshly initialized parameters (deterministic in the seed). Programs that
 * share one state (compiled together) pass one `initialized` set: a parameter another program
 * has already set up is not initialized again.
 */
export function initState(m: Manifest, state: Space, seed: number, initialized?: Set<string>): void {
  for (const b of m.buffers) {
    if (b.space !== 'state') continue;
    if (b.role === 'const' && b.values) writeBuffer(state, b, m.precision, b.values);
    if ((b.role === 'param' || b.role === 'state') && b.init && !initialized?.has(b.name)) {
      writeBuffer(state, b, m.precision, initialize(b.init, b.shape, seed, b.name));
      initialized?.add(b.name);
    }
  }
}
