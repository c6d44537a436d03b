/**
 * The committed digits data (data/digits/, from scripts/export-digits.py) as src/io/npy.ts reads
 * it: shapes, dtypes, value ranges, the stratified split, and the sha256 sums its README gives.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy.js';
import { ROOT } from '../helpers/golden.js';

const DIR = `${ROOT}data/digits/`;
const load = (name: string) => readNpy(readFileSync(DIR + name));
/** Images per class in the whole set (sklearn.datasets.load_digits documents 1797, about 180 a class). */
const FULL = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

function counts(y: Float64Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const v of y) c[v]!++;
  return c;
}

describe('data/digits', () => {
  it('has 1437 train and 360 val images of 64 pixels in [0, 1], float32, labels int32', () => {
    const parts = [
      ['train', 1437],
      ['val', 360],
    ] as const;
    for (const [part, n] of parts) {
      const x = load(`${part}_x.npy`);
      const y = load(`${part}_y.npy`);
      expect(x.kind).toBe('float');
      expect(x.array.shape).toEqual([n, 64]);
      expect(y.kind).toBe('int');
      expect(y.array.shape).toEqual([n]);
      // Pixel counts 0..16 divided by 16: every value is a multiple of 1/16 in [0, 1].
      expect(x.array.data.every((v) => v >= 0 && v <= 1 && Number.isInteger(v * 16))).toBe(true);
      expect(Math.max(...x.array.data)).toBe(1);
      expect(y.array.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 9)).toBe(true);
    }
    const header = new TextDecoder('latin1').decode(readFileSync(`${DIR}train_x.npy`).subarray(0, 80));
    expect(header).toContain("'descr': '<f4'");
    expect(new TextDecoder('latin1').decode(readFileSync(`${DIR}train_y.npy`).subarray(0, 80))).toContain("'descr': '<i4'");
  });

  it('splits every class about 80/20 (stratified) and together holds the whole set', () => {
    const train = counts(load('train_y.npy').array.data);
    const val = counts(load('val_y.npy').array.data);
    expect(train.map((t, c) => t + val[c]!)).toEqual(FULL);
    for (let c = 0; c < 10; c++) expect(Math.abs(val[c]! - (360 * FULL[c]!) / 1797)).toBeLessThan(1);
  });

  it('the README gives the sha256 of each file', () => {
    const readme = readFileSync(`${DIR}README.md`, 'utf8');
    for (const name of ['train_x.npy', 'train_y.npy', 'val_x.npy', 'val_y.npy']) {
      const sum = createHash('sha256').update(readFileSync(DIR + name)).digest('hex');
      expect(readme).toContain(`| ${name} |`);
      expect(readme).toContain(sum);
    }
  });
});
