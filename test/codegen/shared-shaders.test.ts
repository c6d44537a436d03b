/**
 * WGSL kernels read buffer offsets, loop bounds and constant index terms from a per-kernel
 * uniform block (src/codegen/wgsl/params.ts): kernels that differ only in those share one
 * shader file and one pipeline, and no reduction or contraction loop has a literal bound (a
 * CPU Vulkan driver would unroll it and take seconds to compile). Results stay the same.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileGraph } from '../../src/codegen/compile.js';
import { PARAM_DECL, PARAM_SLOTS, PARAM_STRIDE } from '../../src/codegen/wgsl/params.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { compile, makeExecutable, runPipeline } from '../../src/index.js';
import { captureIo } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

// An unrolled recurrence: every step's kernels are the same but for the time slice they read.
const RNN = `
fn rnn(x: f32[4, 6, 8], W: f32[8, 8], U: f32[8, 8]) -> f32 {
  let h = zeros([4, 8])
  for t in 0..6 {
    h = tanh(x[:, t] @ W + h @ U)
  }
  return sum(h * h)
}

fn big(a: f32[40, 300], b: f32[300, 20]) {
  return (a @ b, sum(a, axis = 1))
}

fn blocked(a: f32[128, 256], b: f32[256, 96], c: f32[96]) {
  return relu(a @ b + c)
}

fn sizes(a: f32[32, 48], b: f32[48, 80], c: f32[64, 16], d: f32[16, 96]) {
  return (a @ b, c @ d)
}

fn exact(a: f32[128, 256], b: f32[256, 128], c: f32[48, 32], d: f32[32, 16], e: f32[128, 256]) {
  return (a @ b, c @ d, a @ e.T)
}
`;

const graph = (fn: string) => runPipeline(compile(RNN, fn, { path: 'rnn.dl' })).graph;

describe('kernels share shaders', () => {
  it('the steps of an unrolled loop share shaders; the manifest lists each shader once', () => {
    const c = compileGraph(graph('rnn'), { backend: 'webgpu' });
    const kernels = c.manifest.kernels;
    expect(kernels.length).toBeGreaterThanOrEqual(6);
    expect(c.manifest.shaders!.length).toBeLessThan(kernels.length / 2);
    expect(new Set(c.wgsl!.values()).size).toBe(c.manifest.shaders!.length);
    // Kernels of one shader have that shader's text and parameter blocks of the same length,
    // with different values (their offsets differ).
    const byShader = new Map<number, typeof kernels[number][]>();
    for (const k of kernels) byShader.set(k.shader!, [...(byShader.get(k.shader!) ?? []), k]);
    const shared = [...byShader.values()].filter((ks) => ks.length > 1);
    expect(shared.length).toBeGreaterThan(0);
    for (const ks of shared) {
      const text = c.shaders!.get(c.manifest.shaders![ks[0]!.shader!]!)!;
      for (const k of ks) {
        expect(c.wgsl!.get(k.name)).toBe(text);
        expect(k.params!.length).toBe(ks[0]!.params!.length);
        expect(k.params!.length).toBeLessThanOrEqual(PARAM_SLOTS);
      }
      expect(new Set(ks.map((k) => k.params!.join(','))).size).toBeGreaterThan(1);
    }
  });

  it('the runtime binds the block the shaders declare', async () => {
    const runtime = await import('../../src/runtime/webgpu-executor.js');
    expect(runtime.PARAM_STRIDE).toBe(PARAM_STRIDE);
    expect(PARAM_SLOTS * 4).toBeLessThanOrEqual(PARAM_STRIDE);
    expect(PARAM_STRIDE % 256).toBe(0);
    expect(PARAM_DECL).toContain(`array<vec4<u32>, ${PARAM_SLOTS / 4}>`);
  });

  it('a product the tiles divide has no bounds checks; one they do not divide keeps them', () => {
    const exact = [...compileGraph(graph('exact'), { backend: 'webgpu' }).shaders!.values()];
    // a @ e.T reads e with a column stride of 256: a blocked row's columns are (col + j) * 256.
    expect(exact.length).toBe(2);
    expect(exact.filter((code) => code.includes('vec4<f32>')).length).toBe(1); // register-blocked
    for (const code of exact) {
      expect(code).not.toContain('select(');
      expect(code).not.toMatch(/\bmin\(/);
      expect(code).not.toMatch(/if \(row </);
    }
    const edge = [...compileGraph(graph('blocked'), { backend: 'webgpu' }).shaders!.values()][0]!;
    expect(edge).toMatch(/col \+ 1 < i32\(P\[/);
    expect(edge).not.toMatch(/row < 128/);
  });

  it('products that differ only in their sizes share a shader', () => {
    const c = compileGraph(graph('sizes'), { backend: 'webgpu' });
    expect(c.manifest.kernels.length).toBe(2);
    expect(c.shaders!.size).toBe(1);
    expect(c.manifest.kernels[0]!.params).not.toEqual(c.manifest.kernels[1]!.params);
  });

  it('contraction and reduction loops have no literal bound', () => {
    const c = compileGraph(graph('big'), { backend: 'webgpu' });
    expect(c.manifest.kernels.length).toBe(2);
    const b = compileGraph(graph('blocked'), { backend: 'webgpu' });
    expect(b.shaders!.size).toBe(1);
    expect([...b.shaders!.values()][0]).toContain('vec4<f32>');
    for (const code of [...c.shaders!.values(), ...b.shaders!.values()]) {
      const bounds = [...code.matchAll(/for \(var (\w+): [iu]32 = [^;]+; \1 < ([^;]+);/g)].map((m) => m[2]!);
      expect(bounds.length).toBeGreaterThan(0);
      for (const b of bounds) expect(b).toMatch(/P\[\d+\]\.[xyzw]/);
    }
  });

  it('dlc build writes each shader once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-shared-'));
    const { writeFileSync } = await import('node:fs');
    const file = join(dir, 'rnn.dl');
    writeFileSync(file, RNN);
    const io = captureIo();
    expect(await main(['build', file, '--fn', 'rnn', '--backend', 'webgpu', '-o', join(dir, 'out')], io.io)).toBe(0);
    const c = compileGraph(graph('rnn'), { backend: 'webgpu' });
    const files = readdirSync(join(dir, 'out', 'webgpu')).filter((f) => f.endsWith('.wgsl'));
    expect(files.length).toBe(c.manifest.shaders!.length);
    expect(files.length).toBeLessThan(c.manifest.kernels.length);
  });

  it.runIf(WEBGPU)('shared shaders give the interpreter’s results on WebGPU', async () => {
    // blocked: a register-blocked product (4 x 4 results per thread) with an epilogue; exact:
    // products the tiles divide in every dimension (no bounds checks), blocked and not.
    for (const fn of ['rnn', 'big', 'blocked', 'exact', 'sizes']) {
      const g = graph(fn);
      const inputs = new Map(g.inputs.map((n, i) => [String(n.attrs.name), randomArray('f32', [...n.type.shape] as number[], i + 1, String(n.attrs.name))]));
      const ref = await (await makeExecutable(g, { backend: 'interp' })).run(inputs);
      const got = await (await makeExecutable(g, { backend: 'webgpu' })).run(inputs);
      for (const [name, r] of ref) {
        const v = got.get(name)!;
        r.data.forEach((x, i) => expect(Math.abs(x - v.data[i]!), `${fn} ${name}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(x))));
      }
    }
  });
});
