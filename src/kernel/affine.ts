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
  const restMax = rest.reduce((s, t) => s + t.coef * digitMax(t.digit, sizes), 0);
  const sum = (ts: readonly { digit: Digit; coef: number }[], c: number, f: (coef: number) => number): Lin => ({ c, terms: new Map(ts.map((t) => [keyOf(t.digit), { digit: t.digit, coef: f(t.coef) }])) });
  if (op === '/') {
    const whole = sum(multiples, l.c / k, (c) => c / k);
    if (restMax < k) return whole;
    if (rest.length !== 1 || k % rest[0]!.coef !== 0) return undefined;
    const { digit: g, coef } = rest[0]!;
    const q = k / coef;
    if (g.n !== Infinity && g.n % q !== 0) return undefined;
    const split = { v: g.v, d: g.d * q, n: g.n === Infinity ? Infinity : g.n / q };
    const terms = new Map(whole.terms);
    terms.set(keyOf(split), { digit: split, coef: 1 });
    return { c: whole.c, terms };
  }
  if (restMax < k) return sum(rest, 0, (c) => c);
  if (rest.length !== 1 || k % rest[0]!.coef !== 0) return undefined;
  const { digit: g, coef } = rest[0]!;
  const q = k / coef;
  if (g.n !== Infinity && g.n % q !== 0) return undefined;
  return digitTerm({ v: g.v, d: g.d, n: q }, coef);
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
