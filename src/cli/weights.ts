/**
 * @file `--params W.safetensors` of `dlc run` and `dlc build`: trained weights for the parameters
 * of a program. Every parameter must be in the file with its dtype and shape (DL0602, at the
 * parameter's declaration, naming the tensor); tensors the program does not use are a warning.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { graphSlots } from '../exec.js';
import type { Graph } from '../ir/graph.js';
import { InputError } from '../input-check.js';
import { SafetensorsError } from '../io/safetensors.js';
import { StateError, type Tensor } from '../runtime/state.js';
import { matchWeights, readWeights } from '../runtime/weights.js';
import { flag, type ParsedArgs } from './args.js';
import { DiagnosticExit } from './common.js';

export interface LoadedWeights {
  readonly path: string;
  /** A tensor for every parameter of the program, checked against it. */
  readonly params: Map<string, Tensor>;
  /** A warning when the file holds tensors the program does not use. */
  readonly warnings: Diagnostic[];
}

/** The weights `--params` names for graph `g`, or undefined without the flag. */
export function weightsFlag(args: ParsedArgs, g: Graph): LoadedWeights | undefined {
  const path = flag(args, 'params');
  if (path === undefined) return undefined;
  if (!existsSync(path) || !statSync(path).isFile()) throw new DiagnosticExit(error('DL0602', `--params ${path}: no such file`, { help: 'give a .safetensors file of weights (`dlc train` writes weights.safetensors in its run directory)' }));
  let tensors: Map<string, Tensor>;
  try {
    tensors = readWeights(readFileSync(path), path);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    throw new DiagnosticExit(error('DL0602', `--params ${path} is not a usable safetensors file: ${e.tensor !== undefined ? `tensor \`${e.tensor}\`: ` : ''}${e.reason}`, {}));
  }
  const spans = new Map(g.params.map((p) => [String(p.attrs['name']), p.span]));
  try {
    const { params, unused } = matchWeights(graphSlots(g, 'params'), tensors);
    const warnings = unused.length
      ? [warning('DL0602', `--params ${path}: ${unused.length} tensor${unused.length > 1 ? 's are' : ' is'} not a parameter of \`${g.name}\` and ${unused.length > 1 ? 'are' : 'is'} not used: ${unused.slice(0, 8).map((u) => `\`${u}\``).join(', ')}${unused.length > 8 ? ', …' : ''}`, { help: `the parameters of \`${g.name}\` are ${[...params.keys()].map((k) => `\`${k}\``).join(', ') || 'none'}` })]
      : [];
    return { path, params, warnings };
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    const names = [...tensors.keys()].sort();
    const holds = `the file holds ${names.length ? names.slice(0, 8).map((n) => `\`${n}\``).join(', ') + (names.length > 8 ? `, … (${names.length} tensors)` : '') : 'no tensors'}`;
    const firstMissing = e.problems.find((p) => p.kind === 'missing');
    throw new InputError(
      e.problems.map((p) =>
        error('DL0602', `--params ${path}: ${p.message}`, {
          span: spans.get(p.tensor),
          notes: p === firstMissing ? [holds] : [],
          help: p.kind === 'missing' ? 'train or export weights for this model, or check that the names match its parameter paths (`dlc ir FILE --fn NAME` lists them)' : 'the file must hold each parameter with the dtype and shape its declaration gives',
        }),
      ),
    );
  }
}
