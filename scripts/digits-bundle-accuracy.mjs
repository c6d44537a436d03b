#!/usr/bin/env node
// The validation accuracy of a digits classifier bundle (`dlc build --params`), run by the
// runtime alone, as a user's Node script would: loads the bundle with its trained weights and
// classifies data/digits/val_x.npy in batches of the bundle's batch size.
//
//   dlc train examples/digits-mlp.dl --data x=data/digits/train_x.npy,y=data/digits/train_y.npy \
//     --val x=data/digits/val_x.npy,y=data/digits/val_y.npy --epochs 20 --batch 32 --run-dir runs/mlp
//   dlc build examples/digits-mlp.dl --fn DigitsMLP.forward --dim B=360 --params runs/mlp/weights.safetensors -o out/mlp
//   node scripts/digits-bundle-accuracy.mjs out/mlp/js          # or out/mlp/webgpu
//
// Needs `npm run build` (it imports dlc/runtime from dist/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDevice, loadJsBundle, loadWebGpuBundle } from 'dlc/runtime';
import { readNpy } from 'dlc';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/digits-bundle-accuracy.mjs BUNDLE_DIR (a js/ or webgpu/ directory of dlc build)');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const input = manifest.buffers.find((b) => b.role === 'input');
const output = manifest.outputs[0];
const [batch, features] = input.shape;
const data = new URL('../data/digits/', import.meta.url);
const x = readNpy(readFileSync(new URL('val_x.npy', data))).array;
const y = readNpy(readFileSync(new URL('val_y.npy', data))).array;
const [n, d] = x.shape;
if (d !== features) throw new Error(`the bundle takes ${features} features, the images have ${d}`);

const net = manifest.backend === 'webgpu' ? await loadWebGpuBundle(await getDevice(), dir) : await loadJsBundle(dir);
if (!manifest.weights) console.warn('note: this bundle has no weights file (built without --params): it uses its initializers');
let correct = 0;
for (let start = 0; start < n; start += batch) {
  // The last batch is padded with zero images, whose predictions are not counted.
  const chunk = new Float32Array(batch * d);
  chunk.set(x.data.subarray(start * d, Math.min(n, start + batch) * d));
  const logits = (await net.run({ [input.name]: chunk }))[output];
  const classes = logits.length / batch;
  for (let i = 0; i < batch && start + i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    if (best === y.data[start + i]) correct++;
  }
}
console.log(`${manifest.name} (${manifest.backend}${manifest.weights ? `, weights ${manifest.weights}` : ''}): validation accuracy ${((100 * correct) / n).toFixed(2)}% (${correct}/${n})`);
