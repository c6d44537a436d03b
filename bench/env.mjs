// The Node environment the peers expect from a browser, set up once per process:
//  * navigator.gpu: the same Dawn GPU object (lavapipe here) that dlc's WebGPU executor uses,
//    obtained from dlc's own getGpu(); navigator.hardwareConcurrency = THREADS;
//  * a browser-style Worker (blob: URL, onmessage/postMessage) on node:worker_threads, which
//    jax-js's wasm backend needs for its threads;
//  * a patched worker_threads.Worker that can start the blob: workers tfjs-backend-wasm's
//    Emscripten build creates for its pthreads (TF.js disables wasm threads in Node otherwise);
//  * a counter of WebGPU compute dispatches (GPUComputePassEncoder.prototype.dispatchWorkgroups).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolveObjectURL } from 'node:buffer';
import * as workerThreads from 'node:worker_threads';
import { getGpu } from '../dist/runtime/webgpu-executor.js';

export const THREADS = 2;
const require = createRequire(import.meta.url);
const NodeWorker = workerThreads.Worker;

let dispatches = 0;
/** WebGPU compute dispatches encoded so far in this process (all systems). */
export const dispatchCount = () => dispatches;

let gpu;
/** Installs the globals; returns the GPU object (undefined when WebGPU is unavailable). */
export async function setupEnv() {
  if (!process.env.XDG_RUNTIME_DIR) {
    process.env.XDG_RUNTIME_DIR = '/tmp/xdg'; // Mesa wants one
    mkdirSync('/tmp/xdg', { recursive: true, mode: 0o700 });
  }
  gpu = await getGpu();
  globalThis.navigator = { gpu, hardwareConcurrency: THREADS, userAgent: `Node.js/${process.versions.node}`, language: 'en-US' };
  if (gpu && globalThis.GPUComputePassEncoder) {
    const proto = globalThis.GPUComputePassEncoder.prototype;
    const orig = proto.dispatchWorkgroups;
    proto.dispatchWorkgroups = function (...args) {
      dispatches++;
      return orig.apply(this, args);
    };
  }
  installWebWorker();
  patchWorkerThreadsForEmscripten();
  return gpu;
}

// ---- a browser-style Worker for jax-js ---------------------------------------------------------

// Runs first in the worker thread: `self`, `postMessage` and `self.onmessage` as in a browser.
const WEB_WORKER_PRELUDE = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (m, t) => parentPort.postMessage(m, t);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`;

let webWorkers = 0;
/** Browser-style workers started so far (jax-js's wasm thread pool). */
export const webWorkersStarted = () => webWorkers;

class WebWorker {
  #worker;
  #queue = [];
  onmessage = null;
  onerror = null;

  constructor(url) {
    webWorkers++;
    const href = String(url);
    const blob = href.startsWith('blob:') ? resolveObjectURL(href) : undefined;
    if (href.startsWith('blob:') && !blob) throw new Error(`Worker: unknown blob URL ${href}`);
    const source = blob ? blob.text() : Promise.resolve(require('node:fs').readFileSync(new URL(href), 'utf8'));
    source.then((text) => {
      this.#worker = new NodeWorker(WEB_WORKER_PRELUDE + text, { eval: true });
      this.#worker.unref();
      this.#worker.on('message', (data) => this.onmessage?.({ data }));
      this.#worker.on('error', (e) => this.onerror?.({ message: e.message, error: e }));
      for (const [m, t] of this.#queue) this.#worker.postMessage(m, t);
      this.#queue = null;
    }, (e) => this.onerror?.({ message: e.message, error: e }));
  }

  postMessage(message, transfer) {
    if (this.#queue) this.#queue.push([message, transfer]);
    else this.#worker.postMessage(message, transfer);
  }

  terminate() {
    this.#worker?.terminate();
  }
}

function installWebWorker() {
  globalThis.Worker = WebWorker;
}

/** tfjs-backend-wasm's Emscripten glue sets global.Worker to worker_threads.Worker: undo that. */
export function restoreWebWorker() {
  globalThis.Worker = WebWorker;
}

// ---- worker_threads.Worker that understands tfjs-backend-wasm's blob: workers ------------------

// The threaded build's pthread worker source and its Emscripten glue, as shipped in the package.
let tfjsWorkerSource;
const tfjsGlue = () => require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');

function patchWorkerThreadsForEmscripten() {
  const cjs = require('node:worker_threads');
  if (cjs.Worker !== NodeWorker) return;
  class EmscriptenWorker extends NodeWorker {
    constructor(file, options) {
      if (typeof file === 'string' && file.startsWith('blob:')) {
        // TF.js escapes the newlines in string literals the same way before making its Blob.
        tfjsWorkerSource ??= require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js').wasmWorkerContents.replace(/\n/g, '\\n');
        super(tfjsWorkerSource, { ...options, eval: true });
      } else {
        super(file, options);
      }
    }
    // The "load" message carries the main script as a Blob, which a Node worker cannot import:
    // give it the path of the same glue code in the package. (Posting stays synchronous: the main
    // thread blocks while pthreads start.)
    postMessage(message, transfer) {
      if (message && message.cmd === 'load' && message.urlOrBlob && typeof message.urlOrBlob !== 'string') message = { ...message, urlOrBlob: tfjsGlue() };
      super.postMessage(message, transfer);
    }
  }
  cjs.Worker = EmscriptenWorker;
}

/**
 * TF.js's wasm backend sizes its thread pool from emscripten_num_logical_cores() / 2 (it assumes
 * two hardware threads per core), which is os.cpus().length / 2 in Node. Runs `fn` (the backend's
 * initialization) while os.cpus() reports 2 × THREADS processors, so that setThreadsCount(THREADS)
 * is honoured on a THREADS-core machine.
 */
export async function withReportedCpus(fn) {
  const os = require('node:os');
  const orig = os.cpus;
  os.cpus = () => {
    const c = orig();
    return c.length >= 2 * THREADS ? c : Array.from({ length: 2 * THREADS }, (_, i) => c[i % c.length]);
  };
  try {
    return await fn();
  } finally {
    os.cpus = orig;
  }
}
