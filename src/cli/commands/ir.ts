/** @file `dlc ir`: the IR graph of one function, or of one `train` step, after any pass. */
import { diagnosticToJson } from '../../diagnostics/render.js';
import { printGraph } from '../../ir/print.js';
import { PASS_NAMES, runPipeline } from '../../passes/pipeline.js';
import { checkFlags, flag, has, UsageError, type ParsedArgs } from '../args.js';
import { json, lowerFor, lowerTrainFor, type Io } from '../common.js';

export function cmdIr(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'train', 'dim', 'spans', 'after', 'format', 'json']);
  const after = flag(args, 'after') ?? PASS_NAMES[PASS_NAMES.length - 1]!;
  if (!PASS_NAMES.includes(after)) throw new UsageError(`--after is one of ${PASS_NAMES.join(', ')}, got \`${after}\``);
  const train = flag(args, 'train');
  if (train !== undefined && flag(args, 'fn') !== undefined) throw new UsageError('give --fn NAME (a function) or --train NAME (a training step), not both');
  const lowered = train !== undefined ? lowerTrainFor(io, args, train) : lowerFor(io, args);
  const r = runPipeline(lowered.graph, { until: after });
  const counts = r.counts.map((c) => `${c.pass} ${c.nodes}`).join(' → ');
  const text = printGraph(r.graph, { spans: has(args, 'spans') });
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: lowered.warnings.map(diagnosticToJson), counts: r.counts, ir: text }, null, 2) + '\n');
  else io.out(`# nodes: ${counts}\n${text}`);
}
