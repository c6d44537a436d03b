/**
 * @file Rendering kernel expressions as C-like code, shared by the backends. A dialect gives
 * the spelling (literals, loads, declarations, loops); each elementwise op's template comes from
 * its definition (`OpDef.emit[backend]`). Reductions are hoisted into loops before the value
 * that uses them.
 */
import { getOp } from '../ir/ops/index.js';
import type { Backend } from '../ir/op.js';
import type { DType } from '../ir/types.js';
import { structKey, typeOf, type Expr, type IndexOp } from '../kernel/expr.js';
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

/**
 * Loop indices each expression depends on (indices bound by its own reductions excluded),
 * memoized by object: kernel values are DAGs.
 */
function freeIndices(e: Expr, memo: WeakMap<Expr, ReadonlySet<string>>): ReadonlySet<string> {
  const have = memo.get(e);
  if (have) return have;
  const out = new Set<string>();
  const add = (x: Expr) => {
    for (const v of freeIndices(x, memo)) out.add(v);
  };
  switch (e.k) {
    case 'idx':
      out.add(e.v);
      break;
    case 'load':
      add(e.i);
      break;
    case 'op':
      e.a.forEach(add);
      break;
    case 'ix':
      add(e.a);
      add(e.b);
      break;
    case 'red':
      add(e.body);
      for (const v of e.vars) out.delete(v.v);
      break;
  }
  memo.set(e, out);
  return out;
}

/** The reductions inside `e` that do not depend on any of `vars` (outermost first). */
function invariantReductions(e: Expr, vars: ReadonlySet<string>, out: (Expr & { k: 'red' })[], memo: WeakMap<Expr, ReadonlySet<string>>, seen = new Set<Expr>()): void {
  if (seen.has(e)) return;
  seen.add(e);
  if (e.k === 'red') {
    const free = freeIndices(e, memo);
    if (![...free].some((v) => vars.has(v))) {
      out.push(e);
      return;
    }
    invariantReductions(e.body, vars, out, memo, seen);
    return;
  }
  if (e.k === 'load') invariantReductions(e.i, vars, out, memo, seen);
  else if (e.k === 'op') for (const a of e.a) invariantReductions(a, vars, out, memo, seen);
  else if (e.k === 'ix') {
    invariantReductions(e.a, vars, out, memo, seen);
    invariantReductions(e.b, vars, out, memo, seen);
  }
}

export class ExprRenderer {
  private block: string[];
  private n = 0;
  /** Reductions already computed in an enclosing block, by structure (loop-invariant hoisting). */
  private readonly done = new Map<number, string>();
  /** How many parents each elementwise value has in the expressions rendered so far. */
  private readonly uses = new Map<Expr, number>();
  private readonly counted = new Set<Expr>();
  /** Values used more than once, bound to a local in the current block or one enclosing it. */
  private readonly bound = new Map<Expr, string>();
  private readonly free = new WeakMap<Expr, ReadonlySet<string>>();

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

  /**
   * Renders into another block from now on (names stay unique across blocks). Values bound
   * to locals so far are forgotten: the new block need not be inside the old one.
   */
  into(block: string[]): this {
    this.block = block;
    this.bound.clear();
    return this;
  }

  /** Counts the parents of each value in e (each shared object once). */
  private count(e: Expr): void {
    if (this.counted.has(e)) return;
    this.counted.add(e);
    const kids = e.k === 'load' ? [e.i] : e.k === 'op' ? e.a : e.k === 'ix' ? [e.a, e.b] : e.k === 'red' ? [e.body] : [];
    for (const c of kids) {
      this.uses.set(c, (this.uses.get(c) ?? 0) + 1);
      this.count(c);
    }
  }

  /**
   * Counts values that several of a kernel's outputs share (a merged sibling's value read by
   * another output), so that they too are computed once. Call before rendering the outputs.
   */
  share(roots: readonly Expr[]): this {
    for (const e of roots) {
      this.uses.set(e, (this.uses.get(e) ?? 0) + 1);
      this.count(e);
    }
    return this;
  }

  /**
   * The code of each output value of one element. With several outputs every value is computed
   * into a local before the caller stores any: an output may read, at its own element, a buffer
   * another output of the kernel overwrites (a state updated in place next to a value computed
   * from its old contents).
   */
  renderOutputs(values: readonly Expr[]): string[] {
    const code = values.map((v) => this.render(v));
    if (code.length < 2) return code;
    return code.map((c, i) => {
      const name = this.tmp('out');
      this.block.push(this.d.let(name, typeOf(values[i]!), c));
      return name;
    });
  }

  /** The code of e's value; a value used more than once is computed once, into a local. */
  render(e: Expr): string {
    this.count(e);
    return this.node(e);
  }

  private node(e: Expr): string {
    if (e.k !== 'op' || (this.uses.get(e) ?? 0) < 2) return this.plain(e);
    const have = this.bound.get(e);
    if (have) return have;
    const value = this.plain(e);
    const name = this.tmp('s');
    this.block.push(this.d.let(name, e.t, value));
    this.bound.set(e, name);
    return name;
  }

  private plain(e: Expr): string {
    switch (e.k) {
      case 'idx':
      case 'ref':
        return e.v;
      case 'lit':
        return this.d.lit(e.v, e.t, this.helpers);
      case 'load':
        return this.d.load(this.buffers[e.buf]!, this.node(e.i));
      case 'ix':
        return this.d.ix(e.op, this.node(e.a), this.node(e.b));
      case 'op': {
        const def = getOp(e.op);
        if (!def.emit) throw new Error(`internal: ${e.op} has no ${this.d.backend} template`);
        const args = e.a.map((a) => this.node(a));
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
    const key = structKey(e);
    const have = this.done.get(key);
    if (have) return have;
    const def = getOp(e.op);
    const m = def.monoid;
    if (!m) throw new Error(`internal: ${e.op} is not a reduction`);
    const invariant: (Expr & { k: 'red' })[] = [];
    invariantReductions(e.body, new Set(e.vars.map((v) => v.v)), invariant, this.free);
    for (const r of invariant) this.reduction(r);
    const outer = this.block;
    const inner: string[] = [];
    this.block = inner;
    const v = this.tmp('v');
    // Reductions computed inside the loop body are in scope there only: forget them after it.
    const before = new Set(this.done.keys());
    const boundBefore = new Set(this.bound.keys());
    const value = this.node(e.body);
    for (const k of [...this.done.keys()]) if (!before.has(k)) this.done.delete(k);
    for (const k of [...this.bound.keys()]) if (!boundBefore.has(k)) this.bound.delete(k);
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
      const better = m.beats[this.d.backend]({ args: [v, best], types: [bodyT, bodyT], out: 'bool', helper: (h) => this.helpers.use(h) });
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
