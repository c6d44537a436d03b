/**
 * @file WebGPU device limits, checked at compile time so that a program a device cannot run is
 * a diagnostic at the `.dl` line responsible, never a silent wrong answer.
 */
import { error, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { formatShape } from '../../ir/types.js';
import type { KernelProgram, Kernel } from '../../kernel/program.js';
import { elementBytes } from '../../kernel/memory.js';

export interface DeviceLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** The limits every WebGPU implementation guarantees (the spec's defaults). */
export const DEFAULT_LIMITS: DeviceLimits = {
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** Storage buffers each kernel binds: the state space and the arena. */
export const BINDINGS_PER_KERNEL = 2;

/** Threads per workgroup of elementwise kernels and of workgroup reductions. */
export const MAP_WORKGROUP = 64;
/** Threads per side of the (square) workgroup of the tiled contraction. */
export const TILE = 16;
/** Depth of the tiles of A and B staged in workgroup memory per step over k. */
export const TILE_K = 16;

/** Flops (2·batch·m·n·k) from which a contraction is register-blocked (4 M: an LSTM step's product is). */
export const BLOCKED_CONTRACTION_FLOPS = 1 << 22;

/**
 * How a contraction is tiled: each thread accumulates rm × rn results (1, 2 or 4 each way, less
 * for thin products), so a workgroup computes a (16·rm) × (16·rn) block of C.
 */
export function contractionTiling(m: number, n: number, work: number): { rm: number; rn: number; tm: number; tn: number; tiles: number } {
  // Small products keep one result per thread: register blocking pays for itself only on large
  // ones, and it makes shaders slower to compile (seconds each on a CPU Vulkan driver).
  const big = work >= BLOCKED_CONTRACTION_FLOPS;
  const per = (size: number) => (!big ? 1 : size >= 4 * TILE ? 4 : size >= 2 * TILE ? 2 : 1);
  const rm = per(m);
  const rn = per(n);
  const tm = TILE * rm;
  const tn = TILE * rn;
  return { rm, rn, tm, tn, tiles: Math.ceil(m / tm) * Math.ceil(n / tn) };
}

const MiB = (n: number) => `${(n / 1048576).toFixed(n < 1048576 ? 3 : 1)} MiB`;

/** Workgroups for `count` groups of work: a 2-D grid when one dimension is not enough. */
export function grid(count: number, limits: DeviceLimits): [number, number] {
  const x = Math.max(1, Math.min(count, limits.maxComputeWorkgroupsPerDimension));
  return [x, Math.max(1, Math.ceil(count / x))];
}

function firstSpan(k: Kernel) {
  return k.source.spans[0];
}

export function checkLimits(p: KernelProgram, limits: DeviceLimits): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const space of ['state', 'arena'] as const) {
    const bytes = space === 'state' ? p.stateBytes : p.arenaBytes;
    const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    if (bytes <= max) continue;
    const bufs = p.buffers.filter((b) => b.space === space);
    // An empty space is still allocated (a few bytes) but holds no value to blame.
    if (bufs.length === 0) continue;
    const biggest = bufs.reduce((a, b) => (b.size * elementBytes(b.dtype, 'f32') > a.size * elementBytes(a.dtype, 'f32') ? b : a));
    out.push(
      error('DL0501', `this program needs ${MiB(bytes)} of GPU memory for its ${space === 'state' ? 'inputs, parameters and outputs' : 'intermediate values'}, but the device allows ${MiB(max)} in one buffer`, {
        span: biggest.span,
        notes: [`the largest value is \`${biggest.name}\`: ${biggest.dtype}${formatShape(biggest.shape)}, ${MiB(biggest.size * 4)}`],
        help: 'use smaller batch or layer sizes, or run it with --backend js',
      }),
    );
  }
  if (limits.maxStorageBuffersPerShaderStage < BINDINGS_PER_KERNEL) {
    out.push(error('DL0501', `every kernel binds ${BINDINGS_PER_KERNEL} storage buffers, but the device allows ${limits.maxStorageBuffersPerShaderStage} per shader stage`, {}));
  }
  const wgNeeds = [MAP_WORKGROUP, TILE * TILE];
  for (const n of wgNeeds) {
    if (n > limits.maxComputeInvocationsPerWorkgroup || Math.min(n, TILE) > limits.maxComputeWorkgroupSizeY || Math.min(n, 64) > limits.maxComputeWorkgroupSizeX) {
      out.push(error('DL0501', `kernels use workgroups of ${n} threads, but the device allows ${limits.maxComputeInvocationsPerWorkgroup}`, {}));
      break;
    }
  }
  const tileBytes = 2 * 4 * TILE * TILE_K * 4;
  if (p.kernels.some((k) => k.kind === 'contraction') && tileBytes > limits.maxComputeWorkgroupStorageSize) {
    const k = p.kernels.find((x) => x.kind === 'contraction')!;
    out.push(error('DL0501', `the tiled matrix product needs ${tileBytes} bytes of workgroup memory, but the device allows ${limits.maxComputeWorkgroupStorageSize}`, { span: firstSpan(k) }));
  }
  for (const k of p.kernels) {
    // A routine runs one workgroup per matrix.
    const total = k.kind === 'map' ? k.domain.reduce((a, b) => a * b, 1) : k.kind === 'routine' ? k.batch : contractionTiling(k.m, k.n, 2 * k.batch * k.m * k.n * k.k).tiles;
    const outer = k.kind === 'map' && k.lets?.length ? k.domain.filter((_, i) => !(k.inner ?? []).includes(i)).reduce((a, b) => a * b, 1) : undefined;
    const groups = k.kind === 'map' ? (outer ?? Math.ceil(total / MAP_WORKGROUP)) : total;
    const [, y] = grid(groups, limits);
    const z = k.kind === 'contraction' ? k.batch : 1;
    if (y > limits.maxComputeWorkgroupsPerDimension || z > limits.maxComputeWorkgroupsPerDimension) {
      out.push(
        error('DL0501', `this operation needs more workgroups than the device can dispatch (${limits.maxComputeWorkgroupsPerDimension} per dimension)`, {
          span: firstSpan(k),
          help: 'split the work into smaller tensors',
        }),
      );
    }
  }
  return out;
}
