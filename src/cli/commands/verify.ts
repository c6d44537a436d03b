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
import { buildGraph, GraphBuilder } from '../../ir/builder.js';
import type { Graph, Node } from '../../ir/graph.js';
import type { NDArray } from '../../ir/ndarray.js';
import { BackendError, makeExecutable, type ExecBackend } from '../../exec.js';
import type { Precision } from '../../kernel/memory.js';
import { runPipeline } from '../../passes/pipeline.js';
import { getDevice } from '../../runtime/webgpu-executor.js';
import { indexRanges } from '../../ir/index-ranges.js';
import { checkFlags, dimsFlag, flag, type ParsedArgs } from '../args.js';
import { Exit, intFlag, json, readSource, unusedDims, type Io } from '../common.js';

/**
 * One output on one backend: the largest |a − b| over its elements, that relative to the output's
 * largest |reference| (so cancellation in small elements does not dominate), and whether it is
 * within the tolerance: max |a − b| ≤ atol + rtol · max |b| (b the interpreter's value).
 */
export interface Comparison {
  readonly program: string;
  readonly output: string;
  readonly backend: string;
  readonly maxAbs: number;
  readonly maxRel: number;
  /** max |a − b| as a fraction of what the tolerance allows (≤ 1 is ok). */
  readonly used: number;
  readonly ok: boolean;
  /** A random draw (docs/random.md): it must equal the interpreter's bit for bit, no tolerance. */
  readonly exact?: true;
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** Per backend: relative (to the output's largest magnitude) and absolute tolerance. */
export const TOLERANCE: Readonly<Record<string, Tolerance>> = {
  'js f64': { rtol: 1e-9, atol: 1e-12 },
  'js f32': { rtol: 1e-4, atol: 1e-6 },
  'webgpu f32': { rtol: 1e-4, atol: 1e-6 },
};
/** Gradients chain many roundings in f32; they get this factor more room (on both tolerances). */
export const GRADIENT_SLACK = 10;

/** The allowed max |a − b| for an output whose largest |reference| is `scale`. */
export function allowed(tol: Tolerance, scale: number, slack = 1): number {
  return slack * (tol.atol + tol.rtol * scale);
}

export function compare(ref: NDArray, got: NDArray): { maxAbs: number; maxRel: number; scale: number } {
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
  if (nan) return { maxAbs: Infinity, maxRel: Infinity, scale };
  return { maxAbs, maxRel: maxAbs === 0 ? 0 : scale === 0 ? Infinity : maxAbs / scale, scale };
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

/** The ops that draw random numbers (src/ir/ops/random.ts): their values are bit-identical on every backend. */
const isDraw = (n: Node) => n.op.startsWith('random_');

/** A graph whose outputs are the random draws of `g` (`draw0: random_normal`, …), or undefined when it draws none. */
function drawsGraph(g: Graph): Graph | undefined {
  const draws = g.nodes.filter(isDraw);
  if (!draws.length) return undefined;
  const b = new GraphBuilder();
  const map = b.import(g);
  return buildGraph(`${g.name}.draws`, g.inputs.map((i) => map.get(i)!), draws.map((d, k) => ({ name: `draw${k}: ${d.op}`, node: map.get(d)! })));
}

/** Verifies one graph (and its gradient when it is a loss) across backends; its random draws must agree exactly. */
export async function verifyGraph(name: string, g0: Graph, seed: number, withWebGpu: boolean, out: Comparison[]): Promise<void> {
  const programs: { name: string; graph: Graph; gradient: boolean }[] = [{ name, graph: runPipeline(g0).graph, gradient: false }];
  const o = g0.outputs;
  if (o.length === 1 && o[0]!.node.type.dtype === 'f32' && o[0]!.node.type.shape.length === 0) {
    const vars = floatVariables(g0);
    if (vars.length) programs.push({ name: `${name} (gradient)`, graph: runPipeline(gradientGraph(g0, vars)).graph, gradient: true });
  }
  const draws = drawsGraph(programs[0]!.graph);
  if (draws) programs.push({ name: `${name} (draws)`, graph: draws, gradient: false });
  for (const p of programs) {
    const exact = p.graph === draws;
    // Labels and indices are drawn from their valid range (anything else is an input error).
    const ranges = indexRanges(p.graph);
    const inputs = new Map(
      p.graph.inputs.map((i) => {
        const name = String(i.attrs['name']);
        const r = ranges.get(name);
        return [name, randomArray(i.type.dtype, i.type.shape, seed, `input:${name}`, r ? { int: r.hi } : 'any')];
      }),
    );
    const ref = await (await makeExecutable(p.graph, { backend: 'interp', seed })).run(inputs);
    for (const t of TARGETS) {
      if (t.backend === 'webgpu' && !withWebGpu) continue;
      const got = await (await makeExecutable(p.graph, { backend: t.backend, precision: t.precision, seed })).run(inputs);
      for (const [outName, r] of ref) {
        const { maxAbs, maxRel, scale } = compare(r, got.get(outName)!);
        const limit = allowed(TOLERANCE[t.label]!, scale, p.gradient ? GRADIENT_SLACK : 1);
        const used = maxAbs === 0 ? 0 : exact ? Infinity : maxAbs / limit;
        out.push({ program: p.name, output: outName, backend: t.label, maxAbs, maxRel, used, ok: used <= 1, ...(exact ? { exact: true as const } : {}) });
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

/** `verify: 12 outputs checked, 0 failed (worst: js f32 on f/out, max abs 3e-8, rel 2e-7, 1% of its tolerance)`. */
export function summary(cs: readonly Comparison[]): string {
  const failed = cs.filter((c) => !c.ok).length;
  const worst = cs.reduce((w, c) => (c.used > w.used ? c : w), cs[0]!);
  const pct = Number.isFinite(worst.used) ? `${Number((100 * worst.used).toPrecision(2))}% of its tolerance` : 'not finite';
  return `verify: ${cs.length} outputs checked, ${failed} failed (worst: ${worst.backend} on ${worst.program}/${worst.output}, max abs ${fmt(worst.maxAbs)}, rel ${fmt(worst.maxRel)}, ${pct})`;
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
    io.out(`tolerance: max abs ≤ atol + rtol · max |interpreter value|: ${Object.entries(TOLERANCE).map(([k, v]) => `${k} rtol ${v.rtol.toExponential()}, atol ${v.atol.toExponential()}`).join('; ')} (×${GRADIENT_SLACK} for gradients)${r.comparisons.some((c) => c.exact) ? '; random draws (draws): exactly equal' : ''}\n`);
    io.out(summary(r.comparisons) + '\n');
  }
  if (failed) throw new Exit(1);
}
