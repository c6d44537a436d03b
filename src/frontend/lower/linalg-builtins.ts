/**
 * @file The linear-algebra built-ins (docs/language.md, "Linear algebra"), lowered to the routines
 * of ir/ops/linalg/. A right-hand side may be a vector (one axis less than the matrix): it is
 * solved as a one-column matrix and returned as a vector.
 */
import type { Span } from '../../diagnostics/source.js';
import * as C from '../../ir/compose.js';
import type { Node } from '../../ir/graph.js';
import type { Builtin } from './builtins.js';
import { def, req } from './builtin-def.js';
import type { ArgValue, Lowerer } from './lowerer.js';
import { tensor } from './values.js';
import { formatType } from '../../ir/types.js';
import { squareSide } from '../../ir/ops/linalg/matrix.js';
import { identityLike } from '../../ir/ops/linalg/solve.js';

const T = (lw: Lowerer, a: ArgValue) => lw.toTensor(a.value, a.span, 'f32');

function flag(lw: Lowerer, a: ArgValue | undefined, dflt: boolean, what: string): boolean {
  return a ? lw.staticBool(a.value, a.span, what) : dflt;
}

/**
 * f(a, B) for a right-hand side b that is a matrix, or a vector with one axis less than a (as a
 * column, or a row when `asRow`), returning a result shaped like b.
 */
export function withVectorRhs(lw: Lowerer, a: Node, b: Node, asRow: boolean, f: (m: Node) => Node): Node {
  if (b.type.shape.length !== a.type.shape.length - 1) return f(b);
  const s = b.type.shape;
  const m = C.reshape(lw.b, b, asRow ? [...s.slice(0, -1), 1, s[s.length - 1]!] : [...s, 1]);
  return C.reshape(lw.b, f(m), s);
}

const TRI = ['a', 'b', 'lower', 'left', 'transpose'];

/** The diagonal of a (batch of) square matrices [..., n, n] → [..., n]: a strided view. */
export function diagonal(lw: Lowerer, a: Node, span: Span): Node {
  const s = a.type.shape;
  const r = s.length;
  if (r < 2 || s[r - 1] !== s[r - 2]) lw.fail('DL0318', `\`diagonal\` needs a square matrix (or a batch of them, [..., n, n]), got ${formatType(a.type)}`, span);
  const n = s[r - 1]!;
  const flat = C.reshape(lw.b, a, [...s.slice(0, -2), n * n]);
  const batch = s.slice(0, -2);
  return lw.b.add('slice', [flat], { start: [...batch.map(() => 0), 0], stop: [...batch, n * n], step: [...batch.map(() => 1), n + 1] });
}

/** slogdet's packed [..., 2] result as (sign, log|det|), each [...]. */
function slogdetParts(lw: Lowerer, a: Node, fn: string): [Node, Node] {
  squareSide(a.type, fn);
  const p = lw.b.add('slogdet', [a]);
  const batch = p.type.shape.slice(0, -1);
  const part = (i: number) =>
    C.reshape(lw.b, lw.b.add('slice', [p], { start: [...batch.map(() => 0), i], stop: [...batch, i + 1], step: p.type.shape.map(() => 1) }), batch);
  return [part(0), part(1)];
}

/** eigh's packed [..., n + 1, n] result as (eigenvalues [..., n], eigenvectors [..., n, n] as columns). */
function eighParts(lw: Lowerer, a: Node, fn: string): [Node, Node] {
  const n = squareSide(a.type, fn);
  const p = lw.b.add('eigh', [a]);
  const batch = p.type.shape.slice(0, -2);
  const rows = (r0: number, r1: number) => lw.b.add('slice', [p], { start: [...batch.map(() => 0), r0, 0], stop: [...batch, r1, n], step: p.type.shape.map(() => 1) });
  return [C.reshape(lw.b, rows(0, 1), [...batch, n]), rows(1, n + 1)];
}

export const LINALG_BUILTINS: Builtin[] = [
  def('diagonal', ['a'], 'the diagonal of a square matrix (or of each in a batch): [..., n, n] → [..., n]', (lw, a, span) => tensor(diagonal(lw, T(lw, req(lw, a, 0, 'diagonal', ['a'], span)), span))),
  def('trace', ['a'], 'the sum of the diagonal of a square matrix (or of each in a batch)', (lw, a, span) => {
    const d = diagonal(lw, T(lw, req(lw, a, 0, 'trace', ['a'], span)), span);
    return tensor(C.reduce(lw.b, 'reduce_sum', d, [d.type.shape.length - 1]));
  }),
  def('cholesky', ['a'], 'the lower-triangular L with L @ L.T = a, for a symmetric positive-definite a (its lower triangle is read)', (lw, a, span) =>
    tensor(lw.b.add('cholesky', [T(lw, req(lw, a, 0, 'cholesky', ['a'], span))])),
  ),
  def('triangular_solve', TRI, 'x with op(a) @ x = b (left, the default) or x @ op(a) = b, op(a) the lower (default) or upper triangle of a, transposed when `transpose`', (lw, a, span) => {
    const m = T(lw, req(lw, a, 0, 'triangular_solve', TRI, span));
    const rhs = T(lw, req(lw, a, 1, 'triangular_solve', TRI, span));
    const attrs = { lower: flag(lw, a[2], true, '`lower`'), left: flag(lw, a[3], true, '`left`'), transpose: flag(lw, a[4], false, '`transpose`') };
    return tensor(withVectorRhs(lw, m, rhs, !attrs.left, (x) => lw.b.add('triangular_solve', [m, x], attrs)));
  }),
  def('solve', ['a', 'b'], 'x with a @ x = b for a square a, by LU with partial pivoting; `b` a matrix [..., n, k] or a vector [..., n]', (lw, a, span) => {
    const m = T(lw, req(lw, a, 0, 'solve', ['a', 'b'], span));
    const rhs = T(lw, req(lw, a, 1, 'solve', ['a', 'b'], span));
    return tensor(withVectorRhs(lw, m, rhs, false, (x) => lw.b.add('solve', [m, x], { transpose: false })));
  }),
  def('inv', ['a'], 'the inverse of a square matrix (or of each in a batch): `solve(a, eye(n))`', (lw, a, span) => {
    const m = T(lw, req(lw, a, 0, 'inv', ['a'], span));
    squareSide(m.type, 'inv');
    return tensor(lw.b.add('solve', [m, identityLike(lw.b, m)], { transpose: false }));
  }),
  def('slogdet', ['a'], 'the tuple (sign, log|det|) of a square matrix (or of each in a batch); (0, -inf) for a singular one', (lw, a, span) => {
    const [s, l] = slogdetParts(lw, T(lw, req(lw, a, 0, 'slogdet', ['a'], span)), 'slogdet');
    return { k: 'tuple', items: [tensor(s), tensor(l)] };
  }),
  def('logdet', ['a'], 'log det a: NaN where det a < 0, -inf where a is singular', (lw, a, span) => {
    const [s, l] = slogdetParts(lw, T(lw, req(lw, a, 0, 'logdet', ['a'], span)), 'logdet');
    return tensor(C.binary(lw.b, 'add', l, lw.b.add('log', [s])));
  }),
  def('det', ['a'], 'the determinant of a square matrix (or of each in a batch), sign · exp(log|det|)', (lw, a, span) => {
    const [s, l] = slogdetParts(lw, T(lw, req(lw, a, 0, 'det', ['a'], span)), 'det');
    return tensor(C.binary(lw.b, 'mul', s, lw.b.add('exp', [l])));
  }),
  def('eigh', ['a'], 'the tuple (eigenvalues ascending [..., n], eigenvectors [..., n, n] as columns) of a symmetric matrix (its lower triangle is read)', (lw, a, span) => {
    const [l, v] = eighParts(lw, T(lw, req(lw, a, 0, 'eigh', ['a'], span)), 'eigh');
    return { k: 'tuple', items: [tensor(l), tensor(v)] };
  }),
  def('eigvalsh', ['a'], 'the eigenvalues, ascending [..., n], of a symmetric matrix (its lower triangle is read)', (lw, a, span) =>
    tensor(eighParts(lw, T(lw, req(lw, a, 0, 'eigvalsh', ['a'], span)), 'eigvalsh')[0]),
  ),
];
