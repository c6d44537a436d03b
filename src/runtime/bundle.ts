/**
 * @file Loading a bundle written by `dlc build` (a directory with manifest.json, program.js or
 * the shaders sN.wgsl, and weights.safetensors when built with --params) in Node or a browser: from a
 * directory path (Node), a URL (fetch), or any function that returns a file's bytes.
 */
import { JsExecutor } from './js-executor.js';
import { checkManifest, type Manifest } from './manifest.js';
import { WebGpuExecutor } from './webgpu-executor.js';

/** Returns the bytes of a file of the bundle, by its name relative to manifest.json. */
export type ReadFile = (file: string) => Promise<Uint8Array>;

function reader(source: string | ReadFile): ReadFile {
  if (typeof source === 'function') return source;
  const inNode = typeof process !== 'undefined' && Boolean((process as { versions?: { node?: string } }).versions?.node);
  if (/^(https?|blob):/.test(source) || !inNode) {
    const base = source.endsWith('/') ? source : `${source}/`;
    return async (file) => {
      const r = await fetch(new URL(file, new URL(base, (globalThis as { location?: { href: string } }).location?.href)));
      if (!r.ok) throw new Error(`cannot load ${file} from ${base}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    };
  }
  return async (file) => {
    const name = 'node:fs/promises';
    const fs = (await import(name)) as { readFile(p: string): Promise<Uint8Array> };
    return new Uint8Array(await fs.readFile(`${source.replace(/\/$/, '')}/${file}`));
  };
}

async function manifestOf(read: ReadFile): Promise<Manifest> {
  return checkManifest(JSON.parse(new TextDecoder().decode(await read('manifest.json'))));
}

/** Loads a JS bundle (its `js/` directory): the program, and its trained weights when it has them. */
export async function loadJsBundle(source: string | ReadFile, seed = 0): Promise<JsExecutor> {
  const read = reader(source);
  const m = await manifestOf(read);
  if (!m.js) throw new Error(`this bundle was built for the ${m.backend} backend (no JavaScript module)`);
  const ex = await JsExecutor.create(m, new TextDecoder().decode(await read(m.js)), seed);
  if (m.weights) ex.loadWeights(await read(m.weights), m.weights);
  return ex;
}

/** Loads a WebGPU bundle (its `webgpu/` directory) on a device, with its trained weights when it has them. */
export async function loadWebGpuBundle(device: GPUDevice, source: string | ReadFile, seed = 0): Promise<WebGpuExecutor> {
  const read = reader(source);
  const m = await manifestOf(read);
  const wgsl = new Map<string, string>();
  for (const file of m.shaders ?? []) wgsl.set(file, new TextDecoder().decode(await read(file)));
  const ex = await WebGpuExecutor.create(device, { manifest: m, wgsl }, seed);
  if (m.weights) ex.loadWeights(await read(m.weights), m.weights);
  return ex;
}
