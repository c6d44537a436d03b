/**
 * @file Rendering kernel expressions as C-like code, shared by the backends. A dialect gives
 * the spelling (literals, loads, declarations, loops); each elementwise op's template comes from
 * its definition (`OpDef.emit[backend]`). Reductions are hoisted into loops before the value
 * that uses them.
 */
import { getOp } from '../ir/ops/index.js';
import type { Backend } from '../ir/op.js';
import type { DType } from '../ir/types.js';
import { typeOf, type Expr, type IndexOp } from '../kernel/expr.js';
import type { BufferInfo, Kernel } from '../kernel/program.js';

export interface Dialect {
  readonly backend: Backend;
  lit(v: number, t: DType, helpers: Helpers): string;
  load(buf: BufferInfo, index: string): string;
  ix(op: IndexOp, a: string, b: string): string;
  /** An immutable local. */
  let(name: string, t: DType, value: string): string;
  /** A mutable local. */
  var(name: string, t: DType, value: string): string;
  assign(name: string, value: string): string;
  loop(v: string, n: number, body: string[]): string[];
  if(cond: string, body: string[]): string[];
}

/** Collects prelude helpers a module needs. */
export class Helpers {
  readonly used = new Set<string>();
  use(name: string): string {
    this.used.add(name);
    return name;
  }
}

/** Loop indices an expression depends on (indices bound by its own reductions excluded). */
function freeIndices(e: Expr, out = new Set<string>(), bound: ReadonlySet<string> = new Set()): Set<string> {
  switch (e.k) {
    case 'idx':
      if (!bound.has(e.v)) out.add(e.v);
      break;
    case 'load':
      freeIndices(e.i, out, bound);
      break;
    case 'op':
      for (const a of e.a) freeIndices(a, out, bound);
      break;
    case 'ix':
      freeIndices(e.a, out, bound);
      freeIndices(e.b, out, bound);
      break;
    case 'red':
      freeIndices(e.body, out, new Set([...bound, ...e.vars.map((v) => v.v)]));
      break;
  }
  return out;
}

/** The reductions inside `e` that do not depend on any of `vars` (outermost first). */
function invariantReductions(e: Expr, vars: ReadonlySet<string>, out: (Expr & { k: 'red' })[]): void {
  if (e.k === 'red') {
    const free = freeIndices(e);
    if (![...free].some((v) => vars.has(v))) {
      out.push(e);
      return;
    }
    invariantReductions(e.body, vars, out);
    return;
  }
  if (e.k === 'load') invariantReductions(e.i, vars, out);
  else if (e.k === 'op') for (const a of e.a) invariantReductions(a, vars, out);
  else if (e.k === 'ix') {
    invariantReductions(e.a, vars, out);
    invariantReductions(e.b, vars, out);
  }
}

export class ExprRenderer {
  private block: string[];
  private n = 0;
  /** Reductions already computed in an enclosing block, by structure (loop-invariant hoisting). */
  private readonly done = new Map<string, string>();

  constructor(
    readonly d: Dialect,
    readonly buffers: readonly BufferInfo[],
    readonly helpers: Helpers,
    out: string[],
  ) {
    this.block = out;
  }

  private tmp(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  /** Appends a statement to the current block. */
  emit(stmt: string): void {
    this.block.push(stmt);
  }

  /** Renders into another block from now on (names stay unique across blocks). */
  into(block: string[]): this {
    this.block = block;
    return this;
  }

  render(e: Expr): string {
    switch (e.k) {
      case 'idx':
      case 'ref':
        return e.v;
      case 'lit':
        return this.d.lit(e.v, e.t, this.helpers);
      case 'load':
        return this.d.load(this.buffers[e.buf]!, this.render(e.i));
      case 'ix':
        return this.d.ix(e.op, this.render(e.a), this.render(e.b));
      case 'op': {
        const def = getOp(e.op);
        if (!def.emit) throw new Error(`internal: ${e.op} has no ${this.d.backend} template`);
        const args = e.a.map((a) => this.render(a));
        return def.emit[this.d.backend]({ args, types: e.a.map(typeOf), out: e.t, helper: (h) => this.helpers.use(h) });
      }
      case 'red':
        return this.reduction(e);
    }
  }

  /**
   * Hoists a reduction into loops; returns the accumulator's name. Reductions inside its body
   * that do not depend on its loop indices are computed once, before the loops (a row's max
   * inside the row's sum), and a reduction met again is reused.
   */
  private reduction(e: Expr & { k: 'red' }): string {
    const key = JSON.stringify(e);
    const have = this.done.get(key);
    if (have) return have;
    const def = getOp(e.op);
    const m = def.monoid;
    if (!m) throw new Error(`internal: ${e.op} is not a reduction`);
    const invariant: (Expr & { k: 'red' })[] = [];
    invariantReductions(e.body, new Set(e.vars.map((v) => v.v)), invariant);
    for (const r of invariant) this.reduction(r);
    const outer = this.block;
    const inner: string[] = [];
    this.block = inner;
    const v = this.tmp('v');
    // Reductions computed inside the loop body are in scope there only: forget them after it.
    const before = new Set(this.done.keys());
    const value = this.render(e.body);
    for (const k of [...this.done.keys()]) if (!before.has(k)) this.done.delete(k);
    const bodyT = typeOf(e.body);
    inner.push(this.d.let(v, bodyT, value));
    this.block = outer;
    const acc = this.tmp('acc');
    if ('arg' in m) {
      const best = this.tmp('best');
      outer.push(this.d.var(best, bodyT, this.d.lit(m.arg === 'max' ? -Infinity : Infinity, bodyT, this.helpers)));
      outer.push(this.d.var(acc, 'i32', this.d.lit(0, 'i32', this.helpers)));
      // Flat position over the reduction indices: the index along the (single) reduced axis.
      let pos = '';
      for (const r of e.vars) pos = pos ? this.d.ix('+', this.d.ix('*', pos, this.d.lit(r.n, 'i32', this.helpers)), r.v) : r.v;
      const better = m.arg === 'max' ? `${v} > ${best}` : `${v} < ${best}`;
      inner.push(...this.d.if(better, [this.d.assign(best, v), this.d.assign(acc, pos)]));
    } else {
      outer.push(this.d.var(acc, e.t, this.d.lit(m.identity, e.t, this.helpers)));
      const combine = getOp(m.combine).emit![this.d.backend]({ args: [acc, v], types: [e.t, e.t], out: e.t, helper: (h) => this.helpers.use(h) });
      inner.push(this.d.assign(acc, combine));
    }
    let body = inner;
    for (let i = e.vars.length - 1; i >= 0; i--) body = this.d.loop(e.vars[i]!.v, e.vars[i]!.n, body);
    outer.push(...body);
    this.done.set(key, acc);
    return acc;
  }
}

/** A kernel's header comment: its name, its primitives and the source lines they came from. */
export function kernelHeader(k: Kernel): string {
  const lines = [...new Set(k.source.spans.map((sp) => `${sp.file.path}:${sp.file.position(sp.start).line}`))];
  return `// ${k.name}: ${k.source.ops.join(' ')}${lines.length ? ` (${lines.join(', ')})` : ''}`;
}
