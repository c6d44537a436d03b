/**
 * @file Which inputs of a graph are class labels or indices, and the values they may hold.
 *
 * An i32 input is an index when it reaches, through movement ops only (reshape, broadcast,
 * permute, slice, pad, reverse, concat, unfold: ops that move values without changing them):
 * - the index operand of `gather` (`take`, embedding lookups): valid 0..n-1 for the gathered axis;
 * - the index operand of `scatter_add` (a gather's gradient): valid 0..size-1;
 * - one side of an `eq` whose other side is an `iota` along an axis of n: this is how `one_hot`
 *   (and so `cross_entropy` with integer labels) is lowered; valid class labels are 0..n-1.
 * An input used in several such places gets the intersection of their ranges. Values computed
 * inside the program are not covered: what an out-of-range computed index does is the op's rule
 * (docs/ops.md).
 */
import type { Graph, Node } from './graph.js';
import { getOp } from './ops/index.js';
import { formatType } from './types.js';

export interface IndexRange {
  /** Smallest valid value. */
  readonly lo: number;
  /** One past the largest valid value. */
  readonly hi: number;
  /** What the input is, in words: `class labels of a one_hot over 10 classes`. */
  readonly use: string;
  /** The operation that reads it (for its source location). */
  readonly at: Node;
}

/** The nodes that `n` moves values from: `n` itself unless it is a movement op. */
function movedFrom(n: Node, memo: Map<number, Node[]>): Node[] {
  const known = memo.get(n.id);
  if (known) return known;
  const out = getOp(n.op).kind === 'movement' ? [...new Set(n.inputs.flatMap((i) => movedFrom(i, memo)))] : [n];
  memo.set(n.id, out);
  return out;
}

/** The index uses in a graph: for each, the operand holding indices and its valid range. */
function indexUses(g: Graph, memo: Map<number, Node[]>): { operand: Node; hi: number; use: string; at: Node }[] {
  const uses: { operand: Node; hi: number; use: string; at: Node }[] = [];
  for (const n of g.nodes) {
    if (n.op === 'gather') {
      const x = n.inputs[0]!;
      const axis = Number(n.attrs['axis']);
      uses.push({ operand: n.inputs[1]!, hi: x.type.shape[axis]!, use: `indices into axis ${axis} of ${formatType(x.type)} (take/gather)`, at: n });
    } else if (n.op === 'scatter_add') {
      const size = Number(n.attrs['size']);
      uses.push({ operand: n.inputs[0]!, hi: size, use: `indices into an axis of ${size} (scatter_add)`, at: n });
    } else if (n.op === 'eq' && n.inputs[0]!.type.dtype === 'i32') {
      for (const [k, other] of [n.inputs[1]!, n.inputs[0]!].entries()) {
        const iotas = movedFrom(other, memo).filter((s) => s.op === 'iota');
        if (!iotas.length) continue;
        const classes = Math.max(...iotas.map((s) => s.type.shape[Number(s.attrs['axis'])]!));
        uses.push({ operand: n.inputs[k]!, hi: classes, use: `class labels of a one_hot over ${classes} classes (as in cross_entropy)`, at: n });
      }
    }
  }
  return uses;
}

/** The valid range of every i32 input used as labels or indices, by input name. */
export function indexRanges(g: Graph): Map<string, IndexRange> {
  const memo = new Map<number, Node[]>();
  const out = new Map<string, IndexRange>();
  for (const u of indexUses(g, memo)) {
    for (const s of movedFrom(u.operand, memo)) {
      if (s.op !== 'input' || s.type.dtype !== 'i32') continue;
      const name = String(s.attrs['name']);
      const prev = out.get(name);
      if (!prev || u.hi < prev.hi) out.set(name, { lo: 0, hi: u.hi, use: u.use, at: u.at });
    }
  }
  return out;
}
