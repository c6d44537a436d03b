/**
 * @file State updates in place. A training step writes new values of its parameters, optimizer
 * moments and step counter (the graph's `updates`). The kernel that computes an update writes it
 * straight into the state's buffer when that cannot change what any kernel reads:
 *
 * - no later kernel reads the state (all readers of the old value come first), and
 * - the writing kernel reads the state only at the element it writes (a map kernel computes all
 *   of an element's outputs before it stores any; a contraction may read it only in its epilogue).
 *
 * Otherwise the value stays in its temporary buffer and a copy kernel at the end of the step
 * writes it into the state (after every kernel, so nothing reads a state already overwritten).
 */
import { flatIndex, idx, loadIndices, renameBuffers, sameExpr, type Expr } from './expr.js';
import { sameIndexValue } from './affine.js';
import { kernelReads, kernelWrites as writes } from './liveness.js';
import { loopCopyBuffers, type Binding, type BufferInfo, type Kernel, type KernelProgram, type LoopCopy, type MapKernel, type ProgramLoop } from './program.js';

/** An update of state `name` (buffer `state`) whose new value the program computes into buffer `value`. */
export interface PendingUpdate {
  readonly name: string;
  readonly state: number;
  readonly value: number;
}


export function readsBuffer(k: Kernel, buf: number): boolean {
  if (k.kind === 'routine') return kernelReads(k).has(buf);
  if (k.kind === 'contraction') return k.a.buf === buf || k.b.buf === buf || (k.epilogue !== undefined && loadIndices(k.epilogue.value, buf).length > 0);
  return k.outputs.some((o) => loadIndices(o.value, buf).length > 0) || (k.lets ?? []).some((l) => loadIndices(l.value, buf).length > 0);
}

/** Whether kernel k reads buffer `buf` only at the element it is computing. */
export function readsOnlyOwnElement(k: Kernel, buf: number): boolean {
  // A routine reads its inputs anywhere; its result and scratch are its own working memory.
  if (k.kind === 'routine') return !k.inputs.some((i) => i.buf === buf);
  const own = (loads: readonly Expr[], vars: readonly string[], shape: readonly number[]) => {
    const at = flatIndex(vars.map(idx), shape);
    const sizes = new Map(vars.map((v, i) => [v, shape[i]!] as const));
    return loads.every((i) => sameExpr(i, at) || sameIndexValue(i, at, sizes));
  };
  if (k.kind === 'contraction') {
    if (k.a.buf === buf || k.b.buf === buf) return false;
    return !k.epilogue || own(loadIndices(k.epilogue.value, buf), k.epilogue.vars, k.epilogue.shape);
  }
  // A row's lets are computed before its elements, from other elements of the row.
  if ((k.lets ?? []).some((l) => loadIndices(l.value, buf).length > 0)) return false;
  const loads: Expr[] = [];
  for (const o of k.outputs) loadIndices(o.value, buf, loads);
  return own(loads, k.vars, k.domain);
}

export function renameKernel(k: Kernel, to: (b: number) => number): Kernel {
  const memo = new Map<Expr, Expr>();
  const e = (x: Expr) => renameBuffers(x, to, memo);
  if (k.kind === 'routine') {
    return { ...k, out: to(k.out), inputs: k.inputs.map((i) => ({ ...i, buf: to(i.buf) })), ...(k.scratch ? { scratch: { ...k.scratch, buf: to(k.scratch.buf) } } : {}) };
  }
  if (k.kind === 'contraction') {
    return {
      ...k,
      out: to(k.out),
      a: { ...k.a, buf: to(k.a.buf) },
      b: { ...k.b, buf: to(k.b.buf) },
      ...(k.epilogue ? { epilogue: { ...k.epilogue, value: e(k.epilogue.value) } } : {}),
    };
  }
  return {
    ...k,
    outputs: k.outputs.map((o) => ({ buf: to(o.buf), value: e(o.value) })),
    ...(k.lets ? { lets: k.lets.map((l) => ({ ...l, value: e(l.value) })) } : {}),
  };
}

function copyKernel(from: BufferInfo, into: number, n: number): MapKernel {
  return {
    kind: 'map',
    name: `k${n}_update`,
    domain: [from.size],
    vars: ['i0'],
    outputs: [{ buf: into, value: { k: 'load', buf: from.id, i: idx('i0'), t: from.dtype } }],
    source: { ops: ['update'], spans: from.span ? [from.span] : [] },
  };
}

/**
 * Writes into persistent buffers (parameters, optimizer state) that race with their own reads: a
 * kernel that writes a state and reads it at another element (another thread may already have
 * overwritten it). The kernel verifier reports these. (A later kernel that reads the state reads
 * the new value, which is what a reader of the update wants; whether a reader wanted the old
 * value is known only before the update was placed, which `placeUpdates` decides.)
 */
export function inPlaceProblems(p: KernelProgram): string[] {
  const problems: string[] = [];
  for (const k of p.kernels) {
    for (const buf of writes(k)) {
      const b = p.buffers[buf];
      if (b && (b.role === 'param' || b.role === 'state') && !readsOnlyOwnElement(k, buf)) problems.push(`${k.name} writes state ${b.name} and reads it at another element`);
    }
  }
  return problems;
}

function renameLoop(l: ProgramLoop, to: (b: number) => number): ProgramLoop {
  const r = (cs: readonly LoopCopy[]) => cs.map((c) => ({ ...c, src: to(c.src), dst: to(c.dst) }));
  return { ...l, counter: to(l.counter), enter: r(l.enter), before: r(l.before), after: r(l.after), exit: r(l.exit) };
}

/**
 * The program with every update written into its state: in place where that is safe, else by a
 * copy at the end. Temporary buffers an in-place update no longer needs are dropped.
 */
export function placeUpdates(p: KernelProgram, pending: readonly PendingUpdate[]): KernelProgram & { readonly updates: readonly Binding[] } {
  const into = new Map<number, number>();
  const copies: PendingUpdate[] = [];
  for (const u of pending) {
    const at = p.kernels.findIndex((k) => writes(k).includes(u.value));
    // A loop after the writer that copies from the state (an initial carry, a per-step row) reads it too.
    const loopReads = (p.loops ?? []).some((l) => l.first + l.count > at && loopCopyBuffers(l).includes(u.state));
    const safe = at >= 0 && !loopReads && p.kernels.slice(at + 1).every((k) => !readsBuffer(k, u.state)) && readsOnlyOwnElement(p.kernels[at]!, u.state);
    if (safe) into.set(u.value, u.state);
    else copies.push(u);
  }
  let kernels = p.kernels.map((k) => renameKernel(k, (b) => into.get(b) ?? b));
  kernels = [...kernels, ...copies.map((u, i) => copyKernel(p.buffers[u.value]!, u.state, kernels.length + i))];
  // Drop the temporaries written in place, renumbering the buffers that remain.
  const keep = p.buffers.filter((b) => !into.has(b.id));
  const renumber = new Map(keep.map((b, i) => [b.id, i] as const));
  const to = (b: number) => renumber.get(b)!;
  const bind = (x: Binding) => ({ name: x.name, buf: to(x.buf) });
  return {
    ...p,
    buffers: keep.map((b) => ({ ...b, id: to(b.id) })),
    kernels: kernels.map((k) => renameKernel(k, to)),
    ...(p.loops ? { loops: p.loops.map((l) => renameLoop(l, (b) => to(into.get(b) ?? b))) } : {}),
    inputs: p.inputs.map(bind),
    params: p.params.map(bind),
    outputs: p.outputs.map(bind),
    updates: pending.map((u) => ({ name: u.name, buf: to(u.state) })),
  };
}
