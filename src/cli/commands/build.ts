/**
 * @file `dlc build`: writes a compiled program (JS module and/or WGSL kernels) with its manifest,
 * and with `--params W.safetensors` the trained weights (weights.safetensors, named by the manifest).
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compileGraph, type BackendName } from '../../codegen/compile.js';
import { diagnosticToJson, renderDiagnostics } from '../../diagnostics/render.js';
import { BackendError } from '../../exec.js';
import { runPipeline } from '../../passes/pipeline.js';
import { checkFlags, flag, UsageError, type ParsedArgs } from '../args.js';
import { ensureDir, json, lowerFor, type Io } from '../common.js';
import { checkTensors, manifestSlots } from '../../runtime/state.js';
import { writeWeights } from '../../runtime/weights.js';
import { weightsFlag } from '../weights.js';

/** The weights of a bundle built with --params, next to its manifest.json. */
export const WEIGHTS_FILE = 'weights.safetensors';

export function cmdBuild(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['fn', 'dim', 'o', 'out', 'backend', 'precision', 'params', 'format', 'json']);
  const dir = flag(args, 'o') ?? flag(args, 'out');
  if (!dir) throw new UsageError('`dlc build` needs an output directory: -o DIR');
  const which = flag(args, 'backend') ?? 'all';
  if (!['js', 'webgpu', 'all'].includes(which)) throw new UsageError(`--backend is js, webgpu or all, got \`${which}\``);
  const precision = flag(args, 'precision') ?? 'f32';
  if (precision !== 'f32' && precision !== 'f64') throw new UsageError(`--precision is f32 or f64, got \`${precision}\``);
  const lowered = lowerFor(io, args);
  const g = runPipeline(lowered.graph).graph;
  const weights = weightsFlag(args, g);
  const warnings = [...lowered.warnings, ...(weights?.warnings ?? [])];
  if (weights?.warnings.length && !json(args)) io.err(renderDiagnostics(weights.warnings));
  const backends: BackendName[] = which === 'all' ? ['js', 'webgpu'] : [which as BackendName];
  const option = flag(args, 'o') !== undefined ? '-o' : '--out';
  ensureDir(dir, option);
  const written: string[] = [];
  for (const backend of backends) {
    const c = compileGraph(g, { backend, precision });
    if (c.diagnostics.some((d) => d.severity === 'error')) throw new BackendError(c.diagnostics);
    const sub = join(dir, backend);
    ensureDir(sub, option);
    const manifest = weights ? { ...c.manifest, weights: WEIGHTS_FILE } : c.manifest;
    if (weights) {
      // The buffers of the compiled program are what the runtime checks the file against.
      checkTensors(manifestSlots(manifest, 'params'), weights.params, 'params');
      writeFileSync(join(sub, WEIGHTS_FILE), writeWeights(weights.params, { format: 'dlc-weights', program: g.name, source: basename(weights.path) }, precision === 'f64' ? 'F64' : 'F32'));
      written.push(join(sub, WEIGHTS_FILE));
    }
    writeFileSync(join(sub, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    written.push(join(sub, 'manifest.json'));
    if (c.js) {
      writeFileSync(join(sub, 'program.js'), c.js);
      written.push(join(sub, 'program.js'));
    }
    for (const [name, code] of c.shaders ?? []) {
      writeFileSync(join(sub, name), code);
      written.push(join(sub, name));
    }
  }
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: warnings.map(diagnosticToJson), files: written }, null, 2) + '\n');
  else io.out(`wrote ${written.length} files to ${dir}:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
}
