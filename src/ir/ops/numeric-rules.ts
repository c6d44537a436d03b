/**
 * @file Scalar rules whose edge cases (NaN, ±0, out of range, overflow) every backend must agree
 * on bit for bit (docs/ops.md, "Integers and NaN"). The JS prelude emits these functions' source,
 * and the interpreter runs the same source, so the two cannot drift apart; the WGSL prelude has
 * their hand-written twins.
 */

/** f32 → i32: truncate toward zero, saturate to [−2³¹, 2³¹ − 1] (±∞ included), NaN → 0. */
export const F2I_SOURCE = `function dlc_f2i(v) {
  if (v !== v) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v) | 0;
}`;

/** The sign of an f32: −1, 0 (for ±0) or +1, and NaN for NaN. */
export const SIGN_SOURCE = `function dlc_sign(x) {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x;
}`;

export const f32ToI32 = new Function(`${F2I_SOURCE}\nreturn dlc_f2i;`)() as (v: number) => number;
export const signOf = new Function(`${SIGN_SOURCE}\nreturn dlc_sign;`)() as (x: number) => number;

/**
 * Whether `v` replaces `best` in an argmax (argmin with `<`): a NaN beats every number and the
 * first NaN wins, as in NumPy. The interpreter's rule; the backends' templates spell the same.
 */
export function argBeats(arg: 'max' | 'min', v: number, best: number): boolean {
  if (v !== v) return best === best;
  return arg === 'max' ? v > best : v < best;
}
