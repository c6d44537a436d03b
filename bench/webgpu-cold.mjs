// WebGPU cold start (issue 14, first bullet; issue 11, shared shaders): per workload W1–W6, the
// distinct shaders and kernels of dlc's WebGPU program, the first step from a cold driver cache
// (a fresh MESA_SHADER_CACHE_DIR and a fresh process for every measurement; the step includes
// creating the pipelines) and the warm step, for one or more builds of dlc side by side.
//
//   node bench/webgpu-cold.mjs [--dist before=/tmp/before/dist --dist after=dist] [--only W2,W5]
//                              [--iters 5] [--profile] [--out bench/results/webgpu-cold.json|-]
//
// --dist NAME=DIR (repeatable) names a built dist/ directory (default: after=dist, this tree).
// Build an older commit for comparison with `git worktree add /tmp/before <commit>` and
// `npx tsc -p tsconfig.build.json` there. --profile also prints, per kernel, the time of its
// first dispatch (pipeline creation plus the driver's compile), the same dispatch warm (where a
// steady step's time goes) and its WGSL size, slowest first. warm_first_step_ms: the first step
// of a second executable in the same process (driver shader cache warm).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WORKLOADS, workloadData } from './data.mjs';

const here = dirname(new URL(import.meta.url).pathname);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v) => Math.round(v * 10) / 10;

function parseArgs(argv) {
  const opts = { dists: [], only: null, iters: 5, profile: false, out: join(here, 'results/webgpu-cold.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--dist') {
      const [name, dir] = value().split('=');
      if (!dir) throw new Error('--dist wants NAME=DIR');
      opts.dists.push({ name, dir: resolve(dir) });
    } else if (a === '--only') opts.only = value().toUpperCase().split(',');
    else if (a === '--iters') opts.iters = Number(value());
    else if (a === '--profile') opts.profile = true;
    else if (a === '--out') opts.out = value();
    else if (a === '--child') opts.child = JSON.parse(value());
    else throw new Error(`unknown option ${a}`);
  }
  if (!opts.dists.length) opts.dists.push({ name: 'after', dir: resolve(here, '../dist') });
  return opts;
}

// ---- one measurement, in its own process ----------------------------------------------------

async function child({ dist, id, iters, profile }) {
  const w = WORKLOADS.find((x) => x.id === id);
  const lib = await import(pathToFileURL(join(dist, 'index.js')).href);
  const { runPipeline } = await import(pathToFileURL(join(dist, 'passes/pipeline.js')).href);
  const { compileGraph } = await import(pathToFileURL(join(dist, 'codegen/compile.js')).href);
  const { getDevice } = await import(pathToFileURL(join(dist, 'runtime/webgpu-executor.js')).href);
  const device = await getDevice();
  if (!device) throw new Error('no WebGPU adapter');
  const path = join(here, 'workloads', w.file);
  const g = runPipeline(lib.compile(readFileSync(path, 'utf8'), w.fn, { path })).graph;
  const compiled = compileGraph(g, { backend: 'webgpu' });
  const kernels = compiled.program.kernels.length;
  // Distinct shader texts: a build that shares shaders lists them in the manifest; an older
  // one has one per kernel, whose first line (a comment naming the kernel) is not code.
  const texts = compiled.shaders ? [...compiled.shaders.values()] : [...compiled.wgsl.values()].map((c) => c.replace(/^\/\/[^\n]*\n/, ''));
  const shaders = new Set(texts).size;
  const wgslBytes = [...new Set(texts)].reduce((s, c) => s + c.length, 0);
  const data = workloadData(w);
  const inputs = new Map(Object.entries(data.inputs).map(([k, v]) => [k, lib.NDArray.from(v.shape, v.data)]));
  const wanted = [g.outputs[0].name];
  let perKernel;
  if (profile) perKernel = await profileKernels(device, compiled);
  const t0 = performance.now();
  const exe = await lib.makeExecutable(g, { backend: 'webgpu', precision: 'f32' });
  const tLoad = performance.now();
  for (const p of g.params) exe.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
  await exe.run(inputs, wanted);
  const tFirst = performance.now();
  const warm = [];
  for (let i = 0; i < iters; i++) {
    const s = performance.now();
    await exe.run(inputs, wanted);
    warm.push(performance.now() - s);
  }
  // The first step again with the driver's shader cache warm: a second executable, same process.
  const t1 = performance.now();
  const again = await lib.makeExecutable(g, { backend: 'webgpu', precision: 'f32' });
  for (const p of g.params) again.setParam(String(p.attrs.name), data.params[String(p.attrs.name)].data);
  await again.run(inputs, wanted);
  const warmFirst = performance.now() - t1;
  return { kernels, shaders, wgsl_bytes: wgslBytes, load_ms: round(tLoad - t0), cold_first_step_ms: round(tFirst - t0), warm_first_step_ms: round(warmFirst), warm_step_ms: round(median(warm)), ...(perKernel ? { per_kernel: perKernel } : {}) };
}

/**
 * Each distinct shader's first dispatch on its own (pipeline created, one dispatch, wait), on
 * scratch buffers the size of the program's spaces (old builds: one shader per kernel).
 */
async function profileKernels(device, compiled) {
  const m = compiled.manifest;
  const usage = GPUBufferUsage.STORAGE;
  const S = device.createBuffer({ size: Math.max(16, m.state.bytes), usage });
  const A = device.createBuffer({ size: Math.max(16, m.arena.bytes), usage });
  const P = device.createBuffer({ size: 1024, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const out = [];
  const seen = new Set();
  for (const k of m.kernels) {
    // With shared shaders, each distinct shader once (its first kernel's parameters).
    const code = compiled.wgsl.get(k.name);
    if (seen.has(code)) continue;
    seen.add(code);
    if (k.params) device.queue.writeBuffer(P, 0, new Uint32Array([...k.params, ...new Array(256 - k.params.length).fill(0)]));
    const t0 = performance.now();
    const module = device.createShaderModule({ code });
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const tPipe = performance.now();
    const layout = pipeline.getBindGroupLayout(0);
    // An 'auto' layout holds only the bindings the shader uses.
    const used = [0, 1, 2].filter((b) => new RegExp(`\\b${['S', 'A', 'P'][b]}\\[`).test(code.replace(/^.*@binding.*$/gm, '')));
    const bind = device.createBindGroup({ layout, entries: used.map((b) => ({ binding: b, resource: { buffer: [S, A, P][b] } })) });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...k.workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const first = performance.now() - t0;
    // Then the same dispatch warm (median of 3): where a steady step's time goes.
    const again = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const e = device.createCommandEncoder();
      const p = e.beginComputePass();
      p.setPipeline(pipeline);
      p.setBindGroup(0, bind);
      p.dispatchWorkgroups(...k.workgroups);
      p.end();
      device.queue.submit([e.finish()]);
      await device.queue.onSubmittedWorkDone();
      again.push(performance.now() - t);
    }
    out.push({ kernel: k.name, ops: k.ops.join(' '), workgroups: k.workgroups, pipeline_ms: round(tPipe - t0), first_dispatch_ms: round(first), warm_dispatch_ms: round(median(again)), wgsl_bytes: code.length });
  }
  S.destroy();
  A.destroy();
  P.destroy();
  return out.sort((a, b) => b.first_dispatch_ms - a.first_dispatch_ms);
}

// ---- the driver ---------------------------------------------------------------------------

/** One measurement; with --profile, the per-shader profile in a second cold process (it compiles every shader). */
function measure(dist, id, opts) {
  const r = measureOnce(dist, id, { ...opts, profile: false });
  if (!opts.profile || r.error) return r;
  const p = measureOnce(dist, id, { ...opts, iters: 1 });
  return { ...r, per_kernel: p.per_kernel ?? p.error };
}

function measureOnce(dist, id, opts) {
  const cache = mkdtempSync(join(os.tmpdir(), 'dlc-mesa-cache-'));
  mkdirSync('/tmp/xdg', { recursive: true, mode: 0o700 });
  try {
    const env = { ...process.env, MESA_SHADER_CACHE_DIR: cache, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp/xdg' };
    delete env.MESA_SHADER_CACHE_DISABLE;
    const arg = JSON.stringify({ dist: dist.dir, id, iters: opts.iters, profile: opts.profile });
    const text = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', arg], { env, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(text.trim().split('\n').pop());
  } catch (e) {
    return { error: String(e.message ?? e).split('\n')[0] };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    const r = await child(opts.child);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const results = [];
  const save = () => {
    if (opts.out === '-') return;
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    const doc = { date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load_average: os.loadavg().map((x) => round(x)), node: process.version }, cold: 'fresh MESA_SHADER_CACHE_DIR and process per measurement', warm_iters: opts.iters, dists: opts.dists, results };
    writeFileSync(opts.out, `${JSON.stringify(doc, null, 1)}\n`);
  };
  for (const w of WORKLOADS) {
    if (opts.only && !opts.only.includes(w.id)) continue;
    const row = { id: w.id, title: w.title };
    for (const d of opts.dists) {
      row[d.name] = measure(d, w.id, opts);
      process.stderr.write(`${w.id} ${d.name}: ${JSON.stringify({ ...row[d.name], per_kernel: undefined })}\n`);
      if (row[d.name].per_kernel) {
        for (const k of row[d.name].per_kernel.slice(0, 8)) process.stderr.write(`    first ${k.first_dispatch_ms.toFixed(1).padStart(8)} ms  warm ${k.warm_dispatch_ms.toFixed(1).padStart(7)} ms  ${String(k.wgsl_bytes).padStart(6)} B  ${k.workgroups.join('x').padEnd(8)} ${k.kernel}: ${k.ops.slice(0, 70)}\n`);
      }
    }
    results.push(row);
    save(); // after each workload, so that a run cut short keeps what it measured
  }
  const cols = ['shaders', 'kernels', 'cold_first_step_ms', 'warm_first_step_ms', 'warm_step_ms'];
  const head = ['workload', ...opts.dists.flatMap((d) => cols.map((c) => `${d.name} ${c.replace(/_ms$/, '').replaceAll('_', ' ')}${c.endsWith('_ms') ? ' (ms)' : ''}`))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of results) lines.push(`| ${r.id} | ${opts.dists.flatMap((d) => cols.map((c) => (r[d.name].error ? 'error' : r[d.name][c]))).join(' | ')} |`);
  console.log(lines.join('\n'));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
