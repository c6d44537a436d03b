#!/usr/bin/env node
// Complex numbers two ways (issue 15): the linear recurrent unit of examples/lru.dl, written with
// the standard library's packed complex tensors (f32[..., 2], src/stdlib/complex.dl), against the
// same model written with separate real and imaginary tensors (bench/workloads/lru-pairs.dl).
// For the gradient of the loss with respect to every parameter (B = 4, T = 256, the loop kept):
// kernels in all and per loop step, the first call and the median warm call on the JS backend
// (f32) and on WebGPU, the two programs timed in interleaved rounds in one process.
//
//   node bench/complex-lru.mjs [--rounds 9] [--out bench/results/complex-lru.json|-]
//
// Uses the built compiler in dist/ (`npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs`).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, initParams, makeExecutable, NDArray } from '../dist/index.js';
import { getDevice } from '../dist/runtime/webgpu-executor.js';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const rounds = Number(opt('rounds', '9'));
const outFile = opt('out', join(here, 'results', 'complex-lru.json'));
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/xdg';
  mkdirSync('/tmp/xdg', { recursive: true, mode: 0o700 });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v) => Math.round(v * 10) / 10;

const GRADS = `
  fn grads(x: f32[B, T, d_in], target: f32[B, T, d_in]) {
    let (l, g) = value_and_grad(loss(x, target), self)
    return l, g.nu, g.theta, g.Bm, g.Cm, g.Dv
  }
`;
/** The model's source with a `grads` entry point added before its closing brace. */
function withGrads(path) {
  const text = readFileSync(join(here, path), 'utf8').replace(/^train .*$/m, '');
  const end = text.lastIndexOf('}');
  return text.slice(0, end) + GRADS + text.slice(end);
}
const FORMS = { packed: '../examples/lru.dl', pairs: 'workloads/lru-pairs.dl' };
const dims = { B: 4, T: 256 };
const backends = ['js', ...((await getDevice().catch(() => undefined)) ? ['webgpu'] : [])];

const systems = [];
for (const backend of backends)
  for (const [form, path] of Object.entries(FORMS)) {
    const g = compile(withGrads(path), 'LRU.grads', { path, dims });
    const inputs = new Map();
    for (const n of g.inputs) {
      const len = n.type.shape.reduce((a, b) => a * b, 1);
      inputs.set(String(n.attrs.name), NDArray.from(n.type.shape, Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.37))));
    }
    const exe = await makeExecutable(g, { backend, precision: 'f32' });
    for (const [name, v] of initParams(g, 1)) exe.setParam(name, v.data);
    const t0 = performance.now();
    const loss = (await exe.run(inputs)).values().next().value.data[0];
    const first = performance.now() - t0;
    systems.push({ backend, form, exe, inputs, loss, first_ms: round(first), kernels: exe.kernelCount, times: [] });
  }
for (let r = 0; r < rounds; r++)
  for (const s of systems) {
    const t0 = performance.now();
    await s.exe.run(s.inputs);
    s.times.push(performance.now() - t0);
  }

const rows = systems.map((s) => ({ backend: s.backend, form: s.form, loss: s.loss, kernels: s.kernels, first_ms: s.first_ms, median_ms: round(median(s.times)) }));
console.log(`LRU gradient, B = ${dims.B}, T = ${dims.T}, ${rounds} interleaved rounds`);
console.log('| backend | form | loss | kernels in the program | first call (ms) | warm call, median (ms) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.backend} | ${r.form} | ${r.loss.toFixed(6)} | ${r.kernels} | ${r.first_ms} | ${r.median_ms} |`);
if (outFile !== '-') {
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), dims, rounds, rows }, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
}
process.exit(0);
