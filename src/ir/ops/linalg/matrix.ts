/**
 * @file What the linear-algebra ops share: operand checks (square f32 matrices, batch axes that
 * agree, the size limit) and the masks and products their gradient rules are written with.
 */
import type { GraphBuilder } from '../../builder.js';
import * as C from '../../compose.js';
import type { Node } from '../../graph.js';
import { opError } from '../../op.js';
import { formatShape, formatType, sameShape, type TensorType } from '../../types.js';

/**
 * The largest matrix side a routine accepts. Each matrix is one workgroup's work (O(n³) for the
 * factorizations), which is fast to a few hundred and stays within a GPU's time limits to here.
 */
export const MAX_MATRIX = 1024;

/** A square f32 matrix operand [..., n, n]: its side n. */
export function squareSide(t: TensorType, op: string): number {
  floatOperand(t, op);
  const r = t.shape.length;
  if (r < 2 || t.shape[r - 1] !== t.shape[r - 2]) {
    opError('DL0318', (w) => `\`${op}\` needs a square matrix (or a batch of them, [..., n, n]), got ${formatType(t)}${w}`);
  }
  const n = t.shape[r - 1]!;
  if (n > MAX_MATRIX) opError('DL0319', (w) => `\`${op}\` handles matrices up to ${MAX_MATRIX}×${MAX_MATRIX}, got ${formatType(t)}${w}`, 'each matrix is one workgroup\'s work; split the problem (a block decomposition) or reduce its size');
  return n;
}

export function floatOperand(t: TensorType, op: string): void {
  if (t.dtype !== 'f32') opError('DL0303', (w) => `\`${op}\` works on f32 matrices, got ${formatType(t)}${w}`, 'convert with `cast(x, f32)`');
}

/** The batch axes (all but the last two) of a and b agree. */
export function sameBatch(a: TensorType, b: TensorType, op: string): void {
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  if (a.shape.length !== b.shape.length || !sameShape(ba, bb)) {
    opError(
      'DL0318',
      (w) => `the batch axes of ${formatType(a)} and ${formatType(b)} differ${w} (${formatShape(ba)} and ${formatShape(bb)})`,
      'give both operands the same leading axes (`broadcast_to`)',
    );
  }
}

/**
 * x with the entries outside its lower (or upper) triangle zeroed and its diagonal times `diag`
 * (over the last two axes).
 */
export function triangle(b: GraphBuilder, x: Node, lower: boolean, diag = 1): Node {
  const shape = [...x.type.shape];
  const r = shape.length;
  const row = b.add('iota', [], { dtype: 'i32', shape, axis: r - 2 });
  const col = b.add('iota', [], { dtype: 'i32', shape, axis: r - 1 });
  const zero = C.fullLike(b, 0, x);
  const off = b.add('select', [b.add(lower ? 'gt' : 'lt', [row, col]), x, zero]);
  const onDiag = diag === 1 ? x : diag === 0 ? zero : C.binary(b, 'mul', x, C.scalarConst(b, diag, 'f32'));
  return b.add('select', [b.add('eq', [row, col]), onDiag, off]);
}

/** xᵀ over the last two axes. */
export function mT(b: GraphBuilder, x: Node): Node {
  return C.transposeLast2(b, x);
}

/** The batched matrix product x · y. */
export function mm(b: GraphBuilder, x: Node, y: Node): Node {
  return C.matmul(b, x, y);
}
