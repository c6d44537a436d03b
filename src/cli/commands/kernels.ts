/** @file `dlc kernels`: the kernel report of one function. */
import { diagnosticToJson } from '../../diagnostics/render.js';
import { kernelReport, formatKernelReport } from '../../kernel/report.js';
import { runPipeline } from '../../passes/pipeline.js';
import { checkFlags, has, type ParsedArgs } from '../args.js';
import { json, loadInputs, lowerFor, type Io } from '../common.js';

export function cmdKernels(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'dim', 'input', 'json', 'format']);
  // --input x=FILE.npy binds the dimension variables of x's type from the file's shape, as in `dlc run`.
  const lowered = lowerFor(io, args, loadInputs(args).shapes);
  const g = runPipeline(lowered.graph).graph;
  const r = kernelReport(g);
  if (json(args) || has(args, 'json')) io.out(JSON.stringify({ ok: true, diagnostics: lowered.warnings.map(diagnosticToJson), ...r }, null, 2) + '\n');
  else io.out(formatKernelReport(r));
}
