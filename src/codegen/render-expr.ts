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
import type { BufferInfo } from '../kernel/program.js';

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

export class ExprRenderer {
  private block: string[];
  private n = 0;

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

  render(e: Expr): string {
    switch (e.k) {
      case 'idx':
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

  /** Hoists a reduction into loops; returns the accumulator's name. */
  private reduction(e: Expr & { k: 'red' }): string {
    const def = getOp(e.op);
    const m = def.monoid;
    if (!m) throw new Error(`internal: ${e.op} is not a reduction`);
    const outer = this.block;
    const inner: string[] = [];
    this.block = inner;
    const v = this.tmp('v');
    const value = this.render(e.body);
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
    return acc;
  }
}
