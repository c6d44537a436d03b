// Benchmark: a 512×512×512 matrix product through dlc's JS backend (f32 and f64) and WebGPU,
// next to a naive triple loop in plain JavaScript. Prints a table, writes bench/results/matmul.json.
// Run after `npm install` (which builds dist/): node bench/matmul.mjs [--n 512] [--iters 20]
import { mkdirSync, writeFileSync } from 'node:fs';
import { compile } from '../dist/index.js';
import { runPipeline } from '../dist/passes/pipeline.js';
import { makeExecutable } from '../dist/exec.js';
import { randomArray } from '../dist/gradcheck/check.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('n', 512);
const ITERS = arg('iters', 20);
const WARMUP = 3;
const flops = 2 * N * N * N;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ts = [];
  for (let i = 0; i < ITERS; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

const a = randomArray('f32', [N, N], 1, 'a');
const b = randomArray('f32', [N, N], 2, 'b');
const g = runPipeline(compile(`fn mm(a: f32[${N}, ${N}], b: f32[${N}, ${N}]) { return a @ b }`, 'mm')).graph;
const inputs = new Map([['a', a], ['b', b]]);

const rows = [];
function record(system, ms) {
  rows.push({ workload: `matmul ${N}x${N}x${N}`, system, ms: Number(ms.toFixed(2)), gflops: Number((flops / ms / 1e6).toFixed(2)) });
}

// Baseline: the naive i-j-k loop over Float32Arrays.
{
  const A = Float32Array.from(a.data);
  const B = Float32Array.from(b.data);
  const C = new Float32Array(N * N);
  record('naive JS loop (f32)', await time(() => {
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += A[i * N + k] * B[k * N + j];
      C[i * N + j] = s;
    }
  }));
}

for (const precision of ['f32', 'f64']) {
  const exe = await makeExecutable(g, { backend: 'js', precision });
  record(`dlc js (${precision})`, await time(() => exe.run(inputs)));
}

try {
  const exe = await makeExecutable(g, { backend: 'webgpu' });
  record('dlc webgpu (f32)', await time(() => exe.run(inputs)));
} catch (e) {
  console.log(`webgpu: not measured (${e.message})`);
}

const w = Math.max(...rows.map((r) => r.system.length));
console.log(`\n${'system'.padEnd(w)}   ms/run   GFLOP/s`);
for (const r of rows) console.log(`${r.system.padEnd(w)}  ${String(r.ms).padStart(7)}  ${String(r.gflops).padStart(8)}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/matmul.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), n: N, iterations: ITERS, rows }, null, 2) + '\n');
process.exit(0);
