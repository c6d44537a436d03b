/**
 * @file The scalar expression language of kernels: what one output element is, as a tree over
 * loop indices, literals, loads from buffers, elementwise primitives (rendered by each op's
 * backend template), integer index arithmetic, and reductions over extra loop indices.
 * Both backends render the same trees.
 */
import type { DType } from '../ir/types.js';

export type IndexOp = '+' | '-' | '*' | '/' | '%' | 'min' | 'max' | '<' | '<=' | '>=' | '==' | '&&';

export type Expr =
  /** A loop index (i32). */
  | { readonly k: 'idx'; readonly v: string }
  /** A value computed earlier in the same kernel (a contraction's accumulator, a row's reduction). */
  | { readonly k: 'ref'; readonly v: string; readonly t: DType }
  | { readonly k: 'lit'; readonly v: number; readonly t: DType }
  /** Element `i` (flat, row-major) of buffer `buf`. */
  | { readonly k: 'load'; readonly buf: number; readonly i: Expr; readonly t: DType }
  /** An elementwise primitive of the op registry applied to operands. */
  | { readonly k: 'op'; readonly op: string; readonly a: readonly Expr[]; readonly t: DType }
  /** Integer index arithmetic (operands non-negative for / and %). Comparisons give bool. */
  | { readonly k: 'ix'; readonly op: IndexOp; readonly a: Expr; readonly b: Expr; readonly t: DType }
  /**
   * A reduction: combines `body` over the loop indices `vars` with the reduction primitive `op`
   * (reduce_sum, reduce_max, reduce_min, argmax, argmin).
   */
  | { readonly k: 'red'; readonly op: string; readonly vars: readonly LoopVar[]; readonly body: Expr; readonly t: DType };

export interface LoopVar {
  readonly v: string;
  readonly n: number;
}

export const idx = (v: string): Expr => ({ k: 'idx', v });
export const lit = (v: number, t: DType = 'i32'): Expr => ({ k: 'lit', v, t });

function litValue(e: Expr): number | undefined {
  return e.k === 'lit' ? e.v : undefined;
}

/** Integer arithmetic with constant folding and the identities x+0, x*1, x*0, x/1, x%1. */
export function ix(op: IndexOp, a: Expr, b: Expr): Expr {
  const x = litValue(a);
  const y = litValue(b);
  const t: DType = op === '<' || op === '<=' || op === '>=' || op === '==' || op === '&&' ? 'bool' : 'i32';
  if (x !== undefined && y !== undefined) {
    const v =
      op === '+' ? x + y
      : op === '-' ? x - y
      : op === '*' ? x * y
      : op === '/' ? Math.trunc(x / y)
      : op === '%' ? x % y
      : op === 'min' ? Math.min(x, y)
      : op === 'max' ? Math.max(x, y)
      : op === '<' ? +(x < y)
      : op === '<=' ? +(x <= y)
      : op === '>=' ? +(x >= y)
      : op === '==' ? +(x === y)
      : +(x && y);
    return lit(v, t);
  }
  switch (op) {
    case '+':
      if (x === 0) return b;
      if (y === 0) return a;
      break;
    case '-':
      if (y === 0) return a;
      break;
    case '*':
      if (x === 0 || y === 0) return lit(0);
      if (x === 1) return b;
      if (y === 1) return a;
      break;
    case '/':
      if (y === 1) return a;
      break;
    case '%':
      if (y === 1) return lit(0);
      break;
    case '&&':
      if (x === 1) return b;
      if (y === 1) return a;
      break;
  }
  return { k: 'ix', op, a, b, t };
}

export const add = (a: Expr, b: Expr) => ix('+', a, b);
export const mul = (a: Expr, b: Expr) => ix('*', a, b);

/** An elementwise primitive (by registry name) applied to operands. */
export function op(name: string, a: readonly Expr[], t: DType): Expr {
  return { k: 'op', op: name, a, t };
}

/**
 * The flat index and shape each multi-index made by `unflatten` came from: flattening it again in
 * the same shape gives that flat index back, the same expression (a reshape of a reshape, or an
 * epilogue reaching its contraction through reshapes, reads at the index it started from).
 */
const unflattened = new WeakMap<readonly Expr[], { readonly flat: Expr; readonly shape: readonly number[] }>();

/** Row-major flat index of a multi-index in a shape. */
export function flatIndex(index: readonly Expr[], shape: readonly number[]): Expr {
  const from = unflattened.get(index);
  if (from && from.shape.length === shape.length && from.shape.every((d, i) => d === shape[i])) return from.flat;
  let acc: Expr = lit(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    acc = add(acc, mul(index[d]!, lit(stride)));
    stride *= shape[d]!;
  }
  return acc;
}

/** The multi-index of a flat index in a shape (div/mod by the strides). */
export function unflatten(flat: Expr, shape: readonly number[]): Expr[] {
  const out: Expr[] = [];
  let stride = shape.reduce((a, b) => a * b, 1);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    stride /= n;
    if (n === 1) out.push(lit(0));
    else out.push(ix('%', ix('/', flat, lit(stride)), lit(n)));
  }
  // The first axis needs no modulo (the flat index is in range).
  if (shape.length > 0 && shape[0] !== 1) {
    const rest = shape.slice(1).reduce((a, b) => a * b, 1);
    out[0] = ix('/', flat, lit(rest));
  }
  unflattened.set(out, { flat, shape: [...shape] });
  return out;
}

/**
 * Visits every node of an expression once, parents first: a kernel's value is a DAG (a value
 * read twice is one object), so walkers must not re-enter shared nodes.
 */
function visit(e: Expr, f: (e: Expr) => void, seen = new Set<Expr>()): void {
  if (seen.has(e)) return;
  seen.add(e);
  f(e);
  switch (e.k) {
    case 'load':
      visit(e.i, f, seen);
      break;
    case 'op':
      for (const a of e.a) visit(a, f, seen);
      break;
    case 'ix':
      visit(e.a, f, seen);
      visit(e.b, f, seen);
      break;
    case 'red':
      visit(e.body, f, seen);
      break;
  }
}

/** Every buffer read in an expression. */
export function loadsOf(e: Expr, out = new Set<number>()): Set<number> {
  visit(e, (x) => {
    if (x.k === 'load') out.add(x.buf);
  });
  return out;
}

/** The elementwise ops an expression uses (so renderers emit only the helpers needed). */
export function opsOf(e: Expr, out = new Set<string>()): Set<string> {
  visit(e, (x) => {
    if (x.k === 'op' || x.k === 'red') out.add(x.op);
  });
  return out;
}

let structIds = new WeakMap<Expr, number>();
let structTable = new Map<string, number>();

/**
 * Forgets every structural key (the builder calls it once per program), so that a long-lived
 * process compiling many programs does not keep the keys of all of them. Keys are comparable only
 * between expressions keyed since the last reset.
 */
export function resetStructKeys(): void {
  structIds = new WeakMap();
  structTable = new Map();
}

/**
 * A key equal for structurally equal expressions, computed in time linear in the number of
 * distinct nodes (each node's key names its children's keys, not their text).
 */
export function structKey(e: Expr): number {
  const have = structIds.get(e);
  if (have !== undefined) return have;
  let key: string;
  switch (e.k) {
    case 'idx':
      key = `i:${e.v}`;
      break;
    case 'ref':
      key = `r:${e.v}:${e.t}`;
      break;
    case 'lit':
      key = `l:${Object.is(e.v, -0) ? '-0' : String(e.v)}:${e.t}`;
      break;
    case 'load':
      key = `b:${e.buf}:${e.t}:${structKey(e.i)}`;
      break;
    case 'op':
      key = `o:${e.op}:${e.t}:${e.a.map(structKey).join(',')}`;
      break;
    case 'ix':
      key = `x:${e.op}:${e.t}:${structKey(e.a)}:${structKey(e.b)}`;
      break;
    case 'red':
      key = `d:${e.op}:${e.t}:${e.vars.map((v) => `${v.v}=${v.n}`).join(',')}:${structKey(e.body)}`;
      break;
  }
  let id = structTable.get(key);
  if (id === undefined) {
    id = structTable.size;
    structTable.set(key, id);
  }
  structIds.set(e, id);
  return id;
}

/** Structural equality of expressions. */
export function sameExpr(a: Expr, b: Expr): boolean {
  return a === b || structKey(a) === structKey(b);
}

/** The dtype of an expression (loop indices are i32). */
export function typeOf(e: Expr): DType {
  return e.k === 'idx' ? 'i32' : e.t;
}

/** Number of distinct nodes of an expression (a guard against blowing up recomputation). */
export function exprSize(e: Expr): number {
  let n = 0;
  visit(e, () => n++);
  return n;
}

/** The index of every load from buffer `buf` in an expression. */
export function loadIndices(e: Expr, buf: number, out: Expr[] = []): Expr[] {
  visit(e, (x) => {
    if (x.k === 'load' && x.buf === buf) out.push(x.i);
  });
  return out;
}

/** The expression with its loads from other buffers (`to(buf)`); a shared value stays one object. */
export function renameBuffers(e: Expr, to: (buf: number) => number, memo = new Map<Expr, Expr>()): Expr {
  const have = memo.get(e);
  if (have) return have;
  const r = (x: Expr) => renameBuffers(x, to, memo);
  let out: Expr;
  switch (e.k) {
    case 'load': {
      const buf = to(e.buf);
      const i = r(e.i);
      out = buf === e.buf && i === e.i ? e : { ...e, buf, i };
      break;
    }
    case 'op': {
      const a = e.a.map(r);
      out = a.every((x, k) => x === e.a[k]) ? e : { ...e, a };
      break;
    }
    case 'ix': {
      const a = r(e.a);
      const b = r(e.b);
      out = a === e.a && b === e.b ? e : { ...e, a, b };
      break;
    }
    case 'red': {
      const body = r(e.body);
      out = body === e.body ? e : { ...e, body };
      break;
    }
    default:
      out = e;
  }
  memo.set(e, out);
  return out;
}
