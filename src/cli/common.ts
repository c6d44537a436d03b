/** @file What every command shares: output, diagnostics, reading sources and inputs. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../diagnostics/render.js';
import { lowerEntry } from '../frontend/lower/entry.js';
import { parseSource } from '../frontend/parse.js';
import { loadStdlib } from '../frontend/stdlib.js';
import type { Graph } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { numel, type DType } from '../ir/types.js';
import { NpyError, readNpy } from '../io/npy.js';
import { RandomStream } from '../runtime/random.js';
import { dimsFlag, flag, has, inputsFlag, UsageError, type ParsedArgs } from './args.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function json(args: ParsedArgs): boolean {
  const f = flag(args, 'format');
  if (f !== undefined && f !== 'text' && f !== 'json') throw new UsageError(`--format is text or json, got \`${f}\``);
  return f === 'json' || has(args, 'json');
}

/**
 * Reports diagnostics. With errors it prints them (as text, or as the command's one JSON
 * document) and exits 1. Without errors, text mode prints warnings now; JSON mode leaves them to
 * the command's final document unless `final` says this is it.
 */
export function emit(io: Io, args: ParsedArgs, diags: readonly Diagnostic[], extra: Record<string, unknown> = {}, final = false): void {
  const errors = diags.some((d) => d.severity === 'error');
  if (json(args)) {
    if (errors || final) io.out(JSON.stringify({ ok: !errors, diagnostics: diags.map(diagnosticToJson), ...extra }, null, 2) + '\n');
  } else if (diags.length) io.err(renderDiagnostics(diags));
  if (errors) throw new Exit(1);
}

export function readSource(args: ParsedArgs): { path: string; text: string } {
  const path = args.positional[0];
  if (!path) throw new UsageError(`\`dlc ${args.command}\` needs a .dl file`);
  if (args.positional.length > 1) throw new UsageError(`unexpected argument \`${args.positional[1]}\``);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${path}`);
  return { path, text: readFileSync(path, 'utf8') };
}

export function lowerFor(io: Io, args: ParsedArgs, inputShapes: Record<string, number[]> = {}): { graph: Graph; warnings: Diagnostic[] } {
  const { path, text } = readSource(args);
  const fn = flag(args, 'fn');
  if (!fn) throw new UsageError(`\`dlc ${args.command}\` needs --fn NAME (see \`dlc check ${path}\` for the functions)`);
  const user = parseSource(path, text);
  if (user.diagnostics.length) emit(io, args, user.diagnostics);
  const r = lowerEntry(loadStdlib(), user, fn, { dims: dimsFlag(args), inputShapes });
  emit(io, args, r.diagnostics);
  return { graph: r.graph!, warnings: r.diagnostics };
}

export function loadInputs(args: ParsedArgs): { arrays: Map<string, { array: NDArray; kind: string }>; shapes: Record<string, number[]> } {
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

export class DiagnosticExit extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** A seeded random value for an input that was not given. */
export function randomInput(name: string, dtype: DType, shape: readonly number[], seed: number): NDArray {
  const rng = RandomStream.forName(seed, `input:${name}`);
  const n = numel(shape);
  const data = dtype === 'f32' ? rng.normal(n) : rng.uniform(n).map((u) => (u < 0.5 ? 0 : 1));
  return new NDArray([...shape], data);
}


/** A non-negative integer flag. */
export function intFlag(args: ParsedArgs, name: string, dflt: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} expects a non-negative integer, got \`${v}\``);
  return Number(v);
}
