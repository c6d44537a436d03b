/**
 * @file Recognizing strided views: an expression that is a load at an affine function of the
 * digits of the loop indices, c + Σ coef · ((v / d) % n). A plain index is the digit d = 1,
 * n = ∞; the digits appear when a reshape merges axes that a permute had separated (the heads
 * of a multi-head attention). Contractions read such operands in place, without a copy.
 */
import type { Expr } from './expr.js';
import type { Level } from './program.js';

/** The digit (v / d) % n of loop index v (n = Infinity: no modulus). */
interface Digit {
  readonly v: string;
  readonly d: number;
  readonly n: number;
}

const keyOf = (g: Digit) => `${g.v}/${g.d}%${g.n}`;

interface Lin {
  readonly c: number;
  /** Coefficient of each digit, by key. */
  readonly terms: Map<string, { digit: Digit; coef: number }>;
}

export interface Affine extends Lin {
  readonly buf: number;
}

function scale(l: Lin, k: number): Lin {
  return { c: l.c * k, terms: new Map([...l.terms].map(([key, t]) => [key, { digit: t.digit, coef: t.coef * k }])) };
}

/** The largest value a digit takes when its index ranges over [0, size). */
function digitMax(g: Digit, sizes: ReadonlyMap<string, number>): number {
  const size = sizes.get(g.v);
  if (size === undefined) return Infinity;
  return Math.min(g.n, Math.ceil(size / g.d)) - 1;
}

function digitTerm(digit: Digit, coef: number): Lin {
  return { c: 0, terms: new Map([[keyOf(digit), { digit, coef }]]) };
}

/**
 * (L / k) or (L % k) of an affine L with non-negative terms, when it is affine again: terms
 * whose coefficient k divides pass through (or vanish, for %), terms whose values stay below k
 * together vanish (or pass through), and one term c·digit with c dividing k splits its digit.
 */
function divMod(l: Lin, op: '/' | '%', k: number, sizes: ReadonlyMap<string, number>): Lin | undefined {
  if (l.c < 0 || l.c % k !== 0) return undefined;
  const multiples: { digit: Digit; coef: number }[] = [];
  const rest: { digit: Digit; coef: number }[] = [];
  for (const t of l.terms.values()) {
    if (t.coef < 0) return undefined;
    if (t.coef === 0) continue;
    (t.coef % k === 0 ? multiples : rest).push(t);
  }
  const maxOf = (ts: readonly { digit: Digit; coef: number }[]) => ts.reduce((s, t) => s + t.coef * digitMax(t.digit, sizes), 0);
  const restMax = maxOf(rest);
  const sum = (ts: readonly { digit: Digit; coef: number }[], c: number, f: (coef: number) => number): Lin => ({ c, terms: new Map(ts.map((t) => [keyOf(t.digit), { digit: t.digit, coef: f(t.coef) }])) });
  if (op === '/' && restMax < k) return sum(multiples, l.c / k, (c) => c / k);
  if (op === '%' && restMax < k) return sum(rest, 0, (c) => c);
  // One term c·digit with c dividing k, and lower terms that together stay below c (so they
  // never carry into it): (c·x + low) / k = x / (k/c) and (c·x + low) % k = c·(x % (k/c)) + low.
  rest.sort((a, b) => b.coef - a.coef);
  const [high, ...low] = rest;
  if (!high || k % high.coef !== 0 || maxOf(low) >= high.coef) return undefined;
  const { digit: g, coef } = high;
  const q = k / coef;
  if (g.n !== Infinity && g.n % q !== 0) return undefined;
  if (op === '/') {
    const whole = sum(multiples, l.c / k, (c) => c / k);
    const split = { v: g.v, d: g.d * q, n: g.n === Infinity ? Infinity : g.n / q };
    const terms = new Map(whole.terms);
    terms.set(keyOf(split), { digit: split, coef: (terms.get(keyOf(split))?.coef ?? 0) + 1 });
    return { c: whole.c, terms };
  }
  const terms = sum(low, 0, (c) => c).terms;
  const kept = { v: g.v, d: g.d, n: q };
  terms.set(keyOf(kept), { digit: kept, coef: (terms.get(keyOf(kept))?.coef ?? 0) + coef });
  return { c: 0, terms };
}

function linear(e: Expr, sizes: ReadonlyMap<string, number>): Lin | undefined {
  switch (e.k) {
    case 'lit':
      return { c: e.v, terms: new Map() };
    case 'idx':
      return digitTerm({ v: e.v, d: 1, n: Infinity }, 1);
    case 'ix': {
      const a = linear(e.a, sizes);
      const b = linear(e.b, sizes);
      if (!a || !b) return undefined;
      if (e.op === '+' || e.op === '-') {
        const s = e.op === '+' ? 1 : -1;
        const terms = new Map(a.terms);
        for (const [key, t] of b.terms) terms.set(key, { digit: t.digit, coef: (terms.get(key)?.coef ?? 0) + s * t.coef });
        return { c: a.c + s * b.c, terms };
      }
      if (e.op === '*') {
        if (a.terms.size === 0) return scale(b, a.c);
        if (b.terms.size === 0) return scale(a, b.c);
        return undefined;
      }
      const k = b.terms.size === 0 ? b.c : 0;
      if ((e.op === '/' || e.op === '%') && k > 0 && Number.isInteger(k)) return divMod(a, e.op, k, sizes);
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The strided form of `load(buf, affine index)`, or undefined for anything else; `sizes` gives
 * the range of each loop index.
 */
export function affineOf(e: Expr, sizes: ReadonlyMap<string, number>): Affine | undefined {
  if (e.k !== 'load') return undefined;
  const l = linear(e.i, sizes);
  return l ? { buf: e.buf, ...l } : undefined;
}

/**
 * The levels (size and stride, outermost first) through which loop index v, ranging over
 * [0, size), moves in an affine index; undefined when its digits do not tile the range.
 */
export function levelsOfIndex(a: Affine, v: string, size: number): Level[] | undefined {
  if (size <= 1) return [];
  const digits = [...a.terms.values()].filter((t) => t.digit.v === v && t.coef !== 0).sort((x, y) => x.digit.d - y.digit.d);
  const inner: Level[] = [];
  let at = 1;
  for (const { digit, coef } of digits) {
    if (at >= size || digit.d % at !== 0 || size % digit.d !== 0) return undefined;
    // Digits the index never uses (stride 0) fill the gaps.
    if (digit.d > at) inner.push({ n: digit.d / at, stride: 0 });
    const n = Math.min(digit.n, size / digit.d);
    if ((size / digit.d) % n !== 0) return undefined;
    inner.push({ n, stride: coef });
    at = digit.d * n;
  }
  if (at < size) {
    if (size % at !== 0) return undefined;
    inner.push({ n: size / at, stride: 0 });
  }
  return inner.reverse();
}

/** Levels with the size-1 ones dropped and neighbours that form one stride merged. */
function canonicalLevels(levels: readonly Level[]): Level[] {
  const out: Level[] = [];
  // Innermost first, so that an outer level continuing the inner one's stride extends it.
  for (const l of [...levels].reverse()) {
    if (l.n === 1) continue;
    const inner = out[out.length - 1];
    if (inner && l.stride === inner.stride * inner.n) out[out.length - 1] = { n: inner.n * l.n, stride: inner.stride };
    else out.push(l);
  }
  return out;
}

/**
 * Whether two index expressions take the same value at every point of the loop domain (`sizes`
 * gives each loop index's range). Decided on their digit forms, so `((e0·8 + e1) / 24)·24 +
 * ((e0·8 + e1) / 8 % 3)·8 + e1 % 8` equals `e0·8 + e1`; false when either is not affine in the
 * digits (then the two may still be equal, but nothing relies on it).
 */
export function sameIndexValue(a: Expr, b: Expr, sizes: ReadonlyMap<string, number>): boolean {
  const la = linear(a, sizes);
  const lb = linear(b, sizes);
  if (!la || !lb || la.c !== lb.c) return false;
  const vars = new Set([...la.terms.values(), ...lb.terms.values()].map((t) => t.digit.v));
  for (const v of vars) {
    const size = sizes.get(v);
    if (size === undefined) return false;
    const x = levelsOfIndex({ buf: 0, ...la }, v, size);
    const y = levelsOfIndex({ buf: 0, ...lb }, v, size);
    if (!x || !y) return false;
    const cx = canonicalLevels(x);
    const cy = canonicalLevels(y);
    if (cx.length !== cy.length || cx.some((l, i) => l.n !== cy[i]!.n || l.stride !== cy[i]!.stride)) return false;
  }
  return true;
}
