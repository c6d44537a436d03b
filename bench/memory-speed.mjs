#!/usr/bin/env node
// Does memory planning cost speed (issue 12, "no slowdown of any workload")? Each workload's step
// on the JS backend (f32), compiled twice from the same graph: with the default plan (greedy, in
// place) and with no reuse (`planner: 'none'`). The two run interleaved, round after round, so
// that load on the machine hits both alike; the table gives the median ms per step and the ratio.
//
//   node bench/memory-speed.mjs [--rounds 15] [--steps 5] [--out bench/results/memory-speed.json|-]
//
// Uses the built compiler in dist/ (`npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs`).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, makeExecutable, NDArray } from '../dist/index.js';
import { runPipeline } from '../dist/passes/pipeline.js';
import { WORKLOADS, workloadData } from './data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const rounds = Number(opt('rounds', '15'));
const steps = Number(opt('steps', '5'));
const outFile = opt('out', join(here, 'results', 'memory-speed.json'));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rows = [];
for (const w of WORKLOADS.filter((x) => ['W2', 'W4', 'W5', 'W6'].includes(x.id))) {
  const path = join(here, 'workloads', w.file);
  const g = runPipeline(compile(readFileSync(path, 'utf8'), w.fn, { path })).graph;
  const data = workloadData(w);
  const inputs = new Map(Object.entries(data.inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
  const make = async (memory) => {
    const exe = await makeExecutable(g, { backend: 'js', precision: 'f32', memory });
    for (const p of g.params) exe.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
    return exe;
  };
  const systems = { planned: await make(undefined), none: await make({ planner: 'none' }) };
  const times = { planned: [], none: [] };
  const arena = Object.fromEntries(Object.entries(systems).map(([k, e]) => [k, e.compiled.manifest.arena.bytes]));
  // Warm up both, then alternate which goes first in each round.
  for (const e of Object.values(systems)) await e.run(inputs);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['none', 'planned'] : ['planned', 'none'];
    for (const k of order) {
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) await systems[k].run(inputs);
      times[k].push((performance.now() - t0) / steps);
    }
  }
  const row = {
    workload: w.id,
    title: w.title,
    planned_ms: Number(median(times.planned).toFixed(3)),
    none_ms: Number(median(times.none).toFixed(3)),
    ratio: Number((median(times.planned) / median(times.none)).toFixed(3)),
    arena_planned_bytes: arena.planned,
    arena_none_bytes: arena.none,
  };
  rows.push(row);
  console.log(`${row.workload}  planned ${row.planned_ms.toFixed(2)} ms  none ${row.none_ms.toFixed(2)} ms  ratio ${row.ratio.toFixed(3)}  arena ${(row.arena_planned_bytes / 2 ** 20).toFixed(2)} MiB vs ${(row.arena_none_bytes / 2 ** 20).toFixed(2)} MiB`);
}

const result = { benchmark: 'memory-speed', date: new Date().toISOString(), node: process.version, rounds, steps, backend: 'js f32', rows };
if (outFile === '-') console.log(JSON.stringify(result, null, 2));
else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
}
