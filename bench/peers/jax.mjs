// jax-js (@jax-js/jax): the wasm backend (THREADS worker threads on env.mjs's Worker shim, with
// SharedArrayBuffer memory) and the webgpu backend over the same Dawn adapter as dlc
// (navigator.gpu). Arrays carry their device, and each step is jit-compiled for its device.
import { webWorkersStarted } from '../env.mjs';
import { JAX_MODELS } from './jax-models.mjs';

let jax;
let available;
async function load() {
  if (jax) return;
  jax = await import('@jax-js/jax');
  available = await jax.init('wasm', 'webgpu');
}

function jaxSystem(backend) {
  return {
    system: 'jax-js',
    backend,
    note: '',
    async init() {
      await load();
      if (!available.includes(backend)) throw new Error(`jax-js could not start its ${backend} backend (init() gave ${available.join(', ')})`);
    },
    async prepare(w, data) {
      const make = JAX_MODELS[w.id];
      if (!make) throw new Error(`no jax-js version of ${w.id}`);
      const m = make(jax, data, backend, w);
      return {
        step: m.step,
        dispose() {},
        // The wasm backend starts its workers on the first kernel.
        noteAfter: () => (backend === 'wasm' ? `${webWorkersStarted()} worker threads` : ''),
      };
    },
  };
}

export const jaxSystems = () => [jaxSystem('wasm'), jaxSystem('webgpu')];
