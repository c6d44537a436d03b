/**
 * The examples with train/eval modes and random draws train with `dlc train` on the digits and
 * improve their objective: examples/bn-mlp.dl (batch norm; its running statistics move and are
 * saved with the weights) and examples/vae.dl (the negative ELBO with reparameterized noise).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readSafetensors } from '../../src/io/safetensors.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const D = `${ROOT}data/digits`;

async function train(example: string, data: string, val: string, epochs: number): Promise<{ epochs: { train_loss: number; val_loss: number; val_accuracy?: number }[]; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dlc-modes-')), 'run');
  let out = '', err = '';
  const code = await main(['train', `${ROOT}examples/${example}`, '--data', data, '--val', val, '--epochs', String(epochs), '--batch', '32', '--run-dir', dir], { out: (s) => (out += s), err: (s) => (err += s) });
  expect(err).toBe('');
  expect(code, out).toBe(0);
  return { ...JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')), dir };
}

describe('examples that train with modes', () => {
  it('bn-mlp.dl: the validation loss falls, accuracy passes 90%, the running statistics are saved', async () => {
    const m = await train('bn-mlp.dl', `x=${D}/train_x.npy,y=${D}/train_y.npy`, `x=${D}/val_x.npy,y=${D}/val_y.npy`, 3);
    expect(m.epochs[2]!.val_loss).toBeLessThan(0.6 * m.epochs[0]!.val_loss);
    expect(m.epochs[2]!.val_accuracy).toBeGreaterThan(0.9);
    const w = readSafetensors(readFileSync(join(m.dir, 'weights.safetensors')));
    const names = [...w.tensors.keys()];
    expect(names).toEqual(expect.arrayContaining(['bn.running_mean', 'bn.running_var', 'bn.gamma']));
    // The running statistics moved from their initial zeros and ones.
    expect(Array.from(w.tensors.get('bn.running_mean')!.data).some((v) => v !== 0)).toBe(true);
    expect(Array.from(w.tensors.get('bn.running_var')!.data).some((v) => v !== 1)).toBe(true);
  }, 120_000);

  it('vae.dl: the negative ELBO falls from about 64·ln 2 nats', async () => {
    const m = await train('vae.dl', `x=${D}/train_x.npy`, `x=${D}/val_x.npy`, 3);
    expect(m.epochs[0]!.train_loss).toBeLessThan(64 * Math.LN2);
    expect(m.epochs[2]!.val_loss).toBeLessThan(m.epochs[0]!.val_loss - 1);
    expect(m.epochs[2]!.val_loss).toBeLessThan(32);
  }, 120_000);
});
