/** @file Reading and writing NumPy .npy files (format versions 1–3, little-endian, C order). */
import { NDArray } from '../ir/ndarray.js';
import type { DType } from '../ir/types.js';

export class NpyError extends Error {}

const READERS: Record<string, { size: number; read: (v: DataView, o: number) => number }> = {
  '<f4': { size: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { size: 8, read: (v, o) => v.getFloat64(o, true) },
  '<f2': { size: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  '<i4': { size: 4, read: (v, o) => v.getInt32(o, true) },
  '<i8': { size: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '<i2': { size: 2, read: (v, o) => v.getInt16(o, true) },
  '|i1': { size: 1, read: (v, o) => v.getInt8(o) },
  '<u4': { size: 4, read: (v, o) => v.getUint32(o, true) },
  '<u2': { size: 2, read: (v, o) => v.getUint16(o, true) },
  '|u1': { size: 1, read: (v, o) => v.getUint8(o) },
  '|b1': { size: 1, read: (v, o) => (v.getUint8(o) ? 1 : 0) },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export interface NpyArray {
  readonly array: NDArray;
  /** The dtype family of the file: float, int or bool. */
  readonly kind: 'float' | 'int' | 'bool';
}

export function readNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new NpyError('not a .npy file (bad magic bytes)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new NpyError('truncated .npy header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyError('unreadable .npy header');
  if (fortran === 'True') throw new NpyError('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const r = READERS[descr === '<b1' ? '|b1' : descr.replace(/^=/, '<')];
  if (!r) throw new NpyError(`unsupported dtype ${descr} (use float32, float64, int32, int64 or bool)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`bad shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (dataStart + n * r.size > bytes.length) throw new NpyError(`the file holds fewer than the ${n} values its shape needs`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = r.read(view, dataStart + i * r.size);
  const kind = descr.includes('f') ? 'float' : descr.includes('b') ? 'bool' : 'int';
  return { array: new NDArray(shape, data), kind };
}

/** An array as .npy bytes: f32 values as float32, or as float64 with `float: 'f64'`; i32 as int32; bool as bool. */
export function writeNpy(a: NDArray, dtype: DType, float: 'f32' | 'f64' = 'f32'): Uint8Array {
  const f64 = dtype === 'f32' && float === 'f64';
  const descr = f64 ? '<f8' : dtype === 'f32' ? '<f4' : dtype === 'i32' ? '<i4' : '|b1';
  const size = f64 ? 8 : dtype === 'bool' ? 1 : 4;
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + a.size * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const o = 10 + header.length;
  for (let i = 0; i < a.size; i++) {
    const v = a.data[i]!;
    if (f64) view.setFloat64(o + 8 * i, v, true);
    else if (dtype === 'f32') view.setFloat32(o + 4 * i, v, true);
    else if (dtype === 'i32') view.setInt32(o + 4 * i, v, true);
    else view.setUint8(o + i, v ? 1 : 0);
  }
  return out;
}
