/** @file `dlc train`: train a model declared with `train` on .npy data (src/train/). */
import { join } from 'node:path';
import { flag, has, UsageError, checkFlags, type ParsedArgs } from '../args.js';
import { emit, Exit, intFlag, readSource, DiagnosticExit, type Io } from '../common.js';
import { backendFlag } from './run.js';
import { batchShapes, loadDataset, parseDataSpec, TrainError } from '../../train/data.js';
import { compileEntry, compileTrain, DiagnosticsError } from '../../train/compile.js';
import { train, type EvalPrograms } from '../../train/loop.js';
import { parseSchedule } from '../../train/schedule.js';
import { formatDuration } from '../../train/progress.js';

/** `runs/<train>-<YYYYMMDD-HHMMSS>`, in UTC. */
export function defaultRunDir(name: string, d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return join('runs', `${name}-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`);
}

function positive(args: ParsedArgs, name: string, dflt: number): number {
  const v = intFlag(args, name, dflt);
  if (v < 1) throw new UsageError(`--${name} must be at least 1`);
  return v;
}

export async function cmdTrain(io: Io, args: ParsedArgs, stdout: { isTTY?: boolean; columns?: number } = {}): Promise<void> {
  checkFlags(args, ['train', 'steps', 'data', 'val', 'epochs', 'batch', 'backend', 'seed', 'patience', 'run-dir', 'resume', 'params']);
  const { path, text } = readSource(args);
  const backend = flag(args, 'backend') === undefined ? 'js' : backendFlag(args);
  const epochs = positive(args, 'epochs', 10);
  const batch = positive(args, 'batch', 32);
  const seed = intFlag(args, 'seed', 0);
  const patience = flag(args, 'patience') !== undefined ? positive(args, 'patience', 1) : undefined;
  const resume = flag(args, 'resume');
  const params = flag(args, 'params');
  if (resume && params) throw new UsageError('--resume continues a run with its own weights; --params starts a new run from weights: give one of them');
  if (!has(args, 'data')) throw new UsageError('`dlc train` needs --data NAME=FILE.npy,... (the loss function\'s parameters)');
  const stepsSpec = flag(args, 'steps');
  if (stepsSpec !== undefined && has(args, 'train')) throw new UsageError('--steps names the train declarations to alternate; give it instead of --train');
  if (stepsSpec !== undefined && resume) throw new UsageError('--resume does not continue a --steps schedule yet (the position inside a round is not saved); start the run again, or from its weights with --params');
  if (patience !== undefined && !has(args, 'val')) throw new UsageError('--patience stops on the validation loss, so it needs --val');
  try {
    const data = loadDataset(parseDataSpec(args.flags.get('data')!, '--data'), '--data');
    const val = has(args, 'val') ? loadDataset(parseDataSpec(args.flags.get('val')!, '--val'), '--val') : undefined;
    const schedule = stepsSpec !== undefined ? parseSchedule(stepsSpec) : undefined;
    const names = schedule ? [...new Set(schedule.map((e) => e.name))] : [flag(args, 'train')];
    const compiled = names.map((n) => compileTrain(path, text, n, batchShapes(data, batch)));
    for (const c of compiled) emit(io, args, c.warnings);
    // The first step that takes data is the one whose loss is reported and validated (the critic of a GAN).
    const programs = compiled.find((c) => c.step.inputs.length > 0) ?? compiled[0]!;
    const name = schedule ? names.join('+') : programs.info.name;
    const lossEntry = programs.info.loss;
    const evalPrograms =
      val && lossEntry
        ? (size: number): EvalPrograms => {
            const shapes = batchShapes(val, size);
            const loss = compileEntry(programs.user, lossEntry, shapes);
            return programs.accuracy ? { loss, accuracy: compileEntry(programs.user, programs.accuracy, shapes) } : { loss };
          }
        : undefined;
    const runDir = flag(args, 'run-dir') ?? defaultRunDir(name);
    let stop = false;
    let stoppedAt = 0;
    const onSigint = () => {
      // A second Ctrl-C does not wait for the step; one within a second of the first is the same
      // keypress arriving twice (from the terminal and from bin/dlc.js, which forwards it on WebGPU).
      if (stop && performance.now() - stoppedAt > 1000) process.exit(130);
      if (!stop) stoppedAt = performance.now();
      stop = true;
    };
    process.on('SIGINT', onSigint);
    const t0 = performance.now();
    let outcome;
    try {
      outcome = await train({
        train: name, file: path, source: text, step: programs.step,
        ...(schedule ? { schedule: { steps: compiled.map((c) => ({ name: c.info.name, graph: c.step })), entries: schedule } } : {}), ...(evalPrograms ? { evalPrograms } : {}), data, ...(val ? { val } : {}),
        epochs, batch, backend, seed, ...(patience !== undefined ? { patience } : {}), runDir, ...(resume ? { resume } : {}), ...(params ? { params } : {}),
        sink: { write: (s) => io.out(s), isTTY: stdout.isTTY === true, ...(stdout.columns ? { columns: stdout.columns } : {}) },
        shouldStop: () => stop,
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
    const s = outcome.summary;
    const last = s.epochs[s.epochs.length - 1];
    io.out(`${s.stopped === 'interrupted' ? 'stopped' : 'done'} in ${formatDuration((performance.now() - t0) / 1000)}: ${s.epochs.length} epochs, ${last?.step ?? 0} steps` +
      (last?.val_accuracy != null ? `, val_acc ${(last.val_accuracy * 100).toFixed(2)}%` : '') + (s.best_epoch !== null ? ` (best epoch ${s.best_epoch})` : '') + '\n');
    io.out(`run directory ${runDir}: weights.safetensors${outcome.best ? ', best.safetensors' : ''}, checkpoint.safetensors, metrics.csv, metrics.json, loss.svg\n`);
    if (s.stopped === 'interrupted') throw new Exit(130);
  } catch (e) {
    if (e instanceof TrainError) throw new DiagnosticExit(e.diagnostic);
    if (e instanceof DiagnosticsError) emit(io, args, e.diagnostics);
    throw e;
  }
}
