/**
 * Safetensors: round trips of every dtype, a file written by the reference implementation
 * (huggingface safetensors 0.8.0, Python), deterministic output, and each kind of corrupt file
 * rejected with an error that names the file and the tensor.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensors, SafetensorsError, writeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import { ROOT } from '../helpers/golden.js';

const enc = new TextEncoder();

/** A file from a header object (or raw header text) and data bytes, built by hand. */
function build(header: unknown, data: Uint8Array, headerLength?: number): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function errorOf(f: () => unknown): SafetensorsError {
  try {
    f();
  } catch (e) {
    if (e instanceof SafetensorsError) return e;
    throw new Error(`threw something other than SafetensorsError: ${String(e)}`);
  }
  throw new Error('did not throw');
}

const SAMPLE: Record<string, SafeTensor> = {
  'hidden.W': { dtype: 'F32', shape: [2, 3], data: [0.5, -1, 2.25, 1e-7, -3.5e5, 0] },
  'digits/hidden.W/m': { dtype: 'F64', shape: [3], data: [Math.PI, -Math.E, 1 / 3] },
  'digits/step': { dtype: 'I32', shape: [], data: [-2147483648] },
  mask: { dtype: 'BOOL', shape: [2, 2], data: [1, 0, 0, 1] },
  bytes: { dtype: 'U8', shape: [3], data: [0, 128, 255] },
  empty: { dtype: 'F32', shape: [0, 4], data: [] },
};

describe('safetensors round trip', () => {
  it('reads back every dtype, shape and value exactly, with the metadata', () => {
    const bytes = writeSafetensors(SAMPLE, { format: 'dlc-checkpoint', epoch: '3' });
    const back = readSafetensors(bytes, 'x.safetensors');
    expect([...back.tensors.keys()].sort()).toEqual(Object.keys(SAMPLE).sort());
    for (const [name, t] of Object.entries(SAMPLE)) {
      const r = back.tensors.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      // F32 values go through float32 rounding; the others are exact.
      const want = t.dtype === 'F32' ? Array.from(Float32Array.from(t.data)) : Array.from(t.data);
      expect(Array.from(r.data)).toEqual(want);
    }
    expect(back.metadata).toEqual({ format: 'dlc-checkpoint', epoch: '3' });
  });

  it('is deterministic: the same bytes whatever the order the tensors are given in', () => {
    const reversed = Object.fromEntries(Object.entries(SAMPLE).reverse());
    expect(writeSafetensors(reversed, { b: '2', a: '1' })).toEqual(writeSafetensors(SAMPLE, { a: '1', b: '2' }));
  });

  it('aligns: the data starts at a multiple of 8 and each tensor at a multiple of its element size', () => {
    const bytes = writeSafetensors(SAMPLE);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const size: Record<string, number> = { F64: 8, F32: 4, I32: 4, U8: 1, BOOL: 1 };
    for (const t of Object.values(header)) expect(t.data_offsets[0] % size[t.dtype]!).toBe(0);
  });

  it('reads a file written by the reference implementation (Python safetensors)', () => {
    const f = readSafetensors(readFileSync(`${ROOT}test/io/fixtures/reference.safetensors`));
    expect(f.metadata).toEqual({ format: 'pt', note: 'written by safetensors 0.8.0 (Python)' });
    expect(f.tensors.get('a.W')).toEqual({ dtype: 'F64', shape: [2, 3], data: Float64Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]) });
    expect(f.tensors.get('b')).toEqual({ dtype: 'F32', shape: [3], data: Float32Array.from([1.5, -2.25, 3]) });
    expect(f.tensors.get('step')).toEqual({ dtype: 'I32', shape: [], data: Int32Array.from([7]) });
    expect(f.tensors.get('mask')).toEqual({ dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) });
  });

  it('refuses to write values a dtype cannot hold, naming the tensor', () => {
    const e = errorOf(() => writeSafetensors({ 'net.step': { dtype: 'I32', shape: [2], data: [1, 2.5] } }, {}, 'out.safetensors'));
    expect(e.message).toMatch(/^out\.safetensors: tensor `net\.step`: value 2\.5 at index 1/);
    expect(errorOf(() => writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } })).message).toMatch(/`w`.*4 values, got 3/);
    expect(errorOf(() => writeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: [1] } })).tensor).toBe('__metadata__');
  });
});

describe('safetensors rejects corrupt files', () => {
  const good = writeSafetensors({ 'l1.W': { dtype: 'F32', shape: [2], data: [1, 2] }, 'l1.b': { dtype: 'F32', shape: [1], data: [3] } });

  it('truncated: shorter than the length field, header cut, data cut', () => {
    expect(errorOf(() => readSafetensors(good.subarray(0, 5), 'w.safetensors')).message).toMatch(/^w\.safetensors: truncated: 5 bytes/);
    expect(errorOf(() => readSafetensors(good.subarray(0, 20), 'w.safetensors')).message).toMatch(/header length says \d+ bytes but only 12 follow/);
    const cut = errorOf(() => readSafetensors(good.subarray(0, good.length - 2), 'w.safetensors'));
    expect(cut.tensor).toBe('l1.b');
    expect(cut.message).toMatch(/run past the end of the data/);
  });

  it('bad JSON, not an object, not UTF-8', () => {
    expect(errorOf(() => readSafetensors(build('{"a": {"dtype": "F32",', new Uint8Array()))).message).toMatch(/not valid JSON/);
    expect(errorOf(() => readSafetensors(build('[1, 2]', new Uint8Array()))).message).toMatch(/not a JSON object/);
    const bad = build('{"a":1}', new Uint8Array());
    bad[10] = 0xff;
    expect(errorOf(() => readSafetensors(bad)).message).toMatch(/not valid UTF-8/);
  });

  it('overlapping offsets, gaps and trailing bytes', () => {
    const data = f32Bytes([1, 2, 3]);
    const overlap = errorOf(() => readSafetensors(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data)));
    expect(overlap.tensor).toBe('b');
    expect(overlap.message).toMatch(/overlaps/);
    const gap = errorOf(() => readSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data)));
    expect(gap.tensor).toBe('b');
    expect(gap.message).toMatch(/gap of 4 bytes/);
    expect(errorOf(() => readSafetensors(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data))).message).toMatch(/4 bytes after the last tensor/);
    expect(errorOf(() => readSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, data))).message).toMatch(/end before they begin/);
  });

  it('a size that does not match dtype × shape', () => {
    const e = errorOf(() => readSafetensors(build({ 'enc.W': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, f32Bytes([1, 2, 3])), 'm.safetensors'));
    expect(e.message).toBe('m.safetensors: tensor `enc.W`: holds 12 bytes but F32[2, 2] needs 16');
  });

  it('unknown and unsupported dtypes, bad shapes and offsets', () => {
    const data = f32Bytes([1]);
    expect(errorOf(() => readSafetensors(build({ w: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, data))).message).toMatch(/`w`: unknown dtype "F33"/);
    expect(errorOf(() => readSafetensors(build({ w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, data))).message).toMatch(/dtype BF16 is not supported/);
    expect(errorOf(() => readSafetensors(build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data))).message).toMatch(/bad shape/);
    expect(errorOf(() => readSafetensors(build({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, data))).message).toMatch(/bad data_offsets/);
    expect(errorOf(() => readSafetensors(build({ w: [1] }, data))).message).toMatch(/`w`: its header entry is not an object/);
  });

  it('a name given twice, and metadata that is not strings', () => {
    const data = f32Bytes([1, 2]);
    const twice = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const e = errorOf(() => readSafetensors(build(twice, data)));
    expect(e.tensor).toBe('w');
    expect(e.message).toMatch(/appears twice/);
    // A repeated key inside a tensor's entry or inside a string is not a repeated name.
    const nested = '{"w\\"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"w\\"x"}}';
    expect([...readSafetensors(build(nested, data)).tensors.keys()]).toEqual(['w"x']);
    expect(errorOf(() => readSafetensors(build({ __metadata__: { epoch: 3 } }, new Uint8Array()))).message).toMatch(/`__metadata__` entry `epoch` is not a string/);
  });
});
