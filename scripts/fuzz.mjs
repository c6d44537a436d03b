#!/usr/bin/env node
/**
 * The fuzz campaign: `npm run fuzz -- --count N --seed S [--jobs J] [--webgpu-every K]`.
 *
 * Program i of the campaign is drawn from seed S + i (test/helpers/random-program.ts): a random
 * well-typed .dl function run through every pipeline stage and backend against the interpreter
 * (test/helpers/differential.ts). A failure is shrunk by fast-check to the smallest program
 * that fails the same way, printed as .dl source with the commands that replay it, and written to
 * --out (default /tmp/dlc-fuzz). Each program runs in a worker process with a time limit, so a
 * hang is reported (with its seed) instead of stopping the campaign.
 *
 * Options: --count N (1000), --seed S (1), --jobs J (1), --webgpu-every K (0: never; 1: every
 * program), --timeout-ms T per program (60000), --no-minimize, --out DIR, --quiet (no source
 * printed per failure). Every generator feature is on; each can be turned off to tell whether a
 * failure needs it: --no-nan (NaN and ±∞ values), --no-overflow (i32 overflow),
 * --no-aliased-outputs (two outputs that are one value), --no-reshape-of-product (reshapes of
 * matrix products).
 * The exit status is 1 when anything failed.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run fuzz -- [--count N] [--seed S] [--jobs J] [--webgpu-every K] [--timeout-ms T]
                     [--no-minimize] [--out DIR] [--quiet] [--no-nan] [--no-overflow]
                     [--no-aliased-outputs] [--no-reshape-of-product]
(each option is explained at the top of scripts/fuzz.mjs)`;

function parseArgs(argv) {
  const o = { count: 1000, seed: 1, jobs: 1, webgpuEvery: 0, timeoutMs: 60_000, nan: true, overflow: true, aliasedOutputs: true, reshapeOfProduct: true, minimize: true, out: '/tmp/dlc-fuzz', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer, got \`${argv[i]}\``);
      return v;
    };
    if (a === '--count') o.count = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--jobs') o.jobs = Math.max(1, num());
    else if (a === '--webgpu-every') o.webgpuEvery = num();
    else if (a === '--timeout-ms') o.timeoutMs = num();
    else if (a === '--no-nan') o.nan = false;
    else if (a === '--no-overflow') o.overflow = false;
    else if (a === '--no-aliased-outputs') o.aliasedOutputs = false;
    else if (a === '--no-reshape-of-product') o.reshapeOfProduct = false;
    else if (a === '--no-minimize') o.minimize = false;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--worker') o.worker = true;
    else if (a === '--help' || a === '-h') o.help = true;
    else {
      console.error(`fuzz: unknown option \`${a}\`\n${USAGE}`);
      process.exit(2);
    }
  }
  return o;
}

async function worker() {
  // The TypeScript sources run through a Vite module runner (no build step), kept open because
  // the JS backend imports each generated program as a module.
  const { createServer, createServerModuleRunner } = await import('vite');
  const server = await createServer({ root: ROOT, configFile: false, logLevel: 'silent', appType: 'custom', server: { middlewareMode: true, hmr: false, ws: false, watch: null } });
  const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  const load = (p) => runner.import(join(ROOT, p));
  const { fuzzCase } = await load('test/helpers/fuzz-one.ts');
  const { CPU_STAGES, STAGES } = await load('test/helpers/differential.ts');
  process.on('message', async (m) => {
    if (m.type !== 'case') return;
    try {
      const stages = m.webgpu ? STAGES : CPU_STAGES;
      const r = await fuzzCase(m.seed, { gen: m.gen, stages, minimize: m.minimize });
      process.send({ type: 'done', seed: m.seed, webgpu: m.webgpu, failures: r.failures, source: r.source, minimized: r.minimized });
    } catch (e) {
      process.send({ type: 'done', seed: m.seed, webgpu: m.webgpu, failures: [{ stage: 'harness', kind: 'crash', message: String(e?.stack ?? e) }], source: '' });
    }
  });
  process.send({ type: 'ready' });
}

function replayCommand(o, seed) {
  const flags = [!o.nan && '--no-nan', !o.overflow && '--no-overflow', !o.aliasedOutputs && '--no-aliased-outputs', !o.reshapeOfProduct && '--no-reshape-of-product', o.webgpuEvery && '--webgpu-every 1'].filter(Boolean);
  return `npm run fuzz -- --seed ${seed} --count 1${flags.map((f) => ` ${f}`).join('')}`;
}

async function main(o) {
  mkdirSync(o.out, { recursive: true });
  const t0 = Date.now();
  const gen = { nan: o.nan, overflow: o.overflow, aliasedOutputs: o.aliasedOutputs, reshapeOfProduct: o.reshapeOfProduct };
  let next = 0;
  let done = 0;
  let webgpuRuns = 0;
  const failed = [];
  const kinds = new Map();
  // Failures of one kind (stage, kind, message without its numbers and names) are minimized once.
  const firstOfKind = new Map();
  const kindOf = (f) => `${f.stage} ${f.kind}: ${f.message.split('\n')[0].replace(/\([^)]*\)|\[[^\]]*\]|`[^`]*`|-?[\d.]+(e-?\d+)?|\bv\d+|out\d+/g, '…').slice(0, 100)}`;
  const report = (seed, failures, source, minimized, webgpu) => {
    done++;
    if (webgpu) webgpuRuns++;
    if (failures.length === 0) return;
    const fs = minimized?.failures?.length ? minimized.failures : failures;
    const src = minimized?.source ?? source;
    const key = kindOf(failures[0]);
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
    const file = join(o.out, `seed-${seed}.dl`);
    writeFileSync(file, `# ${replayCommand(o, seed)}\n${fs.map((f) => `# ${f.stage} ${f.kind}: ${f.message.split('\n')[0]}`).join('\n')}\n${src}`);
    failed.push({ seed, key, file });
    const first = firstOfKind.get(key);
    if (first !== undefined && first !== seed) {
      console.log(`FAIL seed ${seed}: ${key} (the kind of seed ${first}; program in ${file})`);
      return;
    }
    console.log(`\nFAIL seed ${seed}: ${key}`);
    for (const f of fs.slice(0, 4)) console.log(`  ${f.stage} ${f.kind}: ${f.message.split('\n')[0].slice(0, 400)}`);
    if (!o.quiet) console.log(`  ${minimized ? 'minimized ' : ''}program (${file}):\n${src.replace(/^/gm, '    ')}`);
    console.log(`  replay: ${replayCommand(o, seed)}`);
    const stage = fs.find((f) => f.stage.includes('/'))?.stage ?? 'fused/js-f64';
    const backend = stage.endsWith('webgpu') ? 'webgpu' : stage.endsWith('f32') ? 'js --precision f32' : 'js --precision f64';
    console.log(`  compare: node bin/dlc.js run ${file} --fn f --backend interp; node bin/dlc.js run ${file} --fn f --backend ${backend}`);
  };
  const progress = () => {
    const s = (Date.now() - t0) / 1000;
    console.log(`[fuzz] ${done}/${o.count} programs (${webgpuRuns} on WebGPU), ${failed.length} failing, ${s.toFixed(0)} s`);
  };
  let lastProgress = Date.now();
  await new Promise((resolve) => {
    let live = 0;
    const start = () => {
      if (next >= o.count) {
        if (live === 0) resolve();
        return;
      }
      live++;
      const child = fork(fileURLToPath(import.meta.url), ['--worker'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let current;
      let timer;
      const give = () => {
        if (next >= o.count) {
          child.kill();
          return;
        }
        const i = next++;
        const seed = o.seed + i;
        const webgpu = o.webgpuEvery > 0 && i % o.webgpuEvery === 0;
        send(seed, webgpu, false);
      };
      const send = (seed, webgpu, minimize) => {
        current = { seed, webgpu };
        timer = setTimeout(() => {
          report(seed, [{ stage: 'harness', kind: 'hang', message: `no result after ${o.timeoutMs} ms${minimize ? ' (while minimizing a failure)' : ''}` }], '', undefined, webgpu);
          current = undefined;
          child.kill('SIGKILL');
        }, o.timeoutMs * (minimize ? 10 : 1));
        child.send({ type: 'case', seed, webgpu, gen, minimize });
      };
      child.on('message', (m) => {
        if (m.type === 'ready') return give();
        clearTimeout(timer);
        current = undefined;
        const key = m.failures.length ? kindOf(m.failures[0]) : undefined;
        if (key && o.minimize && !m.minimized && !firstOfKind.has(key)) {
          firstOfKind.set(key, m.seed);
          return send(m.seed, m.webgpu, true);
        }
        report(m.seed, m.failures, m.source, m.minimized, m.webgpu);
        if (Date.now() - lastProgress > 30_000) {
          lastProgress = Date.now();
          progress();
        }
        give();
      });
      child.on('exit', () => {
        clearTimeout(timer);
        if (current) report(current.seed, [{ stage: 'harness', kind: 'crash', message: 'the worker process died' }], '', undefined, current.webgpu);
        live--;
        start();
      });
    };
    for (let j = 0; j < Math.min(o.jobs, o.count); j++) start();
    if (o.count === 0) resolve();
  });
  progress();
  console.log(`[fuzz] seeds ${o.seed}..${o.seed + o.count - 1}: ${done} programs, ${webgpuRuns} also on WebGPU, ${failed.length} failing`);
  for (const [k, n] of kinds) console.log(`  ${n} × ${k}`);
  if (failed.length) console.log(`  reproducers in ${o.out}`);
  process.exitCode = failed.length ? 1 : 0;
}

const o = parseArgs(process.argv.slice(2));
if (o.help) console.log(USAGE);
else if (o.worker) await worker();
else await main(o);
