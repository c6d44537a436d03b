/** @file WGSL helper functions generated kernels may call (f32 accuracy is enough for the math ones). */
import { RANDOM_WGSL_HELPERS } from '../../ir/ops/random.js';

export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  // Counter-based random bits and fixed-point normals (src/ir/ops/random.ts generates them from one round schedule).
  ...RANDOM_WGSL_HELPERS,
  // Reading the bits through a var keeps infinities and NaN out of constant evaluation.
  dlc_f32_bits: `fn dlc_f32_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}`,
  // log and sqrt of a negative number are NaN, tested on the bits: a driver that assumes no NaN
  // (lavapipe does) otherwise folds exp(log(x)) and sqrt(x) * sqrt(x) to x, turning NaN into x.
  dlc_log: `fn dlc_log(x: f32) -> f32 {
  var nan = 0x7fc00000u;
  if (bitcast<u32>(x) > 0x80000000u) { return bitcast<f32>(nan); }
  return log(x);
}`,
  dlc_sqrt: `fn dlc_sqrt(x: f32) -> f32 {
  var nan = 0x7fc00000u;
  if (bitcast<u32>(x) > 0x80000000u) { return bitcast<f32>(nan); }
  return sqrt(x);
}`,
  dlc_log1p: `fn dlc_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}`,
  dlc_tanh: `fn dlc_tanh(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  dlc_sigmoid: `fn dlc_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`,
  // Series for |x| < 1, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) beyond.
  dlc_erf: `fn dlc_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) {
    let x2 = x * x;
    var term = x;
    var sum = x;
    for (var n: i32 = 1; n < 12; n++) {
      term = -term * x2 / f32(n);
      sum += term / f32(2 * n + 1);
    }
    return 1.1283791670955126 * sum;
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(x) * (1.0 - p * exp(-a * a));
}`,
  dlc_idiv: `fn dlc_idiv(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  return a / b;
}`,
  // NaN is tested on the bits: WGSL lets an implementation assume no NaN in float comparisons,
  // and leaves max/min/clamp/sign/i32() of NaN to the implementation. These spell out what
  // src/ir/ops/numeric-rules.ts and Math.max/min define, for every input.
  dlc_f2i: `fn dlc_f2i(x: f32) -> i32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  if (x <= -2147483648.0f) { return -2147483647i - 1i; }
  return i32(x);
}`,
  dlc_sign: `fn dlc_sign(x: f32) -> f32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return x; }
  if (x > 0.0f) { return 1.0f; }
  if (x < 0.0f) { return -1.0f; }
  return 0.0f;
}`,
  // NaN if either is; of +0 and −0, max is +0 (the sign bits ANDed) and min −0 (ORed).
  dlc_max: `fn dlc_max(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  if ((ua & 0x7fffffffu) > 0x7f800000u) { return a; }
  if ((ub & 0x7fffffffu) > 0x7f800000u) { return b; }
  if (a > b) { return a; }
  if (b > a) { return b; }
  return bitcast<f32>(ua & ub);
}`,
  dlc_min: `fn dlc_min(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  if ((ua & 0x7fffffffu) > 0x7f800000u) { return a; }
  if ((ub & 0x7fffffffu) > 0x7f800000u) { return b; }
  if (a < b) { return a; }
  if (b < a) { return b; }
  return bitcast<f32>(ua | ub);
}`,
  // Arg-reductions: whether v replaces best. A NaN beats every number; the first NaN wins.
  dlc_argmax_beats: `fn dlc_argmax_beats(v: f32, best: f32) -> bool {
  let vn = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
  let bn = (bitcast<u32>(best) & 0x7fffffffu) > 0x7f800000u;
  return (vn && !bn) || (!vn && !bn && v > best);
}`,
  dlc_argmin_beats: `fn dlc_argmin_beats(v: f32, best: f32) -> bool {
  let vn = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
  let bn = (bitcast<u32>(best) & 0x7fffffffu) > 0x7f800000u;
  return (vn && !bn) || (!vn && !bn && v < best);
}`,
};
