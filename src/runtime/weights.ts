/**
 * @file Weights files: safetensors tensors as the program state tensors of src/runtime/state.ts
 * and back, and matching a file against the parameters of a program. F32 and F64 tensors hold f32
 * values (F64 is rounded to the program's precision when written), I32 holds i32, BOOL holds bool.
 * Imports nothing from the compiler.
 */
import { readSafetensors, SafetensorsError, writeSafetensors, type SafeFile, type SafeTensor } from '../io/safetensors.js';
import type { DTypeName } from './manifest.js';
import { checkTensors, type Slot, type Tensor } from './state.js';

const FROM: Record<string, DTypeName> = { F32: 'f32', F64: 'f32', I32: 'i32', BOOL: 'bool' };

/** The tensors of a safetensors file as program tensors; a U8 tensor (no dlc dtype) is a SafetensorsError. */
export function tensorsFromSafetensors(f: SafeFile, file = 'safetensors data'): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) {
    const dtype = FROM[t.dtype];
    if (!dtype) throw new SafetensorsError(file, name, `dtype ${t.dtype} has no dlc dtype (F32 or F64 for f32, I32 for i32, BOOL for bool)`);
    out.set(name, { dtype, shape: t.shape, data: t.data });
  }
  return out;
}

/** Program tensors as safetensors tensors: f32 as F32 (or F64 with `float: 'F64'`), i32 as I32, bool as BOOL. */
export function tensorsToSafetensors(m: ReadonlyMap<string, Tensor>, float: 'F32' | 'F64' = 'F32'): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of m) {
    const dtype = t.dtype === 'f32' ? float : t.dtype === 'i32' ? 'I32' : 'BOOL';
    const data = dtype === 'F32' ? Float32Array.from(t.data) : dtype === 'F64' ? Float64Array.from(t.data) : t.data;
    out.set(name, { dtype, shape: t.shape, data });
  }
  return out;
}

/** Reads a weights file's bytes as program tensors (SafetensorsError when it is not valid). */
export function readWeights(bytes: Uint8Array, file = 'safetensors data'): Map<string, Tensor> {
  return tensorsFromSafetensors(readSafetensors(bytes, file), file);
}

/** The bytes of a weights file of these tensors, with optional metadata. */
export function writeWeights(m: ReadonlyMap<string, Tensor>, metadata: Readonly<Record<string, string>> = {}, float: 'F32' | 'F64' = 'F32'): Uint8Array {
  return writeSafetensors(tensorsToSafetensors(m, float), metadata);
}

export interface WeightsMatch {
  /** One tensor for every parameter of the program, checked against it. */
  readonly params: Map<string, Tensor>;
  /** Names in the file that the program has no parameter for (sorted). */
  readonly unused: readonly string[];
}

/**
 * Matches a weights file against a program's parameters: every parameter must be there with its
 * dtype and shape (else StateError naming each that is missing or does not fit); tensors the
 * program does not use are returned in `unused` (for a warning, or an error where that is wanted).
 */
export function matchWeights(slots: readonly Slot[], tensors: ReadonlyMap<string, Tensor>): WeightsMatch {
  const names = new Set(slots.map((s) => s.name));
  const params = new Map([...tensors].filter(([k]) => names.has(k)));
  checkTensors(slots, params, 'params');
  return { params, unused: [...tensors.keys()].filter((k) => !names.has(k)).sort() };
}
