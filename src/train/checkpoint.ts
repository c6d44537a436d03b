/**
 * @file Checkpoints and weight files of a training run, in safetensors.
 *
 * A checkpoint holds every persistent tensor of the step program (model parameters, optimizer
 * state such as `digits/hidden.W/m`, the step counter `digits/step`) under its own name, the best
 * weights so far under `best:<param>` (for early stopping), and metadata: the format
 * (`dlc-checkpoint`), the train name, the SHA-256 of the source, the seed, the batch size, where
 * in the data order the run stands (epoch, batches done in it), the running sums of the epoch and
 * the metrics of the finished epochs. Values are stored as computed (F32 on js and webgpu, F64 on
 * the interpreter), so a resumed run continues bit for bit.
 *
 * A weights file holds the model parameters only (names without `/`), as F32: what
 * `dlc run --params` and `dlc build --params` load.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { error } from '../diagnostics/diagnostic.js';
import { isOptimizerState } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { readSafetensors, SafetensorsError, writeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { TrainError } from './data.js';
import type { EpochMetrics } from './report.js';
import type { StateInfo } from './session.js';

export const CHECKPOINT_FORMAT = 'dlc-checkpoint';
const BEST = 'best:';

/** Where a run stands and what it has seen, beyond the state tensors. */
export interface RunPosition {
  readonly train: string;
  readonly sourceSha256: string;
  readonly seed: number;
  readonly batch: number;
  readonly backend: string;
  /** The epoch in progress (0-based); `batchesDone` of its batches have run. */
  readonly epoch: number;
  readonly batchesDone: number;
  /** Steps run in total. */
  readonly steps: number;
  /** Sum of the training losses of the batches done in this epoch (for its mean). */
  readonly epochLossSum: number;
  /** Examples in the training set (a different set is refused on resume). */
  readonly examples: number;
  readonly history: readonly EpochMetrics[];
  /** Early stopping: the best validation loss so far, its epoch, epochs since it improved. */
  readonly bestValLoss: number | null;
  readonly bestEpoch: number | null;
  readonly sinceBest: number;
}

export interface Checkpoint {
  readonly position: RunPosition;
  readonly state: Map<string, NDArray>;
  readonly best: Map<string, NDArray>;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function tensor(info: StateInfo, a: NDArray, precision: 'f32' | 'f64'): SafeTensor {
  const dtype = info.dtype === 'i32' ? 'I32' : info.dtype === 'bool' ? 'BOOL' : precision === 'f64' ? 'F64' : 'F32';
  const data = dtype === 'F32' ? new Float32Array(a.data) : dtype === 'F64' ? a.data : Int32Array.from(a.data);
  return { dtype, shape: [...info.shape], data };
}

/** Writes a file atomically (a temporary file, then a rename), so an interrupted write leaves the old one. */
function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function saveCheckpoint(path: string, ck: Checkpoint, info: ReadonlyMap<string, StateInfo>, precision: 'f32' | 'f64'): void {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, a] of ck.state) tensors.set(name, tensor(info.get(name)!, a, precision));
  for (const [name, a] of ck.best) tensors.set(BEST + name, tensor(info.get(name)!, a, precision));
  const p = ck.position;
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    train: p.train,
    source_sha256: p.sourceSha256,
    seed: String(p.seed),
    batch: String(p.batch),
    backend: p.backend,
    epoch: String(p.epoch),
    position: String(p.batchesDone),
    step: String(p.steps),
    examples: String(p.examples),
    run: JSON.stringify({ epochLossSum: p.epochLossSum, history: p.history, bestValLoss: p.bestValLoss, bestEpoch: p.bestEpoch, sinceBest: p.sinceBest }),
  };
  writeAtomic(path, writeSafetensors(tensors, metadata, path));
}

/** Writes the model parameters (no optimizer state) as F32: a weights file for `dlc run --params`. */
export function saveWeights(path: string, state: ReadonlyMap<string, NDArray>, info: ReadonlyMap<string, StateInfo>, metadata: Record<string, string> = {}): void {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, a] of state) if (!isOptimizerState(name)) tensors.set(name, tensor(info.get(name)!, a, 'f32'));
  writeAtomic(path, writeSafetensors(tensors, { format: 'dlc-weights', ...metadata }, path));
}

const bad = (path: string, why: string, help?: string): TrainError => new TrainError(error('DL0602', `bad checkpoint ${path}: ${why}`, help ? { help } : {}));

function int(path: string, meta: Record<string, string>, key: string): number {
  const v = meta[key];
  if (v === undefined || !/^\d+$/.test(v)) throw bad(path, `its metadata has no valid \`${key}\``, 'give a checkpoint.safetensors written by `dlc train`');
  return Number(v);
}

/** Reads a checkpoint and checks it against the program: every state tensor present, with its shape. */
export function loadCheckpoint(path: string, info: ReadonlyMap<string, StateInfo>): Checkpoint {
  if (!existsSync(path) || !statSync(path).isFile()) throw new TrainError(error('DL0602', `no such checkpoint: ${path}`, { help: 'give the checkpoint.safetensors of a run directory' }));
  let file;
  try {
    file = readSafetensors(new Uint8Array(readFileSync(path)), path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw bad(path, e.reason + (e.tensor ? ` (tensor \`${e.tensor}\`)` : ''));
    throw e;
  }
  const meta = file.metadata;
  if (meta['format'] !== CHECKPOINT_FORMAT) throw bad(path, meta['format'] ? `it is a \`${meta['format']}\` file, not a \`${CHECKPOINT_FORMAT}\`` : 'it has no `format` metadata, so it was not written by `dlc train`', meta['format'] === 'dlc-weights' ? 'a weights file holds no optimizer state or data position; resume from checkpoint.safetensors, or start a run with --params to begin from these weights' : undefined);
  let run: { epochLossSum: number; history: EpochMetrics[]; bestValLoss: number | null; bestEpoch: number | null; sinceBest: number };
  try {
    run = JSON.parse(meta['run'] ?? '');
  } catch {
    throw bad(path, 'its `run` metadata is not valid JSON');
  }
  const state = new Map<string, NDArray>();
  const best = new Map<string, NDArray>();
  for (const [name, t] of file.tensors) {
    const key = name.startsWith(BEST) ? name.slice(BEST.length) : name;
    const s = info.get(key);
    if (!s) throw bad(path, `it holds \`${key}\`, which the program does not have`, 'was it written for another train declaration or another version of the model?');
    if (s.shape.length !== t.shape.length || s.shape.some((d, k) => d !== t.shape[k])) throw bad(path, `\`${key}\` is [${t.shape.join(', ')}] in the file but ${s.dtype}[${s.shape.join(', ')}] in the program`);
    const isFloat = t.dtype === 'F32' || t.dtype === 'F64';
    if ((s.dtype === 'f32') !== isFloat) throw bad(path, `\`${key}\` is ${t.dtype} in the file but ${s.dtype} in the program`);
    (name.startsWith(BEST) ? best : state).set(key, NDArray.from(s.shape, t.data));
  }
  const missing = [...info.keys()].filter((k) => !state.has(k));
  if (missing.length) throw bad(path, `it lacks ${missing.map((m) => `\`${m}\``).join(', ')}`, 'was it written for another train declaration?');
  return {
    state,
    best,
    position: {
      train: meta['train'] ?? '',
      sourceSha256: meta['source_sha256'] ?? '',
      seed: int(path, meta, 'seed'),
      batch: int(path, meta, 'batch'),
      backend: meta['backend'] ?? '',
      epoch: int(path, meta, 'epoch'),
      batchesDone: int(path, meta, 'position'),
      steps: int(path, meta, 'step'),
      examples: int(path, meta, 'examples'),
      epochLossSum: Number(run.epochLossSum),
      history: Array.isArray(run.history) ? run.history : [],
      bestValLoss: run.bestValLoss ?? null,
      bestEpoch: run.bestEpoch ?? null,
      sinceBest: Number(run.sinceBest ?? 0),
    },
  };
}

/**
 * Reads starting weights (`--params W.safetensors`) for the model parameters of a program: every
 * parameter must be in the file with its shape; tensors the model does not have are an error
 * (optimizer state and `best:` copies of a checkpoint are skipped, so a checkpoint works too).
 */
export function loadWeights(path: string, info: ReadonlyMap<string, StateInfo>): Map<string, NDArray> {
  const fail = (why: string, help?: string) => new TrainError(error('DL0602', `cannot use ${path} as --params: ${why}`, help ? { help } : {}));
  if (!existsSync(path) || !statSync(path).isFile()) throw fail('no such file');
  let file;
  try {
    file = readSafetensors(new Uint8Array(readFileSync(path)), path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw fail(e.reason + (e.tensor ? ` (tensor \`${e.tensor}\`)` : ''));
    throw e;
  }
  const out = new Map<string, NDArray>();
  for (const [name, t] of file.tensors) {
    if (isOptimizerState(name) || name.startsWith(BEST)) continue;
    const s = info.get(name);
    if (!s) throw fail(`it holds \`${name}\`, which the model does not have`, `the model's parameters are ${[...info.keys()].filter((k) => !isOptimizerState(k)).map((k) => `\`${k}\``).join(', ')}`);
    if (s.shape.length !== t.shape.length || s.shape.some((d, k) => d !== t.shape[k])) throw fail(`\`${name}\` is [${t.shape.join(', ')}] in the file but ${s.dtype}[${s.shape.join(', ')}] in the model`);
    out.set(name, NDArray.from(s.shape, t.data));
  }
  const missing = [...info.keys()].filter((k) => !isOptimizerState(k) && !out.has(k));
  if (missing.length) throw fail(`it lacks ${missing.map((m) => `\`${m}\``).join(', ')}`);
  return out;
}
