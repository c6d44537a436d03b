/**
 * @file The structure of a manifest and of a bundle index (bundle.json), checked before anything
 * is allocated or run: every field's type, every buffer inside its space and aligned, the names of
 * inputs, parameters and outputs, each kernel's shader and workgroups, every listed file. A check
 * returns the first problem found as a sentence naming the field (`buffers[3].offset: …`), or
 * undefined. Imports nothing from the compiler.
 */
import { findInitializer } from './init.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, MANIFEST_FORMAT, MANIFEST_VERSION } from './manifest.js';

/** Space sizes above this are refused (no WebGPU binding and few browsers' ArrayBuffers go further). */
export const MAX_SPACE_BYTES = 2 ** 31 - 4;
/** u32 values in a WebGPU kernel's parameter block (1 KiB). */
const MAX_PARAMS = 256;
/** maxComputeWorkgroupsPerDimension every WebGPU implementation guarantees. */
const MAX_WORKGROUPS = 65535;

class Problem extends Error {}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown) => {
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 40 ? `${s.slice(0, 37)}…` : s;
};
const fail = (path: string, what: string): never => {
  throw new Problem(`\`${path}\` ${what}`);
};

function obj(x: unknown, path: string): Record<string, unknown> {
  return isObject(x) ? x : fail(path, `must be an object, is ${show(x)}`);
}
function str(x: unknown, path: string): string {
  return typeof x === 'string' && x.length > 0 ? x : fail(path, `must be a non-empty string, is ${show(x)}`);
}
function int(x: unknown, path: string, lo = 0, hi = Number.MAX_SAFE_INTEGER): number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi ? x : fail(path, `must be a whole number in ${lo}..${hi}, is ${show(x)}`);
}
function arr(x: unknown, path: string): unknown[] {
  return Array.isArray(x) ? x : fail(path, `must be an array, is ${show(x)}`);
}
function oneOf<T extends string>(x: unknown, path: string, values: readonly T[]): T {
  return values.includes(x as T) ? (x as T) : fail(path, `must be one of ${values.join(', ')}, is ${show(x)}`);
}
function strings(x: unknown, path: string): string[] {
  return arr(x, path).map((s, i) => str(s, `${path}[${i}]`));
}

/** A file name inside the bundle: relative, `/`-separated, no `..`, no odd characters. */
export function safeFileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/.test(name) && !name.split('/').includes('..');
}

function files(x: unknown, path: string): Map<string, { bytes: number; sha256: string }> {
  const out = new Map<string, { bytes: number; sha256: string }>();
  arr(x, path).forEach((f, i) => {
    const p = `${path}[${i}]`;
    const o = obj(f, p);
    const name = str(o['name'], `${p}.name`);
    if (!safeFileName(name)) fail(`${p}.name`, `must be a relative file name inside the bundle, is ${show(name)}`);
    if (out.has(name)) fail(`${p}.name`, `lists ${name} a second time`);
    const sha256 = str(o['sha256'], `${p}.sha256`);
    if (!/^[0-9a-f]{64}$/.test(sha256)) fail(`${p}.sha256`, `must be 64 lowercase hex digits, is ${show(sha256)}`);
    out.set(name, { bytes: int(o['bytes'], `${p}.bytes`), sha256 });
  });
  return out;
}

function checkBuffers(m: Record<string, unknown>, precision: 'f32' | 'f64', spaces: Record<'state' | 'arena', number>): Map<string, Record<string, unknown>[]> {
  const byName = new Map<string, Record<string, unknown>[]>();
  arr(m['buffers'], 'buffers').forEach((raw, i) => {
    const p = `buffers[${i}]`;
    const b = obj(raw, p);
    const name = str(b['name'], `${p}.name`);
    const role = oneOf(b['role'], `${p}.role`, ['input', 'param', 'state', 'output', 'const', 'temp']);
    const dtype = oneOf(b['dtype'], `${p}.dtype`, ['f32', 'i32', 'bool']);
    const shape = arr(b['shape'], `${p}.shape`).map((d, k) => int(d, `${p}.shape[${k}]`, 0, MAX_SPACE_BYTES));
    const space = oneOf(b['space'], `${p}.space`, ['state', 'arena']);
    const offset = int(b['offset'], `${p}.offset`);
    const size = dtype === 'f32' && precision === 'f64' ? 8 : 4;
    const count = shape.reduce((a, d) => a * d, 1);
    if (offset % size !== 0) fail(`${p}.offset`, `(${offset}) of \`${name}\` is not a multiple of its element size ${size}`);
    if (offset + count * size > spaces[space]) fail(`${p}.offset`, `+ size of \`${name}\` (${offset} + ${count * size} bytes) runs past the end of the ${space} space (${spaces[space]} bytes)`);
    if ((role === 'input' || role === 'output' || role === 'param' || role === 'state' || role === 'const') && space !== 'state') fail(`${p}.space`, `of the ${role} \`${name}\` must be state, is ${space}`);
    if (b['init'] !== undefined) {
      const init = obj(b['init'], `${p}.init`);
      const kind = str(init['kind'], `${p}.init.kind`);
      if (!findInitializer(kind)) fail(`${p}.init.kind`, `names no initializer: ${show(kind)}`);
      for (const [k, v] of Object.entries(obj(init['args'], `${p}.init.args`))) if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${p}.init.args.${k}`, `must be a finite number, is ${show(v)}`);
    }
    if (b['values'] !== undefined) {
      const values = arr(b['values'], `${p}.values`);
      if (values.length !== count) fail(`${p}.values`, `has ${values.length} values, \`${name}\` (${dtype}[${shape.join(', ')}]) holds ${count}`);
      values.forEach((v, k) => {
        if (typeof v !== 'number') fail(`${p}.values[${k}]`, `must be a number, is ${show(v)}`);
      });
    }
    if (b['range'] !== undefined) {
      const r = obj(b['range'], `${p}.range`);
      const lo = int(r['lo'], `${p}.range.lo`, -(2 ** 31), 2 ** 31);
      int(r['hi'], `${p}.range.hi`, lo, 2 ** 31);
      str(r['use'], `${p}.range.use`);
    }
    byName.set(name, [...(byName.get(name) ?? []), b]);
  });
  return byName;
}

function checkKernels(m: Record<string, unknown>, backend: 'js' | 'webgpu'): void {
  const shaders = m['shaders'] === undefined ? [] : strings(m['shaders'], 'shaders');
  if (backend === 'webgpu' && shaders.length === 0 && arr(m['kernels'], 'kernels').length > 0) fail('shaders', 'must list the WGSL files of a WebGPU program');
  shaders.forEach((s, i) => {
    if (!safeFileName(s)) fail(`shaders[${i}]`, `must be a relative file name inside the bundle, is ${show(s)}`);
  });
  const names = new Set<string>();
  arr(m['kernels'], 'kernels').forEach((raw, i) => {
    const p = `kernels[${i}]`;
    const k = obj(raw, p);
    const name = str(k['name'], `${p}.name`);
    if (names.has(name)) fail(`${p}.name`, `names kernel ${name} a second time`);
    names.add(name);
    oneOf(k['kind'], `${p}.kind`, ['map', 'contraction', 'routine']);
    strings(k['ops'], `${p}.ops`);
    if (k['sources'] !== undefined) arr(k['sources'], `${p}.sources`);
    if (backend !== 'webgpu') return;
    int(k['shader'], `${p}.shader`, 0, shaders.length - 1);
    const params = arr(k['params'] ?? [], `${p}.params`);
    if (params.length > MAX_PARAMS) fail(`${p}.params`, `has ${params.length} values, a parameter block holds ${MAX_PARAMS}`);
    params.forEach((v, j) => int(v, `${p}.params[${j}]`, 0, 2 ** 32 - 1));
    const wg = arr(k['workgroups'], `${p}.workgroups`);
    if (wg.length !== 3) fail(`${p}.workgroups`, `must be 3 counts, has ${wg.length}`);
    wg.forEach((v, j) => int(v, `${p}.workgroups[${j}]`, 0, MAX_WORKGROUPS));
  });
}

/** Loops over ranges of kernels (manifest `loops`): the range inside `kernels`, buffer indices inside `buffers`. */
function checkLoops(m: Record<string, unknown>): void {
  if (m['loops'] === undefined) return;
  const kernels = arr(m['kernels'], 'kernels').length;
  const buffers = arr(m['buffers'], 'buffers');
  arr(m['loops'], 'loops').forEach((raw, i) => {
    const p = `loops[${i}]`;
    const l = obj(raw, p);
    str(l['name'], `${p}.name`);
    const first = int(l['first'], `${p}.first`, 0, kernels);
    int(l['count'], `${p}.count`, 0, kernels - first);
    int(l['trips'], `${p}.trips`);
    if (typeof l['reverse'] !== 'boolean') fail(`${p}.reverse`, `must be true or false, is ${show(l['reverse'])}`);
    int(l['depth'], `${p}.depth`);
    const counter = int(l['counter'], `${p}.counter`, 0, buffers.length - 1);
    if ((buffers[counter] as Record<string, unknown>)['dtype'] !== 'i32') fail(`${p}.counter`, `must name an i32 buffer, names ${show((buffers[counter] as Record<string, unknown>)['name'])}`);
    for (const phase of ['enter', 'before', 'after', 'exit']) {
      arr(l[phase], `${p}.${phase}`).forEach((c, j) => {
        const q = `${p}.${phase}[${j}]`;
        const o = obj(c, q);
        int(o['src'], `${q}.src`, 0, buffers.length - 1);
        int(o['dst'], `${q}.dst`, 0, buffers.length - 1);
        for (const f of ['srcOffset', 'srcStep', 'dstOffset', 'dstStep']) int(o[f], `${q}.${f}`, -MAX_SPACE_BYTES, MAX_SPACE_BYTES);
        int(o['size'], `${q}.size`, 0, MAX_SPACE_BYTES);
      });
    }
  });
}

/**
 * The first problem of a parsed manifest.json, or undefined when it is well formed: format and
 * version, backend and precision, space sizes, every buffer (types, inside its space, aligned),
 * inputs/params/outputs/updates naming buffers of their role, kernels (shader index, parameter
 * block, workgroup counts), loops (kernel ranges, buffer indices), the module, shaders, weights and files (each program file listed once).
 */
export function manifestProblem(raw: unknown): string | undefined {
  try {
    const m = obj(raw, 'manifest');
    if (m['format'] !== MANIFEST_FORMAT) fail('format', `must be ${MANIFEST_FORMAT} (this is not a dlc program manifest), is ${show(m['format'])}`);
    if (m['version'] !== MANIFEST_VERSION) fail('version', `${show(m['version'])} is not supported (this runtime reads version ${MANIFEST_VERSION}; rebuild the bundle with this dlc's \`dlc build\`)`);
    str(m['name'], 'name');
    const backend = oneOf(m['backend'], 'backend', ['js', 'webgpu']);
    const precision = oneOf(m['precision'], 'precision', ['f32', 'f64']);
    if (backend === 'webgpu' && precision !== 'f32') fail('precision', 'of a WebGPU program must be f32');
    const spaces = {
      state: int(obj(m['state'], 'state')['bytes'], 'state.bytes', 0, MAX_SPACE_BYTES),
      arena: int(obj(m['arena'], 'arena')['bytes'], 'arena.bytes', 0, MAX_SPACE_BYTES),
    };
    const buffers = checkBuffers(m, precision, spaces);
    const roles = { inputs: 'input', params: 'param', outputs: 'output' } as const;
    for (const [field, role] of Object.entries(roles)) {
      strings(m[field], field).forEach((name, i) => {
        if (!buffers.get(name)?.some((b) => b.role === role)) fail(`${field}[${i}]`, `names \`${name}\`, which is no ${role} buffer of the manifest`);
      });
    }
    if (m['updates'] !== undefined) strings(m['updates'], 'updates');
    checkKernels(m, backend);
    checkLoops(m);
    const listed = m['files'] === undefined ? undefined : files(m['files'], 'files');
    const needed: string[] = [...(m['shaders'] === undefined ? [] : strings(m['shaders'], 'shaders'))];
    if (backend === 'js') needed.push(str(m['js'], 'js'));
    else if (m['js'] !== undefined) fail('js', 'is set in a WebGPU manifest');
    if (m['weights'] !== undefined) needed.push(str(m['weights'], 'weights'));
    for (const f of needed) {
      if (!safeFileName(f)) fail('files', `: ${show(f)} is not a relative file name inside the bundle`);
      if (listed && !listed.has(f)) fail('files', `does not list ${f}, a file of the program`);
    }
    if (m['integrity'] !== undefined && !/^[0-9a-f]{64}$/.test(str(m['integrity'], 'integrity'))) fail('integrity', `must be 64 lowercase hex digits, is ${show(m['integrity'])}`);
    return undefined;
  } catch (e) {
    if (e instanceof Problem) return e.message;
    throw e;
  }
}

/** The first problem of a parsed bundle.json, or undefined when it is well formed. */
export function bundleIndexProblem(raw: unknown): string | undefined {
  try {
    const m = obj(raw, 'bundle');
    if (m['format'] !== BUNDLE_FORMAT) fail('format', `must be ${BUNDLE_FORMAT}, is ${show(m['format'])}`);
    if (m['version'] !== BUNDLE_VERSION) fail('version', `${show(m['version'])} is not supported (this runtime reads version ${BUNDLE_VERSION}; rebuild the bundle with this dlc's \`dlc build\`)`);
    str(m['name'], 'name');
    const backends = obj(m['backends'], 'backends');
    const listed = files(m['files'], 'files');
    const keys = Object.keys(backends);
    if (keys.length === 0) fail('backends', 'names no backend');
    for (const k of keys) {
      oneOf(k, `backends.${k}`, ['js', 'webgpu']);
      const dir = str(backends[k], `backends.${k}`);
      if (!safeFileName(dir)) fail(`backends.${k}`, `must be a relative directory inside the bundle, is ${show(dir)}`);
      if (!listed.has(`${dir}/manifest.json`)) fail('files', `does not list ${dir}/manifest.json`);
    }
    if (!/^[0-9a-f]{64}$/.test(str(m['integrity'], 'integrity'))) fail('integrity', `must be 64 lowercase hex digits, is ${show(m['integrity'])}`);
    return undefined;
  } catch (e) {
    if (e instanceof Problem) return e.message;
    throw e;
  }
}
