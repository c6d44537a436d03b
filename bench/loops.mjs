#!/usr/bin/env node
// Loops that stay loops (issue 11): compile time, kernels and distinct WebGPU shaders against the
// trip count, a loop kept as a loop (`scan`, the default for 16 or more iterations) against the same
// program unrolled (`loops: 'unroll'`), on the same build.
//
//  1. BPTT (loops: 'keep', so T = 10 is a loop too): the gradient of an LSTM (the stdlib cell, B = 8, input 32, hidden 64) over T = 10, 100,
//     1000 steps: lowering + passes + code generation (JS and WebGPU), kernels, distinct shaders,
//     the JS f32 step and the WebGPU first (pipelines included) and warm steps.
//  2. W5 (bench/workloads/w5-lstm-grad.dl, T = 32): distinct shaders and the cold first step, each in
//     a fresh process with an empty driver shader cache (MESA_SHADER_CACHE_DIR), and the warm step.
//  3. DDPM ancestral sampling (examples/ddpm.dl, N = 64) with T = 1000 steps on JS and WebGPU.
//  4. W5's warm WebGPU step, loop and unrolled compiled in one process and timed in interleaved rounds.
//
//   node bench/loops.mjs [--skip-unrolled-1000] [--iters 3] [--out bench/results/loops.json|-]
//   node bench/loops.mjs --w5-interleaved-only [--rounds 20]   (4. alone, merged into the results file)
//
// The unrolled program at T = 1000 is compiled but not run (its steps take minutes on lavapipe).
//
// Uses the built compiler in dist/ (`npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, makeExecutable, NDArray } from '../dist/index.js';
import { runPipeline } from '../dist/passes/pipeline.js';
import { compileGraph } from '../dist/codegen/compile.js';
import { getDevice } from '../dist/runtime/webgpu-executor.js';
import { WORKLOADS, workloadData } from './data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const iters = Number(opt('iters', '3'));
const outFile = opt('out', join(here, 'results', 'loops.json'));
const round = (v) => Math.round(v * 10) / 10;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const LSTM = `model LSTM(d_in: int = 32, hidden: int = 64) {
  layer cell = LSTMCell(d_in, hidden)
  fn last_hidden(x: f32[B, T, d_in]) -> f32[B, hidden] {
    let h = zeros([B, hidden])
    let c = zeros([B, hidden])
    for t in 0..T {
      let (h2, c2) = cell(x[:, t], h, c)
      h = h2
      c = c2
    }
    return h
  }
  fn grads(x: f32[B, T, d_in]) {
    let (l, g) = value_and_grad(sum(last_hidden(x)), self)
    return l, g.cell.W, g.cell.b
  }
}`;

/** Distinct WGSL shaders of a compiled WebGPU program (the loop copy shader counts as one more). */
const shaderCount = (c) => new Set(c.shaders.values()).size + (c.manifest.loops?.length ? 1 : 0);

function seeded(shape, seed) {
  let a = seed >>> 0;
  const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < data.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return NDArray.from(shape, data);
}

async function timeSteps(exe, inputs, n) {
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await exe.run(inputs);
    ts.push(performance.now() - t0);
  }
  return round(median(ts));
}

/** One BPTT row: compile and run the LSTM gradient over T steps, kept as a loop or unrolled. */
async function bptt(T, loops, device) {
  const t0 = performance.now();
  const g0 = compile(LSTM, 'LSTM.grads', { dims: { B: 8, T }, loops });
  const t1 = performance.now();
  const g = runPipeline(g0).graph;
  const t2 = performance.now();
  const js = compileGraph(g, { backend: 'js' });
  const t3 = performance.now();
  const gpu = compileGraph(g, { backend: 'webgpu' });
  const t4 = performance.now();
  const row = {
    T,
    form: g.nodes.some((n) => n.op === 'scan') ? 'loop' : 'unrolled',
    nodes: g.nodes.length,
    lower_ms: round(t1 - t0),
    passes_ms: round(t2 - t1),
    js_codegen_ms: round(t3 - t2),
    webgpu_codegen_ms: round(t4 - t3),
    kernels: gpu.program.kernels.length,
    shaders: shaderCount(gpu),
    js_source_kb: round(js.js.length / 1024),
  };
  // The unrolled program at T = 1000 (7000 kernels) is only compiled: running it takes minutes.
  if (row.form === 'unrolled' && T >= 1000) return row;
  const inputs = new Map([['x', seeded([8, T, 32], 7)]]);
  const jsExe = await makeExecutable(g, { backend: 'js', precision: 'f32' });
  await jsExe.run(inputs);
  row.js_step_ms = await timeSteps(jsExe, inputs, iters);
  if (device) {
    const s = performance.now();
    const exe = await makeExecutable(g, { backend: 'webgpu' });
    await exe.run(inputs);
    row.webgpu_first_step_ms = round(performance.now() - s);
    row.webgpu_step_ms = await timeSteps(exe, inputs, iters);
  }
  return row;
}

// ---- W5 cold start, one fresh process per measurement ------------------------------------------

async function w5Child(loops) {
  const w = WORKLOADS.find((x) => x.id === 'W5');
  const path = join(here, 'workloads', w.file);
  const g = runPipeline(compile(readFileSync(path, 'utf8'), w.fn, { path, loops })).graph;
  const compiled = compileGraph(g, { backend: 'webgpu' });
  const data = workloadData(w);
  const inputs = new Map(Object.entries(data.inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
  const t0 = performance.now();
  const exe = await makeExecutable(g, { backend: 'webgpu', precision: 'f32' });
  for (const p of g.params) exe.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
  await exe.run(inputs);
  const first = performance.now() - t0;
  const warm = await timeSteps(exe, inputs, 5);
  // The JS step too, for the steady state of both forms on the CPU.
  const jsExe = await makeExecutable(g, { backend: 'js', precision: 'f32' });
  for (const p of g.params) jsExe.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
  await jsExe.run(inputs);
  const jsStep = await timeSteps(jsExe, inputs, 5);
  return { form: loops === 'unroll' ? 'unrolled' : 'loop', kernels: compiled.program.kernels.length, shaders: shaderCount(compiled), cold_first_step_ms: round(first), warm_step_ms: warm, js_step_ms: jsStep };
}

function w5Measure(loops) {
  const cache = mkdtempSync(join(os.tmpdir(), 'dlc-mesa-cache-'));
  mkdirSync('/tmp/xdg', { recursive: true, mode: 0o700 });
  try {
    const env = { ...process.env, MESA_SHADER_CACHE_DIR: cache, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp/xdg' };
    delete env.MESA_SHADER_CACHE_DISABLE;
    const text = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--w5-child', loops], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(text.trim().split('\n').pop());
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/**
 * W5's warm WebGPU step, loop against unrolled, in one process: both programs compiled and warmed,
 * then `rounds` rounds of one step of each, the order alternating, so load changes hit both alike.
 */
async function w5Interleaved(rounds) {
  const w = WORKLOADS.find((x) => x.id === 'W5');
  const path = join(here, 'workloads', w.file);
  const data = workloadData(w);
  const inputs = new Map(Object.entries(data.inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
  const exes = {};
  for (const loops of ['auto', 'unroll']) {
    const g = runPipeline(compile(readFileSync(path, 'utf8'), w.fn, { path, loops })).graph;
    const exe = await makeExecutable(g, { backend: 'webgpu', precision: 'f32' });
    for (const p of g.params) exe.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
    await exe.run(inputs);
    await exe.run(inputs);
    exes[loops] = exe;
  }
  const ts = { auto: [], unroll: [] };
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? ['auto', 'unroll'] : ['unroll', 'auto']) {
      const t0 = performance.now();
      await exes[k].run(inputs);
      ts[k].push(performance.now() - t0);
    }
  }
  return { rounds, loop_step_ms: round(median(ts.auto)), unrolled_step_ms: round(median(ts.unroll)) };
}

// ---- DDPM sampling with 1000 steps --------------------------------------------------------------

async function ddpm(device) {
  const src = readFileSync(join(here, '../examples/ddpm.dl'), 'utf8')
    .replace('T: int = 40', 'T: int = 1000')
    .replace('beta_min: float = 0.005, beta_max: float = 0.2', 'beta_min: float = 0.0001, beta_max: float = 0.02');
  const t0 = performance.now();
  const g = runPipeline(compile(src, 'DDPM.sample', { dims: { N: 64 } })).graph;
  const compileMs = performance.now() - t0;
  const z = new Map([['z', seeded([64, 2], 3)]]);
  const rows = [];
  for (const backend of ['js', ...(device ? ['webgpu'] : [])]) {
    const s = performance.now();
    const exe = await makeExecutable(g, { backend });
    const out = (await exe.run(z)).values().next().value;
    const first = performance.now() - s;
    rows.push({ backend, steps: 1000, compile_ms: round(compileMs), kernels: exe.compiled?.program.kernels.length, first_run_ms: round(first), run_ms: await timeSteps(exe, z, iters), finite: Array.from(out.data).every(Number.isFinite) });
  }
  return rows;
}

// ---- the driver ----------------------------------------------------------------------------------

if (argv[0] === '--w5-child') {
  process.stdout.write(`${JSON.stringify(await w5Child(argv[1]))}\n`);
  process.exit(0);
}

const device = await getDevice();
if (!device) console.error('no WebGPU adapter: WebGPU columns are left out');
if (argv.includes('--w5-interleaved-only')) {
  // Only the interleaved W5 comparison, merged into the results file (the rest of it kept).
  if (!device) process.exit(1);
  const ab = await w5Interleaved(Number(opt('rounds', '20')));
  console.log(`W5 warm WebGPU step over ${ab.rounds} interleaved rounds: loop ${ab.loop_step_ms} ms, unrolled ${ab.unrolled_step_ms} ms`);
  if (outFile !== '-') {
    const prev = JSON.parse(readFileSync(outFile, 'utf8'));
    writeFileSync(outFile, `${JSON.stringify({ ...prev, w5_interleaved: { date: new Date().toISOString(), ...ab } }, null, 2)}\n`);
  }
  process.exit(0);
}
const rows = [];
for (const T of [10, 100, 1000]) {
  for (const loops of ['keep', 'unroll']) {
    if (loops === 'unroll' && T === 1000 && argv.includes('--skip-unrolled-1000')) continue;
    const r = await bptt(T, loops, device);
    rows.push(r);
    console.error(JSON.stringify(r));
  }
}
const w5 = device ? [w5Measure('unroll'), w5Measure('auto')] : [];
const w5ab = device ? await w5Interleaved(20) : undefined;
const sampling = await ddpm(device);

const table = (title, rs, cols) => {
  console.log(`\n${title}\n`);
  console.log(`| ${cols.join(' | ')} |`);
  console.log(`|${cols.map(() => '---').join('|')}|`);
  for (const r of rs) console.log(`| ${cols.map((c) => r[c] ?? '—').join(' | ')} |`);
};
table('BPTT: gradient of an LSTM over T steps (B = 8, input 32, hidden 64)', rows, ['T', 'form', 'nodes', 'lower_ms', 'passes_ms', 'js_codegen_ms', 'webgpu_codegen_ms', 'kernels', 'shaders', 'js_step_ms', 'webgpu_first_step_ms', 'webgpu_step_ms']);
if (w5.length) table('W5 (LSTM gradient, T = 32): fresh process, empty shader cache', w5, ['form', 'kernels', 'shaders', 'cold_first_step_ms', 'warm_step_ms', 'js_step_ms']);
if (w5ab) table('W5 warm WebGPU step, loop and unrolled interleaved in one process (median of rounds)', [w5ab], ['rounds', 'loop_step_ms', 'unrolled_step_ms']);
table('DDPM sampling, 1000 steps (N = 64)', sampling, ['backend', 'steps', 'compile_ms', 'kernels', 'first_run_ms', 'run_ms', 'finite']);

const result = { date: new Date().toISOString(), host: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`, bptt: rows, w5, w5_interleaved: w5ab, ddpm: sampling };
if (outFile !== '-') {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
}
process.exit(0);
