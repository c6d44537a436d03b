/** @file `dlc kernels`: the kernel report of one function or training step, with its memory plan. */
import { writeFileSync } from 'node:fs';
import { diagnosticToJson } from '../../diagnostics/render.js';
import { kernelReport, formatKernelReport } from '../../kernel/report.js';
import { memorySvg } from '../../kernel/memory-svg.js';
import { runPipeline } from '../../passes/pipeline.js';
import { checkFlags, flag, has, UsageError, type ParsedArgs } from '../args.js';
import { json, loadInputs, lowerFor, lowerTrainFor, type Io } from '../common.js';

export function cmdKernels(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'train', 'dim', 'input', 'json', 'format', 'memory-svg']);
  const train = flag(args, 'train');
  if (train !== undefined && flag(args, 'fn') !== undefined) throw new UsageError('`dlc kernels` takes --fn NAME or --train NAME, not both');
  // --input x=FILE.npy binds the dimension variables of x's type from the file's shape, as in `dlc run`.
  const lowered = train !== undefined ? lowerTrainFor(io, args, train) : lowerFor(io, args, loadInputs(args).shapes);
  const g = runPipeline(lowered.graph).graph;
  const r = kernelReport(g);
  const svg = flag(args, 'memory-svg');
  if (svg !== undefined) writeFileSync(svg, memorySvg(r.memory, train !== undefined ? `train ${train}` : g.name, r.fused));
  if (json(args) || has(args, 'json')) io.out(JSON.stringify({ ok: true, diagnostics: lowered.warnings.map(diagnosticToJson), ...r }, null, 2) + '\n');
  else io.out(formatKernelReport(r));
}
