/**
 * @file cholesky(a): the lower-triangular L with L·Lᵀ = a, for a symmetric positive-definite a.
 * Only a's lower triangle is read (as LAPACK's potrf with uplo = 'L'), so the gradient with
 * respect to a lies in that triangle: for a symmetric input built from parameters, the chain rule
 * through both triangles gives the usual symmetric gradient. A matrix that is not positive
 * definite (a pivot ≤ 0) gives NaN from that column on.
 */
import type { Node } from '../../graph.js';
import { defineOp, type Draw, type VjpContext } from '../../op.js';
import { evaluateRoutine, routineCost, type Routine } from '../../routine.js';
import * as C from '../../compose.js';
import { mm, mT, squareSide, triangle } from './matrix.js';
import { triSolve } from './triangular-solve.js';

/** Column by column (left-looking): the pivot, then the column below it from the columns before. */
const SOURCE = `function dlc_cholesky(ins, ino, out, oo, w, wo, d, f) {
  const a = ins[0], ao = ino[0], n = d[0];
  for (let j = 0; j < n; j++) {
    let s = a[ao + j * n + j];
    for (let k = 0; k < j; k++) { const l = out[oo + j * n + k]; s -= l * l; }
    const p = s > 0 ? Math.sqrt(s) : NaN;
    out[oo + j * n + j] = p;
    for (let i = j + 1; i < n; i++) {
      let t = a[ao + i * n + j];
      for (let k = 0; k < j; k++) t -= out[oo + i * n + k] * out[oo + j * n + k];
      out[oo + i * n + j] = t / p;
    }
    for (let i = 0; i < j; i++) out[oo + i * n + j] = 0;
  }
}`;

const routine: Routine<Record<string, never>> = {
  dims: ([a]) => [a!.shape[a!.shape.length - 1]!],
  js: { name: 'dlc_cholesky', source: SOURCE },
  // One thread computes the pivot; then the rows below it share the column.
  wgsl: (c) => [
    `let n: i32 = ${c.dim(0)};`,
    'for (var j: i32 = 0; j < n; j++) {',
    '  if (tid == 0) {',
    `    var s: f32 = ${c.load(0, 'j * n + j')};`,
    `    for (var k: i32 = 0; k < j; k++) { let l: f32 = ${c.loadOut('j * n + k')}; s = s - l * l; }`,
    `    ${c.storeOut('j * n + j', `select(${c.nan}, sqrt(max(s, 0.0)), s > 0.0)`)}`,
    '  }',
    '  storageBarrier();',
    `  let p: f32 = ${c.loadOut('j * n + j')};`,
    '  for (var i: i32 = j + 1 + tid; i < n; i += NT) {',
    `    var t: f32 = ${c.load(0, 'i * n + j')};`,
    `    for (var k: i32 = 0; k < j; k++) { t = t - ${c.loadOut('i * n + k')} * ${c.loadOut('j * n + k')}; }`,
    `    ${c.storeOut('i * n + j', 't / p')}`,
    '  }',
    `  for (var i: i32 = tid; i < j; i += NT) { ${c.storeOut('i * n + j', '0.0')} }`,
    '  storageBarrier();',
    '}',
  ],
  flops: ([n]) => (n! * n! * n!) / 3 + n! * n!,
};

/**
 * With P = Φ(Lᵀ·L̄) (Φ: the lower triangle, diagonal halved) and S = L⁻ᵀ·P·L⁻¹, the gradient for
 * a symmetric input is (S + Sᵀ)/2; on the lower triangle a is read from, that is Φ(S + Sᵀ).
 */
function vjp({ b, node: L, g }: VjpContext): Node[] {
  const P = triangle(b, mm(b, mT(b, L), triangle(b, g, true)), true, 0.5);
  const X = triSolve(b, L, P, { lower: true, left: true, transpose: true });
  const S = triSolve(b, L, X, { lower: true, left: false, transpose: false });
  return [triangle(b, C.binary(b, 'add', S, mT(b, S)), true, 0.5)];
}

function sample(d: Draw) {
  const n = d.int(1, 4);
  return { inputs: [{ dtype: 'f32' as const, shape: [...d.shape(0, 1, 2), n, n], domain: 'spd' as const }], attrs: {} };
}

export const cholesky = defineOp<Record<string, never>>({
  name: 'cholesky',
  kind: 'routine',
  doc: 'the lower-triangular L with L·Lᵀ = a (a symmetric positive definite; its lower triangle is read)',
  arity: 1,
  attrs: {},
  infer([a]) {
    squareSide(a!, 'cholesky');
    return { dtype: 'f32', shape: [...a!.shape] };
  },
  evaluate: (inputs, f, out) => evaluateRoutine(routine, inputs, f, out),
  cost: (inputs, out, f) => routineCost(routine, inputs, out, f),
  vjp,
  routine,
  test: { sample, order: 2 },
});
