/**
 * @file triangular_solve(a, b): X with op(a)·X = b (`left`) or X·op(a) = b, where op(a) is a's
 * lower (or upper) triangle, transposed when `transpose`. Only that triangle of a is read (the
 * rest may hold anything), so the gradient with respect to a lies in it too. Forward or back
 * substitution per right-hand side; a zero on the diagonal gives ±∞ or NaN (no check).
 */
import type { Node } from '../../graph.js';
import { defineOp, opError, type Draw, type VjpContext } from '../../op.js';
import { evaluateRoutine, routineCost, type Routine } from '../../routine.js';
import { formatType } from '../../types.js';
import { mm, mT, sameBatch, squareSide, triangle } from './matrix.js';
import * as C from '../../compose.js';
import type { GraphBuilder } from '../../builder.js';

export type TriSolveAttrs = { lower: boolean; left: boolean; transpose: boolean };

/**
 * T = op(a) for a left solve, op(a)ᵀ for a right one (X·op(a) = b is op(a)ᵀ·Xᵀ = bᵀ): T(i, j) is
 * a[j, i] when `tr`, and T is lower triangular when `lo`. Unknown (i, c), row i of right-hand side
 * c, is element i·m + c of X (left) or c·n + i (right, X is [m, n]).
 */
const SOURCE = `function dlc_triangular_solve(ins, ino, out, oo, w, wo, d, f) {
  const a = ins[0], ao = ino[0], b = ins[1], bo = ino[1], n = d[0], m = d[1];
  const tr = f.left ? f.transpose : !f.transpose;
  const lo = f.lower !== tr;
  const rs = f.left ? m : 1, cs = f.left ? 1 : n;
  const ts = tr ? 1 : n, tc = tr ? n : 1;
  for (let c = 0; c < m; c++) {
    for (let s = 0; s < n; s++) {
      const i = lo ? s : n - 1 - s;
      let v = b[bo + i * rs + c * cs];
      const j0 = lo ? 0 : i + 1, j1 = lo ? i : n;
      for (let j = j0; j < j1; j++) v -= a[ao + i * ts + j * tc] * out[oo + j * rs + c * cs];
      out[oo + i * rs + c * cs] = v / a[ao + i * n + i];
    }
  }
}`;

const routine: Routine<TriSolveAttrs> = {
  dims: ([a, b], f) => [a!.shape[a!.shape.length - 1]!, b!.shape[b!.shape.length - (f.left ? 1 : 2)]!],
  js: { name: 'dlc_triangular_solve', source: SOURCE },
  // One thread per right-hand side, each substituting down (or up) its column.
  wgsl(c) {
    const f = c.attrs;
    const tr = f.left ? f.transpose : !f.transpose;
    const lo = f.lower !== tr;
    const x = (i: string, col: string) => (f.left ? `${i} * m + ${col}` : `${col} * n + ${i}`);
    const t = (i: string, j: string) => (tr ? `${j} * n + ${i}` : `${i} * n + ${j}`);
    return [
      `let n: i32 = ${c.dim(0)};`,
      `let m: i32 = ${c.dim(1)};`,
      'for (var rhs: i32 = tid; rhs < m; rhs += NT) {',
      '  for (var s: i32 = 0; s < n; s++) {',
      `    let i: i32 = ${lo ? 's' : 'n - 1 - s'};`,
      `    var v: f32 = ${c.load(1, x('i', 'rhs'))};`,
      `    for (var j: i32 = ${lo ? '0' : 'i + 1'}; j < ${lo ? 'i' : 'n'}; j++) {`,
      `      v = v - ${c.load(0, t('i', 'j'))} * ${c.loadOut(x('j', 'rhs'))};`,
      '    }',
      `    ${c.storeOut(x('i', 'rhs'), `v / ${c.load(0, 'i * n + i')}`)}`,
      '  }',
      '}',
    ];
  },
  flops: ([n, m]) => n! * n! * m!,
};

/** triangular_solve as a node (the gradient rules of the linear-algebra ops build with it). */
export function triSolve(b: GraphBuilder, a: Node, rhs: Node, attrs: TriSolveAttrs): Node {
  return b.add('triangular_solve', [a, rhs], attrs);
}

/**
 * With A = op(a): left, X = A⁻¹b gives b̄ = A⁻ᵀX̄ and Ā = −b̄Xᵀ; right, X = bA⁻¹ gives b̄ = X̄A⁻ᵀ
 * and Ā = −Xᵀb̄. ā is Ā (transposed back when `transpose`) on the triangle a is read from.
 */
function vjp({ b, node, attrs: f, g }: VjpContext<TriSolveAttrs>): Node[] {
  const [a] = node.inputs as [Node, Node];
  const gb = triSolve(b, a, g, { ...f, transpose: !f.transpose });
  const gA = C.binary(b, 'mul', f.left ? mm(b, gb, mT(b, node)) : mm(b, mT(b, node), gb), C.scalarConst(b, -1, 'f32'));
  return [triangle(b, f.transpose ? mT(b, gA) : gA, f.lower), gb];
}

function sample(d: Draw) {
  const batch = d.shape(0, 1, 2);
  const n = d.int(1, 4);
  const m = d.int(1, 3);
  const left = d.bool();
  return {
    inputs: [
      { dtype: 'f32' as const, shape: [...batch, n, n], domain: 'invertible' as const },
      { dtype: 'f32' as const, shape: [...batch, ...(left ? [n, m] : [m, n])] },
    ],
    attrs: { lower: d.bool(), left, transpose: d.bool() },
  };
}

export const triangularSolve = defineOp<TriSolveAttrs>({
  name: 'triangular_solve',
  kind: 'routine',
  doc: 'X with op(a)·X = b (left) or X·op(a) = b, op(a) the lower or upper triangle of a, transposed or not',
  arity: 2,
  attrs: { lower: 'bool', left: 'bool', transpose: 'bool' },
  infer([a, rhs], f) {
    const n = squareSide(a!, 'triangular_solve');
    sameBatch(a!, rhs!, 'triangular_solve');
    const r = rhs!.shape.length;
    const side = rhs!.shape[f.left ? r - 2 : r - 1];
    if (rhs!.dtype !== 'f32' || side !== n) {
      opError('DL0318', (w) => `\`triangular_solve\` of a ${n}×${n} matrix needs a right-hand side with ${n} ${f.left ? 'rows' : 'columns'}, got ${formatType(rhs!)}${w}`, f.left ? undefined : 'with `left = false` the system is X·a = b, so b has a\'s size as its last axis');
    }
    return { dtype: 'f32', shape: [...rhs!.shape] };
  },
  evaluate: (inputs, f, out) => evaluateRoutine(routine, inputs, f, out),
  cost: (inputs, out, f) => routineCost(routine, inputs, out, f),
  vjp,
  routine,
  test: { sample, order: 2 },
});
