/**
 * Generated code: golden WGSL and JS for a few small kernels (same input, same text), device
 * limits as diagnostics at the `.dl` line, a planted WGSL compile failure reported with both
 * the `.dl` and the WGSL location, and a built JS module running without the compiler.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/codegen/compile.js';
import { DEFAULT_LIMITS } from '../../src/codegen/wgsl/limits.js';
import { BackendError, makeExecutable } from '../../src/exec.js';
import { compile, renderDiagnostics } from '../../src/index.js';
import type { Backend, OpDef, Template } from '../../src/ir/op.js';
import { OPS } from '../../src/ir/ops/index.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { JsExecutor } from '../../src/runtime/js-executor.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { main } from '../../src/cli/main.js';
import { captureIo, expectGolden, ROOT } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

const golden = (name: string) => `${ROOT}test/golden/codegen/${name}`;

const SMALL = `
fn softmax_rows(x: f32[2, 3]) -> f32[2, 3] { return softmax(x, axis=-1) }
fn affine(x: f32[2, 3], W: f32[3, 4], b: f32[4]) -> f32[2, 4] { return x @ W + b }
fn conv(x: f32[1, 1, 4, 4], w: f32[2, 1, 3, 3]) -> f32[1, 2, 2, 2] { return conv2d(x, w) }
`;

function program(entry: string) {
  return runPipeline(compile(SMALL, entry, { path: 'small.dl' })).graph;
}

describe('golden generated code', () => {
  for (const entry of ['softmax_rows', 'affine', 'conv']) {
    it(`${entry}: JS module and WGSL kernels`, () => {
      const js = compileGraph(program(entry), { backend: 'js' });
      expectGolden(js.js!, golden(`${entry}.js`));
      const again = compileGraph(program(entry), { backend: 'js' });
      expect(again.js).toBe(js.js);
      const wg = compileGraph(program(entry), { backend: 'webgpu' });
      const text = [...wg.wgsl!].map(([name, code]) => `// ==== ${name}.wgsl\n${code}`).join('\n');
      expectGolden(text, golden(`${entry}.wgsl`));
    });
  }
});

describe('device limits', () => {
  it('a tensor larger than a storage binding is a diagnostic at its line', () => {
    const src = ['fn big(x: f32[64, 64]) -> f32[64, 64] {', '  let y = x @ x', '  return tanh(y)', '}', ''].join('\n');
    const g = runPipeline(compile(src, 'big', { path: 'big.dl' })).graph;
    const c = compileGraph(g, { backend: 'webgpu', limits: { ...DEFAULT_LIMITS, maxStorageBufferBindingSize: 16384 } });
    expect(c.diagnostics.map((d) => d.code)).toEqual(['DL0501']);
    expectGolden(renderDiagnostics(c.diagnostics), golden('DL0501-binding.txt'));
  });

  it('too many workgroups for one dimension is a diagnostic', () => {
    const src = 'fn wide(x: f32[300000]) -> f32[300000] { return exp(x) }\n';
    const g = runPipeline(compile(src, 'wide', { path: 'wide.dl' })).graph;
    const c = compileGraph(g, { backend: 'webgpu', limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupsPerDimension: 16 } });
    expect(c.diagnostics.map((d) => d.code)).toEqual(['DL0501']);
    expect(c.diagnostics[0]!.span?.file.path).toBe('wide.dl');
  });

  it('makeExecutable refuses a program over the limits', async () => {
    const g = program('affine');
    await expect(makeExecutable(g, { backend: 'webgpu', limits: { ...DEFAULT_LIMITS, maxStorageBufferBindingSize: 8 } })).rejects.toBeInstanceOf(BackendError);
  });
});

describe.runIf(WEBGPU)('a WGSL compile failure', () => {
  it('is reported at the .dl line and at the WGSL line', async () => {
    const def = OPS.get('tanh') as OpDef & { emit: Record<Backend, Template> };
    const saved = def.emit;
    (def as { emit: unknown }).emit = { ...saved, wgsl: (c: { args: readonly string[] }) => `tanh(${c.args[0]}) +* 1.0` };
    try {
      const src = ['fn f(x: f32[4]) -> f32[4] {', '  return 2.0 * tanh(x)', '}', ''].join('\n');
      const g = runPipeline(compile(src, 'f', { path: 'plant.dl' })).graph;
      const err = await makeExecutable(g, { backend: 'webgpu' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BackendError);
      const d = (err as BackendError).diagnostics[0]!;
      expect(d.code).toBe('DL0502');
      expect(d.span?.file.path).toBe('plant.dl');
      expect(d.span?.file.position(d.span.start).line).toBe(2);
      expect(d.notes.join('\n')).toMatch(/WGSL k\d+_\w+\.wgsl:\d+:\d+: .*tanh\(.*\+\* 1\.0/);
    } finally {
      (def as { emit: unknown }).emit = saved;
    }
  });
});

describe.runIf(WEBGPU)('a large contraction (register-blocked on WebGPU)', () => {
  it('agrees with the interpreter, edges included', async () => {
    const src = 'fn f(a: f32[2, 130, 257], b: f32[2, 257, 129]) -> f32[2, 130, 129] { return tanh(a @ b / 16.0) }';
    const g = runPipeline(compile(src, 'f')).graph;
    const wg = compileGraph(g, { backend: 'webgpu' });
    expect(wg.wgsl!.get(wg.program.kernels[0]!.name)).toContain('vec4<f32>');
    const inputs = new Map(g.inputs.map((i) => [String(i.attrs['name']), randomArray('f32', i.type.shape, 5, String(i.attrs['name']))]));
    const ref = (await (await makeExecutable(g, { backend: 'interp' })).run(inputs)).get('out')!;
    const got = (await (await makeExecutable(g, { backend: 'webgpu' })).run(inputs)).get('out')!;
    ref.data.forEach((v, i) => expect(Math.abs(v - got.data[i]!)).toBeLessThan(1e-4));
  });
});

describe('dlc build', () => {
  it('writes a JS module and WGSL kernels with versioned manifests; the module runs without the compiler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-build-'));
    const file = join(ROOT, 'examples/mlp.dl');
    const c = captureIo();
    const code = await main(['build', file, '--fn', 'MLP.forward', '--dim', 'B=2', '-o', dir], c.io);
    expect(code).toBe(0);
    expect(readdirSync(join(dir, 'js')).sort()).toEqual(['manifest.json', 'program.js']);
    expect(readdirSync(join(dir, 'webgpu')).some((f) => f.endsWith('.wgsl'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'js', 'manifest.json'), 'utf8'));
    expect(manifest.format).toBe('dlc-program');
    expect(manifest.version).toBe(2);
    const wm = JSON.parse(readFileSync(join(dir, 'webgpu', 'manifest.json'), 'utf8'));
    // Each distinct shader is one file; every kernel names one of them and has its parameters.
    expect(readdirSync(join(dir, 'webgpu')).filter((f) => f.endsWith('.wgsl')).sort()).toEqual([...wm.shaders].sort());
    for (const k of wm.kernels) {
      expect(wm.shaders[k.shader]).toBeDefined();
      expect(Array.isArray(k.params)).toBe(true);
    }
    const module = readFileSync(join(dir, 'js', 'program.js'), 'utf8');
    expect(module).not.toMatch(/\bimport\b/);
    const ex = await JsExecutor.create(manifest, module, 0);
    const x = randomArray('f32', [2, 784], 1, 'x');
    const out = ex.run({ x: x.data });
    const g = runPipeline(compile(readFileSync(file, 'utf8'), 'MLP.forward', { dims: { B: 2 } })).graph;
    const ref = (await (await makeExecutable(g, { backend: 'interp' })).run(new Map([['x', x]]))).get('out')!;
    ref.data.forEach((v, i) => expect(Math.abs(v - out['out']![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(v))));
  });
});

describe('dlc run and verify on backends', () => {
  it('runs on js and webgpu with the same result as the interpreter', async () => {
    const file = join(ROOT, 'examples/logistic-regression.dl');
    const outs: string[] = [];
    for (const b of ['interp', 'js', ...(WEBGPU ? ['webgpu'] : [])]) {
      const c = captureIo();
      expect(await main(['run', file, '--fn', 'LogisticRegression.loss', '--dim', 'B=4', '--backend', b, '--format', 'json'], c.io)).toBe(0);
      outs.push(JSON.parse(c.out()).outputs.out.data[0]);
    }
    for (const v of outs) expect(Math.abs(Number(v) - Number(outs[0]))).toBeLessThan(1e-5);
  });

  it('verify exits 0 when backends agree and prints a table', async () => {
    const c = captureIo();
    expect(await main(['verify', join(ROOT, 'examples/linear-regression.dl')], c.io)).toBe(0);
    expect(c.out()).toContain('js f64');
    expect(c.out()).toContain(WEBGPU ? 'webgpu f32' : 'js f32');
  });

  it('verify exits 1 when a backend disagrees (planted wrong JS template)', async () => {
    const def = OPS.get('exp') as OpDef & { emit: Record<Backend, Template> };
    const saved = def.emit;
    (def as { emit: unknown }).emit = { ...saved, js: (c: { args: readonly string[] }) => `(Math.exp(${c.args[0]}) * 1.001)` };
    try {
      const c = captureIo();
      const dir = mkdtempSync(join(tmpdir(), 'dlc-verify-'));
      const f = join(dir, 'e.dl');
      (await import('node:fs')).writeFileSync(f, 'fn f(x: f32[3]) -> f32[3] { return exp(x) }\n');
      expect(await main(['verify', f], c.io)).toBe(1);
      expect(c.out()).toContain('MISMATCH');
    } finally {
      (def as { emit: unknown }).emit = saved;
    }
  });
});
