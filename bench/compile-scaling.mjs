#!/usr/bin/env node
// Compile-time scaling of dlc (issue 8): how `check`, lowering and a full compile grow with the size
// of the program, for three shapes of program that used to blow up:
//   * grad-loop     N gradient-descent steps unrolled by a `for` loop, `w -= lr * grad(loss(w), w)`
//   * pgd           an N-step PGD attack on the input of a small classifier
//   * many-fns      N small functions calling one another in a chain (what `dlc check` walks)
// Imports the compiler from the repository's dist/ (build it first: `npx tsc -p tsconfig.build.json
// && node scripts/copy-assets.mjs`); needs nothing from bench/node_modules.
//
//   node bench/compile-scaling.mjs [--quick] [--dist DIR] [--out FILE|-] [--cases grad-loop,pgd,many-fns]
//
// Prints a table (N, seconds for check / lower / full compile, graph nodes) and writes JSON to
// bench/results/compile-scaling.json. "full" is lower + the pass pipeline + JS code generation.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gradLoopSource, manyFnsSource, pgdSource } from './workloads/scaling-programs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes('--quick');
const dist = resolve(opt('dist', join(here, '..', 'dist')));
const outFile = opt('out', join(here, 'results', 'compile-scaling.json'));
const only = opt('cases', 'grad-loop,pgd,many-fns').split(',');
/** Stop growing a case once one measurement takes longer than this many seconds. */
const budget = Number(opt('budget', quick ? '5' : '60'));


const CASES = {
  'grad-loop': { source: gradLoopSource, entry: 'train', dims: { D: 4, M: 8 }, sizes: quick ? [125, 250, 500] : [250, 500, 1000, 2000] },
  pgd: { source: pgdSource, entry: 'Classifier.pgd', dims: { B: 2 }, sizes: quick ? [125, 250, 500] : [250, 500, 1000, 2000] },
  'many-fns': { source: manyFnsSource, entry: null, dims: { N: 4 }, sizes: quick ? [1000, 2000, 4000] : [2000, 4000, 8000, 16000] },
};

const secs = (t0) => Number(((performance.now() - t0) / 1000).toFixed(3));

function measure(name, c, n) {
  const src = c.source(n);
  const row = { case: name, n, sourceBytes: src.length };
  let t0 = performance.now();
  const checked = dlc.check(src, `${name}.dl`, { dims: c.dims });
  row.check = secs(t0);
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${name} N=${n}: ${errors[0].code} ${errors[0].message}`);
  if (c.entry) {
    t0 = performance.now();
    const lowered = dlc.lower(src, c.entry, { path: `${name}.dl`, dims: c.dims });
    row.lower = secs(t0);
    if (!lowered.graph) throw new Error(`${name} N=${n}: ${lowered.diagnostics[0]?.message}`);
    row.nodes = lowered.graph.nodes.length;
    t0 = performance.now();
    const g = dlc.compile(src, c.entry, { path: `${name}.dl`, dims: c.dims });
    const p = dlc.runPipeline(g).graph;
    const out = dlc.compileGraph(p, { backend: 'js', precision: 'f32' });
    row.full = secs(t0);
    row.optimizedNodes = p.nodes.length;
    if (out.diagnostics?.some((d) => d.severity === 'error')) throw new Error(`${name} N=${n}: codegen error`);
  }
  return row;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
const dlc = isMain ? await import(pathToFileURL(join(dist, 'index.js')).href) : undefined;
const rows = [];
const cell = (v, w) => String(v ?? '-').padStart(w);
if (isMain) console.log(`${'case'.padEnd(10)} ${cell('N', 6)} ${cell('bytes', 9)} ${cell('check s', 9)} ${cell('lower s', 9)} ${cell('full s', 9)} ${cell('nodes', 8)}`);
for (const name of isMain ? only : []) {
  const c = CASES[name];
  if (!c) throw new Error(`unknown case ${name} (cases: ${Object.keys(CASES).join(', ')})`);
  for (const n of c.sizes) {
    const row = measure(name, c, n);
    rows.push(row);
    console.log(`${name.padEnd(10)} ${cell(n, 6)} ${cell(row.sourceBytes, 9)} ${cell(row.check, 9)} ${cell(row.lower, 9)} ${cell(row.full, 9)} ${cell(row.nodes, 8)}`);
    if (Math.max(row.check, row.lower ?? 0, row.full ?? 0) > budget) {
      console.log(`${name.padEnd(10)} (stopping: over the ${budget} s budget per measurement)`);
      break;
    }
  }
}

/** The commit the measured dist/ was built from, when it sits in a git checkout. */
function commitOf(dir) {
  try {
    return execFileSync('git', ['-C', dirname(dir), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const result = { date: new Date().toISOString(), node: process.version, commit: isMain ? commitOf(dist) : undefined, quick, rows };
if (!isMain) {
  // imported for its generators (test/scaling uses them): nothing to run or write
} else if (outFile === '-') console.log(JSON.stringify(result, null, 2));
else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
}
