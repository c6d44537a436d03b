/**
 * @file A checker for kernel programs: every loop index and `ref` used is defined in an
 * enclosing scope (a row's lets see only the outer indices and earlier lets), every buffer
 * read or written exists, and every load whose index range is known from the loop bounds
 * stays inside its buffer. Tests run it on what the builder produces.
 */
import type { Expr } from './expr.js';
import type { Kernel, KernelProgram } from './program.js';
import { inPlaceProblems } from './in-place.js';

type Range = readonly [number, number] | undefined;

interface Scope {
  readonly vars: ReadonlyMap<string, number>;
  readonly refs: ReadonlySet<string>;
}

function rangeOf(e: Expr, s: Scope): Range {
  switch (e.k) {
    case 'lit':
      return [e.v, e.v];
    case 'idx': {
      const n = s.vars.get(e.v);
      return n === undefined ? undefined : [0, n - 1];
    }
    case 'ix': {
      const a = rangeOf(e.a, s);
      const b = rangeOf(e.b, s);
      if (!a || !b) return undefined;
      switch (e.op) {
        case '+':
          return [a[0] + b[0], a[1] + b[1]];
        case '-':
          return [a[0] - b[1], a[1] - b[0]];
        case '*': {
          const p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
          return [Math.min(...p), Math.max(...p)];
        }
        case '/':
          return b[0] > 0 && a[0] >= 0 ? [Math.trunc(a[0] / b[1]), Math.trunc(a[1] / b[0])] : undefined;
        case '%':
          return b[0] > 0 && a[0] >= 0 ? [0, Math.min(a[1], b[1] - 1)] : undefined;
        case 'min':
          return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
        case 'max':
          return [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
        default:
          return [0, 1];
      }
    }
    default:
      return undefined;
  }
}

/** Expressions already checked in each scope (kernel values are DAGs: a shared value is checked once). */
const checked = new WeakMap<Scope, WeakSet<Expr>>();

function checkExpr(e: Expr, s: Scope, p: KernelProgram, where: string, errors: string[]): void {
  let seen = checked.get(s);
  if (!seen) checked.set(s, (seen = new WeakSet()));
  if (seen.has(e)) return;
  seen.add(e);
  switch (e.k) {
    case 'idx':
      if (!s.vars.has(e.v)) errors.push(`${where}: loop index ${e.v} is used outside its loop`);
      return;
    case 'ref':
      if (!s.refs.has(e.v)) errors.push(`${where}: ${e.v} is used where it is not defined`);
      return;
    case 'lit':
      return;
    case 'load': {
      checkExpr(e.i, s, p, where, errors);
      const b = p.buffers[e.buf];
      if (!b) {
        errors.push(`${where}: load from undeclared buffer ${e.buf}`);
        return;
      }
      const r = rangeOf(e.i, s);
      if (r && (r[0] < 0 || r[1] >= b.size)) errors.push(`${where}: load of ${b.name}[${r[0]}..${r[1]}] outside its ${b.size} elements`);
      return;
    }
    case 'op':
      for (const a of e.a) checkExpr(a, s, p, where, errors);
      return;
    case 'ix':
      checkExpr(e.a, s, p, where, errors);
      checkExpr(e.b, s, p, where, errors);
      return;
    case 'red': {
      const vars = new Map(s.vars);
      for (const v of e.vars) {
        if (vars.has(v.v)) errors.push(`${where}: reduction index ${v.v} shadows an enclosing index`);
        vars.set(v.v, v.n);
      }
      checkExpr(e.body, { vars, refs: s.refs }, p, where, errors);
      return;
    }
  }
}

function checkWrite(buf: number, elements: number, p: KernelProgram, where: string, errors: string[]): void {
  const b = p.buffers[buf];
  if (!b) errors.push(`${where}: write to undeclared buffer ${buf}`);
  else if (b.size < elements) errors.push(`${where}: writes ${elements} elements into ${b.name} of ${b.size}`);
}

function checkKernel(k: Kernel, p: KernelProgram, errors: string[]): void {
  const where = k.name;
  if (k.kind === 'routine') {
    checkWrite(k.out, k.batch * k.outSize, p, where, errors);
    if (k.scratch) checkWrite(k.scratch.buf, k.batch * k.scratch.size, p, where, errors);
    for (const x of k.inputs) {
      const b = p.buffers[x.buf];
      if (!b) errors.push(`${where}: operand from undeclared buffer ${x.buf}`);
      else if (b.size < k.batch * x.size) errors.push(`${where}: reads ${k.batch * x.size} elements of ${b.name} of ${b.size}`);
    }
    return;
  }
  if (k.kind === 'contraction') {
    checkWrite(k.out, k.batch * k.m * k.n, p, where, errors);
    for (const x of [k.a, k.b]) if (!p.buffers[x.buf]) errors.push(`${where}: operand from undeclared buffer ${x.buf}`);
    if (k.epilogue) {
      const vars = new Map(k.epilogue.vars.map((v, i) => [v, k.epilogue!.shape[i]!]));
      checkExpr(k.epilogue.value, { vars, refs: new Set(['acc']) }, p, where, errors);
    }
    return;
  }
  const inner = new Set(k.inner ?? []);
  const all = new Map(k.vars.map((v, i) => [v, k.domain[i]!]));
  const outer = new Map(k.vars.flatMap((v, i) => (inner.has(i) ? [] : [[v, k.domain[i]!] as const])));
  const refs = new Set<string>();
  for (const l of k.lets ?? []) {
    checkExpr(l.value, { vars: outer, refs }, p, `${where} let ${l.name}`, errors);
    if (refs.has(l.name)) errors.push(`${where}: let ${l.name} is defined twice`);
    refs.add(l.name);
  }
  const elements = k.domain.reduce((a, b) => a * b, 1);
  for (const o of k.outputs) {
    checkWrite(o.buf, elements, p, where, errors);
    checkExpr(o.value, { vars: all, refs }, p, where, errors);
  }
}

/** Every violation in the program, one line each (empty: it is well formed). */
export function verifyKernelProgram(p: KernelProgram): string[] {
  const errors: string[] = [];
  for (const k of p.kernels) checkKernel(k, p, errors);
  errors.push(...inPlaceProblems(p));
  return errors;
}
