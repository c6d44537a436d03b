/**
 * @file Simplification to a fixpoint: common-subexpression elimination, constant folding of
 * small values, each op's algebraic identities (from its definition), removal of
 * `stop_gradient` (differentiation is over once a graph is lowered) and dead-code elimination.
 */
import { buildGraph, GraphBuilder } from '../ir/builder.js';
import { splatValue } from '../ir/const-value.js';
import type { Graph, Node } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { getOp } from '../ir/ops/index.js';
import { formatAttr } from '../ir/print.js';
import { numel } from '../ir/types.js';
import { scanParts, type ScanAttrs } from '../ir/ops/scan.js';

/** Results with at most this many elements are computed at compile time. */
const FOLD_LIMIT = 64;

function isConstantLike(n: Node): boolean {
  if (n.op === 'constant' || n.op === 'iota') return true;
  const k = getOp(n.op).kind;
  return k === 'movement' && n.inputs.length === 1 && isConstantLike(n.inputs[0]!);
}

const noEnv = {
  input(): NDArray {
    throw new Error('internal: constant folding reached an input');
  },
  param(): NDArray {
    throw new Error('internal: constant folding reached a parameter');
  },
};

/** Evaluates a small constant subgraph. */
function evalConstant(n: Node, memo: Map<Node, NDArray>): NDArray {
  const hit = memo.get(n);
  if (hit) return hit;
  const v = getOp(n.op).evaluate(
    n.inputs.map((i) => evalConstant(i, memo)),
    n.attrs,
    n.type,
    noEnv,
  );
  memo.set(n, v);
  return v;
}

/**
 * The results of scan `n` that something reads, when every reader is a slice of one result
 * (as lowering reads them); undefined when a reader reads otherwise.
 */
function usedScanResults(n: Node, users: readonly Node[]): Set<number> | undefined {
  const parts = scanParts(n.body!, n.attrs as unknown as ScanAttrs);
  const used = new Set<number>();
  for (const u of users) {
    if (u.op !== 'slice' || (u.attrs['step'] as number[])[0] !== 1) return undefined;
    const [lo, hi] = [(u.attrs['start'] as number[])[0]!, (u.attrs['stop'] as number[])[0]!];
    const i = parts.findIndex((p) => lo >= p.offset && hi <= p.offset + p.size);
    if (i < 0) return undefined;
    used.add(i);
  }
  return used;
}

function onePass(g: Graph): Graph {
  const b = new GraphBuilder();
  const map = new Map<Node, Node>();
  const users = new Map<Node, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  /** Readers of a pruned scan, already remapped: slices of its new packed value. */
  const remapped = new Map<Node, Node>();
  const cse = new Map<string, Node>();
  const memo = new Map<Node, NDArray>();
  const emit = (op: string, inputs: readonly Node[], attrs: Node['attrs']): Node => {
    const key = `${op}(${inputs.map((i) => i.id).join(',')})${formatAttr(attrs)}`;
    const hit = cse.get(key);
    if (hit) return hit;
    const n = b.add(op, inputs, attrs);
    cse.set(key, n);
    return n;
  };
  const wider = widerScans(g, users);
  const outputs = new Set([...g.outputs, ...g.updates].map((o) => o.node));
  for (const n of g.nodes) {
    b.span = n.span;
    const inputs = n.inputs.map((i) => map.get(i)!);
    const def = getOp(n.op);
    const again = remapped.get(n);
    if (again) {
      map.set(n, again);
      continue;
    }
    if (map.has(n)) continue;
    if (n.body) {
      // A loop that a later one repeats with more outputs: that one, here, for the readers of both.
      const w = wider.get(n);
      const s = simplifyScan(b, w ?? n, inputs, [...(users.get(n) ?? []), ...(w ? (users.get(w) ?? []) : [])], remapped);
      map.set(n, s);
      if (w) map.set(w, s);
      continue;
    }
    let out: Node | undefined;
    if (n.op === 'stop_gradient') out = inputs[0];
    // A movement of splat constants that all hold one value (and pad with it): one scalar,
    // broadcast once. Any other mix (concat of different splats, padding with another value)
    // is not a splat.
    if (!out && def.kind === 'movement' && n.op !== 'constant') {
      const v = commonSplat(inputs, def.fill?.(n.attrs));
      if (v !== undefined) out = reshapeTo(emit('constant', [], { dtype: n.type.dtype, shape: [], value: v }), n.type.shape, emit);
    }
    const soleReader = (k: number) => (users.get(n.inputs[k]!) ?? []).length === 1 && !outputs.has(n.inputs[k]!);
    if (!out && def.simplify) out = def.simplify({ b, inputs, attrs: n.attrs, type: n.type, soleReader });
    if (!out && def.kind !== 'source' && def.kind !== 'movement' && inputs.length && inputs.every(isConstantLike) && numel(n.type.shape) <= FOLD_LIMIT) {
      const tmp = b.add(n.op, inputs, n.attrs);
      const v = evalConstant(tmp, memo);
      const first = v.data[0];
      const splat = v.size > 0 && v.data.every((x) => Object.is(x, first));
      out = splat
        ? reshapeTo(emit('constant', [], { dtype: n.type.dtype, shape: [], value: first! }), n.type.shape, emit)
        : emit('constant', [], { dtype: n.type.dtype, shape: [...n.type.shape], value: Array.from(v.data) });
    }
    map.set(n, out ?? emit(n.op, inputs, n.attrs));
  }
  return buildGraph(
    g.name,
    g.inputs.map((i) => map.get(i)!),
    g.outputs.map((o) => ({ name: o.name, node: map.get(o.node)! })),
    g.updates.map((u) => ({ name: u.name, node: map.get(u.node)! })),
  );
}

/**
 * Loops that a later loop repeats with more results: the same inputs, attributes and body nodes,
 * the body's outputs a prefix of the later one's (a backward pass's forward scan that also stores
 * what it needs: src/ir/ops/scan.ts), so the earlier one's results are the later one's first
 * results, at the same offsets. Only where every reader of the earlier loop is a slice.
 */
function widerScans(g: Graph, users: ReadonlyMap<Node, readonly Node[]>): Map<Node, Node> {
  const out = new Map<Node, Node>();
  const scans = g.nodes.filter((n) => n.body);
  const outputs = new Set([...g.outputs, ...g.updates].map((o) => o.node));
  const taken = new Set<Node>();
  for (const [i, n] of scans.entries()) {
    if (outputs.has(n) || taken.has(n) || !usedScanResults(n, users.get(n) ?? [])) continue;
    const w = scans.slice(i + 1).find(
      (m) =>
        !taken.has(m) &&
        m.body!.nodes === n.body!.nodes &&
        m.body!.outputs.length > n.body!.outputs.length &&
        n.body!.outputs.every((o, k) => m.body!.outputs[k]!.node === o.node) &&
        m.inputs.length === n.inputs.length &&
        m.inputs.every((x, k) => x === n.inputs[k]) &&
        formatAttr(m.attrs) === formatAttr(n.attrs),
    );
    if (!w || outputs.has(w)) continue;
    out.set(n, w);
    taken.add(w);
    taken.add(n);
  }
  return out;
}

/**
 * A loop with its body simplified, and without the stacked outputs nobody reads (the carries
 * before each step that lowering stores for a backward pass that did not come, for one).
 */
function simplifyScan(b: GraphBuilder, n: Node, inputs: readonly Node[], users: readonly Node[], remapped: Map<Node, Node>): Node {
  const a = n.attrs as unknown as ScanAttrs;
  let body = simplify(n.body!).graph;
  const results = usedScanResults(n, users);
  const oldParts = scanParts(n.body!, a);
  const keep = body.outputs.map((_, i) => i < a.carries || !results || results.has(i));
  if (keep.some((k) => !k)) body = simplify({ ...body, outputs: body.outputs.filter((_, i) => keep[i]) }).graph;
  // Per-step inputs and captures the body no longer reads (a loop variable used only to index rows).
  const read = new Set<Node>([...body.nodes.flatMap((x) => x.inputs), ...body.outputs.map((o) => o.node)]);
  const used = body.inputs.map((x, i) => i < a.carries || read.has(x));
  let attrs = n.attrs;
  if (used.some((u) => !u)) {
    body = buildGraph(body.name, body.inputs.filter((_, i) => used[i]), body.outputs);
    attrs = { ...n.attrs, xs: used.slice(a.carries, a.carries + a.xs).filter(Boolean).length };
    inputs = inputs.filter((_, i) => used[i]);
  }
  const scan = b.add(n.op, inputs, attrs, body);
  if (results && keep.some((k) => !k)) {
    const newIndex = keep.map((k, i) => (k ? keep.slice(0, i).filter(Boolean).length : -1));
    const newParts = scanParts(body, a);
    for (const u of users) {
      const [lo, hi] = [(u.attrs['start'] as number[])[0]!, (u.attrs['stop'] as number[])[0]!];
      const i = oldParts.findIndex((p) => lo >= p.offset && hi <= p.offset + p.size);
      const shift = newParts[newIndex[i]!]!.offset - oldParts[i]!.offset;
      const whole = lo + shift === 0 && hi + shift === scan.type.shape[0];
      remapped.set(u, whole ? scan : b.add('slice', [scan], { start: [lo + shift], stop: [hi + shift], step: [1] }));
    }
  }
  return scan;
}

/** The value every input splats (and `fill`, when given, equals), or undefined. */
function commonSplat(inputs: readonly Node[], fill: number | undefined): number | undefined {
  const v = splatValue(inputs[0]!);
  if (v === undefined) return undefined;
  if (fill !== undefined && !Object.is(fill, v)) return undefined;
  return inputs.every((x) => Object.is(splatValue(x), v)) ? v : undefined;
}

function reshapeTo(x: Node, shape: readonly number[], emit: (op: string, i: readonly Node[], a: Node['attrs']) => Node): Node {
  if (shape.length === 0) return x;
  const ones = emit('reshape', [x], { shape: shape.map(() => 1) });
  return shape.every((d) => d === 1) ? ones : emit('broadcast', [ones], { shape: [...shape] });
}

export interface SimplifyResult {
  readonly graph: Graph;
  readonly before: number;
  readonly after: number;
  readonly rounds: number;
}

export function simplify(g: Graph, maxRounds = 10): SimplifyResult {
  let cur = g;
  let rounds = 0;
  for (; rounds < maxRounds; rounds++) {
    const next = onePass(cur);
    const same = next.nodes.length === cur.nodes.length && next.nodes.every((n, i) => n.op === cur.nodes[i]!.op);
    cur = next;
    if (same) break;
  }
  return { graph: cur, before: g.nodes.length, after: cur.nodes.length, rounds: rounds + 1 };
}
