/**
 * @file `dlc verify`: runs functions (and, for losses, their gradients) on the interpreter, the
 * JS backend in f64 and f32, and WebGPU, with the same seeded inputs and parameters, and
 * compares every output with the interpreter's.
 */
import { error, warning, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../../diagnostics/render.js';
import { listEntries, lowerEntry } from '../../frontend/lower/entry.js';
import { parseSource } from '../../frontend/parse.js';
import { loadStdlib } from '../../frontend/stdlib.js';
import { floatVariables, gradientGraph, randomArray } from '../../gradcheck/check.js';
import type { Graph } from '../../ir/graph.js';
import type { NDArray } from '../../ir/ndarray.js';
import { BackendError, makeExecutable, type ExecBackend } from '../../exec.js';
import type { Precision } from '../../kernel/memory.js';
import { runPipeline } from '../../passes/pipeline.js';
import { getDevice } from '../../runtime/webgpu-executor.js';
import { checkFlags, dimsFlag, flag, type ParsedArgs } from '../args.js';
import { Exit, intFlag, json, readSource, unusedDims, type Io } from '../common.js';

/** Largest |a − b| over the outputs, relative to the largest |reference| (so cancellation in small elements does not dominate). */
export interface Comparison {
  readonly program: string;
  readonly output: string;
  readonly backend: string;
  readonly maxAbs: number;
  readonly maxRel: number;
  readonly ok: boolean;
}

/** Tolerances on the relative error (normalized by the output's largest magnitude). */
export const TOLERANCE: Readonly<Record<string, number>> = {
  'js f64': 1e-9,
  'js f32': 1e-4,
  'webgpu f32': 1e-4,
};
/** Gradients chain many roundings in f32; they get this factor more room. */
export const GRADIENT_SLACK = 10;

export function compare(ref: NDArray, got: NDArray): { maxAbs: number; maxRel: number } {
  let maxAbs = 0;
  let scale = 0;
  let nan = false;
  for (let i = 0; i < ref.size; i++) {
    const r = ref.data[i]!;
    const g = got.data[i]!;
    // NaN agrees with NaN and an infinity with the same infinity; anything else non-finite is a mismatch.
    if (Number.isNaN(r) !== Number.isNaN(g) || (!Number.isFinite(r) && !Number.isNaN(r) && r !== g)) nan = true;
    if (Number.isFinite(r)) {
      maxAbs = Math.max(maxAbs, Math.abs(r - g));
      scale = Math.max(scale, Math.abs(r));
    }
  }
  if (nan) return { maxAbs: Infinity, maxRel: Infinity };
  return { maxAbs, maxRel: maxAbs === 0 ? 0 : maxAbs / Math.max(scale, 1e-30) };
}

const TARGETS: { backend: ExecBackend; precision: Precision; label: string }[] = [
  { backend: 'js', precision: 'f64', label: 'js f64' },
  { backend: 'js', precision: 'f32', label: 'js f32' },
  { backend: 'webgpu', precision: 'f32', label: 'webgpu f32' },
];

export interface VerifyReport {
  readonly comparisons: Comparison[];
  readonly diagnostics: Diagnostic[];
  readonly webgpu: boolean;
}

/** Verifies one graph (and its gradient when it is a loss) across backends. */
export async function verifyGraph(name: string, g0: Graph, seed: number, withWebGpu: boolean, out: Comparison[]): Promise<void> {
  const programs: { name: string; graph: Graph; gradient: boolean }[] = [{ name, graph: runPipeline(g0).graph, gradient: false }];
  const o = g0.outputs;
  if (o.length === 1 && o[0]!.node.type.dtype === 'f32' && o[0]!.node.type.shape.length === 0) {
    const vars = floatVariables(g0);
    if (vars.length) programs.push({ name: `${name} (gradient)`, graph: runPipeline(gradientGraph(g0, vars)).graph, gradient: true });
  }
  for (const p of programs) {
    const inputs = new Map(p.graph.inputs.map((i) => [String(i.attrs['name']), randomArray(i.type.dtype, i.type.shape, seed, `input:${String(i.attrs['name'])}`)]));
    const ref = await (await makeExecutable(p.graph, { backend: 'interp', seed })).run(inputs);
    for (const t of TARGETS) {
      if (t.backend === 'webgpu' && !withWebGpu) continue;
      const got = await (await makeExecutable(p.graph, { backend: t.backend, precision: t.precision, seed })).run(inputs);
      for (const [outName, r] of ref) {
        const c = compare(r, got.get(outName)!);
        const tol = TOLERANCE[t.label]! * (p.gradient ? GRADIENT_SLACK : 1);
        out.push({ program: p.name, output: outName, backend: t.label, ...c, ok: c.maxRel <= tol });
      }
    }
  }
}

export async function verifySource(path: string, text: string, opts: { fn?: string; dims?: Record<string, number>; seed?: number } = {}): Promise<VerifyReport> {
  const std = loadStdlib();
  const user = parseSource(path, text);
  const diagnostics: Diagnostic[] = [...user.diagnostics];
  const comparisons: Comparison[] = [];
  const device = await getDevice();
  const webgpu = device !== undefined;
  if (!webgpu) {
    const d = process.env['DLC_REQUIRE_WEBGPU'] ? error : warning;
    diagnostics.push(d('DL0501', 'no WebGPU adapter was found, so WebGPU was not verified', { help: 'on Linux without a GPU, run scripts/setup-webgpu.sh (Mesa lavapipe)' }));
  }
  if (user.diagnostics.some((d) => d.severity === 'error')) return { comparisons, diagnostics, webgpu };
  const entries = opts.fn ? [opts.fn] : listEntries(user).filter((e) => e.standalone && !e.fn.broken).map((e) => e.name);
  for (const fn of entries) {
    const r = lowerEntry(std, user, fn, { dims: opts.dims ?? {} });
    if (!r.graph) {
      diagnostics.push(...r.diagnostics);
      continue;
    }
    try {
      await verifyGraph(fn, r.graph, opts.seed ?? 0, webgpu, comparisons);
    } catch (e) {
      if (e instanceof BackendError) diagnostics.push(...e.diagnostics);
      else throw e;
    }
  }
  return { comparisons, diagnostics, webgpu };
}

function fmt(x: number): string {
  return x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x);
}

export async function cmdVerify(io: Io, args: ParsedArgs): Promise<void> {
  checkFlags(args, ['fn', 'dim', 'seed', 'format', 'json']);
  const { path, text } = readSource(args);
  const fn = flag(args, 'fn');
  const dims = dimsFlag(args);
  const r = await verifySource(path, text, { ...(fn ? { fn } : {}), dims, seed: intFlag(args, 'seed', 0) });
  const diagnostics = [...unusedDims(parseSource(path, text), dims, fn), ...r.diagnostics];
  const failed = r.comparisons.some((c) => !c.ok) || diagnostics.some((d) => d.severity === 'error');
  if (json(args)) {
    io.out(JSON.stringify({ ok: !failed, diagnostics: diagnostics.map(diagnosticToJson), tolerance: TOLERANCE, gradientSlack: GRADIENT_SLACK, comparisons: r.comparisons }, null, 2) + '\n');
  } else if (r.comparisons.length === 0) {
    if (diagnostics.length) io.err(renderDiagnostics(diagnostics));
    if (!failed) io.out(`${path}: no function that runs on its own, so nothing was verified\n`);
  } else {
    if (diagnostics.length) io.err(renderDiagnostics(diagnostics));
    const w1 = Math.max(8, ...r.comparisons.map((c) => c.program.length));
    const w2 = Math.max(6, ...r.comparisons.map((c) => c.output.length));
    io.out(`${'function'.padEnd(w1)}  ${'output'.padEnd(w2)}  backend      max abs   max rel\n`);
    let last = '';
    for (const c of r.comparisons) {
      const head = `${c.program}|${c.output}` === last ? ['', ''] : [c.program, c.output];
      last = `${c.program}|${c.output}`;
      io.out(`${head[0]!.padEnd(w1)}  ${head[1]!.padEnd(w2)}  ${c.backend.padEnd(11)}  ${fmt(c.maxAbs).padStart(7)}  ${fmt(c.maxRel).padStart(7)}  ${c.ok ? 'ok' : 'MISMATCH'}\n`);
    }
    io.out(`tolerance on max rel: ${Object.entries(TOLERANCE).map(([k, v]) => `${k} ${v}`).join(', ')} (×${GRADIENT_SLACK} for gradients)\n`);
  }
  if (failed) throw new Exit(1);
}
