/**
 * @file slogdet(a): the sign and the log-magnitude of det a, packed as [..., 2] = (sign, log|det|),
 * from the LU factorization with partial pivoting (lu.ts): det a = (−1)^swaps · Π U(j, j), so the
 * sign is the swaps' parity times the diagonal's signs and log|det| = Σ log|U(j, j)| (a sum, so
 * it neither overflows nor underflows where det itself would). A singular a (a zero pivot) gives
 * (0, −∞), as NumPy. Only log|det| has a gradient: ā = ḡ · a⁻ᵀ (the sign is piecewise constant).
 */
import * as C from '../../compose.js';
import type { Node } from '../../graph.js';
import { defineOp, type Draw, type VjpContext } from '../../op.js';
import { evaluateRoutine, routineCost, type Routine } from '../../routine.js';
import { luFlops, luJs, luScratch, luWgsl } from './lu.js';
import { squareSide } from './matrix.js';
import { identityLike, solveNode } from './solve.js';

const SOURCE = `function dlc_slogdet(ins, ino, out, oo, w, wo, d, f) {
  const a = ins[0], ao = ino[0], n = d[0];
  for (let e = 0; e < n * n; e++) w[wo + e] = a[ao + e];
  ${luJs(false)}
  let s = swaps % 2 ? -1 : 1, l = 0;
  for (let i = 0; i < n; i++) {
    const u = w[wo + i * n + i];
    if (u < 0) s = -s;
    if (u === 0) s = 0;
    l += Math.log(Math.abs(u));
  }
  out[oo] = s;
  out[oo + 1] = l;
}`;

const routine: Routine<Record<string, never>> = {
  dims: ([a]) => [a!.shape[a!.shape.length - 1]!],
  scratch: ([n]) => luScratch(n!),
  js: { name: 'dlc_slogdet', source: SOURCE },
  // The result's sign entry counts the swaps (thread 0 flips it); thread 0 sums the diagonal.
  wgsl: (c) => [
    `let n: i32 = ${c.dim(0)};`,
    `for (var e: i32 = tid; e < n * n; e += NT) { ${c.storeScratch('e', c.load(0, 'e'))} }`,
    `if (tid == 0) { ${c.storeOut('0', '1.0')} }`,
    'storageBarrier();',
    ...luWgsl(c, false, c.storeOut('0', `-${c.loadOut('0')}`)),
    'if (tid == 0) {',
    `  var s: f32 = ${c.loadOut('0')};`,
    '  var l: f32 = 0.0;',
    '  var ninf: u32 = 0xff800000u;',
    '  for (var i: i32 = 0; i < n; i++) {',
    `    let u: f32 = ${c.loadScratch('i * n + i')};`,
    '    if (u < 0.0) { s = -s; }',
    '    if (u == 0.0) { s = 0.0; l = bitcast<f32>(ninf); } else { l = l + log(abs(u)); }',
    '  }',
    `  ${c.storeOut('0', 's')}`,
    `  ${c.storeOut('1', 'l')}`,
    '}',
  ],
  flops: ([n]) => luFlops(n!) + 2 * n!,
};

/** ā = ḡ_log|det| · a⁻ᵀ, with a⁻ᵀ = solve(aᵀ, I) (a solve with `transpose`). */
function vjp({ b, node, g }: VjpContext): Node[] {
  const [a] = node.inputs as [Node];
  const s = g.type.shape;
  const batch = s.slice(0, -1);
  const gl = b.add('slice', [g], { start: s.map((_, i) => (i === s.length - 1 ? 1 : 0)), stop: [...s], step: s.map(() => 1) });
  const gm = C.broadcastTo(b, C.reshape(b, gl, [...batch, 1, 1]), [...a.type.shape]);
  return [C.binary(b, 'mul', gm, solveNode(b, a, identityLike(b, a), true))];
}

function sample(d: Draw) {
  const n = d.int(1, 4);
  return { inputs: [{ dtype: 'f32' as const, shape: [...d.shape(0, 1, 2), n, n], domain: 'invertible' as const }], attrs: {} };
}

export const slogdet = defineOp<Record<string, never>>({
  name: 'slogdet',
  kind: 'routine',
  doc: '(sign of det a, log|det a|) packed as [..., 2], by LU with partial pivoting',
  arity: 1,
  attrs: {},
  infer([a]) {
    squareSide(a!, 'slogdet');
    return { dtype: 'f32', shape: [...a!.shape.slice(0, -2), 2] };
  },
  evaluate: (inputs, f, out) => evaluateRoutine(routine, inputs, f, out),
  cost: (inputs, out, f) => routineCost(routine, inputs, out, f),
  vjp,
  routine,
  test: { sample, order: 2 },
});
