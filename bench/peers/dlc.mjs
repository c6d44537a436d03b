// dlc's side: the .dl files in bench/workloads/, compiled from the built dist/ and run through
// the JS backend (f32) and the WebGPU backend. Inputs are uploaded on every run (that is what
// Executable.run does); on WebGPU only the outputs asked for are read back.
import { readFileSync } from 'node:fs';
import { compile, makeExecutable, NDArray } from '../../dist/index.js';
import { runPipeline } from '../../dist/passes/pipeline.js';
import { getDevice } from '../../dist/runtime/webgpu-executor.js';

const workloadPath = (file) => new URL(`../workloads/${file}`, import.meta.url);

/** The optimized graph of a workload's .dl function (cached: both backends use it). */
const graphs = new Map();
function graphOf(w) {
  if (!graphs.has(w.id)) {
    const path = workloadPath(w.file);
    graphs.set(w.id, runPipeline(compile(readFileSync(path, 'utf8'), w.fn, { path: path.pathname })).graph);
  }
  return graphs.get(w.id);
}

function dlcSystem(backend) {
  return {
    system: 'dlc',
    backend,
    async init() {
      if (backend === 'webgpu' && !(await getDevice())) throw new Error('no WebGPU adapter');
    },
    async prepare(w, data) {
      const g = graphOf(w);
      const exe = await makeExecutable(g, { backend, precision: 'f32' });
      const paramNames = g.params.map((p) => String(p.attrs.name));
      for (const name of paramNames) {
        if (!data.params[name]) throw new Error(`no benchmark data for dlc parameter ${name}`);
        exe.setParam(name, data.params[name].data);
      }
      const inputs = new Map(Object.entries(data.inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
      // Read back the loss (the first output) or, for W1/W3, the one output.
      const wanted = [g.outputs[0].name];
      return {
        kernels: exe.kernelCount,
        async step() {
          const out = await exe.run(inputs, wanted);
          const v = out.get(wanted[0]).data;
          return w.result === 'loss' ? v[0] : v;
        },
        dispose() {},
      };
    },
  };
}

export const dlcSystems = () => [dlcSystem('js'), dlcSystem('webgpu')];
