/**
 * @file The `dlc` command line. Every failure is a diagnostic with a code; nothing the user
 * types produces a stack trace (set DLC_DEBUG=1 to see one for an internal error).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../diagnostics/render.js';
import { checkModule, lowerEntry } from '../frontend/lower/entry.js';
import { parseSource } from '../frontend/parse.js';
import { loadStdlib } from '../frontend/stdlib.js';
import type { Graph } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { printGraph } from '../ir/print.js';
import { PASS_NAMES, runPipeline } from '../passes/pipeline.js';
import { gradcheck, type FunctionReport } from '../gradcheck/gradcheck.js';
import { numel, type DType } from '../ir/types.js';
import { EvalError, initParams, interpret } from '../interp/interpret.js';
import { NpyError, readNpy, writeNpy } from '../io/npy.js';
import { RandomStream } from '../runtime/random.js';
import { checkFlags, dimsFlag, flag, has, inputsFlag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { formatResult } from './format.js';
import { COMMAND_HELP, MAIN_HELP, VERSION } from './help.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function json(args: ParsedArgs): boolean {
  const f = flag(args, 'format');
  if (f !== undefined && f !== 'text' && f !== 'json') throw new UsageError(`--format is text or json, got \`${f}\``);
  return f === 'json' || has(args, 'json');
}

/**
 * Reports diagnostics. With errors it prints them (as text, or as the command's one JSON
 * document) and exits 1. Without errors, text mode prints warnings now; JSON mode leaves them to
 * the command's final document unless `final` says this is it.
 */
function emit(io: Io, args: ParsedArgs, diags: readonly Diagnostic[], extra: Record<string, unknown> = {}, final = false): void {
  const errors = diags.some((d) => d.severity === 'error');
  if (json(args)) {
    if (errors || final) io.out(JSON.stringify({ ok: !errors, diagnostics: diags.map(diagnosticToJson), ...extra }, null, 2) + '\n');
  } else if (diags.length) io.err(renderDiagnostics(diags));
  if (errors) throw new Exit(1);
}

function readSource(args: ParsedArgs): { path: string; text: string } {
  const path = args.positional[0];
  if (!path) throw new UsageError(`\`dlc ${args.command}\` needs a .dl file`);
  if (args.positional.length > 1) throw new UsageError(`unexpected argument \`${args.positional[1]}\``);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${path}`);
  return { path, text: readFileSync(path, 'utf8') };
}

function lowerFor(io: Io, args: ParsedArgs, inputShapes: Record<string, number[]> = {}): { graph: Graph; warnings: Diagnostic[] } {
  const { path, text } = readSource(args);
  const fn = flag(args, 'fn');
  if (!fn) throw new UsageError(`\`dlc ${args.command}\` needs --fn NAME (see \`dlc check ${path}\` for the functions)`);
  const user = parseSource(path, text);
  if (user.diagnostics.length) emit(io, args, user.diagnostics);
  const r = lowerEntry(loadStdlib(), user, fn, { dims: dimsFlag(args), inputShapes });
  emit(io, args, r.diagnostics);
  return { graph: r.graph!, warnings: r.diagnostics };
}

function cmdCheck(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['dim', 'format', 'json']);
  const { path, text } = readSource(args);
  const r = checkModule(loadStdlib(), parseSource(path, text), { dims: dimsFlag(args) });
  emit(io, args, r.diagnostics, { checked: r.checked }, true);
  if (!json(args)) io.out(`${path}: no errors (${r.checked.length} function${r.checked.length === 1 ? '' : 's'} checked)\n`);
}

function cmdIr(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'dim', 'spans', 'after', 'format', 'json']);
  const after = flag(args, 'after') ?? PASS_NAMES[PASS_NAMES.length - 1]!;
  if (!PASS_NAMES.includes(after)) throw new UsageError(`--after is one of ${PASS_NAMES.join(', ')}, got \`${after}\``);
  const lowered = lowerFor(io, args);
  const r = runPipeline(lowered.graph, { until: after });
  const counts = r.counts.map((c) => `${c.pass} ${c.nodes}`).join(' → ');
  const text = printGraph(r.graph, { spans: has(args, 'spans') });
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: lowered.warnings.map(diagnosticToJson), counts: r.counts, ir: text }, null, 2) + '\n');
  else io.out(`# nodes: ${counts}\n${text}`);
}

function loadInputs(args: ParsedArgs): { arrays: Map<string, { array: NDArray; kind: string }>; shapes: Record<string, number[]> } {
  const arrays = new Map<string, { array: NDArray; kind: string }>();
  const shapes: Record<string, number[]> = {};
  for (const [name, file] of Object.entries(inputsFlag(args))) {
    if (!existsSync(file)) throw new UsageError(`no such file: ${file} (for --input ${name})`);
    try {
      const r = readNpy(new Uint8Array(readFileSync(file)));
      arrays.set(name, r);
      shapes[name] = [...r.array.shape];
    } catch (e) {
      if (e instanceof NpyError) {
        throw new DiagnosticExit(error('DL0602', `cannot read ${file} for input \`${name}\`: ${e.message}`, {}));
      }
      throw e;
    }
  }
  return { arrays, shapes };
}

class DiagnosticExit extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** A seeded random value for an input that was not given. */
function randomInput(name: string, dtype: DType, shape: readonly number[], seed: number): NDArray {
  const rng = RandomStream.forName(seed, `input:${name}`);
  const n = numel(shape);
  const data = dtype === 'f32' ? rng.normal(n) : rng.uniform(n).map((u) => (u < 0.5 ? 0 : 1));
  return new NDArray([...shape], data);
}

function cmdRun(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'dim', 'input', 'seed', 'out', 'full', 'format', 'json']);
  const seedText = flag(args, 'seed') ?? '0';
  if (!/^\d+$/.test(seedText)) throw new UsageError(`--seed expects a non-negative integer, got \`${seedText}\``);
  const seed = Number(seedText);
  const { arrays, shapes } = loadInputs(args);
  const lowered = lowerFor(io, args, shapes);
  const g = runPipeline(lowered.graph).graph;
  for (const name of arrays.keys()) {
    if (!g.inputs.some((i) => String(i.attrs['name']) === name)) {
      throw new DiagnosticExit(error('DL0602', `--input ${name}: the function has no parameter \`${name}\``, { help: `its inputs are ${g.inputs.map((i) => `\`${String(i.attrs['name'])}\``).join(', ') || 'none'}` }));
    }
  }
  const inputs = new Map<string, NDArray>();
  for (const i of g.inputs) {
    const name = String(i.attrs['name']);
    const given = arrays.get(name);
    if (given) {
      if (i.type.dtype !== 'f32' && given.kind === 'float') {
        throw new DiagnosticExit(error('DL0602', `input \`${name}\` is ${i.type.dtype} but the file holds floating-point values`, { help: 'save it with an integer or bool dtype' }));
      }
      inputs.set(name, given.array);
    } else inputs.set(name, randomInput(name, i.type.dtype, i.type.shape, seed));
  }
  let outputs: Map<string, NDArray>;
  try {
    outputs = interpret(g, inputs, initParams(g, seed));
  } catch (e) {
    if (e instanceof EvalError) throw new DiagnosticExit(error('DL0602', `cannot run \`${g.name}\`: ${e.message}`, {}));
    throw e;
  }
  const outDir = flag(args, 'out');
  if (outDir) mkdirSync(outDir, { recursive: true });
  const types = new Map(g.outputs.map((o) => [o.name, o.node.type.dtype]));
  const results: Record<string, unknown> = {};
  for (const [name, a] of outputs) {
    const dtype = types.get(name)!;
    if (outDir) writeFileSync(join(outDir, `${name}.npy`), writeNpy(a, dtype));
    results[name] = { dtype, shape: a.shape, data: Array.from(a.data) };
    if (!json(args)) io.out(formatResult(name, a, dtype, has(args, 'full')) + '\n');
  }
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: lowered.warnings.map(diagnosticToJson), outputs: results }, null, 2) + '\n');
}

function sci(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}

function formatReport(r: FunctionReport, path: string): string {
  const lines: string[] = [];
  const mark = r.ok ? 'ok  ' : 'FAIL';
  lines.push(`${mark} ${r.fn}  (${r.runs} run${r.runs === 1 ? '' : 's'})`);
  const width = Math.max(4, ...r.tensors.map((t) => t.name.length));
  for (const t of r.tensors) {
    lines.push(`     ${t.kind.padEnd(5)} ${t.name.padEnd(width)}  max abs err ${sci(t.maxAbsErr).padStart(7)}  max rel err ${sci(t.maxRelErr).padStart(7)}${t.ok ? '' : '  <- wrong'}`);
  }
  const c = r.counterexample;
  if (c) {
    const dims = Object.entries(c.dims).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`     smallest failing case: ${dims || 'no free dimensions'}, point seed ${c.pointSeed}`);
    const value = c.failures[0]?.value;
    if (value !== undefined && !Number.isFinite(value)) lines.push(`     the function's value there is ${value} (is a mean taken over an empty axis?)`);
    for (const f of c.failures) {
      lines.push(`       ${f.variable.kind} ${f.variable.name}: reverse mode gives ⟨∇, v⟩ = ${f.ad.toPrecision(6)}, finite differences give ${f.fd.toPrecision(6)}`);
    }
    lines.push(`     replay: dlc gradcheck ${path} --fn ${r.fn} --seed ${r.seed}${Object.keys(c.dims).length ? ` ${Object.entries(c.dims).map(([k, v]) => `--dim ${k}=${v}`).join(' ')}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

function cmdGradcheck(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'wrt', 'runs', 'seed', 'dim', 'format', 'json']);
  const { path, text } = readSource(args);
  const int = (name: string, dflt: number) => {
    const v = flag(args, name);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} expects a non-negative integer, got \`${v}\``);
    return Number(v);
  };
  const wrt = (args.flags.get('wrt') ?? []).flatMap((w) => w.split(',')).filter((w) => w.length);
  const fn = flag(args, 'fn');
  const r = gradcheck(text, path, {
    ...(fn ? { fn } : {}),
    ...(wrt.length ? { wrt } : {}),
    runs: int('runs', 20),
    seed: int('seed', 0),
    dims: dimsFlag(args),
  });
  if (json(args)) {
    io.out(JSON.stringify({ ok: r.ok, diagnostics: r.diagnostics.map(diagnosticToJson), functions: r.functions }, null, 2) + '\n');
    if (!r.ok) throw new Exit(1);
    return;
  }
  if (r.diagnostics.length) io.err(renderDiagnostics(r.diagnostics));
  for (const f of r.functions) io.out(formatReport(f, path));
  if (!r.ok) throw new Exit(1);
}

function cmdHelp(io: Io, args: ParsedArgs): void {
  const topic = args.positional[0];
  if (!topic) io.out(MAIN_HELP);
  else if (COMMAND_HELP[topic]) io.out(COMMAND_HELP[topic]!);
  else throw new UsageError(`no help for \`${topic}\`; commands are ${Object.keys(COMMAND_HELP).join(', ')}`);
}

const COMMANDS: Record<string, (io: Io, args: ParsedArgs) => void> = {
  check: cmdCheck,
  ir: cmdIr,
  run: cmdRun,
  gradcheck: cmdGradcheck,
  help: cmdHelp,
};

/** Runs the CLI; returns the exit status (0 ok, 1 errors in the program, 2 usage). */
export function main(argv: readonly string[], io: Io = defaultIo): number {
  let args: ParsedArgs | undefined;
  try {
    args = parseArgs(argv);
    if (has(args, 'version')) {
      io.out(`dlc ${VERSION}\n`);
      return 0;
    }
    if (!args.command || (has(args, 'help') && !COMMANDS[args.command])) {
      io.out(MAIN_HELP);
      return args.command || has(args, 'help') ? 0 : 2;
    }
    const cmd = COMMANDS[args.command];
    if (!cmd) throw new UsageError(`unknown command \`${args.command}\`; commands are ${Object.keys(COMMANDS).join(', ')} (see dlc --help)`);
    if (has(args, 'help')) {
      io.out(COMMAND_HELP[args.command] ?? MAIN_HELP);
      return 0;
    }
    cmd(io, args);
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof UsageError) {
      const d = error('DL0601', e.message, { help: args?.command && COMMAND_HELP[args.command] ? `see \`dlc help ${args.command}\`` : 'see `dlc --help`' });
      if (args && json(args)) io.out(JSON.stringify({ ok: false, diagnostics: [diagnosticToJson(d)] }, null, 2) + '\n');
      else io.err(renderDiagnostics([d]));
      return 2;
    }
    if (e instanceof DiagnosticExit) {
      if (args && safeJson(args)) io.out(JSON.stringify({ ok: false, diagnostics: [diagnosticToJson(e.diagnostic)] }, null, 2) + '\n');
      else io.err(renderDiagnostics([e.diagnostic]));
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    const d = error('DL9001', `internal compiler error: ${msg}`, { help: 'this is a bug in dlc; please report it with the input that caused it' });
    io.err(renderDiagnostics([d]));
    if (process.env['DLC_DEBUG'] && e instanceof Error) io.err(`${e.stack}\n`);
    return 3;
  }
}

function safeJson(args: ParsedArgs): boolean {
  try {
    return json(args);
  } catch {
    return false;
  }
}
