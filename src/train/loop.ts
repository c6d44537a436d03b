/**
 * @file The training loop: epochs of seeded, shuffled, fixed-size batches through a compiled step
 * program; validation after each epoch; early stopping; a checkpoint after every epoch (and on
 * interruption); resume from a checkpoint so that the run ends bit-identical to one that was never
 * interrupted (the data order is a pure function of seed and epoch, the state is restored exactly).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { error } from '../diagnostics/diagnostic.js';
import { isOptimizerState, type Graph } from '../ir/graph.js';
import type { NDArray } from '../ir/ndarray.js';
import type { ExecBackend } from '../exec.js';
import { loadCheckpoint, loadWeights, saveCheckpoint, saveWeights, sha256, type RunPosition } from './checkpoint.js';
import { checkAgainstInputs, checkValues, takeBatch, TrainError, type Dataset } from './data.js';
import { epochOrder } from './prng.js';
import { formatDuration, formatLoss, Progress, type ProgressSink } from './progress.js';
import { writeReport, type EpochMetrics, type RunSummary } from './report.js';
import { makeSession, type Session } from './session.js';
import { makeScheduleSession, unionInputs, type ScheduleEntry, type ScheduleSession } from './schedule.js';

/** The programs that evaluate the current weights on a validation batch of a given size. */
export interface EvalPrograms {
  /** The loss entry on its own (no updates); its first output is the loss. */
  readonly loss: Graph;
  /** `accuracy(x, y) -> f32` next to the loss, when the model defines it. */
  readonly accuracy?: Graph;
}

export interface TrainRun {
  readonly train: string;
  readonly file: string;
  readonly source: string;
  /** The step program, compiled for batches of `batch` examples; its output `loss` (or its first output) is the loss. */
  readonly step: Graph;
  /** Several train steps alternating over one state (`--steps`): `step` is then the first that takes data. */
  readonly schedule?: { readonly steps: readonly { name: string; graph: Graph }[]; readonly entries: readonly ScheduleEntry[] };
  readonly evalPrograms?: (batch: number) => EvalPrograms;
  readonly data: Dataset;
  readonly val?: Dataset;
  readonly epochs: number;
  readonly batch: number;
  readonly backend: ExecBackend;
  readonly seed: number;
  /** Stop when the validation loss has not improved for this many epochs (keeping the best weights). */
  readonly patience?: number;
  readonly runDir: string;
  /** Continue from this checkpoint. */
  readonly resume?: string;
  /** Start from these weights (model parameters only). */
  readonly params?: string;
  readonly sink: ProgressSink;
  /** Polled after every step: true stops the run with a checkpoint (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  readonly now?: () => number;
}

export interface TrainOutcome {
  readonly summary: RunSummary;
  readonly checkpoint: string;
  readonly weights: string;
  readonly best?: string;
}

/** The largest validation batch compiled; a larger set runs in several batches (and one for the rest). */
export const MAX_VAL_BATCH = 512;

const modelParams = (state: ReadonlyMap<string, NDArray>) => new Map([...state].filter(([k]) => !isOptimizerState(k)));

function lossOutput(g: Graph): string {
  const o = g.outputs.find((x) => x.name === 'loss') ?? g.outputs[0];
  if (!o || o.node.type.shape.length !== 0 || o.node.type.dtype !== 'f32') throw new TrainError(error('DL0601', `\`${g.name}\` does not return an f32 scalar loss`, {}));
  return o.name;
}

/** Evaluation of the current weights on a validation set: mean loss and accuracy over all its examples. */
class Validator {
  private readonly sessions = new Map<number, { loss: Session; accuracy?: Session }>();
  constructor(
    private readonly run: TrainRun,
    private readonly val: Dataset,
  ) {}

  private async sessionsFor(size: number): Promise<{ loss: Session; accuracy?: Session }> {
    let s = this.sessions.get(size);
    if (!s) {
      const p = this.run.evalPrograms!(size);
      checkAgainstInputs(this.val, p.loss.inputs, `\`${p.loss.name}\``);
      checkValues(this.val, p.loss);
      const loss = await makeSession(p.loss, { backend: this.run.backend, seed: this.run.seed });
      const accuracy = p.accuracy ? await makeSession(p.accuracy, { backend: this.run.backend, seed: this.run.seed }) : undefined;
      s = accuracy ? { loss, accuracy } : { loss };
      this.sessions.set(size, s);
    }
    return s;
  }

  async evaluate(state: ReadonlyMap<string, NDArray>): Promise<{ loss: number; accuracy: number | null }> {
    const n = this.val.n;
    const full = Math.min(n, MAX_VAL_BATCH);
    const order = Array.from({ length: n }, (_, i) => i);
    let lossSum = 0, accSum = 0, hasAcc = false;
    for (let start = 0; start < n; start += full) {
      const size = Math.min(full, n - start);
      const s = await this.sessionsFor(size);
      const batch = takeBatch(this.val, order, start, size);
      for (const sess of [s.loss, s.accuracy]) {
        if (!sess) continue;
        await sess.setState(new Map([...state].filter(([k]) => sess.state.has(k))));
        const inputs = new Map([...batch].filter(([k]) => sess.graph.inputs.some((i) => String(i.attrs['name']) === k)));
        const name = sess.graph.outputs[0]!.name;
        const v = (await sess.run(inputs, [name])).get(name)!.data[0]!;
        if (sess === s.loss) lossSum += v * size;
        else {
          accSum += v * size;
          hasAcc = true;
        }
      }
    }
    return { loss: lossSum / n, accuracy: hasAcc ? accSum / n : null };
  }
}

export async function train(run: TrainRun): Promise<TrainOutcome> {
  const now = run.now ?? (() => performance.now());
  const progress = new Progress(run.sink, now);
  const { data, batch } = run;
  const dataSteps = run.schedule ? run.schedule.steps.filter((s) => s.graph.inputs.length > 0).map((s) => s.graph) : [run.step];
  checkAgainstInputs(data, unionInputs(dataSteps), `\`${run.train}\``);
  for (const g of dataSteps) checkValues(data, g);
  const batches = Math.floor(data.n / batch);
  if (batches === 0) throw new TrainError(error('DL0601', `--batch ${batch} is larger than the training set (${data.n} examples), so an epoch has no full batch`, { help: `use --batch ${data.n} or less` }));
  const dropped = data.n - batches * batch;
  const lossName = lossOutput(run.step);
  const scheduled: ScheduleSession | undefined = run.schedule ? await makeScheduleSession(run.schedule.steps, run.schedule.entries, { backend: run.backend, seed: run.seed }) : undefined;
  const session: Session = scheduled ?? (await makeSession(run.step, { backend: run.backend, seed: run.seed }));
  const validator = run.val && run.evalPrograms ? new Validator(run, run.val) : undefined;
  const sourceSha256 = sha256(run.source);
  const precision = run.backend === 'interp' ? 'f64' : 'f32';
  mkdirSync(run.runDir, { recursive: true });
  const paths = { checkpoint: join(run.runDir, 'checkpoint.safetensors'), weights: join(run.runDir, 'weights.safetensors'), best: join(run.runDir, 'best.safetensors') };

  let pos: RunPosition = { train: run.train, sourceSha256, seed: run.seed, batch, backend: run.backend, epoch: 0, batchesDone: 0, steps: 0, epochLossSum: 0, examples: data.n, history: [], bestValLoss: null, bestEpoch: null, sinceBest: 0 };
  let best = new Map<string, NDArray>();
  if (run.resume) {
    const ck = loadCheckpoint(run.resume, session.state);
    const p = ck.position;
    const mismatch = (what: string, was: string | number, now: string | number, help: string) =>
      new TrainError(error('DL0601', `--resume ${run.resume}: the checkpoint was written with ${what} ${was}, this run has ${now}`, { help }));
    if (p.train !== run.train) throw mismatch('--train', p.train, run.train, `resume it with --train ${p.train}`);
    if (p.batch !== batch) throw mismatch('--batch', p.batch, batch, `resume with --batch ${p.batch}: the data order depends on it`);
    if (p.seed !== run.seed) throw mismatch('--seed', p.seed, run.seed, `resume with --seed ${p.seed}: the data order depends on it`);
    if (p.examples !== data.n) throw mismatch('a training set of', `${p.examples} examples`, `${data.n}`, 'resume with the same --data');
    if (p.sourceSha256 !== sourceSha256) progress.line(`note: ${run.file} has changed since the checkpoint was written; the run continues with the new source`);
    await session.setState(ck.state);
    best = ck.best;
    pos = { ...p, backend: run.backend };
    progress.line(`resuming ${run.train} from ${run.resume}: epoch ${p.epoch + 1}, ${p.batchesDone}/${batches} batches done, step ${p.steps}`);
  } else if (run.params) {
    await session.setState(loadWeights(run.params, session.state));
  }

  const summary = (stopped: RunSummary['stopped']): RunSummary => ({
    train: run.train, file: run.file, backend: run.backend, seed: run.seed, batch, epochs_requested: run.epochs, examples: data.n,
    steps_per_epoch: batches, dropped_per_epoch: dropped, stopped, best_epoch: pos.bestEpoch, epochs: pos.history,
  });
  const checkpoint = async () => saveCheckpoint(paths.checkpoint, { position: pos, state: await session.getState(), best }, session.state, precision);
  const finish = async (stopped: RunSummary['stopped']): Promise<TrainOutcome> => {
    const state = await session.getState();
    saveWeights(paths.weights, state, session.state, { train: run.train, epoch: String(pos.epoch) });
    if (best.size) saveWeights(paths.best, best, session.state, { train: run.train, epoch: String(pos.bestEpoch ?? '') });
    const s = summary(stopped);
    writeReport(run.runDir, s);
    return { summary: s, checkpoint: paths.checkpoint, weights: paths.weights, ...(best.size ? { best: paths.best } : {}) };
  };

  if (pos.epoch === 0 && pos.batchesDone === 0) {
    progress.line(`training ${run.train} on ${run.backend}: ${data.n} examples, ${batches} batches of ${batch} per epoch${dropped ? ` (the last ${dropped} examples of each shuffled epoch are dropped: the step is compiled for batches of ${batch})` : ''}`);
  }
  const stepTimes: number[] = [];
  if (run.patience !== undefined && pos.bestEpoch !== null && pos.sinceBest >= run.patience) return finish('early-stopping');
  for (; pos.epoch < run.epochs; ) {
    const order = epochOrder(data.n, run.seed, pos.epoch);
    const t0 = now();
    const startBatch = pos.batchesDone;
    for (let b = pos.batchesDone; b < batches; b++) {
      // Let signal handlers (Ctrl-C) run: a JS step is synchronous, so nothing else would.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (run.shouldStop?.()) {
        await checkpoint();
        progress.line(`interrupted at epoch ${pos.epoch + 1}, step ${pos.steps}: checkpoint saved to ${paths.checkpoint}`);
        progress.line(`resume with --resume ${paths.checkpoint}`);
        return finish('interrupted');
      }
      const ts = now();
      const out = await session.run(takeBatch(data, order, b * batch, batch), [lossName]);
      const loss = out.get(lossName)!.data[0]!;
      stepTimes.push(now() - ts);
      if (!Number.isFinite(loss)) {
        throw new TrainError(error('DL0604', `the training loss became ${loss} at epoch ${pos.epoch + 1}, step ${pos.steps + 1}`, { help: 'lower the learning rate, or clip gradients (clip_norm in the train declaration); the last checkpoint is the previous epoch\'s' }));
      }
      pos = { ...pos, batchesDone: b + 1, steps: pos.steps + 1, epochLossSum: pos.epochLossSum + loss };
      const recent = stepTimes.slice(-50);
      const perStep = recent.reduce((a, c) => a + c, 0) / recent.length / 1000;
      const left = (batches - b - 1) + (run.epochs - pos.epoch - 1) * batches;
      progress.step({ epoch: pos.epoch + 1, epochs: run.epochs, batch: b + 1, batches, loss: pos.epochLossSum / (b + 1), examplesPerS: batch / perStep, etaS: left * perStep });
    }
    const seconds = (now() - t0) / 1000;
    const trainLoss = pos.epochLossSum / batches;
    let valLoss: number | null = null, valAcc: number | null = null;
    if (validator) {
      const v = await validator.evaluate(await session.getState());
      valLoss = v.loss;
      valAcc = v.accuracy;
      if (pos.bestValLoss === null || valLoss < pos.bestValLoss) {
        pos = { ...pos, bestValLoss: valLoss, bestEpoch: pos.epoch + 1, sinceBest: 0 };
        best = modelParams(await session.getState());
      } else pos = { ...pos, sinceBest: pos.sinceBest + 1 };
    }
    const ran = batches - startBatch;
    const stepLosses = scheduled ? Object.fromEntries(scheduled.takeLosses()) : undefined;
    const row: EpochMetrics = { epoch: pos.epoch + 1, step: pos.steps, train_loss: trainLoss, val_loss: valLoss, val_accuracy: valAcc, seconds, examples_per_s: seconds > 0 ? (ran * batch) / seconds : 0, ...(stepLosses ? { step_losses: stepLosses } : {}) };
    pos = { ...pos, epoch: pos.epoch + 1, batchesDone: 0, epochLossSum: 0, history: [...pos.history, row] };
    progress.line(
      `epoch ${row.epoch}/${run.epochs}  loss ${formatLoss(trainLoss)}` +
        (valLoss !== null ? `  val_loss ${formatLoss(valLoss)}` : '') +
        (valAcc !== null ? `  val_acc ${(valAcc * 100).toFixed(2)}%` : '') +
        (stepLosses ? Object.entries(stepLosses).map(([k, v]) => `  ${k} ${formatLoss(v)}`).join('') : '') +
        `  ${formatDuration(seconds)}  ${Math.round(row.examples_per_s)} ex/s`,
    );
    await checkpoint();
    writeReport(run.runDir, summary('completed'));
    if (run.patience !== undefined && pos.sinceBest >= run.patience) {
      progress.line(`early stopping: the validation loss has not improved for ${run.patience} epochs; best was epoch ${pos.bestEpoch} (val_loss ${formatLoss(pos.bestValLoss!)})`);
      return finish('early-stopping');
    }
  }
  return finish('completed');
}
