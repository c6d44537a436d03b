/** @file WGSL helper functions generated kernels may call (f32 accuracy is enough here). */

export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  // Reading the bits through a var keeps infinities and NaN out of constant evaluation.
  dlc_f32_bits: `fn dlc_f32_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
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
};
