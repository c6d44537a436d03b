// Side-by-side benchmark (issue 5): dlc (JS and WebGPU backends) next to TF.js (cpu, wasm, webgpu)
// and jax-js (wasm, webgpu) on six workloads. All systems run in this one process, interleaved
// (A B C … A B C …), each timed step ending with the loss (or output) read back; medians after
// warm-up. Before timing, every system's first result is compared with dlc-js's.
//
//   cd bench && npm ci && node run.mjs [--quick] [--iters 20] [--warmup 3] [--only W2,W5]
//                                      [--systems dlc,tfjs-cpu,jax-js-webgpu] [--out results/latest.json] [--progress]
//
// WebGPU systems are prepared twice per workload: the first time from a cold driver shader cache
// (the process starts with a fresh, empty MESA_SHADER_CACHE_DIR unless --warm-cache; JSON field
// cold_first_step_ms), the second with the driver's and the library's caches warm (first_step_ms).
// Both include set-up (pipeline creation) and the first step.
//
// Prints a table per workload and the targets of issue 5; writes JSON (default results/latest.json,
// or nothing with --out -).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setupEnv, dispatchCount } from './env.mjs';
import { WORKLOADS, workloadData, relError } from './data.mjs';
import { dlcSystems } from './peers/dlc.mjs';
import { tfjsSystems } from './peers/tfjs.mjs';
import { jaxSystems } from './peers/jax.mjs';
import { evaluateTargets, label, printTable, printTargets } from './report.mjs';

const TOLERANCE = 1e-3;

function parseArgs(argv) {
  const opts = { iters: 20, warmup: 3, only: null, systems: null, out: 'results/latest.json' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') Object.assign(opts, { iters: 3, warmup: 1 });
    else if (a === '--iters') opts.iters = Number(value());
    else if (a === '--warmup') opts.warmup = Number(value());
    else if (a === '--only') opts.only = value().toUpperCase().split(',');
    else if (a === '--systems') opts.systems = value().split(',');
    else if (a === '--out') opts.out = value();
    else if (a === '--progress') opts.progress = true;
    else if (a === '--warm-cache') opts.warmCache = true;
    else if (a === '--help' || a === '-h') {
      console.log('node run.mjs [--quick] [--iters N] [--warmup N] [--only W1,W3] [--systems dlc,tfjs-cpu,jax-js-webgpu,…] [--out FILE|-] [--progress] [--warm-cache]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(opts.iters >= 1) || !(opts.warmup >= 1)) throw new Error('--iters and --warmup must be at least 1');
  return opts;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v, d = 3) => Number(v.toFixed(d));
const selected = (s, filter) => !filter || filter.some((f) => f === s.system || f === `${s.system}-${s.backend}`);
const describe = (v) => (typeof v === 'number' ? v.toPrecision(7) : `[${v.length} values, first ${Number(v[0]).toPrecision(6)}]`);

async function machine(gpu) {
  let adapter = null;
  try {
    const a = await gpu?.requestAdapter();
    if (a) adapter = Object.fromEntries(['vendor', 'architecture', 'device', 'description'].map((k) => [k, a.info?.[k] ?? '']));
  } catch {}
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memory_gb: round(os.totalmem() / 2 ** 30, 1), os: `${os.type()} ${os.release()}`, node: process.version, webgpu_adapter: adapter };
}

/** Which dlc was measured: the commit, whether src/ had uncommitted changes, when dist/ was built. */
function dlcVersion() {
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const built = (() => {
    try {
      return statSync(new URL('../dist/index.js', import.meta.url)).mtime.toISOString();
    } catch {
      return null;
    }
  })();
  return { commit: git(['rev-parse', '--short', 'HEAD']), src_modified: Boolean(git(['status', '--porcelain', '--', 'src'])), dist_built: built };
}

/** One workload: prepare every system, compare first results, then interleaved timed steps. */
async function runWorkload(w, systems, opts) {
  const data = workloadData(w);
  const rows = [];
  const live = [];
  const fail = (s, error, extra = {}) => rows.push({ workload: w.id, system: s.system, backend: s.backend, ms_per_step: null, dispatches_per_step: null, error, ...extra });
  for (const s of systems) {
    if (s.unavailable) {
      fail(s, `unavailable: ${s.unavailable}`);
      continue;
    }
    try {
      await s.activate?.();
      const t = performance.now();
      let p = await s.prepare(w, data);
      let first = await p.step();
      let firstMs = performance.now() - t;
      let coldMs;
      if (s.backend === 'webgpu') {
        // That was the cold first step; set up again for the warm one (and time that instance).
        coldMs = firstMs;
        p.dispose?.();
        const t2 = performance.now();
        p = await s.prepare(w, data);
        first = await p.step();
        firstMs = performance.now() - t2;
      }
      live.push({ s, p, first, firstMs, coldMs, times: [], dispatches: [] });
    } catch (e) {
      console.error(`${w.id} ${label(s)}: ${e.stack ?? e}`);
      fail(s, String(e.message ?? e).split('\n')[0]);
    }
  }
  if (!live.length) return rows;

  // Same data, same function: every first result must match the reference (dlc js when present).
  const ref = live.find((l) => l.s.system === 'dlc' && l.s.backend === 'js') ?? live[0];
  const errors = live.map((l) => ({ l, err: relError(ref.first, l.first) }));
  for (const { l, err } of errors) l.checkError = err;
  for (const { l, err } of errors) console.log(`${w.id} check  ${label(l.s).padEnd(16)} ${describe(l.first)}  rel. error vs ${label(ref.s)}: ${err.toExponential(2)}  (set-up + first step ${(l.firstMs / 1000).toFixed(1)} s${l.coldMs !== undefined ? `, cold ${(l.coldMs / 1000).toFixed(1)} s` : ''})`);
  const bad = errors.filter((e) => !(e.err <= TOLERANCE));
  if (bad.length) {
    const msg = `results disagree (beyond ${TOLERANCE} relative) with ${label(ref.s)}: ${bad.map((b) => `${label(b.l.s)} ${b.err.toExponential(2)}`).join(', ')}`;
    console.log(`${w.id} ABORTED: ${msg}`);
    for (const l of live) fail(l.s, `aborted: ${msg}`, { result: typeof l.first === 'number' ? l.first : null });
    return rows;
  }

  // Warm-up (the first step above counts as one), then timed steps, interleaved.
  const step = async (l, record) => {
    await l.s.activate?.();
    const d0 = dispatchCount();
    const t = performance.now();
    await l.p.step();
    const ms = performance.now() - t;
    if (record) {
      l.times.push(ms);
      l.dispatches.push(dispatchCount() - d0);
    }
  };
  const rounds = opts.warmup + opts.iters - 1;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    for (const l of live) {
      if (l.error) continue;
      try {
        await step(l, i >= opts.warmup - 1);
      } catch (e) {
        console.error(`${w.id} ${label(l.s)}: ${e.stack ?? e}`);
        l.error = String(e.message ?? e).split('\n')[0];
      }
    }
    if (opts.progress) process.stderr.write(`${w.id} round ${i + 1}/${rounds}: ${((performance.now() - t) / 1000).toFixed(1)} s (${live.map((l) => `${label(l.s)} ${l.times.at(-1)?.toFixed(0) ?? '-'}`).join(', ')} ms)\n`);
  }
  for (const l of live) {
    if (l.error) {
      fail(l.s, l.error);
      continue;
    }
    const gpu = l.s.backend === 'webgpu';
    const note = [l.s.note, l.p.noteAfter?.(), l.p.kernels !== undefined ? `${l.p.kernels} kernels` : ''].filter(Boolean).join(', ');
    rows.push({
      workload: w.id,
      system: l.s.system,
      backend: l.s.backend,
      ms_per_step: round(median(l.times)),
      dispatches_per_step: gpu ? median(l.dispatches) : null,
      min_ms: round(Math.min(...l.times)),
      first_step_ms: round(l.firstMs, 1),
      ...(l.coldMs !== undefined ? { cold_first_step_ms: round(l.coldMs, 1) } : {}),
      iterations: l.times.length,
      result: typeof l.first === 'number' ? l.first : null,
      check_rel_error: Number(l.checkError.toExponential(2)),
      ...(l.p.kernels !== undefined ? { kernels: l.p.kernels } : {}),
      ...(note ? { note } : {}),
    });
  }
  const order = (r) => systems.findIndex((s) => s.system === r.system && s.backend === r.backend);
  return rows.sort((a, b) => order(a) - order(b));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // A fresh driver shader cache (Mesa reads the variable when the device is created), so that
  // each WebGPU system's first set-up compiles every shader.
  let cache;
  if (!opts.warmCache) {
    cache = mkdtempSync(join(os.tmpdir(), 'dlc-bench-mesa-'));
    process.env.MESA_SHADER_CACHE_DIR = cache;
    delete process.env.MESA_SHADER_CACHE_DISABLE;
    process.on('exit', () => rmSync(cache, { recursive: true, force: true }));
  }
  const gpu = await setupEnv();
  const workloads = WORKLOADS.filter((w) => !opts.only || opts.only.includes(w.id));
  const systems = [...dlcSystems(), ...tfjsSystems(), ...jaxSystems()].filter((s) => selected(s, opts.systems));
  if (!workloads.length || !systems.length) throw new Error('nothing selected (see --only and --systems)');
  for (const s of systems) {
    try {
      await s.init();
    } catch (e) {
      s.unavailable = String(e.message ?? e).split('\n')[0];
      console.log(`${label(s)}: unavailable (${s.unavailable})`);
    }
  }
  const started = Date.now();
  const rows = [];
  const info = { machine: await machine(gpu), dlc: dlcVersion() };
  // The JSON is rewritten after every workload ("complete": false until the end), so an
  // interrupted run keeps what it measured.
  const save = (complete) => {
    if (opts.out === '-') return;
    const out = new URL(opts.out, import.meta.url);
    mkdirSync(dirname(out.pathname), { recursive: true });
    const result = {
      date: new Date().toISOString(),
      complete,
      ...info,
      iterations: opts.iters,
      warmup: opts.warmup,
      driver_shader_cache: cache ? 'fresh per process (cold_first_step_ms: first set-up; first_step_ms: second set-up)' : 'as found (--warm-cache)',
      seconds: Math.round((Date.now() - started) / 1000),
      systems: systems.map((s) => ({ system: s.system, backend: s.backend, available: !s.unavailable, ...(s.unavailable ? { reason: s.unavailable } : {}), ...(s.note ? { note: s.note } : {}) })),
      rows,
      targets: evaluateTargets(rows),
    };
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    return out.pathname;
  };
  for (const w of workloads) {
    console.log(`\n== ${w.id} ${w.title}`);
    rows.push(...(await runWorkload(w, systems, opts)));
    save(false);
  }
  console.log(printTable(rows, workloads));
  console.log(printTargets(evaluateTargets(rows)));
  console.log(`\n${opts.iters} timed steps per system after ${opts.warmup} warm-up, medians; ${((Date.now() - started) / 1000).toFixed(0)} s in all. "dlc-js ÷ it" < 1: dlc's JS backend is faster.`);
  const path = save(true);
  if (path) console.log(`wrote ${path}`);
}

// A peer's stray async failure (a worker, a device-lost promise) is reported, not fatal.
process.on('unhandledRejection', (e) => console.error('unhandled rejection:', e?.stack ?? e));

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e.stack ?? e);
    process.exit(1);
  },
);
