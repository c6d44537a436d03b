/**
 * WebGPU errors are raised, not swallowed: a dispatch beyond the device's limits (a manifest that
 * bypassed the bundle checks), a run after the executor's buffers were freed, and a lost device
 * each give a GpuError (naming the kernel on a first run, when each kernel runs in its own error
 * scope) instead of outputs of zeros.
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/codegen/compile.js';
import { compile } from '../../src/index.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { GpuError } from '../../src/runtime/gpu-errors.js';
import { getDevice, getGpu, WebGpuExecutor } from '../../src/runtime/webgpu-executor.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = 'fn f(x: f32[4, 8]) -> f32[4] {\n  return sum(tanh(x) * 2.0, axis=1)\n}\n';
const X = Array.from({ length: 32 }, (_, i) => (i - 16) / 8);

function program() {
  const c = compileGraph(runPipeline(compile(SRC, 'f')).graph, { backend: 'webgpu' });
  return { manifest: c.manifest, wgsl: new Map(c.shaders ?? []) };
}

describe.runIf(WEBGPU)('WebGPU errors', () => {
  it('an intact program runs (the reference for the cases below)', async () => {
    const ex = await WebGpuExecutor.create((await getDevice())!, program());
    const out = (await ex.run({ x: X }))['out']!;
    const want = [0, 1, 2, 3].map((r) => X.slice(r * 8, r * 8 + 8).reduce((s, v) => s + Math.tanh(v) * 2, 0));
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 4));
    ex.destroy();
  });

  it('too many workgroups: a GpuError naming the kernel, on the first run and the next', async () => {
    const p = program();
    const k = p.manifest.kernels[0]!;
    const manifest = { ...p.manifest, kernels: [{ ...k, workgroups: [70000, 1, 1] as const }, ...p.manifest.kernels.slice(1)] };
    const ex = await WebGpuExecutor.create((await getDevice())!, { manifest, wgsl: p.wgsl });
    const err = await ex.run({ x: X }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kernel).toBe(k.name);
    expect((err as GpuError).kind).toBe('validation');
    expect((err as Error).message).toMatch(new RegExp(`WebGPU validation error in kernel ${k.name}: .*70000`, 's'));
    await expect(ex.run({ x: X })).rejects.toThrow(GpuError);
    ex.destroy();
  });

  it('a run after destroy(): a GpuError, not zeros', async () => {
    const ex = await WebGpuExecutor.create((await getDevice())!, program());
    await ex.run({ x: X });
    ex.destroy();
    await expect(ex.run({ x: X })).rejects.toThrow(/WebGPU validation error.*destroyed/is);
  });

  it('a lost device: a GpuError saying so', async () => {
    const adapter = await (await getGpu())!.requestAdapter();
    const device = await adapter!.requestDevice();
    const ex = await WebGpuExecutor.create(device, program());
    await ex.run({ x: X });
    device.destroy();
    await device.lost;
    const err = await ex.run({ x: X }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).kind).toBe('device-lost');
    expect((err as Error).message).toMatch(/WebGPU device lost: destroyed/);
  });
});
