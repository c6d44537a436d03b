import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { NDArray, writeNpy } from '../../src/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadDataset, TrainError } from '../../src/train/data.js';
import { train, type TrainRun } from '../../src/train/loop.js';
import type { ExecBackend } from '../../src/exec.js';
import { WEBGPU } from '../helpers/webgpu.js';
import { LIN, linEntry, linStep, writeSynthetic } from './helpers.js';

const files = writeSynthetic(40);
const data = loadDataset({ x: files.train.x, y: files.train.y }, '--data');
const val = loadDataset({ x: files.val.x, y: files.val.y }, '--val');

function run(over: Partial<TrainRun> & { backend?: ExecBackend } = {}): { run: TrainRun; out: string[] } {
  const out: string[] = [];
  const backend = over.backend ?? 'interp';
  return {
    out,
    run: {
      train: 'lin', file: 'lin.dl', source: LIN, step: linStep(8), evalPrograms: (n) => ({ loss: linEntry('Lin.loss', n), accuracy: linEntry('Lin.accuracy', n) }),
      data, val, epochs: 4, batch: 8, backend, seed: 3, runDir: mkdtempSync(join(tmpdir(), 'dlc-run-')),
      sink: { write: (s) => out.push(s), isTTY: false },
      ...over,
    },
  };
}

/** The tensors of a safetensors file, as name → bytes (to compare bit for bit). */
function tensorBytes(path: string): Map<string, number[]> {
  const f = readSafetensors(new Uint8Array(readFileSync(path)));
  return new Map([...f.tensors].map(([k, t]) => [k, [...new Uint8Array((t.data as Float32Array).buffer.slice(0))]]));
}

describe('the training loop (interpreter)', () => {
  it('lowers the loss, writes metrics, loss curve, weights and a checkpoint, and prints plain lines', async () => {
    const { run: r, out } = run({ epochs: 5 });
    const res = await train(r);
    const ep = res.summary.epochs;
    expect(ep.length).toBe(5);
    expect(ep[4]!.train_loss).toBeLessThan(ep[0]!.train_loss * 0.8);
    expect(ep[4]!.val_loss!).toBeLessThan(ep[0]!.val_loss!);
    expect(ep[4]!.val_accuracy!).toBeGreaterThan(0.8);
    expect(res.summary.steps_per_epoch).toBe(5);
    const csv = readFileSync(join(r.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,step,train_loss,val_loss,val_accuracy,seconds,examples_per_s');
    expect(csv.length).toBe(6);
    expect(Number(csv[5]!.split(',')[2])).toBeCloseTo(ep[4]!.train_loss, 12);
    const json = JSON.parse(readFileSync(join(r.runDir, 'metrics.json'), 'utf8'));
    expect(json.epochs.length).toBe(5);
    expect(json.stopped).toBe('completed');
    expect(readFileSync(join(r.runDir, 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    for (const f of ['weights.safetensors', 'best.safetensors', 'checkpoint.safetensors']) expect(existsSync(join(r.runDir, f))).toBe(true);
    const w = readSafetensors(new Uint8Array(readFileSync(join(r.runDir, 'weights.safetensors'))));
    expect([...w.tensors.keys()].sort()).toEqual(['W', 'b']);
    expect(w.tensors.get('W')!.dtype).toBe('F32');
    const text = out.join('');
    expect(text).not.toContain('\r');
    expect(text).not.toContain('\x1b');
    expect(text.split('\n').filter((l) => l.startsWith('epoch ')).length).toBe(5);
  });

  it('reloads its checkpoint: state, position and history', async () => {
    const { run: r } = run({ epochs: 2 });
    await train(r);
    const ck = loadCheckpoint(join(r.runDir, 'checkpoint.safetensors'), new Map([['W', { dtype: 'f32', shape: [3, 2] }], ['b', { dtype: 'f32', shape: [2] }]]));
    expect(ck.position.epoch).toBe(2);
    expect(ck.position.batchesDone).toBe(0);
    expect(ck.position.steps).toBe(10);
    expect(ck.position.history.length).toBe(2);
    expect(ck.state.get('W')!.shape).toEqual([3, 2]);
    expect(ck.best.size).toBe(2);
  });

  it('drops the last partial batch and says so', async () => {
    const { run: r, out } = run({ epochs: 1, batch: 16, step: linStep(16) });
    const res = await train(r);
    expect(res.summary.steps_per_epoch).toBe(2);
    expect(res.summary.dropped_per_epoch).toBe(8);
    expect(out.join('')).toContain('the last 8 examples of each shuffled epoch are dropped');
  });

  it('stops early when the validation loss stops improving, keeping the best weights', async () => {
    // Validation labels flipped: the better the model fits, the worse the validation loss.
    const flipped = join(files.dir, 'val_y_flipped.npy');
    const y = val.columns.find((c) => c.name === 'y')!.array;
    writeFileSync(flipped, writeNpy(new NDArray(y.shape, y.data.map((v) => 1 - v)), 'i32'));
    const { run: r, out } = run({ epochs: 30, patience: 2, val: loadDataset({ x: files.val.x, y: flipped }, '--val') });
    const res = await train(r);
    const ep = res.summary.epochs;
    expect(res.summary.stopped).toBe('early-stopping');
    expect(ep.length).toBe(3);
    expect(res.summary.best_epoch).toBe(1);
    expect(out.join('')).toContain('early stopping');
    const best = readSafetensors(new Uint8Array(readFileSync(join(r.runDir, 'best.safetensors'))));
    const last = readSafetensors(new Uint8Array(readFileSync(join(r.runDir, 'weights.safetensors'))));
    expect(best.metadata['epoch']).toBe('1');
    expect(Array.from(best.tensors.get('W')!.data)).not.toEqual(Array.from(last.tensors.get('W')!.data));
  });

  it('refuses a batch larger than the training set', async () => {
    const { run: r } = run({ batch: 64, step: linStep(64) });
    await expect(train(r)).rejects.toBeInstanceOf(TrainError);
  });
});

async function resumeIsBitIdentical(backend: ExecBackend): Promise<void> {
  const whole = run({ backend, epochs: 4 });
  const w = (await train(whole.run)).summary.epochs;
  expect(w[3]!.train_loss).toBeLessThan(w[0]!.train_loss * 0.8); // the steps do train on this backend
  // Stopped after 2 epochs (as --epochs 2), then resumed to 4.
  const first = run({ backend, epochs: 2 });
  await train(first.run);
  const second = run({ backend, epochs: 4, runDir: first.run.runDir, resume: join(first.run.runDir, 'checkpoint.safetensors') });
  const res = await train(second.run);
  expect(res.summary.epochs.length).toBe(4);
  expect(second.out.join('')).toContain('resuming lin');
  expect(tensorBytes(join(second.run.runDir, 'weights.safetensors'))).toEqual(tensorBytes(join(whole.run.runDir, 'weights.safetensors')));
  expect(tensorBytes(join(second.run.runDir, 'checkpoint.safetensors'))).toEqual(tensorBytes(join(whole.run.runDir, 'checkpoint.safetensors')));
  // Interrupted in the middle of epoch 2 (after 7 steps), then resumed.
  let steps = 0;
  const cut = run({ backend, epochs: 4, shouldStop: () => steps++ === 7 });
  const cutRes = await train(cut.run);
  expect(cutRes.summary.stopped).toBe('interrupted');
  const rest = run({ backend, epochs: 4, runDir: cut.run.runDir, resume: join(cut.run.runDir, 'checkpoint.safetensors') });
  const restRes = await train(rest.run);
  expect(restRes.summary.epochs.map((e) => e.train_loss)).toEqual((await JSON.parse(readFileSync(join(whole.run.runDir, 'metrics.json'), 'utf8'))).epochs.map((e: { train_loss: number }) => e.train_loss));
  expect(tensorBytes(join(rest.run.runDir, 'weights.safetensors'))).toEqual(tensorBytes(join(whole.run.runDir, 'weights.safetensors')));
}

describe('resume', () => {
  it('gives bit-identical weights after an interruption at an epoch end or mid-epoch (interp)', () => resumeIsBitIdentical('interp'));
  it('gives bit-identical weights after an interruption at an epoch end or mid-epoch (js)', () => resumeIsBitIdentical('js'));
  it.runIf(WEBGPU)('gives bit-identical weights after an interruption at an epoch end or mid-epoch (webgpu)', () => resumeIsBitIdentical('webgpu'));

  it('refuses a checkpoint of another batch size or seed, and a file that is not a checkpoint', async () => {
    const first = run({ epochs: 1 });
    await train(first.run);
    const ck = join(first.run.runDir, 'checkpoint.safetensors');
    await expect(train(run({ resume: ck, seed: 4 }).run)).rejects.toThrow(/--seed 3/);
    await expect(train(run({ resume: ck, batch: 4, step: linStep(4) }).run)).rejects.toThrow(/--batch 8/);
    await expect(train(run({ resume: join(first.run.runDir, 'weights.safetensors') }).run)).rejects.toThrow(/not a `dlc-checkpoint`/);
    await expect(train(run({ resume: files.train.x }).run)).rejects.toThrow(/bad checkpoint/);
  });

  it('starts from --params weights', async () => {
    const first = run({ epochs: 3 });
    const a = await train(first.run);
    const second = run({ epochs: 1, params: join(first.run.runDir, 'weights.safetensors') });
    const b = await train(second.run);
    expect(b.summary.epochs[0]!.train_loss).toBeLessThan(a.summary.epochs[0]!.train_loss);
  });
});
