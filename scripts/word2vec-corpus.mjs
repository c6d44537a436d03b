#!/usr/bin/env node
/**
 * Writes the toy skip-gram corpus of examples/word2vec.dl to data/word2vec/ (deterministic: the same
 * bytes on every run). 24 words in 4 topics of 6 (words 6t … 6t + 5); each "sentence" of 8 words
 * picks a topic and draws each word from it with probability 0.9, else from the whole vocabulary.
 * Skip-gram pairs (center, context) are every pair within a window of 2, in order; train and val come
 * from different sentences. Usage: node scripts/word2vec-corpus.mjs
 */
import { mkdirSync, writeFileSync } from 'node:fs';
// The built compiler (npm run build).
import { NDArray } from '../dist/ir/ndarray.js';
import { writeNpy } from '../dist/io/npy.js';

const VOCAB = 24;
const TOPICS = 4;
const LEN = 8;
const WINDOW = 2;

// A 32-bit LCG (Numerical Recipes constants): deterministic and dependency-free.
let state = 20261203;
const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const below = (n) => Math.floor(next() * n);

function pairs(sentences) {
  const center = [];
  const context = [];
  for (let s = 0; s < sentences; s++) {
    const topic = below(TOPICS);
    const words = Array.from({ length: LEN }, () => (next() < 0.9 ? topic * (VOCAB / TOPICS) + below(VOCAB / TOPICS) : below(VOCAB)));
    for (let i = 0; i < LEN; i++) {
      for (let j = Math.max(0, i - WINDOW); j <= Math.min(LEN - 1, i + WINDOW); j++) {
        if (j !== i) {
          center.push(words[i]);
          context.push(words[j]);
        }
      }
    }
  }
  return { center, context };
}

/** The values as a i32 .npy file (dlc's own writer, src/io/npy.ts). */
const npy = (values) => writeNpy(NDArray.from([values.length], values), 'i32');

const dir = new URL('../data/word2vec/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [split, sentences] of [['train', 256], ['val', 32]]) {
  const p = pairs(sentences);
  writeFileSync(new URL(`${split}_center.npy`, dir), npy(p.center));
  writeFileSync(new URL(`${split}_context.npy`, dir), npy(p.context));
  console.log(`${split}: ${p.center.length} pairs`);
}
