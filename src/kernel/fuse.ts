/**
 * @file Fusion: deciding which values get a buffer of their own. Every other computing value is
 * inlined into the kernels that read it: elementwise and movement ops become part of their
 * consumers' expressions, reductions absorb their producers, an elementwise consumer of a
 * reduction computes it in place, contractions take their elementwise epilogue, and a reduction
 * whose result is broadcast back over the axes it reduced (softmax, layer norm, cross-entropy)
 * is computed once per row inside its consumers' row kernel. A value read by several kernels is
 * recomputed when that is cheap and stored when it is not. The decisions use the ops' costs and
 * are recorded with their reasons for the kernel report.
 */
import type { Graph, Node } from '../ir/graph.js';
import { costOf } from '../ir/op.js';
import { getOp } from '../ir/ops/index.js';
import { numel, sameShape } from '../ir/types.js';

export interface FusionOptions {
  /** false: one kernel per computing primitive (the baseline fusion is measured against). */
  readonly fuse?: boolean;
}

export interface FusionPlan {
  /** Computing values that get a buffer; the kernels' outputs. */
  readonly materialized: ReadonlySet<Node>;
  /** Why each materialized value was not fused into its readers. */
  readonly reasons: ReadonlyMap<Node, string>;
  /** A contraction whose result is not stored: its kernel writes this consumer's value instead. */
  readonly epilogueOf: ReadonlyMap<Node, Node>;
  /** Reductions computed once per row of the kernel that reads them broadcast. */
  readonly rowReductions: ReadonlySet<Node>;
}

/** Views and literals: never a buffer, whatever the plan. */
export function isView(n: Node): boolean {
  if (n.op === 'constant') return !Array.isArray(n.attrs['value']);
  return getOp(n.op).kind === 'movement' || n.op === 'iota';
}

export function isComputing(n: Node): boolean {
  return getOp(n.op).kind !== 'source' && !isView(n);
}

/** Flops per output element above which a value read by several kernels is stored, not recomputed. */
const RECOMPUTE_FLOPS = 8;
/** Largest inlined expression (in primitives) a kernel may carry for one value. */
const MAX_INLINE = 48;

/**
 * A computing node that reads a value: directly (at the same index) or through views, and
 * whether every view on the way is strided (a matrix product reads such an operand in place).
 */
interface Reader {
  readonly reader: Node;
  readonly direct: boolean;
  /**
   * Elementwise, reading each element at its own flat index: directly, or through reshapes
   * only (which keep the flat index) with as many elements.
   */
  readonly sameIndex: boolean;
  readonly strided: boolean;
}

/** The computing nodes that read n, looking through views (movement ops read at other indices). */
function readersOf(g: Graph): Map<Node, Reader[]> {
  const direct = new Map<Node, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) direct.set(i, [...(direct.get(i) ?? []), n]);
  const out = new Map<Node, Reader[]>();
  const collect = (n: Node, from: Node, viaView: boolean, flat: boolean, strided: boolean, acc: Reader[], seen: Set<Node>) => {
    for (const r of direct.get(n) ?? []) {
      if (seen.has(r)) continue;
      seen.add(r);
      if (isView(r)) collect(r, from, true, flat && r.op === 'reshape', strided && getOp(r.op).strided === true, acc, seen);
      else {
        const sameIndex = flat && getOp(r.op).kind === 'elementwise' && numel(r.type.shape) === numel(from.type.shape);
        acc.push({ reader: r, direct: !viaView, strided, sameIndex });
      }
    }
  };
  for (const n of g.nodes) {
    const acc: Reader[] = [];
    collect(n, n, false, true, true, acc, new Set());
    out.set(n, acc);
  }
  return out;
}

/**
 * The broadcast-back pattern: every use of reduction r is either elementwise over the reduced
 * tensor's shape (r broadcast back over its reduced axes), or elementwise at r's own size (a
 * per-row value such as the mean's division by n) whose uses follow the same pattern.
 */
function broadcastBackOnly(r: Node, readers: ReadonlyMap<Node, readonly Reader[]>, outputs: ReadonlySet<Node>): boolean {
  const full = r.inputs[0]!.type.shape;
  const rowSize = numel(r.type.shape);
  const ok = (x: Node, seen: Set<Node>): boolean => {
    if (seen.has(x)) return true;
    const rs = readers.get(x) ?? [];
    // A per-row value may be a result of the program (logsumexp's value per row).
    if (rs.length === 0) return x !== r && outputs.has(x);
    seen.add(x);
    return rs.every(({ reader }) => {
      if (getOp(reader.op).kind !== 'elementwise') return false;
      if (sameShape(reader.type.shape, full)) return true;
      return numel(reader.type.shape) === rowSize && ok(reader, seen);
    });
  };
  return ok(r, new Set());
}

/**
 * The one stored value that every path from contraction n ends in, when every value on the
 * way is elementwise, read at the same index and inlined; otherwise why not.
 */
function epilogueSink(n: Node, readers: ReadonlyMap<Node, readonly Reader[]>, materialized: ReadonlySet<Node>): Node | string {
  let sink: Node | undefined;
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length) {
    const x = stack.pop()!;
    const rs = readers.get(x) ?? [];
    if (rs.length === 0) return 'nothing reads its result elementwise';
    for (const { reader, sameIndex } of rs) {
      if (!sameIndex) {
        // A value on the way that a matrix product reads is stored anyway (as its operand):
        // the epilogue stores it (relu(x @ W1 + b1) feeding @ W2).
        if (x !== n && getOp(reader.op).kind === 'contraction') {
          if (sink && sink !== x) return `its elementwise readers end in several stored values (${sink.op} and ${x.op})`;
          sink = x;
          continue;
        }
        return `its result is read at other indices (by ${reader.op})`;
      }
      if (materialized.has(reader)) {
        if (sink && sink !== reader) return `its elementwise readers end in several stored values (${sink.op} and ${reader.op})`;
        sink = reader;
      } else if (!seen.has(reader)) {
        seen.add(reader);
        stack.push(reader);
      }
    }
  }
  return sink ?? 'nothing reads its result elementwise';
}

export function planFusion(g: Graph, opts: FusionOptions = {}): FusionPlan {
  const materialized = new Set<Node>();
  const reasons = new Map<Node, string>();
  const epilogueOf = new Map<Node, Node>();
  const rowReductions = new Set<Node>();
  // State updates are stored like results of the program (into their state, src/kernel/in-place.ts).
  const outputs = new Set([...g.outputs, ...g.updates].map((o) => o.node));
  const mat = (n: Node, why: string) => {
    materialized.add(n);
    reasons.set(n, why);
  };
  if (opts.fuse === false) {
    for (const n of g.nodes) if (isComputing(n)) mat(n, 'fusion is off');
    return { materialized, reasons, epilogueOf, rowReductions };
  }
  const readers = readersOf(g);
  // Values that are results of the program, or whose views are.
  const viewedOutputs = new Set<Node>();
  for (const o of outputs) for (let x: Node | undefined = o; x && !viewedOutputs.has(x); x = isView(x) ? x.inputs[0] : undefined) viewedOutputs.add(x);
  // Size of a value's expression if inlined (decided producers first, in topological order).
  const size = new Map<Node, number>();
  const inlineSize = (n: Node) => (materialized.has(n) || !isComputing(n) ? (isView(n) ? size.get(n) ?? 1 : 1) : (size.get(n) ?? 1));
  for (const n of g.nodes) {
    const own = 1 + n.inputs.reduce((s, i) => s + inlineSize(i), 0);
    size.set(n, own);
    if (!isComputing(n)) continue;
    const def = getOp(n.op);
    const rs = readers.get(n) ?? [];
    if (outputs.has(n)) {
      mat(n, g.updates.some((u) => u.node === n) && !g.outputs.some((o) => o.node === n) ? 'it is a new value of a state' : 'it is an output of the program');
      continue;
    }
    if (def.kind === 'loop') {
      mat(n, 'a loop writes its results itself (src/kernel/loop.ts)');
      continue;
    }
    if (def.kind === 'routine') {
      mat(n, 'a linear-algebra routine is a kernel of its own');
      continue;
    }
    if (def.kind === 'contraction') {
      // Fused later with its epilogue when it has exactly one elementwise reader at the same index.
      mat(n, 'a contraction is a kernel of its own');
      continue;
    }
    if (rs.length === 0) continue;
    const reduces = def.kind === 'reduce' || n.op === 'scatter_add' || n.op === 'fold';
    if (reduces) {
      if (rs.length === 1 && rs[0]!.sameIndex) continue;
      // A reduction of a reduction reads each element once: compute it in place.
      if (rs.length === 1 && rs[0]!.direct && getOp(rs[0]!.reader.op).kind === 'reduce') continue;
      if (def.kind === 'reduce' && def.monoid && !('arg' in def.monoid) && broadcastBackOnly(n, readers, viewedOutputs)) {
        rowReductions.add(n);
        continue;
      }
      mat(n, rs.length > 1 ? `${rs.length} kernels read it` : 'its reader does not read it elementwise at the same index');
      continue;
    }
    if (own > MAX_INLINE) {
      mat(n, `its expression is too large to inline (${own} operations)`);
      continue;
    }
    if (rs.length === 1) continue;
    // A matrix product reads its operands from memory: a value several kernels read, one of them
    // a contraction through a strided view, is stored once rather than recomputed into an
    // operand copy (an operand read through concat or pad is copied anyway, computing it inline).
    if (rs.some(({ reader, strided }) => strided && getOp(reader.op).kind === 'contraction')) {
      mat(n, `${rs.length} kernels read it, one of them a matrix product`);
      continue;
    }
    const flops = costOf(def, n.inputs.map((i) => i.type), n.type, n.attrs).flops / Math.max(1, numel(n.type.shape));
    if (flops <= RECOMPUTE_FLOPS && own <= MAX_INLINE / 4) continue;
    mat(n, `${rs.length} kernels read it and recomputing it costs ${own} operations per element`);
  }
  // A loop reads its operands from memory (copies of rows and carries, captures read in place),
  // and so does a routine.
  for (const n of g.nodes) {
    const kind = getOp(n.op).kind;
    if (kind !== 'loop' && kind !== 'routine') continue;
    for (const i of n.inputs) if (isComputing(i) && !materialized.has(i)) mat(i, kind === 'loop' ? 'a loop reads it' : `a routine (${n.op}) reads it`);
  }
  // Contraction epilogues: the elementwise values computed from a contraction at its own index
  // (a chain or a small DAG: bias, activation, the mask a backward pass keeps) that end in one
  // stored value; the contraction's kernel computes that value instead of storing its result.
  for (const n of g.nodes) {
    if (getOp(n.op).kind !== 'contraction' || outputs.has(n)) continue;
    const sink = epilogueSink(n, readers, materialized);
    if (typeof sink === 'string') {
      reasons.set(n, `no epilogue: ${sink}`);
      continue;
    }
    if ([...epilogueOf.values()].includes(sink)) {
      reasons.set(n, 'no epilogue: another matrix product already writes its elementwise reader');
      continue;
    }
    materialized.delete(n);
    reasons.delete(n);
    if (!materialized.has(sink)) mat(sink, 'a matrix product reads it; the epilogue of the product before it stores it');
    epilogueOf.set(n, sink);
  }
  return { materialized, reasons, epilogueOf, rowReductions };
}
