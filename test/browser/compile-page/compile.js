// The compiler in a page (test/browser/compile-page.test.ts): `dlc` is dist/index.js through the
// page's import map. Compiles .dl source, runs it on the JS backend and on the interpreter.
import { check, compile, makeExecutable, NDArray, renderDiagnostics, runPipeline } from 'dlc';

/** Checks and compiles `source`, runs `entry` on JS and on the interpreter with the given inputs. */
async function compileAndRun(source, entry, dims, inputs, seed = 0) {
  const diagnostics = check(source, 'page.dl', { dims }).diagnostics;
  if (diagnostics.some((d) => d.severity === 'error')) return { errors: renderDiagnostics(diagnostics) };
  const graph = runPipeline(compile(source, entry, { dims, path: 'page.dl' })).graph;
  const map = new Map(Object.entries(inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
  const out = {};
  for (const backend of ['js', 'interp']) {
    const exe = await makeExecutable(graph, { backend, seed });
    const r = await exe.run(map);
    out[backend] = Object.fromEntries([...r].map(([k, v]) => [k, { shape: [...v.shape], data: Array.from(v.data) }]));
    if (backend === 'js') out.kernels = exe.kernelCount;
  }
  return out;
}

globalThis.dlcCompiler = { compileAndRun };
document.body.dataset.state = 'ready';
