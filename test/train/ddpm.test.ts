/**
 * examples/ddpm.dl: the DDPM training objective (a random timestep and random noise per example)
 * trains with `dlc train` on a 2-D toy set generated here (8 Gaussians on a circle), the loss
 * falls, and ancestral sampling runs from the trained weights.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lower, NDArray, writeNpy } from '../../src/index.js';
import { makeExecutable } from '../../src/exec.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../helpers/example-inputs.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('DDPM on a ring of 8 Gaussians', () => {
  it('the noise-prediction loss falls, and sampling from the trained weights runs', async () => {
    const rng = new Rng(7);
    const n = 1024;
    const pts: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = (rng.int(8) * Math.PI) / 4;
      pts.push(1.5 * Math.cos(a) + 0.1 * rng.normal(), 1.5 * Math.sin(a) + 0.1 * rng.normal());
    }
    const dir = mkdtempSync(join(tmpdir(), 'dlc-ddpm-'));
    writeFileSync(join(dir, 'ring.npy'), writeNpy(NDArray.from([n, 2], pts), 'f32'));
    const run = join(dir, 'run');
    let out = '', err = '';
    const code = await main(['train', `${ROOT}examples/ddpm.dl`, '--data', `x=${join(dir, 'ring.npy')}`, '--epochs', '12', '--batch', '64', '--run-dir', run], { out: (s) => (out += s), err: (s) => (err += s) });
    expect(err).toBe('');
    expect(code, out).toBe(0);
    const m = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { epochs: { train_loss: number }[] };
    // A network that predicts no noise scores 1; training brings it well below its first epoch.
    expect(m.epochs[0]!.train_loss).toBeLessThan(1);
    expect(m.epochs[11]!.train_loss).toBeLessThan(0.85 * m.epochs[0]!.train_loss);

    const g = lower(readFileSync(`${ROOT}examples/ddpm.dl`, 'utf8'), 'DDPM.sample', { dims: { N: 32 } }).graph!;
    const ex = await makeExecutable(g, { backend: 'interp' });
    const w = readSafetensors(readFileSync(join(run, 'weights.safetensors')));
    ex.setParams(new Map([...w.tensors].map(([k, t]) => [k, { dtype: 'f32', shape: t.shape, data: t.data }])));
    const z = NDArray.from([32, 2], Array.from({ length: 64 }, () => rng.normal()));
    const x = (await ex.run(new Map([['z', z]]))).values().next().value!;
    expect(x.shape).toEqual([32, 2]);
    expect(Array.from(x.data).every(Number.isFinite)).toBe(true);
    expect(Array.from(x.data)).not.toEqual(Array.from(z.data));
  }, 180_000);
});
