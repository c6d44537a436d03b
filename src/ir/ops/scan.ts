/**
 * @file `scan`: a loop that stays a loop. The node's body is a graph of its own (`Node.body`),
 * run `trips` times:
 *
 *   inputs  = [init_0 … init_{C−1}, xs_0 … xs_{X−1}, cap_0 … cap_{K−1}]
 *   body    : (c_0 … c_{C−1}, x_0 … x_{X−1}, k_0 … k_{K−1}) → (c'_0 … c'_{C−1}, y_0 … y_{Y−1})
 *
 * The carries c start as the inits and become c' after each step; step t reads the slice
 * xs_j[t] (each xs_j has `trips` rows along axis 0); the captures k are the same at every step;
 * y_j of step t is row t of the stacked output Y_j ([trips, …]). With `reverse` the steps visit
 * t = trips−1 … 0 (the backward pass of a forward loop).
 *
 * A node has one value, so the results are packed into one flat tensor, in order: the final
 * carries, then the stacked outputs (`scanParts`); the frontend reads them through slices (views,
 * no copies). Every result has one dtype. Lowering adds the carry *before* each step as a stacked
 * output (an identity output y = c_k) so that the backward pass has the carries it needs; the
 * simplifier drops every result nobody reads (src/passes/scan-prune.ts).
 *
 * The VJP is a reverse scan whose body recomputes the forward body from the stored carry and
 * applies the body's own VJP: BPTT whose size does not grow with the trip count. The products
 * (and the concatenations they read) are not recomputed but stored by the forward scan as more
 * stacked outputs, within a budget (`SCAN_STORE_BUDGET`); that forward scan is the original one
 * with more outputs, and simplify merges the two. Its result is a scan again, so gradients of
 * gradients work the same way.
 */
import { GraphBuilder } from '../builder.js';
import * as C from '../compose.js';
import type { Graph, Node } from '../graph.js';
import { NDArray } from '../ndarray.js';
import { defineOp, opError, type Draw, type EvalEnv, type OpCase } from '../op.js';
import { formatType, numel, sameType, type DType, type TensorType } from '../types.js';
import { splatValue } from '../const-value.js';
import { getOp } from './index.js';
import { vjpMany } from '../../passes/autodiff.js';

export interface ScanAttrs {
  readonly trips: number;
  readonly carries: number;
  readonly xs: number;
  readonly reverse: boolean;
}

/** One result of a scan in its packed value: a final carry or a stacked output. */
export interface ScanPart {
  /** Element offset in the packed value. */
  readonly offset: number;
  /** The result's shape ([trips, …] for a stacked output). */
  readonly shape: readonly number[];
  readonly size: number;
  readonly stacked: boolean;
}

/** Where each result of a scan sits in its packed value (carries first, then stacked outputs). */
export function scanParts(body: Graph, a: ScanAttrs): ScanPart[] {
  let at = 0;
  return body.outputs.map((o, i) => {
    const stacked = i >= a.carries;
    const shape = stacked ? [a.trips, ...o.node.type.shape] : [...o.node.type.shape];
    const size = numel(shape);
    const p = { offset: at, shape, size, stacked };
    at += size;
    return p;
  });
}

/** Result `i` of a scan node, as a view of its packed value (slice, then reshape). */
export function scanResult(b: GraphBuilder, scan: Node, i: number): Node {
  const p = scanParts(scan.body!, scan.attrs as unknown as ScanAttrs)[i]!;
  const total = scan.type.shape[0]!;
  const s = p.offset === 0 && p.size === total ? scan : b.add('slice', [scan], { start: [p.offset], stop: [p.offset + p.size], step: [1] });
  return C.reshape(b, s, p.shape);
}

/** The body's input kinds by position. */
export function scanInputRole(a: ScanAttrs, i: number): 'carry' | 'xs' | 'capture' {
  return i < a.carries ? 'carry' : i < a.carries + a.xs ? 'xs' : 'capture';
}

function bad(what: string): never {
  return opError('DL0302', (w) => `internal: invalid loop${w}: ${what}`);
}

function inferScan(ins: readonly TensorType[], a: ScanAttrs, body?: Graph): TensorType {
  if (!body) bad('no body');
  if (!(Number.isInteger(a.trips) && a.trips >= 1)) bad(`trip count ${a.trips}`);
  const { carries: nc, xs: nx } = a;
  if (!(nc >= 0 && nx >= 0 && nc + nx <= ins.length)) bad(`${nc} carries and ${nx} per-step inputs of ${ins.length} inputs`);
  if (body.inputs.length !== ins.length) bad(`the body has ${body.inputs.length} inputs for ${ins.length}`);
  if (body.outputs.length < nc || body.outputs.length === 0) bad(`the body has ${body.outputs.length} outputs for ${nc} carries`);
  ins.forEach((t, i) => {
    const want = scanInputRole(a, i) === 'xs' ? (t.shape[0] === a.trips ? { dtype: t.dtype, shape: t.shape.slice(1) } : undefined) : t;
    if (!want) bad(`per-step input ${i} is ${formatType(t)}, not ${a.trips} rows`);
    if (!sameType(body.inputs[i]!.type, want)) bad(`body input ${i} is ${formatType(body.inputs[i]!.type)}, expected ${formatType(want)}`);
  });
  for (let k = 0; k < nc; k++) {
    const o = body.outputs[k]!.node.type;
    if (!sameType(o, ins[k]!)) bad(`carry ${k} is ${formatType(ins[k]!)} but the body gives ${formatType(o)}`);
  }
  const dtype: DType = body.outputs[0]!.node.type.dtype;
  if (body.outputs.some((o) => o.node.type.dtype !== dtype)) bad('its results have different dtypes');
  const parts = scanParts(body, a);
  const last = parts[parts.length - 1]!;
  return { dtype, shape: [last.offset + last.size] };
}

/** Evaluates a body graph on its input values (the reference semantics of one step). */
export function evaluateBody(body: Graph, args: readonly NDArray[], env: EvalEnv): NDArray[] {
  const values = new Array<NDArray>(body.nodes.length);
  const pos = new Map(body.inputs.map((n, i) => [n, i] as const));
  for (const n of body.nodes) {
    const p = pos.get(n);
    values[n.id] =
      p !== undefined
        ? args[p]!
        : getOp(n.op).evaluate(
            n.inputs.map((i) => values[i.id]!),
            n.attrs,
            n.type,
            env,
            n.body,
          );
  }
  return body.outputs.map((o) => values[o.node.id]!);
}

function evaluateScan(ins: readonly NDArray[], a: ScanAttrs, out: TensorType, env: EvalEnv, body?: Graph): NDArray {
  const g = body!;
  const parts = scanParts(g, a);
  const data = new Float64Array(numel(out.shape));
  let carries = ins.slice(0, a.carries);
  for (let s = 0; s < a.trips; s++) {
    const t = a.reverse ? a.trips - 1 - s : s;
    const args = ins.map((v, i) => {
      if (scanInputRole(a, i) === 'carry') return carries[i]!;
      if (scanInputRole(a, i) === 'capture') return v;
      const row = numel(v.shape.slice(1));
      return new NDArray(v.shape.slice(1), v.data.subarray(t * row, (t + 1) * row));
    });
    const outs = evaluateBody(g, args, env);
    outs.forEach((o, i) => {
      const p = parts[i]!;
      if (p.stacked) data.set(o.data, p.offset + t * (p.size / a.trips));
    });
    carries = outs.slice(0, a.carries);
  }
  carries.forEach((c, k) => data.set(c.data, parts[k]!.offset));
  return new NDArray([...out.shape], data);
}

/**
 * Re-creates the nodes of `body` in `b` with its inputs replaced by `args`; returns its outputs.
 * `map` may hold replacements for other body nodes too (stored values: not re-created), and
 * ends holding every body node's counterpart. (Nested loops keep their own bodies.)
 */
export function inlineBody(b: GraphBuilder, body: Graph, args: readonly Node[], map = new Map<Node, Node>()): Node[] {
  body.inputs.forEach((n, i) => map.set(n, args[i]!));
  b.import(body, map);
  return body.outputs.map((o) => map.get(o.node)!);
}

/** A fresh body input. */
function bodyInput(b: GraphBuilder, name: string, t: TensorType): Node {
  return b.add('input', [], { name, dtype: t.dtype, shape: [...t.shape] });
}

/**
 * The position, among the body's outputs, of the carry-before-the-step output of each carry
 * (an output that is the carry's own input node), or -1.
 */
function carryInOutputs(body: Graph, a: ScanAttrs): number[] {
  return body.inputs.slice(0, a.carries).map((c) => body.outputs.findIndex((o, i) => i >= a.carries && o.node === c));
}

/** The body with the carries before each step added as stacked outputs (for those missing). */
export function withCarryIns(body: Graph, a: ScanAttrs): Graph {
  const have = carryInOutputs(body, a);
  const extra = have.flatMap((j, k) => (j < 0 ? [{ name: `cin${k}`, node: body.inputs[k]! }] : []));
  if (extra.length === 0) return body;
  return { ...body, outputs: [...body.outputs, ...extra] };
}

/**
 * How many elements (all steps together) the backward pass of one loop may store of the forward
 * body's intermediates instead of recomputing them: 2^24, 64 MiB of f32. Over the budget, the
 * backward body recomputes the forward body from the stored carries alone.
 */
export const SCAN_STORE_BUDGET = 1 << 24;

/**
 * The forward body's values its backward body reads back instead of recomputing them: each
 * product (contraction) that changes from step to step, and its operands that are computed
 * values other than views (a concatenation), when they fit `SCAN_STORE_BUDGET` together; in
 * body order.
 */
export function storedIntermediates(body: Graph, a: ScanAttrs): Node[] {
  const inputs = new Set(body.inputs);
  const steady = new Set(body.inputs.slice(a.carries + a.xs));
  const varying = new Set<Node>();
  for (const n of body.nodes) if ((inputs.has(n) && !steady.has(n)) || n.inputs.some((i) => varying.has(i))) varying.add(n);
  const pick = new Set<Node>();
  const storable = (n: Node) => varying.has(n) && !inputs.has(n) && !n.body && n.type.dtype === 'f32';
  for (const n of body.nodes) {
    if (getOp(n.op).kind !== 'contraction' || !storable(n)) continue;
    pick.add(n);
    for (const i of n.inputs) if (storable(i) && (getOp(i.op).kind !== 'movement' || i.op === 'concat')) pick.add(i);
  }
  const list = body.nodes.filter((n) => pick.has(n));
  const total = list.reduce((s, n) => s + numel(n.type.shape), 0) * a.trips;
  return total <= SCAN_STORE_BUDGET ? list : [];
}

/**
 * Whether elements lo..hi-1 of the flat cotangent g are zero by construction: a zero splat, the
 * zero padding of a pad, or a sum of such (how the cotangent of results nobody reads arrives).
 */
function zeroRange(g: Node, lo: number, hi: number): boolean {
  if (splatValue(g) === 0) return true;
  if (g.type.shape.length !== 1) return false;
  if (g.op === 'add') return g.inputs.every((x) => zeroRange(x, lo, hi));
  if (g.op === 'pad' && (g.attrs['value'] as number) === 0) {
    const before = (g.attrs['lo'] as number[])[0]!;
    const inner = g.inputs[0]!.type.shape[0]!;
    if (hi <= before || lo >= before + inner) return true;
    return zeroRange(g.inputs[0]!, Math.max(lo, before) - before, Math.min(hi, before + inner) - before) && lo >= before && hi <= before + inner;
  }
  if (g.op === 'slice' && (g.attrs['step'] as number[])[0] === 1) {
    const start = (g.attrs['start'] as number[])[0]!;
    return zeroRange(g.inputs[0]!, lo + start, hi + start);
  }
  return false;
}

/**
 * Reverse mode: the cotangents of the inits, the per-step inputs and the captures, from one
 * reverse scan over the stored carries. A stacked output whose cotangent is zero (nobody reads
 * it: the stored carries themselves) adds no per-step input.
 */
function scanVjp(b: GraphBuilder, node: Node, a: ScanAttrs, g: Node): (Node | undefined)[] {
  if (node.type.dtype !== 'f32') return [];
  const body = node.body!;
  const nc = a.carries;
  const nx = a.xs;
  const ins = node.inputs;
  const nk = ins.length - nc - nx;
  const ny = body.outputs.length - nc;
  // The carries before each step and the stored intermediates: from this scan, or from one that
  // also stores them (the same body nodes with more outputs, merged with this one by simplify).
  const stored = node.type.dtype === 'f32' ? storedIntermediates(body, a) : [];
  const withIns = withCarryIns(body, a);
  const missing = stored.filter((n) => !withIns.outputs.some((o, i) => i >= nc && o.node === n));
  const fwdBody = missing.length ? { ...withIns, outputs: [...withIns.outputs, ...missing.map((n, j) => ({ name: `st${j}`, node: n }))] } : withIns;
  const fwd = fwdBody === body ? node : b.add('scan', [...ins], node.attrs, fwdBody);
  const cinAt = carryInOutputs(fwd.body!, a);
  const cins = cinAt.map((j) => scanResult(b, fwd, j));
  const storedRows = stored.map((n) => scanResult(b, fwd, fwdBody.outputs.findIndex((o, i) => i >= nc && o.node === n)));
  const part = (i: number) => {
    const p = scanParts(body, a)[i]!;
    return C.reshape(b, b.add('slice', [g], { start: [p.offset], stop: [p.offset + p.size], step: [1] }), p.shape);
  };
  const f32 = (t: TensorType) => t.dtype === 'f32';
  const capIdx = Array.from({ length: nk }, (_, m) => nc + nx + m).filter((i) => f32(ins[i]!.type));
  const xsIdx = Array.from({ length: nx }, (_, j) => nc + j);
  // The reverse body: carries (∂c, accumulated ∂captures), per step (c before the step, x, ∂y), captures.
  const rb = new GraphBuilder();
  rb.span = b.span;
  const gc = ins.slice(0, nc).map((x, k) => bodyInput(rb, `gc${k}`, x.type));
  const cin = ins.slice(0, nc).map((x, k) => bodyInput(rb, `c${k}`, x.type));
  const xin = xsIdx.map((i, j) => bodyInput(rb, `x${j}`, body.inputs[i]!.type));
  const parts = scanParts(body, a);
  const zeroGy = body.outputs.slice(nc).map((_, j) => zeroRange(g, parts[nc + j]!.offset, parts[nc + j]!.offset + parts[nc + j]!.size));
  const gyIn = body.outputs.slice(nc).flatMap((o, j) => (zeroGy[j] ? [] : [bodyInput(rb, `gy${j}`, o.node.type)]));
  let gyAt = 0;
  const gy = body.outputs.slice(nc).map((o, j) => (zeroGy[j] ? C.fullLike(rb, 0, o.node) : gyIn[gyAt++]!));
  const kin = Array.from({ length: nk }, (_, m) => bodyInput(rb, `k${m}`, ins[nc + nx + m]!.type));
  const sin = stored.map((n, j) => bodyInput(rb, `s${j}`, n.type));
  const map = new Map<Node, Node>(stored.map((n, j) => [n, sin[j]!] as const));
  const outs = inlineBody(rb, body, [...cin, ...xin, ...kin], map);
  const roots = outs.map((y, i) => ({ y, seed: i < nc ? gc[i]! : gy[i - nc]! }));
  const xsWrt = xsIdx.filter((i) => f32(ins[i]!.type));
  const wrt = [...cin, ...xsWrt.map((i) => xin[i - nc]!), ...capIdx.map((i) => kin[i - nc - nx]!)];
  // The body's values read from the stored ones; their cotangents then go through the ops that
  // computed them (latest first, so each is complete when it is passed on), whose VJPs read
  // their operands, not the product: the product is not recomputed.
  const all = [...wrt, ...sin];
  let total = vjpMany(rb, roots, all);
  for (let j = stored.length - 1; j >= 0; j--) {
    const d = total[wrt.length + j];
    if (!d) continue;
    const n = stored[j]!;
    const again = rb.add(n.op, n.inputs.map((i) => map.get(i)!), n.attrs);
    const more = vjpMany(rb, [{ y: again, seed: d }], all);
    total = total.map((t, i) => (i === wrt.length + j || !more[i] ? t : t ? rb.add('add', [t, more[i]!]) : more[i]));
  }
  const grads = total.slice(0, wrt.length).map((d, i) => d ?? C.fullLike(rb, 0, wrt[i]!));
  const gCin = grads.slice(0, nc);
  const gX = grads.slice(nc, nc + xsWrt.length);
  const gK = grads.slice(nc + xsWrt.length);
  // A capture's cotangent summed over the steps: its products and sums of per-step values are
  // each one product (sum) over the stacked values after the loop, the step one more contracted
  // (summed) axis; what remains is accumulated in a carry (none when nothing remains).
  const rows = new Map<Node, Node>([...cin.map((n, k) => [n, cins[k]!] as const), ...xin.map((n, j) => [n, ins[xsIdx[j]!]!] as const), ...sin.map((n, j) => [n, storedRows[j]!] as const)]);
  const gStacked = Array.from({ length: ny }, (_, j) => j).filter((j) => !zeroGy[j]).map((j) => part(nc + j));
  gyIn.forEach((n, j) => rows.set(n, gStacked[j]!));
  const stacking: Node[] = [];
  const split = stepSums(rb, gK, [...gc, ...cin, ...xin, ...sin, ...gyIn], a.trips, (n) => {
    // (The carries ∂c before each step are stacked outputs already.)
    if (!rows.has(n) && !gc.includes(n) && !stacking.includes(n)) stacking.push(n);
  });
  const accAt = capIdx.flatMap((_, m) => (split[m]!.kept ? [m] : []));
  const acc = accAt.map((m) => bodyInput(rb, `gk${m}`, ins[capIdx[m]!]!.type));
  const newAcc = accAt.map((m, j) => rb.add('add', [acc[j]!, split[m]!.kept!]));
  const rbOutputs = [
    ...gCin.map((n, k) => ({ name: `gc${k}`, node: n })),
    ...newAcc.map((n, j) => ({ name: `gk${accAt[j]}`, node: n })),
    ...gX.map((n, j) => ({ name: `gx${j}`, node: n })),
    // The reverse scan's own carries before each step, for a gradient of this gradient.
    ...[...gc, ...acc].map((n, k) => ({ name: `cin${k}`, node: n })),
    ...stacking.map((n, j) => ({ name: `sum${j}`, node: n })),
  ];
  const rbody = rb.finish(`${node.body!.name}.vjp`, [...gc, ...acc, ...cin, ...xin, ...sin, ...gyIn, ...kin], rbOutputs);
  const gFinal = Array.from({ length: nc }, (_, k) => part(k));
  const zeros = accAt.map((m) => C.fullLike(b, 0, ins[capIdx[m]!]!));
  const rc = nc + acc.length;
  const rev = b.add(
    'scan',
    [...gFinal, ...zeros, ...cins, ...xsIdx.map((i) => ins[i]!), ...storedRows, ...gStacked, ...ins.slice(nc + nx)],
    { trips: a.trips, carries: rc, xs: nc + nx + stored.length + gStacked.length, reverse: !a.reverse },
    rbody,
  );
  const stackedOf = (n: Node) => rows.get(n) ?? scanResult(b, rev, rbOutputs.findIndex((o, i) => i >= rc && o.node === n));
  const out: (Node | undefined)[] = new Array(ins.length).fill(undefined);
  for (let k = 0; k < nc; k++) out[k] = scanResult(b, rev, k);
  capIdx.forEach((i, m) => {
    const j = accAt.indexOf(m);
    const terms = [...(j >= 0 ? [scanResult(b, rev, nc + j)] : []), ...split[m]!.hoisted.map((h) => h(b, stackedOf))];
    out[i] = terms.length ? terms.reduce((s, t) => b.add('add', [s, t])) : C.fullLike(b, 0, ins[i]!);
  });
  xsWrt.forEach((i, j) => (out[i] = scanResult(b, rev, rc + j)));
  return out;
}

/** Builds a term summed over the steps outside the loop, from the stacked (per-step) values of the body nodes it read. */
type StepSum = (b: GraphBuilder, stacked: (n: Node) => Node) => Node;

/**
 * Each of `sums` (a per-step value summed over the steps) split into the terms that are one
 * contraction or reduction after the loop (a product or reduce_sum of values that change from
 * step to step, through reshapes, permutes and pads by 0) and the rest (`kept`, accumulated in the loop).
 * `varyingFrom` are the body inputs that change from step to step; `stack(n)` is told each body
 * value a hoisted term reads stacked. Nothing is hoisted when the stacked values would exceed
 * `SCAN_STORE_BUDGET`.
 */
function stepSums(rb: GraphBuilder, sums: readonly Node[], varyingFrom: readonly Node[], trips: number, stack: (n: Node) => void): { kept?: Node; hoisted: StepSum[] }[] {
  const varying = new Set<Node>(varyingFrom);
  const isVarying = (n: Node): boolean => {
    if (varying.has(n)) return true;
    const v = n.inputs.some(isVarying);
    if (v) varying.add(n);
    return v;
  };
  const operand = (n: Node) => isVarying(n) && n.type.dtype === 'f32';
  /** How a term is summed after the loop, or undefined (it stays in the loop). */
  const hoist = (n: Node): { make: StepSum; reads: Node[] } | undefined => {
    if (n.op === 'dot_general' && operand(n.inputs[0]!) && operand(n.inputs[1]!)) {
      const [l, r] = n.inputs as [Node, Node];
      const d = n.attrs as unknown as DotLike;
      return {
        reads: [l, r],
        make: (ob, st) => {
          // The step axis contracted with the others; merged into a leading contracted axis when there is one.
          if (d.lhs_contract[0] === 0 && d.rhs_contract[0] === 0 && d.lhs_batch.every((x) => x > 0) && d.rhs_batch.every((x) => x > 0)) {
            return ob.add('dot_general', [mergeSteps(ob, st(l), l), mergeSteps(ob, st(r), r)], { ...d });
          }
          const up = (xs: readonly number[]) => xs.map((x) => x + 1);
          return ob.add('dot_general', [st(l), st(r)], { lhs_batch: up(d.lhs_batch), rhs_batch: up(d.rhs_batch), lhs_contract: [0, ...up(d.lhs_contract)], rhs_contract: [0, ...up(d.rhs_contract)] });
        },
      };
    }
    if (n.op === 'reduce_sum' && operand(n.inputs[0]!)) {
      const x = n.inputs[0]!;
      const axes = n.attrs['axes'] as number[];
      return {
        reads: [x],
        make: (ob, st) => (axes.includes(0) ? ob.add('reduce_sum', [mergeSteps(ob, st(x), x)], { axes: [...axes] }) : ob.add('reduce_sum', [st(x)], { axes: [0, ...axes.map((v) => v + 1)] })),
      };
    }
    // A sum or difference of terms that are each summed after the loop (under a movement below).
    if ((n.op === 'add' || n.op === 'sub') && n.inputs.every((x) => sameType(x.type, n.type))) {
      const parts = n.inputs.map(hoist);
      if (parts.some((p) => !p)) return undefined;
      return { reads: parts.flatMap((p) => p!.reads), make: (ob, st) => ob.add(n.op, parts.map((p) => p!.make(ob, st))) };
    }
    // Linear movements: the sum over steps of each step's negated, padded (by 0), reshaped or
    // permuted value is the negated, padded, reshaped or permuted sum (the gradient of a slice of a capture, such as
    // the real part of a complex weight, is its cotangent padded by 0).
    if (n.op === 'reshape' || n.op === 'permute' || n.op === 'neg' || (n.op === 'pad' && n.attrs['value'] === 0)) {
      const inner = hoist(n.inputs[0]!);
      return inner && { reads: inner.reads, make: (ob, st) => ob.add(n.op, [inner.make(ob, st)], n.attrs) };
    }
    return undefined;
  };
  const terms = (n: Node): Node[] => (n.op === 'add' && n.inputs.every((x) => sameType(x.type, n.type)) ? n.inputs.flatMap(terms) : [n]);
  const plans = sums.map((s) => terms(s).map((t) => ({ t, h: splatValue(t) === 0 ? undefined : hoist(t) })));
  const reads = [...new Set(plans.flatMap((p) => p.flatMap((x) => x.h?.reads ?? [])))];
  const fits = reads.reduce((s, n) => s + numel(n.type.shape), 0) * trips <= SCAN_STORE_BUDGET;
  return plans.map((p, m) => {
    const hoisted = fits ? p.filter((x) => x.h) : [];
    const rest = p.filter((x) => !hoisted.includes(x) && splatValue(x.t) !== 0).map((x) => x.t);
    for (const x of hoisted) x.h!.reads.forEach(stack);
    const kept = rest.length ? rest.reduce((s, t) => rb.add('add', [s, t])) : hoisted.length ? undefined : sums[m];
    return { ...(kept ? { kept } : {}), hoisted: hoisted.map((x) => x.h!.make) };
  });
}

type DotLike = { lhs_batch: number[]; rhs_batch: number[]; lhs_contract: number[]; rhs_contract: number[] };

/** A stacked value [trips, d0, …] of body value n ([d0, …]) as [trips·d0, …] (a view). */
function mergeSteps(b: GraphBuilder, stacked: Node, n: Node): Node {
  const [d0, ...rest] = n.type.shape;
  return C.reshape(b, stacked, [stacked.type.shape[0]! * d0!, ...rest]);
}

/** A small random loop for the property tests: carries, per-step inputs and captures of one shape. */
function sampleScan(d: Draw): OpCase {
  const shape = d.shape(1, 2, 3);
  const trips = d.int(1, 4);
  const nc = d.int(1, 2);
  const nx = d.int(0, 1);
  const nk = d.int(0, 1);
  const reverse = d.bool();
  const t: TensorType = { dtype: 'f32', shape };
  const b = new GraphBuilder();
  const cs = Array.from({ length: nc }, (_, k) => bodyInput(b, `c${k}`, t));
  const xs = Array.from({ length: nx }, (_, j) => bodyInput(b, `x${j}`, t));
  const ks = Array.from({ length: nk }, (_, m) => bodyInput(b, `k${m}`, t));
  // h mixes everything; each carry moves towards tanh(h), and y = h · c₀ is stacked.
  let h = cs[0]!;
  for (const z of [...cs.slice(1), ...xs, ...ks]) h = b.add('add', [b.add('mul', [h, C.scalarConst(b, 0.5, 'f32')].map((n) => C.broadcastTo(b, n, shape))), b.add('mul', [b.add('sin', [z]), cs[0]!])]);
  const next = cs.map((c) => b.add('tanh', [b.add('add', [h, c])]));
  const y = b.add('mul', [h, cs[0]!]);
  const body = b.finish('step', [...cs, ...xs, ...ks], [...next.map((n, k) => ({ name: `c${k}`, node: n })), { name: 'y', node: y }, ...cs.map((c, k) => ({ name: `cin${k}`, node: c }))]);
  return {
    inputs: [...cs.map(() => ({ dtype: 'f32' as const, shape })), ...xs.map(() => ({ dtype: 'f32' as const, shape: [trips, ...shape] })), ...ks.map(() => ({ dtype: 'f32' as const, shape }))],
    attrs: { trips, carries: nc, xs: nx, reverse },
    body,
  };
}

export const scan = defineOp<ScanAttrs & { [k: string]: number | boolean }>({
  name: 'scan',
  kind: 'loop',
  doc: 'a loop over its body graph: carried values, per-step slices along axis 0, stacked outputs (results packed: final carries, then stacked outputs)',
  arity: 'variadic',
  body: true,
  attrs: { trips: 'int', carries: 'int', xs: 'int', reverse: 'bool' },
  infer: (ins, a, body) => inferScan(ins, a, body),
  evaluate: (ins, a, out, env, body) => evaluateScan(ins, a, out, env, body),
  cost(ins, out, a) {
    // Without the body: a flop per element moved per step (the builder's costs are per kernel anyway).
    const bytes = (ins.reduce((s, t) => s + numel(t.shape), 0) + numel(out.shape)) * 4;
    return { flops: numel(out.shape) * Math.max(1, a.trips), bytes };
  },
  vjp: ({ b, node, attrs, g }) => scanVjp(b, node, attrs, g),
  test: { sample: sampleScan, order: 2 },
});
