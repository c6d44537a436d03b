/** @file `dlc kernels`: the kernel report of one function. */
import { kernelReport, formatKernelReport } from '../../kernel/report.js';
import { runPipeline } from '../../passes/pipeline.js';
import { checkFlags, has, type ParsedArgs } from '../args.js';
import { json, lowerFor, type Io } from '../common.js';

export function cmdKernels(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'dim', 'json', 'format']);
  const g = runPipeline(lowerFor(io, args).graph).graph;
  const r = kernelReport(g);
  if (json(args) || has(args, 'json')) io.out(JSON.stringify({ ok: true, diagnostics: [], ...r }, null, 2) + '\n');
  else io.out(formatKernelReport(r));
}
