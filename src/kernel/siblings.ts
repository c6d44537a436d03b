/**
 * @file Sibling fusion: map kernels over the same index space become one kernel with several
 * outputs (the updates of several parameters, the gradients of a layer's bias and gain, a
 * forward value and a mask kept for the backward pass). A kernel moves up to an earlier
 * sibling when it reads nothing written from that sibling on, or when what it reads of the
 * sibling's outputs is each element at its own index: that load becomes the sibling's value.
 */
import type { Expr } from './expr.js';
import { flatIndex, idx, loadsOf, sameExpr } from './expr.js';
import type { Kernel, KernelLet, MapKernel } from './program.js';
import { kernelReads as reads, kernelWrites as writes } from './liveness.js';

/** A kernel whose one output is a whole reduction has a dedicated strategy (a workgroup tree). */
function isReduction(k: MapKernel): boolean {
  return k.outputs.length === 1 && k.outputs[0]!.value.k === 'red';
}


const sameList = (a: readonly number[] | undefined, b: readonly number[] | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

function compatible(a: MapKernel, b: MapKernel): boolean {
  if (!sameList(a.domain, b.domain) || isReduction(a) || isReduction(b)) return false;
  // Two row kernels must share their row; a plain kernel joins a row kernel's inner loop.
  const rowA = (a.lets?.length ?? 0) > 0;
  const rowB = (b.lets?.length ?? 0) > 0;
  return !(rowA && rowB) || sameList(a.inner, b.inner);
}

/** Renames `ref`s (a row's let values) in an expression (a shared value stays one object). */
function renameRefs(e: Expr, names: ReadonlyMap<string, string>, memo = new Map<Expr, Expr>()): Expr {
  if (names.size === 0) return e;
  const have = memo.get(e);
  if (have) return have;
  const out = renameRefsOnce(e, (x) => renameRefs(x, names, memo), names);
  memo.set(e, out);
  return out;
}

function renameRefsOnce(e: Expr, renameRefs: (e: Expr) => Expr, names: ReadonlyMap<string, string>): Expr {
  switch (e.k) {
    case 'ref':
      return names.has(e.v) ? { ...e, v: names.get(e.v)! } : e;
    case 'load':
      return { ...e, i: renameRefs(e.i) };
    case 'op':
      return { ...e, a: e.a.map((x) => renameRefs(x)) };
    case 'ix':
      return { ...e, a: renameRefs(e.a), b: renameRefs(e.b) };
    case 'red':
      return { ...e, body: renameRefs(e.body) };
    default:
      return e;
  }
}

/** Replaces loads of `values`' buffers at `flat` by the values; undefined if any other load of them remains. */
function substitute(e: Expr, values: ReadonlyMap<number, Expr>, flat: Expr, memo = new Map<Expr, Expr | undefined>()): Expr | undefined {
  if (memo.has(e)) return memo.get(e);
  const out = substituteOnce(e, values, flat, (x) => substitute(x, values, flat, memo));
  memo.set(e, out);
  return out;
}

function substituteOnce(e: Expr, values: ReadonlyMap<number, Expr>, flat: Expr, substitute: (e: Expr) => Expr | undefined): Expr | undefined {
  switch (e.k) {
    case 'load': {
      const v = values.get(e.buf);
      if (v) return sameExpr(e.i, flat) ? v : undefined;
      const i = substitute(e.i);
      return i && { ...e, i };
    }
    case 'op': {
      const a = e.a.map((x) => substitute(x));
      return a.every((x) => x !== undefined) ? { ...e, a: a as Expr[] } : undefined;
    }
    case 'ix': {
      const a = substitute(e.a);
      const b = substitute(e.b);
      return a && b && { ...e, a, b };
    }
    case 'red': {
      const body = substitute(e.body);
      return body && { ...e, body };
    }
    default:
      return e;
  }
}

/** b with its reads of a's outputs at each element's own index replaced by a's values, if that covers them all. */
function readThrough(a: MapKernel, b: MapKernel): MapKernel | undefined {
  // a's values may name a's row lets; b's own lets are renamed when merging, which would
  // rename those too: only one of the two may have lets.
  if (a.lets?.length && b.lets?.length) return undefined;
  const values = new Map(a.outputs.map((o) => [o.buf, o.value]));
  const flat = flatIndex(b.vars.map(idx), b.domain);
  const memo = new Map<Expr, Expr | undefined>();
  const outputs = b.outputs.map((o) => {
    const value = substitute(o.value, values, flat, memo);
    return value && { buf: o.buf, value };
  });
  if (outputs.some((o) => o === undefined)) return undefined;
  // A row's lets are computed outside the row's elements: they cannot read an element's value.
  if ((b.lets ?? []).some((l) => [...loadsOf(l.value)].some((buf) => values.has(buf)))) return undefined;
  return { ...b, outputs: outputs as MapKernel['outputs'][number][] };
}

function merge(a: MapKernel, b: MapKernel): MapKernel {
  const taken = new Set((a.lets ?? []).map((l) => l.name));
  const names = new Map<string, string>();
  const lets: KernelLet[] = [...(a.lets ?? [])];
  for (const l of b.lets ?? []) {
    let name = l.name;
    for (let i = lets.length; taken.has(name); i++) name = `row${i}`;
    taken.add(name);
    names.set(l.name, name);
    lets.push({ name, value: renameRefs(l.value, names) });
  }
  const memo = new Map<Expr, Expr>();
  const outputs = [...a.outputs, ...b.outputs.map((o) => ({ buf: o.buf, value: renameRefs(o.value, names, memo) }))];
  const inner = a.lets?.length ? a.inner : b.inner;
  return {
    ...a,
    outputs,
    ...(lets.length ? { lets, inner: inner ?? [] } : {}),
    source: {
      ops: [...a.source.ops, ...b.source.ops],
      spans: [...a.source.spans, ...b.source.spans],
      nodes: [...(a.source.nodes ?? []), ...(b.source.nodes ?? [])],
    },
  };
}

/** The kernels with independent same-domain map kernels merged into multi-output kernels. */
export function mergeSiblings(kernels: readonly Kernel[]): Kernel[] {
  const out: Kernel[] = [];
  for (const k of kernels) {
    if (k.kind !== 'map') {
      out.push(k);
      continue;
    }
    const needs = reads(k);
    let target = -1;
    let through: MapKernel | undefined;
    // Walk back while k would still see everything it reads; remember the earliest sibling.
    for (let i = out.length - 1; i >= 0; i--) {
      const c = out[i]!;
      if (writes(c).some((b) => needs.has(b))) {
        // k reads c's outputs: it joins c if it reads each element at its own index.
        const r = c.kind === 'map' && compatible(c, k) ? readThrough(c, k) : undefined;
        if (r) {
          target = i;
          through = r;
        }
        break;
      }
      if (c.kind === 'map' && compatible(c, k)) target = i;
    }
    if (target < 0) out.push(k);
    else out[target] = merge(out[target] as MapKernel, through ?? k);
  }
  return out;
}
