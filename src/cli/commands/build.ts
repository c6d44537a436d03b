/**
 * @file `dlc build`: writes a bundle directory: for each backend a directory (js/, webgpu/) with
 * the compiled program (JS module and/or WGSL kernels), its manifest and, with `--params
 * W.safetensors`, the trained weights (weights.safetensors, named by the manifest); at the top
 * bundle.json (the backends and files), README.md and index.d.ts describing the inputs and outputs.
 * Every file is listed with its size and SHA-256, and each manifest carries an integrity digest of
 * itself, so the runtime refuses a bundle that was changed (src/runtime/bundle.ts).
 */
import { createHash } from 'node:crypto';
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
import { integrityText } from '../../runtime/digest.js';
import { bundleReadme, bundleTypes } from '../../runtime/describe.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Manifest, type ManifestFile } from '../../runtime/manifest.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const entry = (name: string, data: Uint8Array | string): ManifestFile => ({ name, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) });

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
  const write = (path: string, data: Uint8Array | string) => {
    writeFileSync(path, data);
    written.push(path);
  };
  const manifests: Manifest[] = [];
  const listed: ManifestFile[] = [];
  for (const backend of backends) {
    const c = compileGraph(g, { backend, precision });
    if (c.diagnostics.some((d) => d.severity === 'error')) throw new BackendError(c.diagnostics);
    const sub = join(dir, backend);
    ensureDir(sub, option);
    // The program's files, each listed in the manifest with its size and SHA-256.
    const files: [string, Uint8Array | string][] = [];
    if (weights) {
      // The buffers of the compiled program are what the runtime checks the file against.
      checkTensors(manifestSlots(c.manifest, 'params'), weights.params, 'params');
      files.push([WEIGHTS_FILE, writeWeights(weights.params, { format: 'dlc-weights', program: g.name, source: basename(weights.path) }, precision === 'f64' ? 'F64' : 'F32')]);
    }
    if (c.js) files.push(['program.js', c.js]);
    for (const [name, code] of c.shaders ?? []) files.push([name, code]);
    const unsealed: Manifest = { ...c.manifest, ...(weights ? { weights: WEIGHTS_FILE } : {}), files: files.map(([name, data]) => entry(name, data)) };
    const manifest: Manifest = { ...unsealed, integrity: sha256(integrityText(unsealed as unknown as Record<string, unknown>)) };
    const text = JSON.stringify(manifest, null, 2) + '\n';
    write(join(sub, 'manifest.json'), text);
    for (const [name, data] of files) write(join(sub, name), data);
    manifests.push(manifest);
    listed.push(entry(`${backend}/manifest.json`, text));
  }
  const readme = bundleReadme(manifests, basename(args.positional[0] ?? g.name), weights ? basename(weights.path) : undefined);
  const types = bundleTypes(manifests[0]!);
  write(join(dir, 'README.md'), readme);
  write(join(dir, 'index.d.ts'), types);
  const index = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    name: g.name,
    backends: Object.fromEntries(backends.map((b) => [b, b])),
    files: [entry('README.md', readme), entry('index.d.ts', types), ...listed],
  };
  write(join(dir, 'bundle.json'), JSON.stringify({ ...index, integrity: sha256(integrityText(index)) }, null, 2) + '\n');
  if (json(args)) io.out(JSON.stringify({ ok: true, diagnostics: warnings.map(diagnosticToJson), files: written }, null, 2) + '\n');
  else io.out(`wrote ${written.length} files to ${dir}:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
}
