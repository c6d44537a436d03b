/**
 * @file Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian header length N, N bytes of JSON (`{"name": {"dtype", "shape",
 * "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}`), then the raw
 * little-endian tensor data, offsets relative to the end of the header. Bytes in and out
 * (Uint8Array), so it works in Node and in a browser; file helpers live in safetensors-file.ts.
 * Imports nothing.
 */

/** The dtypes read and written: F32, F64, I32; BOOL and U8 too (one byte each). */
export type SafeDType = 'F32' | 'F64' | 'I32' | 'U8' | 'BOOL';

export interface SafeTensor {
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  /** Row-major values: a Float32Array, Float64Array, Int32Array or Uint8Array when read. */
  readonly data: ArrayLike<number>;
}

export interface SafeFile {
  /** The tensors, by name, in the order of their data in the file. */
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

/** A file that is not valid safetensors, or a tensor that cannot be written; names the file and tensor. */
export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly tensor: string | undefined,
    readonly reason: string,
  ) {
    super(`${file}: ${tensor !== undefined ? `tensor \`${tensor}\`: ` : ''}${reason}`);
  }
}

const SIZES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, U8: 1, BOOL: 1 };
/** Known to the format but not read here (named in the error, so the user knows what to convert). */
const OTHER_DTYPES = ['F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I8', 'I16', 'I64', 'U16', 'U32', 'U64'];
/** Headers above this size are refused (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;
const METADATA = '__metadata__';

function isDType(d: unknown): d is SafeDType {
  return typeof d === 'string' && Object.hasOwn(SIZES, d);
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function isDims(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * The keys of the top-level JSON object in order, duplicates included (JSON.parse keeps only
 * the last of a repeated key, and a repeated tensor name must be an error).
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (/\s/.test(text[k] ?? '')) k++;
        if (text[k] === ':') keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      }
      i = j;
    }
  }
  return keys;
}

function readValues(view: DataView, at: number, dtype: SafeDType, n: number): SafeTensor['data'] {
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let k = 0; k < n; k++) out[k] = view.getFloat32(at + 4 * k, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = view.getFloat64(at + 8 * k, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let k = 0; k < n; k++) out[k] = view.getInt32(at + 4 * k, true);
      return out;
    }
    default:
      return new Uint8Array(view.buffer, view.byteOffset + at, n).slice();
  }
}

/** Parses and validates a safetensors file; `file` names it in errors. */
export function readSafetensors(bytes: Uint8Array, file = 'safetensors data'): SafeFile {
  const fail = (reason: string, tensor?: string): never => {
    throw new SafetensorsError(file, tensor, reason);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) fail(`truncated or not safetensors: the header length says ${declared} bytes but only ${bytes.length - 8} follow`);
  const n = Number(declared);
  if (n > MAX_HEADER) fail(`the header is ${n} bytes (at most ${MAX_HEADER} are read)`);
  if (n < 2) fail(`the header is ${n} bytes, too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header) || !text.startsWith('{')) fail('the header is not a JSON object');
  const seen = new Set<string>();
  for (const k of topLevelKeys(text)) {
    if (seen.has(k)) fail('the name appears twice in the header', k);
    seen.add(k);
  }
  const entries = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const meta = entries[METADATA];
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('`__metadata__` is not an object of strings');
    for (const [k, v] of Object.entries(meta as object)) {
      if (typeof v !== 'string') fail(`\`__metadata__\` entry \`${k}\` is not a string`);
      metadata[k] = v as string;
    }
  }
  const dataStart = 8 + n;
  const dataBytes = bytes.length - dataStart;
  const found: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    if (name === METADATA) continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) fail('its header entry is not an object', name);
    const { dtype, shape, data_offsets: off } = t!;
    if (!isDType(dtype)) {
      const d = JSON.stringify(dtype);
      fail(typeof dtype === 'string' && OTHER_DTYPES.includes(dtype) ? `dtype ${dtype} is not supported (convert to F32, F64, I32, U8 or BOOL)` : `unknown dtype ${d} (the dtypes read are F32, F64, I32, U8 and BOOL)`, name);
    }
    if (!isDims(shape)) fail(`bad shape ${JSON.stringify(shape)} (a list of non-negative integers)`, name);
    if (!Array.isArray(off) || off.length !== 2 || !isDims(off)) fail(`bad data_offsets ${JSON.stringify(off)} (two non-negative integers [begin, end])`, name);
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end > dataBytes) fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): truncated file?`, name);
    const need = count(shape as number[]) * SIZES[dtype as SafeDType];
    if (end - begin !== need) fail(`holds ${end - begin} bytes but ${dtype as string}[${(shape as number[]).join(', ')}] needs ${need}`, name);
    found.push({ name, dtype: dtype as SafeDType, shape: shape as number[], begin, end });
  }
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of found) {
    if (t.begin < at) fail(`its data [${t.begin}, ${t.end}] overlaps the tensor before it (which ends at ${at})`, t.name);
    if (t.begin > at) fail(`a gap of ${t.begin - at} bytes before its data (at ${at}): the data must be contiguous`, t.name);
    at = t.end;
  }
  if (at !== dataBytes) fail(`${dataBytes - at} bytes after the last tensor's data are not part of any tensor`);
  const tensors = new Map<string, SafeTensor>();
  for (const t of found) tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: readValues(view, dataStart + t.begin, t.dtype, count(t.shape)) });
  return { tensors, metadata };
}

function checkTensor(file: string, name: string, t: SafeTensor): void {
  const fail = (reason: string): never => {
    throw new SafetensorsError(file, name, reason);
  };
  if (name === '' || name === METADATA) fail('this name cannot be a tensor name');
  if (!isDType(t.dtype)) fail(`unknown dtype ${JSON.stringify(t.dtype)} (F32, F64, I32, U8 or BOOL)`);
  if (!isDims(t.shape)) fail(`bad shape ${JSON.stringify(t.shape)}`);
  const n = count(t.shape);
  if (t.data.length !== n) fail(`${t.dtype}[${t.shape.join(', ')}] has ${n} values, got ${t.data.length}`);
  if (t.dtype === 'F32' || t.dtype === 'F64') return;
  const [lo, hi] = t.dtype === 'I32' ? [-2147483648, 2147483647] : t.dtype === 'U8' ? [0, 255] : [0, 1];
  for (let k = 0; k < n; k++) {
    const v = t.data[k]!;
    if (!Number.isInteger(v) || v < lo || v > hi) fail(`value ${v} at index ${k} is not ${t.dtype === 'BOOL' ? '0 or 1' : `a whole number in ${lo}..${hi}`}`);
  }
}

/**
 * The bytes of a safetensors file. Deterministic: the header lists the tensors by name
 * (code-unit order) after `__metadata__`; the data is laid out by element size (largest first),
 * then name, so every tensor starts at a multiple of its element size, and the header is padded
 * with spaces so the data starts at a multiple of 8.
 */
export function writeSafetensors(tensors: ReadonlyMap<string, SafeTensor> | Readonly<Record<string, SafeTensor>>, metadata: Readonly<Record<string, string>> = {}, file = 'safetensors data'): Uint8Array {
  const all: [string, SafeTensor][] = tensors instanceof Map ? [...(tensors as ReadonlyMap<string, SafeTensor>)] : Object.entries(tensors as Readonly<Record<string, SafeTensor>>);
  for (const [name, t] of all) checkTensor(file, name, t);
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new SafetensorsError(file, undefined, `metadata \`${k}\` is not a string`);
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const layout = [...all].sort(([a, x], [b, y]) => SIZES[y.dtype] - SIZES[x.dtype] || byName(a, b));
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const [name, t] of layout) {
    const bytes = count(t.shape) * SIZES[t.dtype];
    offsets.set(name, [at, at + bytes]);
    at += bytes;
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header[METADATA] = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => byName(a, b)));
  for (const [name, t] of [...all].sort(([a], [b]) => byName(a, b))) header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: offsets.get(name) };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + at);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const [name, t] of layout) {
    const o = base + offsets.get(name)![0];
    const n = t.data.length;
    for (let k = 0; k < n; k++) {
      const v = t.data[k]!;
      if (t.dtype === 'F32') view.setFloat32(o + 4 * k, v, true);
      else if (t.dtype === 'F64') view.setFloat64(o + 8 * k, v, true);
      else if (t.dtype === 'I32') view.setInt32(o + 4 * k, v, true);
      else view.setUint8(o + k, v);
    }
  }
  return out;
}
