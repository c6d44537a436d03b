/**
 * @file The memory plan: byte offsets for every buffer in its space. This first plan reuses
 * nothing (each buffer gets its own range); a later planner only changes these offsets.
 * Offsets are aligned to 256 bytes, WebGPU's minimum storage-buffer offset alignment.
 */
import type { DType } from '../ir/types.js';
import type { KernelProgram } from './program.js';

export const ALIGN = 256;

export type Precision = 'f32' | 'f64';

export function elementBytes(dtype: DType, precision: Precision): number {
  return dtype === 'f32' && precision === 'f64' ? 8 : 4;
}

export function planMemory(p: KernelProgram, precision: Precision): KernelProgram {
  const ends = { state: 0, arena: 0 };
  for (const b of p.buffers) {
    const at = ends[b.space];
    b.offset = at;
    const bytes = b.size * elementBytes(b.dtype, precision);
    ends[b.space] = Math.ceil((at + Math.max(bytes, 4)) / ALIGN) * ALIGN;
  }
  p.stateBytes = Math.max(ends.state, ALIGN);
  p.arenaBytes = Math.max(ends.arena, ALIGN);
  return p;
}
