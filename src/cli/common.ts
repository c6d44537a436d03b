/** @file What every command shares: output, diagnostics, reading sources and inputs. */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../diagnostics/render.js';
import { closest } from '../diagnostics/suggest.js';
import { listEntries, lowerEntry } from '../frontend/lower/entry.js';
import { lowerTrainStep } from '../frontend/lower/train.js';
import { parseSource, type ParseResult } from '../frontend/parse.js';
import { loadStdlib } from '../frontend/stdlib.js';
import type { Graph } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { numel, type DType } from '../ir/types.js';
import { NpyError, readNpy } from '../io/npy.js';
import { RandomStream } from '../runtime/random.js';
import { dimsFlag, flag, inputsFlag, UsageError, type ParsedArgs } from './args.js';
import { DiagnosticExit, Exit, json, type Io } from './io.js';

export { defaultIo, DiagnosticExit, Exit, json, type Io } from './io.js';

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

/** The training-step graph of `train NAME` in the file (`--train NAME`). */
export function lowerTrainFor(io: Io, args: ParsedArgs, name: string): { graph: Graph; warnings: Diagnostic[] } {
  const { path, text } = readSource(args);
  const user = parseSource(path, text);
  if (user.diagnostics.length) emit(io, args, user.diagnostics);
  const r = lowerTrainStep(loadStdlib(), user, name, { dims: dimsFlag(args) });
  emit(io, args, r.diagnostics);
  return { graph: r.graph!, warnings: r.diagnostics };
}

export function lowerFor(io: Io, args: ParsedArgs, inputShapes: Record<string, number[]> = {}): { graph: Graph; warnings: Diagnostic[] } {
  const { path, text } = readSource(args);
  const fn = flag(args, 'fn');
  if (!fn) throw new UsageError(`\`dlc ${args.command}\` needs --fn NAME (see \`dlc check ${path}\` for the functions)`);
  const user = parseSource(path, text);
  if (user.diagnostics.length) emit(io, args, user.diagnostics);
  const dims = dimsFlag(args);
  const r = lowerEntry(loadStdlib(), user, fn, { dims, inputShapes });
  const diags = [...unusedDims(user, dims, fn, Object.keys(r.dims)), ...r.diagnostics];
  emit(io, args, diags);
  return { graph: r.graph!, warnings: diags };
}

/**
 * Warnings for `--dim NAME=…` that no function in question can use: NAME appears nowhere in the
 * source of the entry point `fn` (or, without `fn`, of any entry point), so it is most likely a
 * typo and the dimension it meant got an example size instead. `known` are the entry's dimension
 * variables, for the suggestion.
 */
export function unusedDims(user: ParseResult, dims: Record<string, number>, fn?: string, known: readonly string[] = []): Diagnostic[] {
  const entries = listEntries(user).filter((e) => fn === undefined || e.name === fn);
  if (!entries.length) return [];
  const text = user.file.text;
  const sources = entries.map((e) => text.slice(e.fn.span.start, e.fn.span.end));
  const out: Diagnostic[] = [];
  for (const [name, size] of Object.entries(dims)) {
    const word = new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`);
    if (sources.some((s) => word.test(s))) continue;
    const candidates = known.filter((k) => !(k in dims));
    const suggestion = closest(name, candidates);
    const where = fn === undefined ? `no function in ${user.file.path} uses \`${name}\`` : `\`${fn}\` has no dimension variable or int parameter \`${name}\``;
    out.push(
      warning('DL0601', `--dim ${name}=${size} is not used: ${where}`, {
        help: suggestion ? `did you mean \`--dim ${suggestion}=${size}\`?` : candidates.length ? `its dimension variables are ${candidates.map((c) => `\`${c}\``).join(', ')}` : 'dimension variables are the names in parameter types, e.g. `B` in `x: f32[B, 4]`',
      }),
    );
  }
  return out;
}

/** Creates the output directory DIR of `--out DIR` / `-o DIR`, or says clearly why it cannot. */
export function ensureDir(dir: string, option: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${option} ${dir}: a file of that name exists; give a directory`);
  // One level at a time: Node 20's recursive mkdirSync never returns for a path under /proc.
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  try {
    for (const d of missing) mkdirSync(d);
    accessSync(resolve(dir), constants.W_OK);
  } catch (e) {
    throw new UsageError(`${option} ${dir}: cannot create the directory (${fsReason(e)})`);
  }
}

/** The reason of a file-system error, in words. */
export function fsReason(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String((e as Error & { code: unknown }).code) : '';
  const reason = { ENOTDIR: 'a part of the path is a file', EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'read-only file system', ENOSPC: 'no space left', ENOENT: 'no such file or directory', EISDIR: 'it is a directory', EEXIST: 'a file of that name exists' }[code];
  return reason ?? (e instanceof Error ? e.message : String(e));
}

export function loadInputs(args: ParsedArgs): { arrays: Map<string, { array: NDArray; kind: string }>; shapes: Record<string, number[]> } {
  const arrays = new Map<string, { array: NDArray; kind: string }>();
  const shapes: Record<string, number[]> = {};
  for (const [name, file] of Object.entries(inputsFlag(args))) {
    if (!existsSync(file)) throw new UsageError(`no such file: ${file} (for --input ${name})`);
    if (!statSync(file).isFile()) throw new DiagnosticExit(error('DL0602', `cannot read ${file} for input \`${name}\`: it is a directory, not a .npy file`, { help: `give a file: --input ${name}=FILE.npy` }));
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new DiagnosticExit(error('DL0602', `cannot read ${file} for input \`${name}\`: ${fsReason(e)}`, {}));
    }
    try {
      const r = readNpy(bytes);
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

/**
 * A seeded random value for an input that was not given: N(0, 1) for f32; for labels and indices
 * (`range`, from src/ir/index-ranges.ts) uniform over their valid values; else 0 or 1.
 */
export function randomInput(name: string, dtype: DType, shape: readonly number[], seed: number, range?: { lo: number; hi: number }): NDArray {
  const rng = RandomStream.forName(seed, `input:${name}`);
  const n = numel(shape);
  const [lo, hi] = range && dtype === 'i32' ? [range.lo, range.hi] : [0, 2];
  const data = dtype === 'f32' ? rng.normal(n) : rng.uniform(n).map((u) => Math.min(hi - 1, lo + Math.floor(u * (hi - lo))));
  return new NDArray([...shape], data);
}


/** A non-negative integer flag. */
export function intFlag(args: ParsedArgs, name: string, dflt: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} expects a non-negative integer, got \`${v}\``);
  return Number(v);
}
