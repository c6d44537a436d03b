/**
 * @file The programs of a training run, from a `.dl` file: the step of a `train` declaration
 * (forward, backward, update; compiled for the batch size) and, for validation, its loss entry and
 * an `accuracy` function next to it, compiled on their own for a validation batch size.
 */
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/suggest.js';
import { listEntries, lowerEntry, type LowerResult } from '../frontend/lower/entry.js';
import { parseSource, type ParseResult } from '../frontend/parse.js';
import { loadStdlib } from '../frontend/stdlib.js';
import type { Graph } from '../ir/graph.js';
import { runPipeline } from '../passes/pipeline.js';
import { lowerTrain, trainNames, type TrainInfo } from '../index.js';
import { TrainError } from './data.js';

/** The convention for validation accuracy: `accuracy` in the same model or instance as the loss. */
export function accuracyEntry(user: ParseResult, loss: string): string | undefined {
  const dot = loss.lastIndexOf('.');
  const name = dot < 0 ? 'accuracy' : `${loss.slice(0, dot)}.accuracy`;
  return listEntries(user).some((e) => e.name === name) ? name : undefined;
}

export interface TrainPrograms {
  readonly user: ParseResult;
  readonly info: TrainInfo;
  readonly step: Graph;
  readonly warnings: Diagnostic[];
  readonly accuracy: string | undefined;
}

/** Diagnostics with errors become a thrown DiagnosticsError; the rest are returned. */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
  }
}

function orThrow(r: LowerResult): { graph: Graph; warnings: Diagnostic[] } {
  if (!r.graph || r.diagnostics.some((d) => d.severity === 'error')) throw new DiagnosticsError(r.diagnostics);
  return { graph: runPipeline(r.graph).graph, warnings: r.diagnostics };
}

/** Parses the file, finds the train declaration and compiles its step for the shapes of one batch. */
export function compileTrain(path: string, text: string, name: string | undefined, inputShapes: Record<string, number[]>): TrainPrograms {
  const user = parseSource(path, text);
  if (user.diagnostics.some((d) => d.severity === 'error')) throw new DiagnosticsError(user.diagnostics);
  const names = trainNames(text, path);
  if (!names.length) throw new TrainError(error('DL0601', `${path} has no \`train\` declaration`, { help: 'declare one, e.g. `train digits = MLP.loss with adam(lr = 1e-3)` (see docs/training.md)' }));
  if (name === undefined) {
    if (names.length > 1) throw new TrainError(error('DL0601', `${path} declares several trainings (${names.map((d) => `\`${d}\``).join(', ')}); say which with --train NAME`, {}));
    name = names[0]!;
  }
  if (!names.includes(name)) {
    const s = closest(name, names);
    throw new TrainError(error('DL0603', `no train declaration \`${name}\` in ${path}`, { help: s ? `did you mean \`--train ${s}\`?` : `the train declarations are ${names.map((d) => `\`${d}\``).join(', ')}` }));
  }
  const r = lowerTrain(text, name, { path, inputShapes });
  const { graph, warnings } = orThrow(r);
  const info = r.info!;
  return { user, info, step: graph, warnings, accuracy: accuracyEntry(user, info.loss) };
}

/** A function entry (the loss or accuracy) compiled on its own for the given input shapes. */
export function compileEntry(user: ParseResult, entry: string, inputShapes: Record<string, number[]>): Graph {
  return orThrow(lowerEntry(loadStdlib(), user, entry, { inputShapes })).graph;
}
