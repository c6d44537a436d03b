/**
 * examples/word2vec.dl trains with `dlc train` on the toy topic corpus of data/word2vec
 * (scripts/word2vec-corpus.mjs): the skip-gram negative-sampling loss, its negatives drawn inside
 * the program with `randint`, falls on held-out pairs, and the learned input embeddings put words of
 * one topic closer together than words of different topics.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readSafetensors } from '../../src/io/safetensors.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const D = `${ROOT}data/word2vec`;

describe('word2vec skip-gram with negative sampling', () => {
  it('trains with dlc train: the held-out loss falls and topics cluster', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'dlc-w2v-')), 'run');
    let out = '';
    let err = '';
    const args = ['train', `${ROOT}examples/word2vec.dl`, '--data', `center=${D}/train_center.npy,context=${D}/train_context.npy`, '--val', `center=${D}/val_center.npy,context=${D}/val_context.npy`, '--epochs', '5', '--batch', '64', '--seed', '3', '--run-dir', dir];
    const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
    expect(err).toBe('');
    expect(code, out).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { epochs: { train_loss: number; val_loss: number }[] };
    const first = m.epochs[0]!.val_loss;
    const last = m.epochs.at(-1)!.val_loss;
    console.log('word2vec val loss by epoch', m.epochs.map((e) => e.val_loss.toFixed(3)).join(' '));
    console.log('word2vec train loss by epoch', m.epochs.map((e) => e.train_loss.toFixed(3)).join(' '));
    // Embeddings that knew nothing (all scores 0) would score (1 + β)·ln 2 = 1.386 nats; the trained
    // ones do clearly better on held-out pairs, and the training loss falls from epoch to epoch.
    expect(last).toBeLessThan(0.8 * 2 * Math.LN2);
    expect(last).toBeLessThanOrEqual(first + 0.02);
    expect(m.epochs.at(-1)!.train_loss).toBeLessThan(m.epochs[0]!.train_loss - 0.1);
    // Cosine similarity of input embeddings: same topic (words 6t … 6t + 5) versus different topics.
    const w = readSafetensors(readFileSync(join(dir, 'weights.safetensors')));
    const E = w.tensors.get('inp.E')!;
    const [V, d] = E.shape as [number, number];
    const row = (i: number): number[] => Array.from({ length: d }, (_, j) => E.data[i * d + j]!);
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
    let same = 0, ns = 0, diff = 0, nd = 0;
    for (let i = 0; i < V; i++) for (let j = i + 1; j < V; j++) {
      const c = cos(row(i), row(j));
      if (Math.floor(i / 6) === Math.floor(j / 6)) { same += c; ns++; } else { diff += c; nd++; }
    }
    console.log('word2vec mean cosine: same topic', (same / ns).toFixed(3), 'different', (diff / nd).toFixed(3));
    expect(same / ns).toBeGreaterThan(diff / nd + 0.3);
  }, 120_000);
});
