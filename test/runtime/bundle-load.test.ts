/**
 * loadProgram: one call loads a bundle written by `dlc build` from a directory (Node fs) or a URL
 * (fetch, here from `dlc serve`'s server), on the backend asked for or the best available, and
 * `run` checks the names, shapes and dtypes of its inputs before anything is written. The JS module
 * is imported by its URL (no `data:` URL); `dlc serve` gives each file its MIME type and the
 * strict content-security policy, and serves nothing outside its directory.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { serveStatic, type StaticServer } from '../../src/cli/commands/serve.js';
import { loadProgram } from '../../src/runtime/bundle.js';
import { BundleError, InputError } from '../../src/runtime/bundle-errors.js';
import { captureIo } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

// A classifier with an f32 input and an i32 label input: logits and the loss.
const SRC = `model Lin {
  param W: f32[3, 2] = normal(0.0, 1.0)
  param b: f32[2] = zeros

  fn loss(x: f32[B, 3], y: i32[B]) -> f32 {
    return cross_entropy(x @ W + b, y)
  }
}
`;

let dir = '';
let server: StaticServer;
const X = [1, 2, 3, -2, 0, 1];
const Y = [1, 0];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dlc-load-'));
  writeFileSync(join(dir, 'lin.dl'), SRC);
  const io = captureIo();
  expect(await main(['build', join(dir, 'lin.dl'), '--fn', 'Lin.loss', '--dim', 'B=2', '-o', join(dir, 'b')], io.io)).toBe(0);
  server = await serveStatic(dir, { port: 0 });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadProgram', () => {
  it('loads a bundle directory on JS and describes its inputs and outputs', async () => {
    const p = await loadProgram(join(dir, 'b'), { backend: 'js' });
    expect(p.backend).toBe('js');
    expect(p.name).toBe('Lin.loss');
    expect(p.inputs).toEqual([
      { name: 'x', dtype: 'f32', shape: [2, 3] },
      { name: 'y', dtype: 'i32', shape: [2], range: { lo: 0, hi: 2, use: expect.any(String) } },
    ]);
    expect(p.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([['out', 'f32', []]]);
    const out = await p.run({ x: X, y: Y });
    expect(Number.isFinite(out['out']![0])).toBe(true);
    // The same through `{ data, shape }` and typed arrays.
    expect((await p.run({ x: { data: Float32Array.from(X), shape: [2, 3] }, y: Int32Array.from(Y) }))['out']).toEqual(out['out']);
  });

  it("has a README.md and index.d.ts that describe the program's inputs and outputs", () => {
    const readme = readFileSync(join(dir, 'b', 'README.md'), 'utf8');
    expect(readme).toMatch(/^# Lin\.loss\n/);
    expect(readme).toContain('| `x` | `f32[2, 3]` |');
    expect(readme).toMatch(/\| `y` \| `i32\[2\]` \| .*: 0\.\.1 \|/);
    expect(readme).toContain('| `out` | `f32[]` |');
    expect(readme).toContain('Backends: js (`js/`), webgpu (`webgpu/`)');
    const types = readFileSync(join(dir, 'b', 'index.d.ts'), 'utf8');
    expect(types).toMatch(/export type Inputs = \{\n  \/\*\* f32\[2, 3\], row-major \(6 values\)\. \*\/\n  readonly x: Float32Array \| Float64Array \| readonly number\[\];/);
    expect(types).toMatch(/readonly y: Int32Array \| readonly number\[\];/);
    expect(types).toMatch(/export type Outputs = \{\n.*\n  readonly out: Float32Array;/);
  });

  it('loads the same bundle from a URL (fetch) and computes the same', async () => {
    const local = await (await loadProgram(join(dir, 'b'), { backend: 'js' })).run({ x: X, y: Y });
    const p = await loadProgram(`${server.url}b/`, { backend: 'js' });
    expect(await p.run({ x: X, y: Y })).toEqual(local);
    // A backend's directory alone, by URL without the trailing slash.
    expect(await (await loadProgram(`${server.url}b/js`)).run({ x: X, y: Y })).toEqual(local);
  });

  it.runIf(WEBGPU)('auto picks WebGPU where there is an adapter; it agrees with JS', async () => {
    const js = await (await loadProgram(join(dir, 'b'), { backend: 'js' })).run({ x: X, y: Y });
    const p = await loadProgram(join(dir, 'b'));
    expect(p.backend).toBe('webgpu');
    const out = await p.run({ x: X, y: Y });
    expect(out['out']![0]).toBeCloseTo(js['out']![0]!, 5);
    p.destroy();
  });

  it('refuses a backend the bundle does not have, and an unknown one', async () => {
    const io = captureIo();
    expect(await main(['build', join(dir, 'lin.dl'), '--fn', 'Lin.loss', '--dim', 'B=2', '--backend', 'js', '-o', join(dir, 'jsonly')], io.io)).toBe(0);
    await expect(loadProgram(join(dir, 'jsonly'), { backend: 'webgpu' })).rejects.toThrow(/jsonly: bundle\.json: has no WebGPU program/);
    expect((await loadProgram(join(dir, 'jsonly'))).backend).toBe('js');
    await expect(loadProgram(join(dir, 'b', 'js'), { backend: 'webgpu' })).rejects.toThrow(BundleError);
    await expect(loadProgram(join(dir, 'b'), { backend: 'cuda' as 'js' })).rejects.toThrow(/backend is auto, js or webgpu, got cuda/);
    await expect(loadProgram(join(dir, 'nothing-here'))).rejects.toThrow(/bundle\.json: is missing, and so is manifest\.json/);
  });

  it('loads a program whose loop stays a loop (manifest `loops`), and refuses a loop past the kernels', async () => {
    const RNN = 'fn f(x: f32[20, 3], w: f32[3, 3]) -> f32[3] {\n  let h = zeros([3])\n  for i in 0..20 {\n    h = tanh(h @ w + x[i] * float(i) * 0.1)\n  }\n  return h\n}\n';
    writeFileSync(join(dir, 'rnn.dl'), RNN);
    const io = captureIo();
    expect(await main(['build', join(dir, 'rnn.dl'), '--fn', 'f', '--backend', 'js', '-o', join(dir, 'rnn')], io.io)).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'rnn', 'js', 'manifest.json'), 'utf8')) as { kernels: unknown[]; loops?: { first: number; count: number }[] };
    expect(m.loops?.length).toBe(1);
    const x = Array.from({ length: 60 }, (_, i) => ((i % 7) - 3) / 4);
    const w = [0.2, -0.1, 0.3, 0.1, 0.2, -0.2, 0, 0.1, 0.2];
    let h = [0, 0, 0];
    for (let i = 0; i < 20; i++) h = [0, 1, 2].map((j) => Math.tanh(h[0]! * w[j]! + h[1]! * w[3 + j]! + h[2]! * w[6 + j]! + x[i * 3 + j]! * i * 0.1));
    const out = Array.from(Object.values(await (await loadProgram(join(dir, 'rnn'))).run({ x, w }))[0]!);
    out.forEach((v, j) => expect(v).toBeCloseTo(h[j]!, 5));
    m.loops![0]!.count = m.kernels.length + 1 - m.loops![0]!.first;
    writeFileSync(join(dir, 'rnn', 'js', 'manifest.json'), JSON.stringify(m));
    await expect(loadProgram(join(dir, 'rnn', 'js'))).rejects.toThrow(/manifest\.json: `loops\[0\]\.count` must be a whole number in 0\.\.\d+/);
  });

  it.each([
    ['an unknown input', { x: X, y: Y, z: [1] }, /Lin\.loss: input `z`: the program has no input of this name \(its inputs: x, y\)/],
    ['a missing input', { x: X }, /input `y`: missing \(the program takes i32\[2\]\)/],
    ['too few values', { x: X.slice(1), y: Y }, /input `x`: has 5 values, the program takes f32\[2, 3\] \(6 values\)/],
    ['a shape that differs', { x: { data: X, shape: [3, 2] }, y: Y }, /input `x`: has shape \[3, 2\], the program takes f32\[2, 3\]/],
    ['float data for an i32 input', { x: X, y: Float32Array.from(Y) }, /input `y`: is Float32Array data, the program takes i32\[2\]/],
    ['a fraction in an i32 input', { x: X, y: [0.5, 1] }, /input `y`: value 0\.5 at index 0 is not a whole number/],
    ['a label out of range', { x: X, y: [0, 2] }, /input `y`: holds .*: value 2 at index 1 is outside 0\.\.1/],
    ['a string among the values', { x: [1, 2, '3', 4, 5, 6], y: Y }, /input `x`: value at index 2 is string, not a number/],
    ['not an array', { x: 'pixels', y: Y }, /input `x`: must be an array or typed array of numbers, got string/],
  ])('run refuses %s with an InputError naming the input', async (_what, inputs, message) => {
    const p = await loadProgram(join(dir, 'b'), { backend: 'js' });
    const err = await p.run(inputs as never).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('dlc serve', () => {
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

  it('serves each kind of bundle file with its MIME type and the strict CSP', async () => {
    for (const [path, type] of [
      ['b/js/program.js', 'text/javascript; charset=utf-8'],
      ['b/bundle.json', 'application/json; charset=utf-8'],
      ['b/webgpu/s0.wgsl', 'text/wgsl; charset=utf-8'],
      ['b/README.md', 'text/markdown; charset=utf-8'],
    ]) {
      const r = await get(path!);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toBe(type);
      expect(r.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self';/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('serves nothing outside its directory, no dot files, only GET and HEAD', async () => {
    expect((await get('/../../etc/passwd')).status).toBe(404);
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get('/..%2f..%2fetc/passwd')).status).toBe(403);
    expect((await get('/.git/config')).status).toBe(404);
    expect((await get('/b/js/program.js', { method: 'POST' })).status).toBe(405);
    expect((await get('/b/missing.js')).status).toBe(404);
    const r = await get('/b', { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/b/');
  });

  it('`dlc serve` refuses a directory that is not there and a bad port', async () => {
    const io = captureIo();
    expect(await main(['serve', join(dir, 'nope')], io.io)).toBe(2);
    expect(io.err()).toMatch(/no such directory/);
    const io2 = captureIo();
    expect(await main(['serve', dir, '--port', '99999'], io2.io)).toBe(2);
    expect(io2.err()).toMatch(/--port is a port number 0\.\.65535, got `99999`/);
  });
});
