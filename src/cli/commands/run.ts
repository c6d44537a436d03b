/** @file `dlc run`: run a function on the interpreter, the JS backend or WebGPU. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { error } from '../../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../../diagnostics/render.js';
import type { Graph } from '../../ir/graph.js';
import type { NDArray } from '../../ir/ndarray.js';
import { writeNpy } from '../../io/npy.js';
import { EvalError } from '../../interp/interpret.js';
import { makeExecutable, type ExecBackend } from '../../exec.js';
import type { Precision } from '../../kernel/memory.js';
import { runPipeline } from '../../passes/pipeline.js';
import { checkFlags, flag, has, UsageError, type ParsedArgs } from '../args.js';
import { DiagnosticExit, ensureDir, fsReason, intFlag, json, loadInputs, lowerFor, randomInput, type Io } from '../common.js';
import { checkInputs } from '../../input-check.js';
import { indexRanges } from '../../ir/index-ranges.js';
import { formatResult } from '../format.js';
import { weightsFlag } from '../weights.js';

export function backendFlag(args: ParsedArgs): ExecBackend {
  const b = flag(args, 'backend') ?? 'interp';
  if (b !== 'interp' && b !== 'js' && b !== 'webgpu') throw new UsageError(`--backend is interp, js or webgpu, got \`${b}\``);
  return b;
}

export function precisionFlag(args: ParsedArgs, backend: ExecBackend): Precision {
  const p = flag(args, 'precision') ?? (backend === 'js' ? 'f32' : backend === 'webgpu' ? 'f32' : 'f64');
  if (p !== 'f32' && p !== 'f64') throw new UsageError(`--precision is f32 or f64, got \`${p}\``);
  if (p === 'f64' && backend === 'webgpu') throw new UsageError('WebGPU computes in f32; --precision f64 is for --backend js');
  if (p === 'f32' && backend === 'interp' && flag(args, 'precision')) throw new UsageError('the interpreter computes in f64; --precision f32 is for --backend js or webgpu');
  return p;
}

/**
 * The inputs of a graph: from .npy files where given, else seeded random values (labels and
 * indices drawn from their valid range). Values that do not fit are an InputError (DL0605).
 */
export function graphInputs(g: Graph, arrays: Map<string, { array: NDArray; kind: string }>, seed: number): Map<string, NDArray> {
  const ranges = indexRanges(g);
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
    } else inputs.set(name, randomInput(name, i.type.dtype, i.type.shape, seed, ranges.get(name)));
  }
  checkInputs(g, inputs, {}, ranges);
  return inputs;
}

/** The float type of `--out` files: what was computed (f64 on the interpreter and js f64) unless --out-dtype says. */
export function outDtypeFlag(args: ParsedArgs, precision: Precision): Precision {
  const d = flag(args, 'out-dtype') ?? precision;
  if (d !== 'f32' && d !== 'f64') throw new UsageError(`--out-dtype is f32 or f64, got \`${d}\``);
  if (flag(args, 'out-dtype') && !flag(args, 'out')) throw new UsageError('--out-dtype needs --out DIR');
  return d;
}

/** Writes one result file; a path that cannot be written is DL0607 (never a hang or a crash). */
function writeOutput(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new DiagnosticExit(error('DL0607', `cannot write ${path}: ${fsReason(e)}`, { help: 'give --out a directory you can write to' }));
  }
}

export async function cmdRun(io: Io, args: ParsedArgs): Promise<void> {
  checkFlags(args, ['fn', 'dim', 'input', 'params', 'seed', 'out', 'out-dtype', 'full', 'backend', 'precision', 'format', 'json']);
  const seed = intFlag(args, 'seed', 0);
  const backend = backendFlag(args);
  const precision = precisionFlag(args, backend);
  const outDir = flag(args, 'out');
  const outDtype = outDtypeFlag(args, precision);
  if (outDir) ensureDir(outDir, '--out');
  const { arrays, shapes } = loadInputs(args);
  const lowered = lowerFor(io, args, shapes);
  const g = runPipeline(lowered.graph).graph;
  const inputs = graphInputs(g, arrays, seed);
  const weights = weightsFlag(args, g);
  const warnings = [...lowered.warnings, ...(weights?.warnings ?? [])];
  if (weights?.warnings.length && !json(args)) io.err(renderDiagnostics(weights.warnings));
  let outputs: Map<string, NDArray>;
  try {
    const exe = await makeExecutable(g, { backend, precision, seed });
    if (weights) exe.setParams(weights.params);
    outputs = await exe.run(inputs);
  } catch (e) {
    if (e instanceof EvalError) throw new DiagnosticExit(error('DL0602', `cannot run \`${g.name}\`: ${e.message}`, {}));
    throw e;
  }
  const types = new Map(g.outputs.map((o) => [o.name, o.node.type.dtype]));
  const results: Record<string, unknown> = {};
  for (const [name, a] of outputs) {
    const dtype = types.get(name)!;
    if (outDir) writeOutput(join(outDir, `${name}.npy`), writeNpy(a, dtype, outDtype));
    results[name] = { dtype, shape: a.shape, data: Array.from(a.data) };
    if (!json(args)) io.out(formatResult(name, a, dtype, has(args, 'full')) + '\n');
  }
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: warnings.map(diagnosticToJson), backend, precision, ...(weights ? { params: weights.path } : {}), outputs: results }, null, 2) + '\n');
}
