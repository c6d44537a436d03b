/**
 * @file solve(a, b): X with op(a)·X = b, op(a) = a (or aᵀ when `transpose`), a [..., n, n] and
 * b [..., n, k], by LU with partial pivoting (lu.ts) of a copy of op(a) in scratch, carrying b's
 * columns through the eliminations, then back substitution. `transpose` only changes how a is
 * copied in, so the gradient's solve with aᵀ costs no transposed copy. A singular a (a zero pivot,
 * after rounding) divides by zero in the back substitution: ±∞ or NaN in the rows that reach it
 * (no check; on WebGPU, whatever the GPU's division by zero gives).
 */
import type { GraphBuilder } from '../../builder.js';
import * as C from '../../compose.js';
import type { Node } from '../../graph.js';
import { defineOp, opError, type Draw, type VjpContext } from '../../op.js';
import { evaluateRoutine, routineCost, type Routine } from '../../routine.js';
import { formatType } from '../../types.js';
import { luFlops, luJs, luScratch, luWgsl } from './lu.js';
import { mm, mT, sameBatch, squareSide } from './matrix.js';

export type SolveAttrs = { transpose: boolean };

/** Back substitution column by column (x_i, then its share taken from the rows above), the WGSL order too. */
const SOURCE = `function dlc_solve(ins, ino, out, oo, w, wo, d, f) {
  const a = ins[0], ao = ino[0], b = ins[1], bo = ino[1], n = d[0], k = d[1];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[wo + i * n + j] = a[ao + (f.transpose ? j * n + i : i * n + j)];
  for (let e = 0; e < n * k; e++) out[oo + e] = b[bo + e];
  ${luJs(true)}
  for (let i = n - 1; i >= 0; i--) {
    const u = w[wo + i * n + i];
    for (let c = 0; c < k; c++) out[oo + i * k + c] = out[oo + i * k + c] / u;
    for (let r = 0; r < i; r++) {
      const l = w[wo + r * n + i];
      for (let c = 0; c < k; c++) out[oo + r * k + c] -= l * out[oo + i * k + c];
    }
  }
}`;

const routine: Routine<SolveAttrs> = {
  dims: ([a, b]) => [a!.shape[a!.shape.length - 1]!, b!.shape[b!.shape.length - 1]!],
  scratch: ([n]) => luScratch(n!),
  js: { name: 'dlc_solve', source: SOURCE },
  wgsl: (c) => [
    `let n: i32 = ${c.dim(0)};`,
    `let k: i32 = ${c.dim(1)};`,
    `for (var e: i32 = tid; e < n * n; e += NT) { ${c.storeScratch('e', c.load(0, c.attrs.transpose ? '(e % n) * n + e / n' : 'e'))} }`,
    `for (var e: i32 = tid; e < n * k; e += NT) { ${c.storeOut('e', c.load(1, 'e'))} }`,
    'storageBarrier();',
    ...luWgsl(c, true),
    'for (var s: i32 = 0; s < n; s++) {',
    '  let i: i32 = n - 1 - s;',
    `  let u: f32 = ${c.loadScratch('i * n + i')};`,
    `  for (var col: i32 = tid; col < k; col += NT) { ${c.storeOut('i * k + col', `${c.loadOut('i * k + col')} / u`)} }`,
    '  storageBarrier();',
    '  for (var e: i32 = tid; e < i * k; e += NT) {',
    '    let r: i32 = e / k;',
    `    ${c.storeOut('e', `${c.loadOut('e')} - ${c.loadScratch('r * n + i')} * ${c.loadOut('i * k + e % k')}`)}`,
    '  }',
    '  storageBarrier();',
    '}',
  ],
  flops: ([n, k]) => luFlops(n!, k!) + n! * n! * k!,
};

/** solve as a node (slogdet's gradient and the built-ins build with it). */
export function solveNode(b: GraphBuilder, a: Node, rhs: Node, transpose = false): Node {
  return b.add('solve', [a, rhs], { transpose });
}

/** The identity, shaped like the (batch of) square matrices a. */
export function identityLike(b: GraphBuilder, a: Node): Node {
  const shape = [...a.type.shape];
  const r = shape.length;
  const row = b.add('iota', [], { dtype: 'i32', shape, axis: r - 2 });
  const col = b.add('iota', [], { dtype: 'i32', shape, axis: r - 1 });
  return C.cast(b, b.add('eq', [row, col]), 'f32');
}

/**
 * With A = op(a), X = A⁻¹b: b̄ = A⁻ᵀX̄ (a solve with the other transposition) and Ā = −b̄Xᵀ;
 * ā = Ā, or Āᵀ = −X·b̄ᵀ when `transpose`.
 */
function vjp({ b, node, attrs: f, g }: VjpContext<SolveAttrs>): Node[] {
  const [a] = node.inputs as [Node, Node];
  const gb = solveNode(b, a, g, !f.transpose);
  const gA = f.transpose ? mm(b, node, mT(b, gb)) : mm(b, gb, mT(b, node));
  return [C.binary(b, 'mul', gA, C.scalarConst(b, -1, 'f32')), gb];
}

function sample(d: Draw) {
  const batch = d.shape(0, 1, 2);
  const n = d.int(1, 4);
  return {
    inputs: [
      { dtype: 'f32' as const, shape: [...batch, n, n], domain: 'invertible' as const },
      { dtype: 'f32' as const, shape: [...batch, n, d.int(1, 3)] },
    ],
    attrs: { transpose: d.bool() },
  };
}

export const solve = defineOp<SolveAttrs>({
  name: 'solve',
  kind: 'routine',
  doc: 'X with a·X = b (aᵀ·X = b when `transpose`), by LU with partial pivoting',
  arity: 2,
  attrs: { transpose: 'bool' },
  infer([a, rhs]) {
    const n = squareSide(a!, 'solve');
    sameBatch(a!, rhs!, 'solve');
    const r = rhs!.shape.length;
    if (rhs!.dtype !== 'f32' || rhs!.shape[r - 2] !== n) {
      opError('DL0318', (w) => `\`solve\` of a ${n}×${n} matrix needs a right-hand side with ${n} rows ([..., ${n}, k]), got ${formatType(rhs!)}${w}`);
    }
    return { dtype: 'f32', shape: [...rhs!.shape] };
  },
  evaluate: (inputs, f, out) => evaluateRoutine(routine, inputs, f, out),
  cost: (inputs, out, f) => routineCost(routine, inputs, out, f),
  vjp,
  routine,
  test: { sample, order: 2 },
});
