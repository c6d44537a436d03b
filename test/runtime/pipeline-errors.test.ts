/**
 * A shader that compiles but whose pipeline cannot be created (here: a binding the executor's
 * layout lacks) raises a ShaderCompileError naming its kernel, like a WGSL error: the
 * GPUPipelineError that createComputePipelineAsync rejects with is not let through bare.
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/codegen/compile.js';
import { compile } from '../../src/index.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { getDevice, ShaderCompileError, WebGpuExecutor } from '../../src/runtime/webgpu-executor.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = 'fn f(x: f32[4, 8]) -> f32[4] {\n  return sum(tanh(x) * 2.0, axis=1)\n}\n';

describe.runIf(WEBGPU)('WebGPU pipeline creation errors', () => {
  it('a binding outside the layout: a ShaderCompileError naming the kernel', async () => {
    const c = compileGraph(runPipeline(compile(SRC, 'f')).graph, { backend: 'webgpu' });
    const wgsl = new Map(c.shaders ?? []);
    const k = c.manifest.kernels[0]!;
    const file = c.manifest.shaders![k.shader!]!;
    expect(wgsl.has(file)).toBe(true);
    wgsl.set(file, '@group(0) @binding(5) var<storage, read_write> X: array<u32>;\n@compute @workgroup_size(1) fn main() { X[0] = 1u; }\n');
    const err = await WebGpuExecutor.create((await getDevice())!, { manifest: c.manifest, wgsl }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect((err as ShaderCompileError).kernel).toBe(k.name);
    expect((err as Error).message).toMatch(/binding/i);
  });
});
