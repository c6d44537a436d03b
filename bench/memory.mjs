// Memory planning (issue 12): for every example and workload function and training step, the arena
// a program needs with no reuse (naive), with each planner (with and without writing outputs in
// place), and the lower bound (the most bytes live at one kernel). Built from dist/ (`npx tsc -p
// tsconfig.build.json` first). Optionally, with --tfjs, TF.js's peak bytes (`tf.memory()` after
// `tf.engine().startScope()`; profile peakBytes) for the W2, W4, W5 and W6 training steps.
//
//   node bench/memory.mjs [--out bench/results/memory.json] [--tfjs]   (--tfjs: cd bench && npm ci first)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { functions, lower, lowerTrain, trainNames } from '../dist/index.js';
import { runPipeline } from '../dist/passes/pipeline.js';
import { buildKernels } from '../dist/kernel/build.js';
import { planMemory, DEFAULT_PLANNER } from '../dist/kernel/memory.js';

const ROOT = new URL('../', import.meta.url);
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : new URL('results/memory.json', import.meta.url).pathname;

const CONFIGS = [
  { key: 'naive', memory: { planner: 'none' } },
  { key: 'greedy', memory: { planner: 'greedy-by-size', inPlace: false } },
  { key: 'greedyInPlace', memory: { planner: 'greedy-by-size', inPlace: true } },
  { key: 'bestFit', memory: { planner: 'best-fit', inPlace: false } },
  { key: 'bestFitInPlace', memory: { planner: 'best-fit', inPlace: true } },
];

/** Every program of the examples and workloads: functions that lower with their defaults, and train steps. */
function programs() {
  const list = [];
  for (const dir of ['examples', 'bench/workloads']) {
    for (const f of readdirSync(new URL(dir, ROOT)).filter((x) => x.endsWith('.dl')).sort()) {
      const path = `${dir}/${f}`;
      const text = readFileSync(new URL(path, ROOT), 'utf8');
      for (const fn of functions(text, path)) {
        const r = lower(text, fn, { path });
        if (r.graph) list.push({ file: path, fn, graph: r.graph });
      }
      for (const t of trainNames(text, path)) {
        try {
          const r = lowerTrain(text, t, { path });
          if (r.graph) list.push({ file: path, fn: `train ${t}`, graph: r.graph });
        } catch (e) {
          console.error(`${path} train ${t}: ${e.message}`);
        }
      }
    }
  }
  return list;
}

export function measure() {
  const rows = [];
  for (const p of programs()) {
    const g = runPipeline(p.graph).graph;
    const row = { file: p.file, fn: p.fn, kernels: 0 };
    for (const c of CONFIGS) {
      const prog = planMemory(buildKernels(g), 'f32', c.memory);
      row.kernels = prog.kernels.length;
      row[c.key] = prog.memory.peak;
      if (c.key === 'greedy') row.lowerBound = prog.memory.lowerBound;
      if (c.key === 'greedyInPlace') [row.lowerBoundInPlace, row.inPlace] = [prog.memory.lowerBound, prog.memory.inPlace];
    }
    rows.push(row);
  }
  return rows;
}

const kb = (n) => (n / 1024).toFixed(1).padStart(9);
const ratio = (a, b) => (b === 0 ? (a === 0 ? '1.00' : 'inf') : (a / b).toFixed(2));

/**
 * dlc's planned bytes next to TF.js's for the W2, W4, W5 and W6 steps: TF.js (cpu backend, eager,
 * as in bench/peers/tfjs-models.mjs) by `tf.profile` of one step after a warm-up step: peakBytes
 * (every live tensor: variables, inputs and temporaries) and the peak above the bytes live before
 * the step. dlc: the state space (inputs, parameters, outputs) and the planned arena of the JS program.
 */
async function tfjsPeaks() {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { TFJS_MODELS } = await import('./peers/tfjs-models.mjs');
  const { WORKLOADS, workloadData } = await import('./data.mjs');
  const { compile, compileGraph } = await import('../dist/index.js');
  const out = [];
  for (const w of WORKLOADS.filter((x) => ['W2', 'W4', 'W5', 'W6'].includes(x.id))) {
    const text = readFileSync(new URL(`workloads/${w.file}`, import.meta.url), 'utf8');
    const m = compileGraph(runPipeline(compile(text, w.fn, { path: w.file })).graph, { backend: 'js' }).manifest;
    const model = TFJS_MODELS[w.id](tf, workloadData(w), w);
    await model.step();
    const before = tf.memory().numBytes;
    const prof = await tf.profile(() => model.step());
    const row = {
      id: w.id,
      fn: w.fn,
      dlcState: m.state.bytes,
      dlcArena: m.arena.bytes,
      dlcArenaNaive: m.memory.naive,
      dlcTotal: m.state.bytes + m.arena.bytes,
      tfjsPeak: prof.peakBytes,
      tfjsBefore: before,
      tfjsAboveBefore: prof.peakBytes - before,
    };
    row.ratio = row.dlcTotal / row.tfjsPeak;
    out.push(row);
    console.error(`${w.id}: done`);
  }
  return out;
}

const rows = measure();
console.log(`default planner: ${DEFAULT_PLANNER}; KiB of arena (f32); ratios are to the lower bound of the same blocks`);
console.log(`${'program'.padEnd(58)} ${'naive'.padStart(9)} ${'greedy'.padStart(9)} ${'+inpl'.padStart(9)} ${'bestfit'.padStart(9)} ${'+inpl'.padStart(9)} ${'bound'.padStart(9)} ${'bound+ip'.padStart(9)}  greedy/bound  +inpl/bound`);
for (const r of rows) {
  console.log(`${`${r.file} ${r.fn}`.slice(0, 58).padEnd(58)} ${kb(r.naive)} ${kb(r.greedy)} ${kb(r.greedyInPlace)} ${kb(r.bestFit)} ${kb(r.bestFitInPlace)} ${kb(r.lowerBound)} ${kb(r.lowerBoundInPlace)}  ${ratio(r.greedy, r.lowerBound).padStart(12)}  ${ratio(r.greedyInPlace, r.lowerBoundInPlace).padStart(11)}`);
}
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
const worst = (k, b) => rows.reduce((m, r) => Math.max(m, r[b] ? r[k] / r[b] : 1), 0);
const summary = {
  programs: rows.length,
  totals: Object.fromEntries(['naive', 'greedy', 'greedyInPlace', 'bestFit', 'bestFitInPlace', 'lowerBound', 'lowerBoundInPlace'].map((k) => [k, sum(k)])),
  worstRatio: { greedy: worst('greedy', 'lowerBound'), greedyInPlace: worst('greedyInPlace', 'lowerBoundInPlace'), bestFit: worst('bestFit', 'lowerBound'), bestFitInPlace: worst('bestFitInPlace', 'lowerBoundInPlace') },
  wins: {
    greedyBetter: rows.filter((r) => r.greedyInPlace < r.bestFitInPlace).length,
    bestFitBetter: rows.filter((r) => r.bestFitInPlace < r.greedyInPlace).length,
    inPlaceLowers: rows.filter((r) => r.greedyInPlace < r.greedy).length,
    inPlaceRaises: rows.filter((r) => r.greedyInPlace > r.greedy).length,
  },
};
console.log(JSON.stringify(summary, null, 2));
let tfjs;
if (args.includes('--tfjs')) {
  tfjs = await tfjsPeaks();
  const mib = (n) => (n / 2 ** 20).toFixed(2).padStart(8);
  console.log(`\n${'workload'.padEnd(14)} ${'dlc state'.padStart(9)} ${'dlc arena'.padStart(9)} ${'(naive)'.padStart(9)} ${'dlc total'.padStart(9)} ${'tfjs peak'.padStart(9)} ${'tfjs tmp'.padStart(9)}  dlc/tfjs   (MiB)`);
  for (const r of tfjs) console.log(`${`${r.id} ${r.fn}`.padEnd(14)} ${mib(r.dlcState)}  ${mib(r.dlcArena)}  ${mib(r.dlcArenaNaive)}  ${mib(r.dlcTotal)}  ${mib(r.tfjsPeak)}  ${mib(r.tfjsAboveBefore)}  ${r.ratio.toFixed(2).padStart(8)}`);
}
if (out !== '-') writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), defaultPlanner: DEFAULT_PLANNER, summary, rows, ...(tfjs ? { tfjs } : {}) }, null, 2) + '\n');
