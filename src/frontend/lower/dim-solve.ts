/**
 * @file Dimension equations: a dimension expression such as `4 * H`, `H + 1`, `H - k` or `H / 2`
 * that uses one name not bound yet is solved for that name from the size found at its axis, so
 * `W: f32[4 * H, H]` binds `H` from either axis. Only expressions linear in the one unknown are
 * solved (`a * H + b`); anything else is left to ordinary evaluation (an unknown name).
 */
import type * as A from '../ast.js';

/** The distinct names in `e` for which `known` is false, in order of appearance. */
export function unknownNames(e: A.Expr, known: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (x: A.Expr): void => {
    switch (x.kind) {
      case 'name':
        if (!known(x.name) && !out.includes(x.name)) out.push(x.name);
        return;
      case 'unary':
        walk(x.operand);
        return;
      case 'binary':
        walk(x.left);
        walk(x.right);
        return;
      case 'call':
        walk(x.callee);
        x.args.forEach((a) => walk(a.value));
        return;
      case 'member':
        walk(x.target);
        return;
      case 'index':
        walk(x.target);
        for (const it of x.items) {
          if (it.kind === 'expr') walk(it.expr);
          else if (it.kind === 'slice') for (const y of [it.start, it.stop, it.step]) if (y) walk(y);
        }
        return;
      case 'tuple':
      case 'list':
        x.items.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(e);
  return out;
}

interface Linear {
  readonly a: number;
  readonly b: number;
}

/**
 * `e` as `a·x + b`, or undefined when it is not linear in `x`. `value` evaluates a part that does
 * not mention `x` to a number (or undefined when it is not a number).
 */
export function linearForm(e: A.Expr, x: string, value: (e: A.Expr) => number | undefined): Linear | undefined {
  const mentions = (y: A.Expr) => unknownNames(y, (n) => n !== x).length > 0;
  const form = (y: A.Expr): Linear | undefined => {
    if (!mentions(y)) {
      const v = value(y);
      return v === undefined ? undefined : { a: 0, b: v };
    }
    if (y.kind === 'name') return { a: 1, b: 0 };
    if (y.kind === 'unary' && (y.op === '-' || y.op === '+')) {
      const f = form(y.operand);
      return f && (y.op === '-' ? { a: -f.a, b: -f.b } : f);
    }
    if (y.kind !== 'binary') return undefined;
    const l = form(y.left);
    const r = form(y.right);
    if (!l || !r) return undefined;
    switch (y.op) {
      case '+':
        return { a: l.a + r.a, b: l.b + r.b };
      case '-':
        return { a: l.a - r.a, b: l.b - r.b };
      case '*':
        if (l.a === 0) return { a: l.b * r.a, b: l.b * r.b };
        if (r.a === 0) return { a: l.a * r.b, b: l.b * r.b };
        return undefined;
      case '/':
        if (r.a !== 0 || r.b === 0) return undefined;
        return { a: l.a / r.b, b: l.b / r.b };
      default:
        return undefined;
    }
  };
  return form(e);
}

/** The value of `x` for which `e` equals `size`, or undefined when `e` is not linear in `x`. */
export function solveDim(e: A.Expr, x: string, size: number, value: (e: A.Expr) => number | undefined): number | undefined {
  const f = linearForm(e, x, value);
  if (!f || f.a === 0) return undefined;
  return (size - f.b) / f.a;
}
