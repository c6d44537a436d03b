/**
 * Trained weights through the command line: `dlc run --params W.safetensors` computes with them
 * on every backend, `dlc build --params` writes a bundle that carries them (weights.safetensors
 * named by the manifest) and the runtime's bundle loaders run it in Node; files that do not fit
 * the program are DL0602 naming the tensor, at the parameter's declaration.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { NDArray, writeNpy } from '../src/index.js';
import { writeSafetensors, type SafeTensor } from '../src/io/safetensors.js';
import { loadJsBundle, loadWebGpuBundle } from '../src/runtime/bundle.js';
import { getDevice } from '../src/runtime/webgpu-executor.js';
import { captureIo } from './helpers/golden.js';
import { WEBGPU } from './helpers/webgpu.js';

const PROGRAM = `model Lin {
  param W: f32[3, 2] = normal(0.0, 1.0)
  param b: f32[2] = zeros

  fn forward(x: f32[B, 3]) -> f32[B, 2] {
    return x @ W + b
  }
}
`;

let dir = '';
const file = (name: string) => join(dir, name);

/** W = [[1, 2], [0.5, -1], [0, 4]], b = [10, -10]; for x = [[1, 2, 3], [-2, 0, 1]]: x W + b by hand. */
const W: SafeTensor = { dtype: 'F32', shape: [3, 2], data: [1, 2, 0.5, -1, 0, 4] };
const B: SafeTensor = { dtype: 'F32', shape: [2], data: [10, -10] };
const X = [1, 2, 3, -2, 0, 1];
const EXPECTED = [1 + 1 + 0 + 10, 2 - 2 + 12 - 10, -2 + 0 + 0 + 10, -4 + 0 + 4 - 10];

function weights(name: string, tensors: Record<string, SafeTensor>): string {
  writeFileSync(file(name), writeSafetensors(tensors));
  return file(name);
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await main(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

const runArgs = (w: string, ...more: string[]) => ['run', file('lin.dl'), '--fn', 'Lin.forward', '--input', `x=${file('x.npy')}`, '--params', w, '--format', 'json', ...more];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlc-weights-'));
  writeFileSync(file('lin.dl'), PROGRAM);
  writeFileSync(file('x.npy'), writeNpy(NDArray.from([2, 3], X), 'f32'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('dlc run --params', () => {
  it('computes with the weights of the file on every backend', async () => {
    const w = weights('w.safetensors', { W, b: B });
    for (const backend of ['interp', 'js', ...(WEBGPU ? ['webgpu'] : [])]) {
      const r = await run([...runArgs(w), '--backend', backend]);
      expect(r.code, r.err + r.out).toBe(0);
      const doc = JSON.parse(r.out);
      expect(doc.outputs.out.data).toEqual(EXPECTED);
      expect(doc.params).toBe(w);
    }
    // Without --params the seeded initializers give something else.
    const plain = JSON.parse((await run(['run', file('lin.dl'), '--fn', 'Lin.forward', '--input', `x=${file('x.npy')}`, '--format', 'json'])).out);
    expect(plain.outputs.out.data).not.toEqual(EXPECTED);
  });

  it('F64 weights are used for f32 parameters', async () => {
    const w = weights('w64.safetensors', { W: { ...W, dtype: 'F64' }, b: { ...B, dtype: 'F64' } });
    const r = await run(runArgs(w));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).outputs.out.data).toEqual(EXPECTED);
  });

  it('a missing, mis-shaped or mistyped parameter is DL0602 naming it, at its declaration', async () => {
    const missing = await run(runArgs(weights('nob.safetensors', { W }), '--format', 'text'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`error[DL0602]: --params ${file('nob.safetensors')}: \`b\`: missing (the program's parameter is f32[2])`);
    expect(missing.err).toMatch(/lin\.dl:3:\d+\n/);
    expect(missing.err).toContain('param b: f32[2] = zeros');
    expect(missing.err).toContain('= note: the file holds `W`');
    const shaped = await run(runArgs(weights('badw.safetensors', { W: { dtype: 'F32', shape: [2, 3], data: W.data }, b: B })));
    expect(shaped.code).toBe(1);
    const doc = JSON.parse(shaped.out);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics).toHaveLength(1);
    expect(doc.diagnostics[0].code).toBe('DL0602');
    expect(doc.diagnostics[0].message).toContain("`W`: is f32[2, 3] but the program's parameter is f32[3, 2]");
    expect(doc.diagnostics[0].line).toBe(2);
    const typed = await run(runArgs(weights('intb.safetensors', { W, b: { dtype: 'I32', shape: [2], data: [1, 2] } })));
    expect(JSON.parse(typed.out).diagnostics[0].message).toContain("`b`: is i32[2] but the program's parameter is f32[2]");
  });

  it('tensors the program does not use are a warning naming them; the run goes on', async () => {
    const w = weights('extra.safetensors', { W, b: B, 'other.W': { dtype: 'F32', shape: [1], data: [0] } });
    const r = await run(runArgs(w));
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.outputs.out.data).toEqual(EXPECTED);
    expect(doc.diagnostics.map((d: { severity: string; code: string; message: string }) => [d.severity, d.code, d.message])).toEqual([['warning', 'DL0602', `--params ${w}: 1 tensor is not a parameter of \`Lin.forward\` and is not used: \`other.W\``]]);
    const text = await run(runArgs(w, '--format', 'text'));
    expect(text.err).toContain('warning[DL0602]');
  });

  it('a file that is not safetensors, or is not there, is DL0602', async () => {
    writeFileSync(file('junk.safetensors'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const junk = await run(runArgs(file('junk.safetensors'), '--format', 'text'));
    expect(junk.code).toBe(1);
    expect(junk.err).toMatch(/error\[DL0602\]: --params .*junk\.safetensors is not a usable safetensors file: truncated or not safetensors/);
    const gone = await run(runArgs(file('nothere.safetensors'), '--format', 'text'));
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('no such file');
  });
});

describe('dlc build --params', () => {
  it('writes weights.safetensors next to each manifest, which names it; the bundle loaders run with the weights', async () => {
    const out = file('bundle');
    const r = await run(['build', file('lin.dl'), '--fn', 'Lin.forward', '--dim', 'B=2', '-o', out, '--params', weights('wb.safetensors', { W, b: B })]);
    expect(r.code, r.err).toBe(0);
    for (const backend of ['js', 'webgpu']) {
      expect(readdirSync(join(out, backend))).toContain('weights.safetensors');
      expect(JSON.parse(readFileSync(join(out, backend, 'manifest.json'), 'utf8')).weights).toBe('weights.safetensors');
    }
    const js = await loadJsBundle(join(out, 'js'));
    expect(Array.from(js.run({ x: X })['out']!)).toEqual(EXPECTED);
    expect(Array.from(js.getParams().get('W')!.data)).toEqual(W.data);
    // The same through a reader function (how a browser would fetch the files).
    const viaFn = await loadJsBundle(async (f) => readFileSync(join(out, 'js', f)));
    expect(Array.from(viaFn.run({ x: X })['out']!)).toEqual(EXPECTED);
    if (WEBGPU) {
      const gpu = await loadWebGpuBundle((await getDevice())!, join(out, 'webgpu'));
      expect(Array.from((await gpu.run({ x: X }))['out']!)).toEqual(EXPECTED);
      gpu.destroy();
    }
  });

  it('without --params the bundle has no weights file and uses the initializers', async () => {
    const out = file('plain');
    expect((await run(['build', file('lin.dl'), '--fn', 'Lin.forward', '--dim', 'B=2', '-o', out, '--backend', 'js'])).code).toBe(0);
    expect(existsSync(join(out, 'js', 'weights.safetensors'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'js', 'manifest.json'), 'utf8')).weights).toBeUndefined();
    const js = await loadJsBundle(join(out, 'js'));
    expect(Array.from(js.run({ x: X })['out']!)).not.toEqual(EXPECTED);
  });

  it('refuses weights that do not fit before writing anything', async () => {
    const out = file('bad');
    const r = await run(['build', file('lin.dl'), '--fn', 'Lin.forward', '--dim', 'B=2', '-o', out, '--params', weights('only-w.safetensors', { W })]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('`b`: missing');
    expect(existsSync(join(out, 'js'))).toBe(false);
  });

  it('the runtime refuses a bundle whose weights file does not match its manifest, naming the file', async () => {
    const out = file('tampered');
    expect((await run(['build', file('lin.dl'), '--fn', 'Lin.forward', '--dim', 'B=2', '-o', out, '--backend', 'js', '--params', weights('wt.safetensors', { W, b: B })])).code).toBe(0);
    writeFileSync(join(out, 'js', 'weights.safetensors'), writeSafetensors({ W, b: { dtype: 'F32', shape: [3], data: [1, 2, 3] } }));
    // The manifest lists each file's size and SHA-256 (test/runtime/bundle-*.test.ts checks the tensor-level errors too).
    await expect(loadJsBundle(join(out, 'js'))).rejects.toThrow(/js: weights\.safetensors: (has \d+ bytes, manifest\.json says \d+|is corrupt)/);
    const bytes = readFileSync(join(out, 'js', 'weights.safetensors'));
    writeFileSync(join(out, 'js', 'weights.safetensors'), bytes.subarray(0, bytes.length - 4));
    await expect(loadJsBundle(join(out, 'js'))).rejects.toThrow(/weights\.safetensors: has \d+ bytes, manifest\.json says \d+ \(truncated/);
  });
});
