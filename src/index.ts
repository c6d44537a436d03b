/**
 * @file The public API of the dlc compiler: parse and check `.dl` source, lower a function to IR,
 * and evaluate it with the reference interpreter.
 */
import type { Diagnostic } from './diagnostics/diagnostic.js';
import { checkModule, listEntries, lowerEntry, type CheckResult, type LowerOptions, type LowerResult } from './frontend/lower/entry.js';
import { parseSource, type ParseResult } from './frontend/parse.js';
import { listTrains, lowerTrainStep, type TrainLowerResult } from './frontend/lower/train.js';
import { loadStdlib } from './frontend/stdlib.js';
import type { Graph } from './ir/graph.js';
import { NDArray } from './ir/ndarray.js';
import { initParams, interpret, type ParamStore } from './interp/interpret.js';
import { checkInputs } from './input-check.js';

export type { Diagnostic } from './diagnostics/diagnostic.js';
export { renderDiagnostic, renderDiagnostics, diagnosticToJson } from './diagnostics/render.js';
export { CODES, type Code } from './diagnostics/codes.js';
export type { Graph, Node } from './ir/graph.js';
export { NDArray } from './ir/ndarray.js';
export { printGraph } from './ir/print.js';
export { verifyGraph } from './ir/verify.js';
export { OPS } from './ir/ops/index.js';
export { initParams, interpret, type ParamStore } from './interp/interpret.js';
export { readNpy, writeNpy } from './io/npy.js';
export type { CheckResult, LowerOptions, LowerResult, EntryPoint } from './frontend/lower/entry.js';
export type { TrainInfo, TrainLowerResult } from './frontend/lower/train.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck/gradcheck.js';
export { makeExecutable, makeExecutables, BackendError, type Executable, type ExecOptions } from './exec.js';
export { checkInputs, inputDiagnostics, InputError, type InputCheckOptions } from './input-check.js';
export { indexRanges, type IndexRange } from './ir/index-ranges.js';
export { compileGraph, type CompiledProgram, type CodegenOptions } from './codegen/compile.js';
export { runPipeline } from './passes/pipeline.js';

/** Parses `.dl` source (syntax only). */
export function parse(text: string, path = 'input.dl'): ParseResult {
  return parseSource(path, text);
}

/** All diagnostics of a file: syntax errors, then everything lowering finds. */
export function check(text: string, path = 'input.dl', opts: LowerOptions = {}): CheckResult {
  return checkModule(loadStdlib(), parseSource(path, text), opts);
}

/** The entry points of a file: `f`, `Model.f`, `instance.f`. */
export function functions(text: string, path = 'input.dl'): string[] {
  return listEntries(parseSource(path, text)).map((e) => e.name);
}

/** Lowers one function (`f`, `Model.f` or `instance.f`) to an IR graph. */
export function lower(text: string, entry: string, opts: LowerOptions & { path?: string } = {}): LowerResult {
  const user = parseSource(opts.path ?? 'input.dl', text);
  if (user.diagnostics.length) return { diagnostics: user.diagnostics, dims: {}, defaulted: [] };
  return lowerEntry(loadStdlib(), user, entry, opts);
}

/** The `train` declarations of a file, by name. */
export function trainNames(text: string, path = 'input.dl'): string[] {
  return listTrains(parseSource(path, text)).map((d) => d.name.name);
}

/**
 * Lowers the `train` declaration `name` to its training-step graph: inputs are the loss function's
 * tensor parameters, the one output is `loss`, and `graph.updates` write every trained parameter,
 * optimizer slot and the step counter. `info` says what is trained and with what.
 */
export function lowerTrain(text: string, name: string, opts: LowerOptions & { path?: string } = {}): TrainLowerResult {
  const user = parseSource(opts.path ?? 'input.dl', text);
  if (user.diagnostics.length) return { diagnostics: user.diagnostics, dims: {}, defaulted: [] };
  return lowerTrainStep(loadStdlib(), user, name, opts);
}

export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
  }
}

/** Lowers a function or throws CompileError with its diagnostics. */
export function compile(text: string, entry: string, opts: LowerOptions & { path?: string } = {}): Graph {
  const r = lower(text, entry, opts);
  if (!r.graph) throw new CompileError(r.diagnostics.filter((d) => d.severity === 'error'));
  return r.graph;
}

/**
 * Runs a graph on the reference interpreter (float64). Parameters are initialized from `seed`.
 * Throws InputError when an input is missing, of the wrong shape, or holds values its dtype or use
 * cannot take (`checkIndexRanges: false` lets labels and indices outside their range through).
 */
export function evaluate(
  graph: Graph,
  inputs: Readonly<Record<string, NDArray | { shape: readonly number[]; data: ArrayLike<number> }>>,
  opts: { seed?: number; params?: ParamStore; checkIndexRanges?: boolean } = {},
): Map<string, NDArray> {
  const params = opts.params ?? initParams(graph, opts.seed ?? 0);
  checkInputs(graph, new Map(Object.entries(inputs)), { ranges: opts.checkIndexRanges !== false });
  const map = new Map<string, NDArray>();
  for (const [k, v] of Object.entries(inputs)) map.set(k, v instanceof NDArray ? v : NDArray.from(v.shape, v.data));
  return interpret(graph, map, params);
}
