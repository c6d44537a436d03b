/**
 * `dlc train --steps` alternates several train declarations over one state: examples/gan.dl (GAN,
 * critic and generator steps with their own Adam) and examples/wgan-gp.dl (WGAN-GP, five critic
 * steps per generator step) on the 2-D toy distribution of data/gan2d. After training, the
 * generator's samples are much closer to the target's mean and covariance than at initialization.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compile } from '../../src/index.js';
import { makeExecutable } from '../../src/exec.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { WEBGPU } from '../helpers/webgpu.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const DATA = `${ROOT}data/gan2d`;
/** The target of scripts/gan-data.mjs: mean (2, −1), covariance R diag(0.25, 2.25) Rᵀ with R a 30° rotation. */
const TARGET = { mean: [2, -1], cov: [0.75, -0.866, 1.75] };

/** Sample mean and covariance (xx, xy, yy) of [n, 2] points. */
function moments(p: ArrayLike<number>): { mean: number[]; cov: number[] } {
  const n = p.length / 2;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += p[2 * i]!; my += p[2 * i + 1]!; }
  mx /= n; my /= n;
  let xx = 0, xy = 0, yy = 0;
  for (let i = 0; i < n; i++) { const a = p[2 * i]! - mx, b = p[2 * i + 1]! - my; xx += a * a; xy += a * b; yy += b * b; }
  return { mean: [mx, my], cov: [xx / n, xy / n, yy / n] };
}
/** Distance of moments to the target's: mean and covariance entries together. */
const distance = (m: { mean: number[]; cov: number[] }) => Math.hypot(...m.mean.map((v, i) => v - TARGET.mean[i]!), ...m.cov.map((v, i) => v - TARGET.cov[i]!));

async function trainAndSample(example: string, steps: string, epochs: number, seed: number, backend = 'js'): Promise<{ before: number; after: number; out: string; metrics: { epochs: { step_losses?: Record<string, number> }[] } }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dlc-gan-')), 'run');
  let out = '', err = '';
  const code = await main(['train', `${ROOT}examples/${example}`, '--steps', steps, '--data', `x=${DATA}/train_x.npy`, '--epochs', String(epochs), '--batch', '64', '--seed', String(seed), '--backend', backend, '--run-dir', dir], { out: (s) => (out += s), err: (s) => (err += s) });
  expect(err).toBe('');
  expect(code, out).toBe(0);
  const src = readFileSync(`${ROOT}examples/${example}`, 'utf8');
  const ex = await makeExecutable(compile(src, 'gan.sample', { path: example }), { backend: 'js', seed });
  // The same seed initializes the same parameters as the run's first step saw.
  const before = distance(moments((await ex.run(new Map())).get('out')!.data));
  const w = readSafetensors(readFileSync(join(dir, 'weights.safetensors')));
  ex.setState(new Map([...w.tensors].filter(([k]) => k.startsWith('gan.g')).map(([k, t]) => [k, { dtype: 'f32' as const, shape: t.shape, data: t.data }])), { partial: true });
  const after = distance(moments((await ex.run(new Map())).get('out')!.data));
  return { before, after, out, metrics: JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) };
}

describe('dlc train --steps: GANs on a 2-D toy distribution', () => {
  it('gan.dl: alternating critic and generator steps move the samples to the target', async () => {
    const r = await trainAndSample('gan.dl', 'critic:1,gen:1', 16, 1);
    console.log(`gan.dl: moment distance ${r.before.toFixed(3)} -> ${r.after.toFixed(3)}`);
    expect(r.after).toBeLessThan(0.35 * r.before);
    expect(r.after).toBeLessThan(0.8);
    // Both steps ran and report their losses each epoch.
    expect(Object.keys(r.metrics.epochs[0]!.step_losses ?? {}).sort()).toEqual(['critic', 'gen']);
  }, 180_000);

  it('wgan-gp.dl: five critic steps (gradient penalty: a gradient of a gradient) per generator step', async () => {
    const r = await trainAndSample('wgan-gp.dl', 'critic:5,gen:1', 30, 2);
    console.log(`wgan-gp.dl: moment distance ${r.before.toFixed(3)} -> ${r.after.toFixed(3)}`);
    expect(r.after).toBeLessThan(0.35 * r.before);
    expect(r.after).toBeLessThan(0.8);
    expect(Object.keys(r.metrics.epochs[0]!.step_losses ?? {}).sort()).toEqual(['critic', 'gen']);
  }, 300_000);

  it.skipIf(!WEBGPU)('gan.dl trains on WebGPU too (both steps over one GPU state)', async () => {
    const r = await trainAndSample('gan.dl', 'critic:1,gen:1', 16, 1, 'webgpu');
    console.log(`gan.dl on webgpu: moment distance ${r.before.toFixed(3)} -> ${r.after.toFixed(3)}`);
    expect(r.after).toBeLessThan(0.35 * r.before);
  }, 300_000);
});
