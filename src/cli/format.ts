/** @file Printing tensors readably: all values for small ones, a summary for large ones. */
import type { NDArray } from '../ir/ndarray.js';
import { formatShape, type DType } from '../ir/types.js';

export function formatNumber(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'i32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

function nested(a: NDArray, dtype: DType, dim: number, off: number, indent: string): string {
  if (dim === a.shape.length) return formatNumber(a.data[off]!, dtype);
  const n = a.shape[dim]!;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(nested(a, dtype, dim + 1, off + i * a.strides[dim]!, indent + ' '));
  if (dim === a.shape.length - 1) return `[${parts.join(', ')}]`;
  return `[${parts.join(',\n' + indent + ' ')}]`;
}

/** Small tensors in full; larger ones as a summary unless `full`. */
export function formatArray(a: NDArray, dtype: DType, full = false): string {
  if (a.shape.length === 0) return formatNumber(a.data[0]!, dtype);
  if (full || a.size <= 64) return nested(a, dtype, 0, 0, '');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nans = 0;
  for (const v of a.data) {
    if (Number.isNaN(v)) {
      nans++;
      continue;
    }
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const head = Array.from(a.data.subarray(0, 6), (v) => formatNumber(v, dtype)).join(', ');
  const stats = dtype === 'bool' ? `${sum} true of ${a.size}` : `min ${formatNumber(min, dtype)}, max ${formatNumber(max, dtype)}, mean ${formatNumber(sum / (a.size - nans), 'f32')}`;
  return `[${head}, …]  (${a.size} values; ${stats}${nans ? `; ${nans} NaN` : ''}; --full prints all)`;
}

export function formatResult(name: string, a: NDArray, dtype: DType, full = false): string {
  const body = formatArray(a, dtype, full);
  const head = `${name}: ${dtype}${formatShape(a.shape)} =`;
  return body.includes('\n') ? `${head}\n  ${body.replace(/\n/g, '\n  ')}` : `${head} ${body}`;
}
