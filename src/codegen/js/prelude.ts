/**
 * @file Helper functions the generated JavaScript may call. They compute exactly what the
 * reference interpreter computes (erf, f32 → i32 and sign are the interpreter's own source).
 */
import { ERF_SOURCE } from '../../ir/ops/special.js';
import { F2I_SOURCE, SIGN_SOURCE } from '../../ir/ops/numeric-rules.js';
import { RANDOM_JS_HELPERS } from '../../ir/ops/random.js';

export const JS_HELPERS: Readonly<Record<string, string>> = {
  dlc_erf: ERF_SOURCE,
  dlc_sigmoid: 'function dlc_sigmoid(x) { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)); }',
  dlc_idiv: 'function dlc_idiv(a, b) { return b === 0 ? 0 : Math.trunc(a / b) | 0; }',
  dlc_f2i: F2I_SOURCE,
  dlc_sign: SIGN_SOURCE,
  // Counter-based random bits and fixed-point normals (src/ir/ops/random.ts).
  ...RANDOM_JS_HELPERS,
};
