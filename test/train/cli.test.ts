/**
 * `dlc train` end to end: in process on a tiny synthetic set (loss falls, outputs written, plain
 * lines off a terminal, diagnostics for bad data and checkpoints), and as a child process that is
 * sent SIGINT (checkpoint saved, exit 130, the run resumes). Needs dist/ for the child process
 * (`npm run build`), like test/cli.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { NDArray, readNpy, writeNpy } from '../../src/index.js';
import { loadJsBundle } from '../../src/runtime/bundle.js';
import { writeSynthetic } from './helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

const LIN_TRAIN = `
model Lin(d: int = 3, k: int = 2) {
  param W: f32[d, k] = normal(0.0, 0.1)
  param b: f32[k] = zeros
  fn loss(x: f32[B, d], y: i32[B]) -> f32 {
    return cross_entropy(x @ W + b, y)
  }
  fn accuracy(x: f32[B, d], y: i32[B]) -> f32 {
    return mean(cast(argmax(x @ W + b, axis=1) == y, f32))
  }
}
train lin = Lin.loss with sgd(lr = 0.5)
`;

const files = writeSynthetic(40);
const prog = join(files.dir, 'lin.dl');
writeFileSync(prog, LIN_TRAIN);
const data = `x=${files.train.x},y=${files.train.y}`;
const val = `x=${files.val.x},y=${files.val.y}`;

async function dlc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('dlc train', () => {
  it('trains: the loss falls, metrics and weights are written, plain lines off a terminal', async () => {
    const dir = join(files.dir, 'run1');
    const r = await dlc('train', prog, '--data', data, '--val', val, '--epochs', '5', '--batch', '8', '--run-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(r.out).not.toMatch(/[\r\x1b]/);
    expect(lines.filter((l) => /^epoch \d+\/5  loss /.test(l)).length).toBe(5);
    expect(r.out).toContain('val_acc');
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(m.train).toBe('lin');
    expect(m.epochs[4].train_loss).toBeLessThan(m.epochs[0].train_loss * 0.8);
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length).toBe(6);
    for (const f of ['weights.safetensors', 'best.safetensors', 'checkpoint.safetensors', 'loss.svg']) expect(existsSync(join(dir, f)), f).toBe(true);
  });

  it('resumes from its checkpoint to the same weights as one run', async () => {
    const one = join(files.dir, 'one'), two = join(files.dir, 'two');
    expect((await dlc('train', prog, '--data', data, '--epochs', '4', '--batch', '8', '--run-dir', one, '--seed', '5')).code).toBe(0);
    expect((await dlc('train', prog, '--data', data, '--epochs', '2', '--batch', '8', '--run-dir', two, '--seed', '5')).code).toBe(0);
    const r = await dlc('train', prog, '--data', data, '--epochs', '4', '--batch', '8', '--run-dir', two, '--seed', '5', '--resume', join(two, 'checkpoint.safetensors'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('resuming lin');
    const a = readFileSync(join(one, 'checkpoint.safetensors'));
    const b = readFileSync(join(two, 'checkpoint.safetensors'));
    // The tensor data (after the header) is identical; the header's metadata holds timings.
    const data0 = (buf: Buffer) => buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
    expect(data0(b).equals(data0(a))).toBe(true);
  });

  it('resumes bit-identically with dropout too (its noise is keyed by the step counter, which the checkpoint holds)', async () => {
    const drop = join(files.dir, 'drop.dl');
    writeFileSync(drop, `
model Net(d: int = 3, h: int = 16, k: int = 2) {
  layer l1 = Linear(d, h)
  layer l2 = Linear(h, k)
  fn loss(x: f32[B, d], y: i32[B]) -> f32 {
    return cross_entropy(l2(dropout(relu(l1(x)), 0.3)), y)
  }
}
train net = Net.loss with adam(lr = 1e-2)
`);
    const one = join(files.dir, 'drop-one'), two = join(files.dir, 'drop-two');
    const common = ['--data', data, '--batch', '8', '--backend', 'js'];
    expect((await dlc('train', drop, ...common, '--epochs', '4', '--run-dir', one)).code).toBe(0);
    expect((await dlc('train', drop, ...common, '--epochs', '2', '--run-dir', two)).code).toBe(0);
    expect((await dlc('train', drop, ...common, '--epochs', '4', '--run-dir', two, '--resume', join(two, 'checkpoint.safetensors'))).code).toBe(0);
    expect(readFileSync(join(two, 'weights.safetensors')).equals(readFileSync(join(one, 'weights.safetensors')))).toBe(true);
    // and a different seed gives other weights (the comparison can fail)
    const three = join(files.dir, 'drop-three');
    expect((await dlc('train', drop, ...common, '--epochs', '4', '--run-dir', three, '--seed', '1')).code).toBe(0);
    expect(readFileSync(join(three, 'weights.safetensors')).equals(readFileSync(join(one, 'weights.safetensors')))).toBe(false);
  });

  it('reports bad data and bad checkpoints as diagnostics', async () => {
    const missing = await dlc('train', prog, '--data', `x=${files.train.x}`, '--epochs', '1', '--run-dir', join(files.dir, 'e1'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('error[DL0602]: --data does not give `y`');
    const axes = await dlc('train', prog, '--data', `x=${files.train.x},y=${files.val.y}`, '--run-dir', join(files.dir, 'e2'));
    expect(axes.err).toContain('do not have the same number of examples');
    const wide = join(files.dir, 'wide.npy');
    writeFileSync(wide, writeNpy(NDArray.zeros([40, 5]), 'f32'));
    const shape = await dlc('train', prog, '--data', `x=${wide},y=${files.train.y}`, '--run-dir', join(files.dir, 'e3'));
    // The step is compiled for the data's shapes, so the loss function's signature reports it, with its span.
    expect(shape.err).toContain('error[DL0304]: input `x` (shape [32, 5]) should be f32[B, d]');
    expect(shape.err).toContain('axis 1 should be 3 (`d`), but it is 5');
    const badCk = join(files.dir, 'bad.safetensors');
    writeFileSync(badCk, 'not a checkpoint at all');
    const ck = await dlc('train', prog, '--data', data, '--resume', badCk, '--run-dir', join(files.dir, 'e4'));
    expect(ck.code).toBe(1);
    expect(ck.err).toContain(`error[DL0602]: bad checkpoint ${badCk}`);
    const name = await dlc('train', prog, '--train', 'lni', '--data', data);
    expect(name.err).toContain('did you mean `--train lin`?');
    const usage = await dlc('train', prog, '--data', data, '--patience', '2');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--patience stops on the validation loss, so it needs --val');
    for (const d of ['e1', 'e2', 'e3', 'e4']) expect(existsSync(join(files.dir, d, 'checkpoint.safetensors'))).toBe(false);
  });

  it('trains the digits MLP to a clear accuracy floor in a few epochs (js)', async () => {
    const d = join(ROOT, 'data', 'digits');
    const dir = mkdtempSync(join(tmpdir(), 'dlc-digits-'));
    const r = await dlc('train', join(ROOT, 'examples', 'digits-mlp.dl'), '--data', `x=${d}/train_x.npy,y=${d}/train_y.npy`, '--val', `x=${d}/val_x.npy,y=${d}/val_y.npy`, '--epochs', '6', '--batch', '32', '--run-dir', dir);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    const acc = m.epochs.at(-1).val_accuracy;
    expect(acc).toBeGreaterThanOrEqual(0.93);
    // The trained weights in a bundle, run by the runtime alone, classify the validation set as well.
    const out = join(dir, 'bundle');
    const b = await dlc('build', join(ROOT, 'examples', 'digits-mlp.dl'), '--fn', 'DigitsMLP.forward', '--dim', 'B=360', '--backend', 'js', '--params', join(dir, 'weights.safetensors'), '-o', out);
    expect(b.code, b.err).toBe(0);
    const net = await loadJsBundle(join(out, 'js'));
    const x = readNpy(readFileSync(`${d}/val_x.npy`)).array;
    const y = readNpy(readFileSync(`${d}/val_y.npy`)).array;
    const logits = net.run({ x: x.data })['out']!;
    let correct = 0;
    for (let i = 0; i < 360; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === y.data[i]) correct++;
    }
    expect(correct / 360).toBeCloseTo(acc, 6);
  });
});

describe('dlc train as a process', () => {
  it('saves a checkpoint on SIGINT, exits 130, and the run resumes from it', async () => {
    const dir = join(files.dir, 'sigint');
    const args = [join(ROOT, 'bin', 'dlc.js'), 'train', prog, '--data', data, '--epochs', '100000', '--batch', '8', '--run-dir', dir];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (c) => {
        out += c;
        if (/^epoch 2\//m.test(out) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(err).toBe('');
    expect(code).toBe(130);
    expect(out).toMatch(/interrupted at epoch \d+, step \d+: checkpoint saved to .*checkpoint\.safetensors/);
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(m.stopped).toBe('interrupted');
    const epochs = m.epochs.length;
    expect(epochs).toBeGreaterThanOrEqual(2);
    const r = await dlc('train', prog, '--data', data, '--epochs', String(epochs + 1), '--batch', '8', '--run-dir', dir, '--resume', join(dir, 'checkpoint.safetensors'));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).epochs.length).toBe(epochs + 1);
  });
});
