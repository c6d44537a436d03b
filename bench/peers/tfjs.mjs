// TF.js 4.22 (@tensorflow/tfjs): the cpu backend (plain JS), the wasm backend with THREADS threads
// (XNNPACK; TF.js turns wasm threads off in Node, so env.mjs supplies the workers and the flag is
// forced on here) and the webgpu backend over the same Dawn adapter as dlc (navigator.gpu).
// One TF.js engine serves all three; the driver activates a system's backend before each of its
// steps (outside the timed region), and each system only touches tensors made on its backend.
import { THREADS, restoreWebWorker, withReportedCpus } from '../env.mjs';
import { TFJS_MODELS } from './tfjs-models.mjs';

let tf;
let wasm;
async function load() {
  if (tf) return;
  tf = await import('@tensorflow/tfjs');
  wasm = await import('@tensorflow/tfjs-backend-wasm');
  await import('@tensorflow/tfjs-backend-webgpu'); // registers 'webgpu' when navigator.gpu exists
  tf.env().set('PROD', true);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(THREADS);
}

function tfjsSystem(backend) {
  const activate = async () => {
    if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  };
  return {
    system: 'tfjs',
    backend,
    note: '',
    async init() {
      await load();
      if (!tf.engine().registryFactory[backend]) throw new Error(`backend ${backend} is not registered (navigator.gpu missing?)`);
      if (backend === 'wasm') {
        await withReportedCpus(activate);
        restoreWebWorker(); // Emscripten replaced the global Worker; jax-js needs the browser one
        this.note = `${wasm.getThreadsCount()} threads`;
      } else await activate();
    },
    activate,
    async prepare(w, data) {
      await activate();
      const make = TFJS_MODELS[w.id];
      if (!make) throw new Error(`no TF.js version of ${w.id}`);
      return { ...make(tf, data, w), dispose() {} };
    },
  };
}

export const tfjsSystems = () => [tfjsSystem('cpu'), tfjsSystem('wasm'), tfjsSystem('webgpu')];
