/**
 * @file Recognizing strided views: an expression that is a load at an affine function of the
 * loop indices (c + Σ coefᵥ·v). Contractions read such operands directly with strides.
 */
import type { Expr } from './expr.js';

export interface Affine {
  readonly buf: number;
  readonly c: number;
  readonly coef: Map<string, number>;
}

type Lin = { c: number; coef: Map<string, number> };

function linear(e: Expr): Lin | undefined {
  switch (e.k) {
    case 'lit':
      return { c: e.v, coef: new Map() };
    case 'idx':
      return { c: 0, coef: new Map([[e.v, 1]]) };
    case 'ix': {
      const a = linear(e.a);
      const b = linear(e.b);
      if (!a || !b) return undefined;
      if (e.op === '+' || e.op === '-') {
        const s = e.op === '+' ? 1 : -1;
        const coef = new Map(a.coef);
        for (const [v, k] of b.coef) coef.set(v, (coef.get(v) ?? 0) + s * k);
        return { c: a.c + s * b.c, coef };
      }
      if (e.op === '*') {
        if (a.coef.size === 0) return { c: a.c * b.c, coef: new Map([...b.coef].map(([v, k]) => [v, k * a.c])) };
        if (b.coef.size === 0) return { c: a.c * b.c, coef: new Map([...a.coef].map(([v, k]) => [v, k * b.c])) };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The strided form of `load(buf, affine index)`, or undefined for anything else. */
export function affineOf(e: Expr): Affine | undefined {
  if (e.k !== 'load') return undefined;
  const l = linear(e.i);
  return l ? { buf: e.buf, c: l.c, coef: l.coef } : undefined;
}
