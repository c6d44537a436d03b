// The digits MLP (examples/digits-mlp.dl: 64 → 128 → ReLU → 10, softmax cross-entropy, Adam lr 1e-3)
// trained by dlc (`dlc train`'s loop, JS backend) and by TF.js (the same network written with TF.js
// ops, trained with tf.train.adam), side by side in one run: validation accuracy after every epoch
// and seconds per epoch (training steps only). Both start from the same initial weights (dlc's,
// seed 0), see the same batches in the same order (dlc's seeded per-epoch shuffle, batch 32, the
// last partial batch dropped) and read the loss back after every step.
//
//   cd bench && npm ci && node train-digits.mjs [--epochs 20] [--systems dlc-js,tfjs-cpu,tfjs-wasm] [--out FILE|-]
//
// Results: results/train-digits.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { setupEnv, THREADS, withReportedCpus, restoreWebWorker } from './env.mjs';
import { makeExecutable } from '../dist/exec.js';
import { readNpy } from '../dist/io/npy.js';
import { compileEntry, compileTrain } from '../dist/train/compile.js';
import { batchShapes, loadDataset, takeBatch } from '../dist/train/data.js';
import { train } from '../dist/train/loop.js';
import { epochOrder } from '../dist/train/prng.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const EPOCHS = Number(opt('epochs', '20'));
const SYSTEMS = opt('systems', 'dlc-js,tfjs-cpu,tfjs-wasm').split(',');
const OUT = opt('out', 'results/train-digits.json');
const BATCH = 32, SEED = 0, LR = 1e-3;
const root = new URL('..', import.meta.url).pathname;
const file = `${root}examples/digits-mlp.dl`;
const D = `${root}data/digits`;
const data = loadDataset({ x: `${D}/train_x.npy`, y: `${D}/train_y.npy` }, '--data');
const val = loadDataset({ x: `${D}/val_x.npy`, y: `${D}/val_y.npy` }, '--val');
const text = readFileSync(file, 'utf8');

async function runDlc() {
  const programs = compileTrain(file, text, 'digits', batchShapes(data, BATCH));
  const evalPrograms = (n) => ({ loss: compileEntry(programs.user, programs.info.loss, batchShapes(val, n)), accuracy: compileEntry(programs.user, programs.accuracy, batchShapes(val, n)) });
  const runDir = `${os.tmpdir()}/dlc-bench-train-digits`;
  const t0 = performance.now();
  const r = await train({ train: 'digits', file, source: text, step: programs.step, evalPrograms, data, val, epochs: EPOCHS, batch: BATCH, backend: 'js', seed: SEED, runDir, sink: { write: () => {}, isTTY: false } });
  return { total_s: (performance.now() - t0) / 1000, epochs: r.summary.epochs.map((e) => ({ epoch: e.epoch, seconds: e.seconds, train_loss: e.train_loss, val_accuracy: e.val_accuracy })) };
}

/** dlc's initial parameters for seed 0 (what `dlc train --seed 0` starts from). */
async function initialParams() {
  const programs = compileTrain(file, text, 'digits', batchShapes(data, BATCH));
  const exe = await makeExecutable(programs.step, { backend: 'interp', seed: SEED });
  return exe.getParams();
}

let tf;
async function runTfjs(backend, init) {
  if (!tf) {
    tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    tf.env().set('PROD', true);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(THREADS);
  }
  const activate = async () => {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  };
  if (backend === 'wasm') {
    await withReportedCpus(activate);
    restoreWebWorker();
  } else await activate();
  const v = Object.fromEntries([...init].map(([k, t]) => [k, tf.variable(tf.tensor(Float32Array.from(t.data), t.shape))]));
  const forward = (x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, v['hidden.W']), v['hidden.b'])), v['out.W']), v['out.b']);
  // The same Adam as src/stdlib/optim.dl (eps outside the square root, bias-corrected).
  const opt = tf.train.adam(LR, 0.9, 0.999, 1e-8);
  const col = (ds, name) => ds.columns.find((c) => c.name === name).array;
  const valX = tf.tensor(Float32Array.from(col(val, 'x').data), [val.n, 64]);
  const valY = Int32Array.from(col(val, 'y').data);
  const batches = Math.floor(data.n / BATCH);
  const epochs = [];
  const t0 = performance.now();
  for (let e = 0; e < EPOCHS; e++) {
    const order = epochOrder(data.n, SEED, e);
    const te = performance.now();
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const batch = takeBatch(data, order, b * BATCH, BATCH);
      const x = tf.tensor(Float32Array.from(batch.get('x').data), [BATCH, 64]);
      const y = tf.oneHot(tf.tensor1d(Int32Array.from(batch.get('y').data), 'int32'), 10);
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)), true);
      lossSum += (await loss.data())[0];
      tf.dispose([x, y, loss]);
    }
    const seconds = (performance.now() - te) / 1000;
    const pred = tf.tidy(() => tf.argMax(forward(valX), 1));
    const p = await pred.data();
    pred.dispose();
    let correct = 0;
    for (let i = 0; i < val.n; i++) if (p[i] === valY[i]) correct++;
    epochs.push({ epoch: e + 1, seconds, train_loss: lossSum / batches, val_accuracy: correct / val.n });
  }
  const total_s = (performance.now() - t0) / 1000;
  tf.dispose([valX, ...Object.values(v)]);
  opt.dispose();
  return { total_s, epochs };
}

await setupEnv();
const init = await initialParams();
const results = {};
for (const s of SYSTEMS) {
  process.stdout.write(`${s} …\n`);
  results[s] = s === 'dlc-js' ? await runDlc() : await runTfjs(s.replace('tfjs-', ''), init);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\ndigits MLP (64 → 128 → 10), Adam lr ${LR}, batch ${BATCH}, ${EPOCHS} epochs, ${data.n} training / ${val.n} validation images\n`);
console.log('| system | val accuracy (last epoch) | best val accuracy | s/epoch (median) | total s (incl. validation) |');
console.log('| --- | --- | --- | --- | --- |');
for (const [s, r] of Object.entries(results)) {
  const acc = r.epochs.map((e) => e.val_accuracy);
  console.log(`| ${s} | ${(acc.at(-1) * 100).toFixed(2)}% | ${(Math.max(...acc) * 100).toFixed(2)}% | ${median(r.epochs.map((e) => e.seconds)).toFixed(3)} | ${r.total_s.toFixed(2)} |`);
}
console.log('\nper epoch: val accuracy % / mean training loss');
console.log(['epoch', ...Object.keys(results)].join('\t'));
for (let e = 0; e < EPOCHS; e++) console.log([e + 1, ...Object.values(results).map((r) => `${(r.epochs[e].val_accuracy * 100).toFixed(2)} / ${r.epochs[e].train_loss.toFixed(4)}`)].join('\t'));
if (OUT !== '-') {
  const path = new URL(OUT, import.meta.url);
  mkdirSync(dirname(path.pathname), { recursive: true });
  const doc = { benchmark: 'train-digits', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, tfjs: tf?.version?.tfjs, epochs: EPOCHS, batch: BATCH, lr: LR, seed: SEED, results };
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\nwrote ${path.pathname}`);
}
