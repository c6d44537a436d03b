/**
 * @file Loading a bundle written by `dlc build` in Node or a browser, from a directory path (Node,
 * read with fs), a URL (fetch) or a function that returns a file's bytes. A bundle directory holds
 * bundle.json (the backends and the files), README.md, index.d.ts, and for each backend a directory
 * (js/, webgpu/) with manifest.json, the program (program.js, or the shaders sN.wgsl) and
 * weights.safetensors when built with --params; a backend's directory also loads on its own.
 *
 * Everything is checked before it is used: the manifest's structure (validate.ts) and its integrity
 * digest, and each file's size and SHA-256 against the manifest; a bundle that fails is a
 * BundleError naming the file and what is wrong. In a browser the JS module is imported by its URL,
 * never from a `data:` URL, so a page under a strict content-security policy (`script-src 'self'`)
 * can load it; in Node by its file URL (a bundle on disk), or from its verified text when it was
 * fetched over http (Node imports only file: URLs, and has no content-security policy).
 */
/// <reference types="@webgpu/types" />
import { BundleError } from './bundle-errors.js';
import { integrityText, sha256Hex } from './digest.js';
import { importSource, JsExecutor, type JsModule } from './js-executor.js';
import type { BundleIndex, Manifest, ManifestFile } from './manifest.js';
import { Program } from './program.js';
import { bundleIndexProblem, manifestProblem } from './validate.js';
import { getDevice, ShaderCompileError, WebGpuExecutor } from './webgpu-executor.js';

/** Returns the bytes of a file of the bundle, by its name relative to manifest.json. */
export type ReadFile = (file: string) => Promise<Uint8Array>;

/** Where a bundle's files come from. */
interface Place {
  /** The bundle, as errors name it. */
  readonly where: string;
  /** A file's bytes, or undefined when it does not exist (ENOENT, HTTP 404). */
  read(file: string): Promise<Uint8Array | undefined>;
  /** The URL to import a JS module of the bundle from (none for a ReadFile). */
  moduleUrl?(file: string): Promise<string>;
}

const inNode = () => typeof process !== 'undefined' && Boolean((process as { versions?: { node?: string } }).versions?.node);

// Node's modules are imported by a name in a variable, so that a browser bundler leaves them alone.
async function nodeModule<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T;
}

function urlPlace(base: URL): Place {
  const dir = base.href.endsWith('/') ? base : new URL(`${base.href}/`);
  return {
    where: dir.href,
    async read(file) {
      let r: Response;
      try {
        r = await fetch(new URL(file, dir));
      } catch (e) {
        throw new BundleError(dir.href, file, `cannot be fetched: ${(e as Error).message}`, { cause: e });
      }
      if (r.status === 404 || r.status === 410) return undefined;
      if (!r.ok) throw new BundleError(dir.href, file, `cannot be fetched: HTTP ${r.status} ${r.statusText}`);
      return new Uint8Array(await r.arrayBuffer());
    },
    // Node imports only file: URLs: there the verified text is imported (Node has no CSP).
    ...(inNode() ? {} : { moduleUrl: async (file: string) => new URL(file, dir).href }),
  };
}

async function dirPlace(path: string): Promise<Place> {
  const fs = await nodeModule<{ readFile(p: string): Promise<Uint8Array> }>('node:fs/promises');
  const url = await nodeModule<{ pathToFileURL(p: string): URL }>('node:url');
  const pathMod = await nodeModule<{ resolve(...p: string[]): string }>('node:path');
  const root = pathMod.resolve(path);
  return {
    where: path,
    async read(file) {
      try {
        return new Uint8Array(await fs.readFile(pathMod.resolve(root, file)));
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new BundleError(path, file, `cannot be read: ${(e as Error).message}`, { cause: e });
      }
    },
    moduleUrl: async (file) => url.pathToFileURL(pathMod.resolve(root, file)).href,
  };
}

function readerPlace(read: ReadFile): Place {
  return {
    where: '(files read by a function)',
    async read(file) {
      try {
        return await read(file);
      } catch (e) {
        throw new BundleError('(files read by a function)', file, `cannot be read: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}

async function place(source: string | URL | ReadFile): Promise<Place> {
  if (typeof source === 'function') return readerPlace(source);
  if (source instanceof URL) {
    if (source.protocol === 'file:' && inNode()) return dirPlace((await nodeModule<{ fileURLToPath(u: URL): string }>('node:url')).fileURLToPath(source));
    return urlPlace(source);
  }
  if (/^(https?|blob):/.test(source) || !inNode()) return urlPlace(new URL(source, (globalThis as { location?: { href: string } }).location?.href));
  if (source.startsWith('file:')) return dirPlace((await nodeModule<{ fileURLToPath(u: string): string }>('node:url')).fileURLToPath(source));
  return dirPlace(source);
}

/** Reads a listed file and checks its size and SHA-256. */
async function verified(p: Place, file: string, listed: ManifestFile, listedIn: string): Promise<Uint8Array> {
  const bytes = await p.read(file);
  if (!bytes) throw new BundleError(p.where, file, `is missing (${listedIn} lists it)`);
  if (bytes.byteLength !== listed.bytes) throw new BundleError(p.where, file, `has ${bytes.byteLength} bytes, ${listedIn} says ${listed.bytes} (truncated, or from another build)`);
  if ((await sha256Hex(bytes)) !== listed.sha256) throw new BundleError(p.where, file, `is corrupt: its SHA-256 differs from the one ${listedIn} lists`);
  return bytes;
}

function parseJson(p: Place, file: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BundleError(p.where, file, 'is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BundleError(p.where, file, `is not valid JSON (${(e as Error).message})`);
  }
}

interface LoadedDir {
  readonly manifest: Manifest;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The directory's prefix in the bundle (`js/`, or `` for a backend directory loaded alone). */
  readonly dir: string;
}

/** Reads and checks a backend directory: its manifest (structure, integrity) and every file it lists. */
async function readProgramDir(p: Place, dir: string, listed?: ManifestFile): Promise<LoadedDir> {
  const file = `${dir}manifest.json`;
  let raw: unknown;
  if (listed) raw = parseJson(p, file, await verified(p, file, listed, 'bundle.json'));
  else {
    const bytes = await p.read(file);
    if (!bytes) throw new BundleError(p.where, file, 'is missing (is this a bundle directory written by `dlc build`?)');
    raw = parseJson(p, file, bytes);
  }
  const problem = manifestProblem(raw);
  if (problem) throw new BundleError(p.where, file, problem);
  const m = raw as Manifest;
  if (!m.files || !m.integrity) throw new BundleError(p.where, file, 'lists no files with their SHA-256 or no integrity digest (written by an older `dlc build`?): rebuild the bundle');
  if ((await sha256Hex(integrityText(raw as Record<string, unknown>))) !== m.integrity) {
    throw new BundleError(p.where, file, 'was edited after `dlc build` wrote it: its content does not match its integrity digest (rebuild the bundle)');
  }
  const files = new Map<string, Uint8Array>();
  await Promise.all(m.files.map(async (f) => files.set(f.name, await verified(p, `${dir}${f.name}`, f, file))));
  return { manifest: m, files, dir };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function jsModule(p: Place, d: LoadedDir): Promise<JsModule> {
  const file = `${d.dir}${d.manifest.js!}`;
  let mod: JsModule;
  try {
    if (p.moduleUrl) {
      // The digest in the query: a rebuilt program is a new module, not the one cached at this URL.
      const sha = d.manifest.files!.find((f) => f.name === d.manifest.js)!.sha256;
      mod = (await import(/* @vite-ignore */ `${await p.moduleUrl(file)}?sha256=${sha.slice(0, 16)}`)) as JsModule;
    } else mod = await importSource(text(d.files.get(d.manifest.js!)!));
  } catch (e) {
    throw new BundleError(p.where, file, `cannot be imported: ${(e as Error).message}`, { cause: e });
  }
  if (typeof mod.run !== 'function') throw new BundleError(p.where, file, 'does not export a `run` function (not a dlc program module)');
  if (mod.kernels && mod.kernels.length !== d.manifest.kernels.length) throw new BundleError(p.where, file, `has ${mod.kernels.length} kernels, manifest.json lists ${d.manifest.kernels.length}`);
  return mod;
}

function loadWeightsInto(p: Place, d: LoadedDir, ex: JsExecutor | WebGpuExecutor): void {
  if (!d.manifest.weights) return;
  const file = `${d.dir}${d.manifest.weights}`;
  try {
    ex.loadWeights(d.files.get(d.manifest.weights)!, file);
  } catch (e) {
    throw new BundleError(p.where, file, `does not fit the program: ${(e as Error).message}`, { cause: e });
  }
}

async function jsExecutor(p: Place, d: LoadedDir, seed: number): Promise<JsExecutor> {
  if (d.manifest.backend !== 'js') throw new BundleError(p.where, `${d.dir}manifest.json`, `is a ${d.manifest.backend} program, not a JS one`);
  const ex = await JsExecutor.create(d.manifest, await jsModule(p, d), seed);
  loadWeightsInto(p, d, ex);
  return ex;
}

async function webGpuExecutor(p: Place, d: LoadedDir, device: GPUDevice, seed: number): Promise<WebGpuExecutor> {
  if (d.manifest.backend !== 'webgpu') throw new BundleError(p.where, `${d.dir}manifest.json`, `is a ${d.manifest.backend} program, not a WebGPU one`);
  const wgsl = new Map<string, string>();
  for (const f of d.manifest.shaders ?? []) wgsl.set(f, text(d.files.get(f)!));
  let ex: WebGpuExecutor;
  try {
    ex = await WebGpuExecutor.create(device, { manifest: d.manifest, wgsl }, seed);
  } catch (e) {
    if (!(e instanceof ShaderCompileError)) throw e;
    const k = d.manifest.kernels.find((x) => x.name === e.kernel);
    const file = k?.shader !== undefined ? `${d.dir}${d.manifest.shaders![k.shader]!}` : `${d.dir}manifest.json`;
    throw new BundleError(p.where, file, e.message, { cause: e });
  }
  loadWeightsInto(p, d, ex);
  return ex;
}

/** Loads a JS program (a bundle's `js/` directory, or any ReadFile over one), with its trained weights when it has them. */
export async function loadJsBundle(source: string | URL | ReadFile, seed = 0): Promise<JsExecutor> {
  const p = await place(source);
  return jsExecutor(p, await readProgramDir(p, ''), seed);
}

/** Loads a WebGPU program (a bundle's `webgpu/` directory) on a device, with its trained weights when it has them. */
export async function loadWebGpuBundle(device: GPUDevice, source: string | URL | ReadFile, seed = 0): Promise<WebGpuExecutor> {
  const p = await place(source);
  return webGpuExecutor(p, await readProgramDir(p, ''), device, seed);
}

/** Options of `loadProgram`. */
export interface LoadOptions {
  /** `auto` (the default): WebGPU when the bundle has it and an adapter is found, else JS. */
  readonly backend?: 'webgpu' | 'js' | 'auto';
  /** The WebGPU device to run on (default: one per process, from `getDevice()`). */
  readonly device?: GPUDevice;
  /** The seed of the initializers of parameters the bundle has no weights for (default 0). */
  readonly seed?: number;
}

/**
 * Loads a bundle written by `dlc build` (its directory, or a backend's directory in it) from a
 * path (Node), a URL (fetch) or a ReadFile, checks every file, and returns the program on the
 * backend asked for: WebGPU when available (`auto`), else JS.
 */
export async function loadProgram(source: string | URL | ReadFile, options: LoadOptions = {}): Promise<Program> {
  const p = await place(source);
  const want = options.backend ?? 'auto';
  if (!['auto', 'js', 'webgpu'].includes(want)) throw new Error(`backend is auto, js or webgpu, got ${String(want)}`);
  const seed = options.seed ?? 0;
  const indexBytes = await p.read('bundle.json');
  let dirs: { js?: { dir: string; listed?: ManifestFile }; webgpu?: { dir: string; listed?: ManifestFile } };
  if (indexBytes) {
    const raw = parseJson(p, 'bundle.json', indexBytes);
    const problem = bundleIndexProblem(raw);
    if (problem) throw new BundleError(p.where, 'bundle.json', problem);
    const index = raw as BundleIndex;
    if ((await sha256Hex(integrityText(raw as Record<string, unknown>))) !== index.integrity) {
      throw new BundleError(p.where, 'bundle.json', 'was edited after `dlc build` wrote it: its content does not match its integrity digest (rebuild the bundle)');
    }
    // Every file the index lists (README.md, index.d.ts, each backend's manifest) is there, whole.
    await Promise.all(index.files.map((f) => verified(p, f.name, f, 'bundle.json')));
    const entry = (dir: string | undefined) => (dir === undefined ? undefined : { dir: `${dir}/`, listed: index.files.find((f) => f.name === `${dir}/manifest.json`)! });
    dirs = { js: entry(index.backends.js), webgpu: entry(index.backends.webgpu) };
  } else {
    // A backend's directory on its own: its manifest says which.
    const d = await readProgramDir(p, '').catch((e: unknown) => {
      if (e instanceof BundleError && e.file === 'manifest.json' && e.problem.startsWith('is missing')) throw new BundleError(p.where, 'bundle.json', 'is missing, and so is manifest.json (not a directory written by `dlc build`?)');
      throw e;
    });
    if (want !== 'auto' && want !== d.manifest.backend) throw new BundleError(p.where, 'manifest.json', `is a ${d.manifest.backend} program; ${want} was asked for`);
    if (d.manifest.backend === 'js') return new Program(await jsExecutor(p, d, seed));
    const device = options.device ?? (await getDevice());
    if (!device) throw new Error(`${p.where} is a WebGPU program and this platform has no WebGPU adapter`);
    return new Program(await webGpuExecutor(p, d, device, seed));
  }
  if (want !== 'js' && dirs.webgpu) {
    // auto: a platform whose adapter request fails (a blocked or broken GPU) runs on JS.
    const device = options.device ?? (await getDevice().catch((e: unknown) => (want === 'auto' ? undefined : Promise.reject(e))));
    if (device) return new Program(await webGpuExecutor(p, await readProgramDir(p, dirs.webgpu.dir, dirs.webgpu.listed), device, seed));
    if (want === 'webgpu') throw new Error(`${p.where}: WebGPU was asked for and this platform has no WebGPU adapter`);
  }
  if (want === 'webgpu') throw new BundleError(p.where, 'bundle.json', 'has no WebGPU program (built with --backend js?)');
  if (!dirs.js) throw new BundleError(p.where, 'bundle.json', 'has no JS program (built with --backend webgpu?)');
  return new Program(await jsExecutor(p, await readProgramDir(p, dirs.js.dir, dirs.js.listed), seed));
}
