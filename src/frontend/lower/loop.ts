/**
 * @file `for i in a..b` as a loop that stays a loop (a `scan`, src/ir/ops/scan.ts) instead of being
 * unrolled. The body is lowered once, with the loop variable as an i32 scalar tensor (the step's
 * value, a per-step slice of an iota) and each outer `let` variable the body assigns as a carry.
 * What the body reads from outside becomes a capture; what in the body does not depend on the step
 * or a carry is computed once, before the loop. Indexing an outer tensor by the loop variable
 * (`x[t]`, `x[:, t]`) becomes a per-step input: step t reads row t (and a gradient writes one row). When the body needs something the loop form cannot
 * give (a compile-time loop variable: an `if` on it, a shape or a static slice from it; a carried
 * value that is not an f32 tensor; a `return`; an assignment to state), lowering falls back to
 * unrolling, with no message.
 *
 * The rule (docs/language.md, "Loops"): a loop over `a..b` stays a loop when it runs at least
 * `LOOP_MIN_TRIPS` times; shorter loops are unrolled (their code is small, and unrolled steps fuse
 * across iterations). `LowerOptions.loops` overrides it: 'unroll' unrolls every loop, 'keep' keeps
 * every loop of two or more iterations that can be kept.
 */
import { DiagnosticBag } from '../../diagnostics/diagnostic.js';
import * as C from '../../ir/compose.js';
import type { Node } from '../../ir/graph.js';
import { GraphBuilder } from '../../ir/builder.js';
import { getOp } from '../../ir/ops/index.js';
import { scanResult } from '../../ir/ops/scan.js';
import type * as A from '../ast.js';
import type { Lowerer } from './lowerer.js';
import { NonEmptyBuilder } from './nonempty-builder.js';
import { Scope, type Binding } from './scope.js';
import { tensor } from './values.js';

/** Loops of at least this many iterations stay loops (unless `loops: 'unroll'`). */
export const LOOP_MIN_TRIPS = 16;

export type LoopMode = 'auto' | 'unroll' | 'keep';

/** Whether a loop of `trips` iterations should be tried as a scan. */
export function wantsScan(mode: LoopMode, trips: number): boolean {
  if (mode === 'unroll') return false;
  return trips >= (mode === 'keep' ? 2 : LOOP_MIN_TRIPS);
}

/**
 * Collects the names `stmts` assign that are not declared inside them before (those name outer
 * variables: the carries); false when something rules the loop form out (a `return`).
 */
function outerAssignments(stmts: readonly A.Stmt[], locals: ReadonlySet<string>, out: Set<string>): boolean {
  const mine = new Set(locals);
  for (const s of stmts) {
    switch (s.kind) {
      case 'return':
        return false;
      case 'let':
        for (const n of s.names) mine.add(n.name);
        break;
      case 'assign':
        for (const t of s.targets ?? [s.target]) if (!mine.has(t.name)) out.add(t.name);
        break;
      case 'for':
        if (!outerAssignments(s.body, new Set([...mine, s.variable.name]), out)) return false;
        break;
      case 'if':
        if (!outerAssignments(s.then, mine, out)) return false;
        if (s.otherwise && !outerAssignments(s.otherwise, mine, out)) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

/** The loop step (and trip count) the random draws of a body mix in, innermost last. */
export interface LoopStep {
  readonly node: Node;
  readonly trips: number;
}

/**
 * Lowers `for v in a..z { body }` as a scan. Returns false (having changed nothing the unrolled
 * lowering would see) when the loop form cannot express it.
 */
export function lowerLoopAsScan(lw: Lowerer, s: A.Stmt & { kind: 'for' }, sc: Scope, a: number, z: number): boolean {
  const trips = z - a;
  const assigned = new Set<string>();
  if (!outerAssignments(s.body, new Set([s.variable.name]), assigned)) return false;
  // Carries: outer `let` variables the body assigns, each an f32 tensor.
  const carries: { name: string; bnd: Binding; init: Node }[] = [];
  for (const name of assigned) {
    const bnd = sc.assignable(name);
    if (!bnd || bnd.kind !== 'let' || bnd.value.k !== 'tensor' || bnd.value.node.type.dtype !== 'f32') return false;
    carries.push({ name, bnd, init: bnd.value.node });
  }
  if (carries.length === 0) return false;

  const outer = lw.b;
  const bb = new NonEmptyBuilder();
  bb.span = outer.span;
  const cin = carries.map((c, k) => bb.add('input', [], { name: `c${k}`, dtype: 'f32', shape: [...c.init.type.shape] }));
  const step = bb.add('input', [], { name: 'i', dtype: 'i32', shape: [] });
  const savedDiags = lw.diags;
  const savedValues = carries.map((c) => c.bnd.value);
  const trial = new DiagnosticBag();
  let ok = false;
  let outs: Node[] = [];
  lw.b = bb;
  lw.diags = trial;
  lw.loopSteps.push({ node: step, trips });
  try {
    carries.forEach((c, k) => (c.bnd.value = tensor(cin[k]!)));
    const inner = new Scope(sc);
    inner.define(s.variable.name, tensor(step), 'loop');
    const r = lw.execBlock(s.body, inner);
    if (r === undefined && !trial.hasErrors()) {
      outs = carries.map((c) => (c.bnd.value.k === 'tensor' ? c.bnd.value.node : undefined)).filter((n): n is Node => n !== undefined);
      ok = outs.length === carries.length && outs.every((n, k) => n.type.dtype === 'f32' && n.type.shape.join() === carries[k]!.init.type.shape.join());
    }
  } catch {
    ok = false;
  } finally {
    lw.b = outer;
    lw.diags = savedDiags;
    lw.loopSteps.pop();
    carries.forEach((c, k) => (c.bnd.value = savedValues[k]!));
  }
  if (!ok) return false;
  for (const d of trial.items) savedDiags.add(d); // warnings, if any

  // Split the trial body: nodes that depend on a carry or the step stay in the body; the rest is
  // computed before the loop (outer nodes) and read as captures.
  const mine = new Set(bb.nodeList());
  const variant = new Set<Node>([...cin, step]);
  for (const n of bb.nodeList()) if (n.inputs.some((i) => variant.has(i))) variant.add(n);
  const hoisted = new Map<Node, Node>();
  const hoist = (n: Node): Node => {
    if (!mine.has(n)) return n;
    const have = hoisted.get(n);
    if (have) return have;
    const saved = outer.span;
    outer.span = n.span;
    const m = outer.add(n.op, n.inputs.map(hoist), n.attrs, n.body);
    outer.span = saved;
    hoisted.set(n, m);
    return m;
  };
  const body = new GraphBuilder();
  const binputs = carries.map((c, k) => body.add('input', [], { name: `c${k}`, dtype: 'f32', shape: [...c.init.type.shape] }));
  const bstep = body.add('input', [], { name: 'i', dtype: 'i32', shape: [] });
  const inBody = new Map<Node, Node>([...cin.map((n, k) => [n, binputs[k]!] as const), [step, bstep]]);
  const captures: Node[] = [];
  const captureInputs: Node[] = [];
  const captureOf = new Map<Node, Node>();
  const capture = (outerNode: Node): Node => {
    let c = captureOf.get(outerNode);
    if (!c) {
      c = body.add('input', [], { name: `k${captures.length}`, dtype: outerNode.type.dtype, shape: [...outerNode.type.shape] });
      captureOf.set(outerNode, c);
      captures.push(outerNode);
      captureInputs.push(c);
    }
    return c;
  };
  const read = (n: Node): Node => {
    const have = inBody.get(n);
    if (have) return have;
    // Sources without inputs (constants, iotas) are cheap, and views (a broadcast bias, a reshape)
    // cost nothing inside a kernel: made again in the body (a view of a capture reads the capture).
    const kind = getOp(n.op).kind;
    if (mine.has(n) && ((n.inputs.length === 0 && kind === 'source' && n.op !== 'param' && n.op !== 'input') || kind === 'movement')) {
      const ins = n.inputs.map(read);
      const saved = body.span;
      body.span = n.span;
      const m = body.add(n.op, ins, n.attrs);
      body.span = saved;
      inBody.set(n, m);
      return m;
    }
    return capture(hoist(n));
  };
  // x[t] (or x[:, t]) of a tensor from outside at the loop variable: a per-step row, so a step
  // reads (and its gradient writes) one row, not the whole tensor.
  const rows: { outer: Node; input: Node }[] = [];
  const perStepRow = (n: Node): Node | undefined => {
    if (n.op !== 'gather' || n.inputs[1] !== step || variant.has(n.inputs[0]!)) return undefined;
    const src = n.inputs[0]!;
    const axis = n.attrs['axis'] as number;
    if (a < 0 || z > src.type.shape[axis]!) return undefined;
    const saved = outer.span;
    outer.span = n.span;
    const h = hoist(src);
    const perm = [axis, ...h.type.shape.map((_, d) => d).filter((d) => d !== axis)];
    const moved = axis === 0 ? h : C.permute(outer, h, perm);
    const shape = moved.type.shape;
    const sliced = a === 0 && z === shape[0] ? moved : outer.add('slice', [moved], { start: shape.map((_, d) => (d === 0 ? a : 0)), stop: shape.map((d, i) => (i === 0 ? z : d)), step: shape.map(() => 1) });
    outer.span = saved;
    const input = body.add('input', [], { name: `x${rows.length}`, dtype: n.type.dtype, shape: [...n.type.shape] });
    rows.push({ outer: sliced, input });
    return input;
  };
  for (const n of bb.nodeList()) {
    if (!variant.has(n) || inBody.has(n)) continue;
    body.span = n.span;
    inBody.set(n, perStepRow(n) ?? body.add(n.op, n.inputs.map(read), n.attrs, n.body));
  }
  const bodyOuts = outs.map(read);
  const bodyGraph = body.finish(`for_${s.variable.name}`, [...binputs, bstep, ...rows.map((r) => r.input), ...captureInputs], [
    ...bodyOuts.map((n, k) => ({ name: carries[k]!.name, node: n })),
    // The carries before each step, stacked: what the backward pass reads (pruned when unused).
    ...binputs.map((n, k) => ({ name: `${carries[k]!.name}_in`, node: n })),
  ]);
  const node = lw.at(s.span, () => {
    const steps = outer.add('add', [outer.add('iota', [], { dtype: 'i32', shape: [trips], axis: 0 }), C.broadcastTo(outer, C.scalarConst(outer, a, 'i32'), [trips])]);
    return outer.add('scan', [...carries.map((c) => c.init), steps, ...rows.map((r) => r.outer), ...captures], { trips, carries: carries.length, xs: 1 + rows.length, reverse: false }, bodyGraph);
  });
  lw.at(s.span, () => carries.forEach((c, k) => (c.bnd.value = tensor(scanResult(outer, node, k)))));
  return true;
}
