/**
 * @file Runs a program compiled for WebGPU. Shader modules and pipelines are created once, at
 * load: one per distinct shader (kernels differing only in offsets share one), all in parallel;
 * each dispatch binds its kernel's parameter block (a dynamic uniform offset). A call writes the inputs, records every dispatch in one command encoder, and reads back
 * only the outputs asked for. Works with Node's `webgpu` package (Dawn) or a browser's
 * `navigator.gpu`; imports nothing from the compiler.
 */
/// <reference types="@webgpu/types" />
import { bufferByName, checkManifest, type Manifest } from './manifest.js';
import { checkCallInputs, elementCount, initState, makeSpace, readBuffer, writeBuffer, type Space } from './memory.js';
import { sharedPrecision, type TypedArray } from './js-executor.js';
import type { ManifestBuffer } from './manifest.js';
import { StateWriter, type Tensor } from './state.js';
import { LOOP_COPY_WGSL, loopSchedule, type Dispatch } from './webgpu-loops.js';
import { scoped, watchDevice } from './gpu-errors.js';

export interface ShaderMessage {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** A kernel's WGSL did not compile; `messages` carry WGSL line numbers. */
export class ShaderCompileError extends Error {
  constructor(
    readonly kernel: string,
    readonly code: string,
    readonly messages: readonly ShaderMessage[],
  ) {
    super(`WGSL compilation failed for ${kernel}: ${messages.map((m) => `${m.line}:${m.col}: ${m.message}`).join('; ')}`);
  }
}

let nodeGpu: Promise<GPU | undefined> | undefined;

/** The platform's WebGPU entry point: `navigator.gpu`, or Dawn through the `webgpu` package in Node. */
export async function getGpu(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  nodeGpu ??= (async () => {
    try {
      const name = 'webgpu';
      const mod = (await import(name)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
      Object.assign(globalThis, mod.globals);
      return mod.create([]);
    } catch {
      return undefined;
    }
  })();
  return nodeGpu;
}

let sharedDevice: Promise<GPUDevice | undefined> | undefined;

/** One device per process, created on first use (undefined when no adapter is found). */
export async function getDevice(): Promise<GPUDevice | undefined> {
  sharedDevice ??= (async () => {
    const gpu = await getGpu();
    const adapter = await gpu?.requestAdapter();
    return adapter ? adapter.requestDevice() : undefined;
  })();
  return sharedDevice;
}

export interface WebGpuLoad {
  readonly manifest: unknown;
  /** WGSL sources by shader file name (`manifest.shaders`) or by kernel name. */
  readonly wgsl: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

/** The memory of one or several programs: a host mirror of the state space, the state and arena on the GPU. */
interface SharedGpuMemory {
  readonly host: Space;
  readonly state: GPUBuffer;
  readonly arena: GPUBuffer;
  /** Persistent tensors already initialized (by another program over the same state). */
  readonly initialized: Set<string>;
}

function newGpuMemory(device: GPUDevice, stateBytes: number, arenaBytes: number): SharedGpuMemory {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  return {
    host: makeSpace(stateBytes, 'f32'),
    state: device.createBuffer({ size: stateBytes, usage }),
    arena: device.createBuffer({ size: arenaBytes, usage: GPUBufferUsage.STORAGE }),
    initialized: new Set(),
  };
}

/** Bytes per kernel parameter block, and the binding of the block (see src/codegen/wgsl/params.ts). */
export const PARAM_STRIDE = 1024;
const PARAM_BINDING = 2;

export class WebGpuExecutor extends StateWriter {
  private readonly host: Space;
  private readonly state: GPUBuffer;
  private readonly arena: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  /** Dispatches recorded by the last `run` (for reports and benchmarks). */
  dispatches = 0;
  /** What a run dispatches, in order: every kernel once, a loop's body kernels and copies at each of its steps. */
  private readonly schedule: readonly Dispatch[];
  /** The schedule in parts (a kernel, or a whole loop), each with the name a device error is reported under. */
  private readonly units: readonly { readonly name: string; readonly from: number; readonly to: number }[];
  /** Whether a run has gone through kernel by kernel, each in its own error scope (gpu-errors.ts). */
  private checked = false;

  private constructor(
    readonly device: GPUDevice,
    readonly manifest: Manifest,
    private readonly pipelines: readonly { pipeline: GPUComputePipeline; workgroups: readonly [number, number, number] }[],
    layout: GPUBindGroupLayout,
    seed: number,
    /** Distinct shader modules (and pipelines) created at load. */
    readonly shaderCount: number,
    memory: SharedGpuMemory = newGpuMemory(device, manifest.state.bytes, manifest.arena.bytes),
    /** The copy shader of loops (src/runtime/webgpu-loops.ts), when the program has loops. */
    private readonly copyPipeline?: GPUComputePipeline,
  ) {
    super();
    watchDevice(device);
    this.host = memory.host;
    initState(manifest, this.host, seed, memory.initialized);
    this.state = memory.state;
    this.arena = memory.arena;
    device.queue.writeBuffer(this.state, 0, this.host.buffer);
    const loops = loopSchedule(manifest);
    this.schedule = loops.dispatches;
    this.units = loops.units;
    const blocks = new Uint32Array((Math.max(1, manifest.kernels.length + loops.blocks.length) * PARAM_STRIDE) / 4);
    manifest.kernels.forEach((k, i) => blocks.set(k.params ?? [], (i * PARAM_STRIDE) / 4));
    loops.blocks.forEach((w, j) => blocks.set(w, ((manifest.kernels.length + j) * PARAM_STRIDE) / 4));
    this.params = device.createBuffer({ size: blocks.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(this.params, 0, blocks);
    this.bindGroup = device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: this.state } },
        { binding: 1, resource: { buffer: this.arena } },
        { binding: PARAM_BINDING, resource: { buffer: this.params, size: PARAM_STRIDE } },
      ],
    });
  }

  static async create(device: GPUDevice, load: WebGpuLoad, seed = 0): Promise<WebGpuExecutor> {
    const p = await WebGpuExecutor.load(device, load);
    return new WebGpuExecutor(device, p.manifest, p.pipelines, p.layout, seed, p.shaderCount, undefined, p.copy);
  }

  /**
   * Executors of programs compiled together over one state (`compileShared`): one state buffer
   * on the GPU (and one arena, one program runs at a time), so running them in turn alternates
   * over one state with nothing copied.
   */
  static async createShared(device: GPUDevice, loads: readonly WebGpuLoad[], seed = 0): Promise<WebGpuExecutor[]> {
    if (loads.length === 1) return [await WebGpuExecutor.create(device, loads[0]!, seed)];
    const ps = await Promise.all(loads.map((l) => WebGpuExecutor.load(device, l)));
    sharedPrecision(ps.map((p) => p.manifest));
    const memory = newGpuMemory(device, Math.max(...ps.map((p) => p.manifest.state.bytes)), Math.max(...ps.map((p) => p.manifest.arena.bytes)));
    return ps.map((p) => new WebGpuExecutor(device, p.manifest, p.pipelines, p.layout, seed, p.shaderCount, memory, p.copy));
  }

  private static async load(
    device: GPUDevice,
    load: WebGpuLoad,
  ): Promise<{ manifest: Manifest; pipelines: { pipeline: GPUComputePipeline; workgroups: readonly [number, number, number] }[]; layout: GPUBindGroupLayout; shaderCount: number; copy?: GPUComputePipeline }> {
    const manifest = checkManifest(load.manifest);
    if (manifest.backend !== 'webgpu') throw new Error(`this program was built for the ${manifest.backend} backend`);
    const source = (name: string | undefined) => (name === undefined ? undefined : load.wgsl instanceof Map ? load.wgsl.get(name) : (load.wgsl as Record<string, string>)[name]);
    const storage = { type: 'storage' as const };
    const layout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: storage },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: storage },
        { binding: PARAM_BINDING, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_STRIDE } },
      ],
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    // One pipeline per distinct text, all created at once. (Cheap on lavapipe, which compiles a
    // pipeline at its first dispatch, on the queue's thread: bench/README.md, WebGPU cold start.)
    const byText = new Map<string, Promise<GPUComputePipeline>>();
    const make = async (name: string, code: string): Promise<GPUComputePipeline> => {
      const module = device.createShaderModule({ code, label: name });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length) throw new ShaderCompileError(name, code, errors.map((m) => ({ line: m.lineNum, col: m.linePos, message: m.message })));
      // A creation error rejects (a GPUPipelineError) instead of reaching an error scope (and
      // scopes pushed by concurrent creations would interleave).
      try {
        return await device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: 'main' }, label: name });
      } catch (e) {
        throw new ShaderCompileError(name, code, [{ line: 0, col: 0, message: e instanceof Error ? e.message : String(e) }]);
      }
    };
    const pending = manifest.kernels.map((k) => {
      const code = source(k.shader === undefined ? undefined : manifest.shaders?.[k.shader]) ?? source(k.name);
      if (code === undefined) throw new Error(`missing WGSL for kernel ${k.name}`);
      if (!byText.has(code)) byText.set(code, make(k.name, code));
      return byText.get(code)!;
    });
    const copy = manifest.loops?.length ? make('loop_copy', LOOP_COPY_WGSL) : undefined;
    const settled = await Promise.allSettled([...pending, ...(copy ? [copy] : [])]);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const pipelines = manifest.kernels.map((k, i) => ({ pipeline: (settled[i] as PromiseFulfilledResult<GPUComputePipeline>).value, workgroups: k.workgroups ?? ([1, 1, 1] as const) }));
    return { manifest, pipelines, layout, shaderCount: byText.size, ...(copy ? { copy: await copy } : {}) };
  }

  setParam(name: string, values: ArrayLike<number>): void {
    const b = bufferByName(this.manifest, name, 'param');
    if (!b) throw new Error(`no parameter \`${name}\``);
    writeBuffer(this.host, b, 'f32', values);
    this.upload(b.offset, elementCount(b) * 4);
  }

  /** The model parameters (role `param`) by name, read back from the GPU. */
  async getParams(): Promise<Map<string, Tensor>> {
    return this.read('params');
  }

  /** Every persistent tensor (parameters, optimizer state, step counters), read back from the GPU. */
  async getState(): Promise<Map<string, Tensor>> {
    return this.read('state');
  }

  private async read(which: 'params' | 'state'): Promise<Map<string, Tensor>> {
    const all = this.buffers(which);
    const values = await this.download(all.map((x) => x.buffer), this.device.createCommandEncoder());
    return new Map(all.map(({ slot }) => [slot.name, { dtype: slot.dtype, shape: slot.shape, data: values[slot.name]! }]));
  }

  protected put(b: ManifestBuffer, values: ArrayLike<number>): void {
    writeBuffer(this.host, b, 'f32', values);
    this.upload(b.offset, elementCount(b) * 4);
  }

  private upload(offset: number, bytes: number): void {
    this.device.queue.writeBuffer(this.state, offset, this.host.buffer, offset, Math.ceil(bytes / 4) * 4);
  }

  /** Runs the program; reads back the named outputs (all of them by default). */
  async run(inputs: Readonly<Record<string, ArrayLike<number>>>, outputs: readonly string[] = this.manifest.outputs): Promise<Record<string, TypedArray>> {
    checkCallInputs(this.manifest, inputs, this.checkRanges);
    for (const name of this.manifest.inputs) {
      const b = bufferByName(this.manifest, name, 'input')!;
      writeBuffer(this.host, b, 'f32', inputs[name]!);
      this.upload(b.offset, elementCount(b) * 4);
    }
    const wanted = outputs.map((name) => {
      const b = bufferByName(this.manifest, name, 'output');
      if (!b) throw new Error(`no output \`${name}\``);
      return b;
    });
    this.dispatches = 0;
    if (!this.checked) {
      // The first run submits each kernel alone in its own error scope, so a device error names it.
      for (const u of this.units) await scoped(this.device, u.name, () => this.device.queue.submit([this.encode(this.device.createCommandEncoder(), u.from, u.to).finish()]));
      const out = await scoped(this.device, undefined, () => this.download(wanted, this.device.createCommandEncoder()));
      this.checked = true;
      return out;
    }
    return scoped(this.device, undefined, () => this.download(wanted, this.encode(this.device.createCommandEncoder(), 0, this.schedule.length)));
  }

  /** Records dispatches from..to-1 of the schedule in one compute pass. */
  private encode(enc: GPUCommandEncoder, from: number, to: number): GPUCommandEncoder {
    const pass = enc.beginComputePass();
    let last: GPUComputePipeline | undefined;
    for (let i = from; i < to; i++) {
      const d = this.schedule[i]!;
      const p = 'kernel' in d ? this.pipelines[d.kernel]! : { pipeline: this.copyPipeline!, workgroups: d.workgroups };
      if (p.pipeline !== last) pass.setPipeline(p.pipeline);
      last = p.pipeline;
      pass.setBindGroup(0, this.bindGroup, [('kernel' in d ? d.kernel : d.block) * PARAM_STRIDE]);
      pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1], p.workgroups[2]);
      this.dispatches++;
    }
    pass.end();
    return enc;
  }

  /** Records copies of the buffers after what `enc` holds, submits it, and reads them back. */
  private async download(wanted: readonly ManifestBuffer[], enc: GPUCommandEncoder): Promise<Record<string, TypedArray>> {
    const total = wanted.reduce((s, b) => s + elementCount(b) * 4, 0);
    const staging = this.device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    let at = 0;
    const places = wanted.map((b) => {
      const bytes = elementCount(b) * 4;
      if (bytes > 0) enc.copyBufferToBuffer(this.state, b.offset, staging, at, bytes);
      const place = at;
      at += bytes;
      return place;
    });
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    const out: Record<string, TypedArray> = {};
    const view = makeSpace(Math.max(4, total), 'f32');
    new Uint8Array(view.buffer).set(new Uint8Array(bytes));
    wanted.forEach((b, k) => {
      out[b.name] = readBuffer(view, { ...b, offset: places[k]! }, 'f32');
    });
    return out;
  }

  /** Frees the GPU buffers (of every program sharing this one's state, too). */
  destroy(): void {
    this.state.destroy();
    this.arena.destroy();
    this.params.destroy();
  }
}
