/**
 * @file Per-kernel parameters of a WGSL shader: buffer offsets and loop bounds are read from a
 * small uniform block instead of being written into the code as literals. Two effects:
 *  - a driver cannot unroll a loop whose bound it does not know (a CPU Vulkan driver such as
 *    lavapipe unrolls constant-bound loops fully and then takes seconds to compile the result);
 *  - kernels that differ only in those values have the same text, so they share one shader
 *    module and one pipeline, each dispatch binding its own block (a dynamic uniform offset).
 * Integer values only, so the arithmetic (and every result) is the same as with literals.
 */

/** u32 slots in one kernel's block: 1 KiB (a multiple of 256, the dynamic uniform offset alignment WebGPU guarantees). */
export const PARAM_SLOTS = 256;
/** Bytes between two kernels' blocks in the parameter buffer. */
export const PARAM_STRIDE = 1024;
/** The binding of the parameter block (after the two storage spaces). */
export const PARAM_BINDING = 2;

export const PARAM_DECL = `@group(0) @binding(${PARAM_BINDING}) var<uniform> P: array<vec4<u32>, ${PARAM_SLOTS / 4}>;`;

/** Loops of the expression renderer with fewer trips than this stay literal (unrolling them pays). */
export const SMALL_LOOP = 8;

export class ParamTable {
  readonly values: number[] = [];
  private readonly slots = new Map<string, number>();

  /**
   * The WGSL i32 expression of `value`, in the slot named `key` (one slot per key; a key names
   * the role, e.g. a buffer, never the value, so that the text does not depend on the values).
   * A literal once the block is full.
   */
  get(key: string, value: number): string {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) return `${value}`;
    let s = this.slots.get(key);
    if (s === undefined) {
      if (this.values.length >= PARAM_SLOTS) return `${value}`;
      s = this.values.length;
      this.values.push(value);
      this.slots.set(key, s);
    }
    return `i32(P[${s >> 2}].${'xyzw'[s & 3]})`;
  }

  /** A slot of its own for each call (values in rendering order, e.g. the constant terms of indices). */
  fresh(value: number): string {
    return this.get(`#${this.values.length}`, value);
  }
}
