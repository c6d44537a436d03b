/**
 * @file WebGPU errors raised instead of swallowed: a device reports validation and out-of-memory
 * errors asynchronously (a dispatch with too many workgroups, a binding past a buffer, a destroyed
 * buffer), and the commands that caused them simply do nothing, so a run would return zeros. The
 * WebGPU executor runs each kernel in an error scope of its own on its first run (so an error names
 * the kernel), later runs in one scope, and watches `device.lost`; each failure is a GpuError.
 * Imports nothing from the compiler.
 */
/// <reference types="@webgpu/types" />

declare global {
  // The platform types the runtime's public signatures name, opaque for a consumer whose project
  // has no such types (GPUDevice in a Node project, URL in one with neither DOM nor Node types);
  // merged with lib.dom's, @types/node's or @webgpu/types' declarations where they exist. (A
  // consumer need not install @webgpu/types, which itself needs the DOM library.)
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface GPUDevice {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface GPU {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface URL {}
}

/** A WebGPU failure while running a program: the kernel (when known), and what the device said. */
export class GpuError extends Error {
  constructor(
    /** The kernel whose commands failed, when a run was checked kernel by kernel. */
    readonly kernel: string | undefined,
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'device-lost',
    readonly detail: string,
  ) {
    super(`WebGPU ${kind === 'device-lost' ? 'device lost' : `${kind} error`}${kernel ? ` in kernel ${kernel}` : ''}: ${detail}`);
    this.name = 'GpuError';
  }
}

const lost = new WeakMap<GPUDevice, string>();
const watched = new WeakSet<GPUDevice>();

/** Records when a device is lost, so that later runs on it fail with a GpuError instead of hanging or returning zeros. */
export function watchDevice(device: GPUDevice): void {
  if (watched.has(device)) return;
  watched.add(device);
  void device.lost?.then((info) => lost.set(device, `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`));
}

/** Throws a GpuError when the device was lost. */
export function checkDevice(device: GPUDevice, kernel?: string): void {
  const why = lost.get(device);
  if (why !== undefined) throw new GpuError(kernel, 'device-lost', why);
}

const KINDS = ['validation', 'out-of-memory', 'internal'] as const;

/**
 * Runs `work` (which records and submits commands) inside validation, out-of-memory and internal
 * error scopes; the first error the device reports becomes a GpuError naming `kernel`.
 */
export async function scoped<T>(device: GPUDevice, kernel: string | undefined, work: () => T | Promise<T>): Promise<T> {
  checkDevice(device, kernel);
  for (const k of KINDS) device.pushErrorScope(k);
  let result: T;
  try {
    result = await work();
  } finally {
    // Popped in reverse order; every scope is popped even when `work` threw.
    const errors: (GPUError | null)[] = [];
    for (let i = KINDS.length - 1; i >= 0; i--) errors[i] = await device.popErrorScope();
    const at = errors.findIndex((e) => e !== null);
    // eslint-disable-next-line no-unsafe-finally
    if (at >= 0) throw new GpuError(kernel, KINDS[at]!, errors[at]!.message);
  }
  checkDevice(device, kernel);
  return result;
}
