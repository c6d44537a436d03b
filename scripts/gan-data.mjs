#!/usr/bin/env node
/**
 * Writes the 2-D toy distribution of examples/gan.dl and examples/wgan-gp.dl to data/gan2d/
 * (deterministic: a fixed-seed 32-bit LCG and Box–Muller). Points are N((2, −1), diag(0.5², 1.5²))
 * rotated by 30°: a mean, two scales and a correlation for the generator to match.
 * Usage: node scripts/gan-data.mjs
 */
import { mkdirSync, writeFileSync } from 'node:fs';
// The built compiler (npm run build).
import { NDArray } from '../dist/ir/ndarray.js';
import { writeNpy } from '../dist/io/npy.js';

let state = 7081;
const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
const gauss = () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());

export const MEAN = [2, -1];
export const SCALE = [0.5, 1.5];
const c = Math.cos(Math.PI / 6);
const s = Math.sin(Math.PI / 6);

function points(n) {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = SCALE[0] * gauss();
    const b = SCALE[1] * gauss();
    out[2 * i] = MEAN[0] + c * a - s * b;
    out[2 * i + 1] = MEAN[1] + s * a + c * b;
  }
  return out;
}

/** The values as a f32 .npy file (dlc's own writer, src/io/npy.ts). */
const npy = (values) => writeNpy(NDArray.from([values.length / 2, 2], values), 'f32');

const dir = new URL('../data/gan2d/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('train_x.npy', dir), npy(points(4096)));
writeFileSync(new URL('val_x.npy', dir), npy(points(512)));
console.log('data/gan2d: train_x [4096, 2], val_x [512, 2]');
