/**
 * Random well-typed `.dl` programs for differential testing (test/differential/*, `npm run fuzz`).
 *
 * A program is a list of steps drawn by fast-check; each step is an expression over the values
 * defined before it (f32, i32 and bool tensors of small shapes): elementwise arithmetic with
 * broadcasting, constants and splats, literal lists, iota and arange, concat, stack, pad, slices,
 * reverse, transpose, reshape, reductions, matrix products, comparisons, where, casts, integer
 * division and remainder, and gradients. Rendering resolves each step against the values in scope
 * (a number picks one modulo how many fit) and falls back to a simpler step when none fits, so
 * every program fast-check draws or shrinks to is well typed. Shrinking removes steps and
 * lowers numbers.
 *
 * Every feature is on unless turned off (`GenOptions`, and the `--no-…` flags of `npm run fuzz`,
 * to tell whether a failure needs one): values that may be NaN or infinite, i32 arithmetic that
 * may overflow, outputs that may be one value, reshapes of matrix products. (They were off while
 * the bugs they found were open; 5,300 programs with all of them, 620 also on WebGPU, found
 * nothing on 2026-12-03, so they are on.)
 */
import fc from 'fast-check';

export type DType = 'f32' | 'i32' | 'bool';

export interface GenOptions {
  /** Steps that can produce NaN or ±∞ (log and sqrt of any value, 0/0, exp of large values). */
  readonly nan?: boolean;
  /** i32 arithmetic whose values may leave the 32-bit range (wrapping differs by backend). */
  readonly overflow?: boolean;
  /** Gradient steps (`grad(...)` inside the program). Default true. */
  readonly grad?: boolean;
  /**
   * Outputs returned as they are, so that two may be one value after simplification (a value
   * returned twice). Off: every output after the first is offset by a distinct constant.
   */
  readonly aliasedOutputs?: boolean;
  /**
   * A reshape of a matrix product's result (`reshape(a @ b, …) + c` once crashed the fused JS
   * backend). Off: reshapes and broadcasts skip values that are products or elementwise ops of one.
   */
  readonly reshapeOfProduct?: boolean;
  /** Most steps per program (default 8). */
  readonly maxSteps?: number;
}

export interface Step {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export interface ProgramSpec {
  readonly steps: readonly Step[];
  readonly outs: readonly number[];
}

interface Value {
  readonly name: string;
  readonly t: DType;
  readonly s: readonly number[];
  /** An upper bound of |element| (Infinity: unknown). */
  readonly bound: number;
  /** Depends on the input x (so `grad(…, x)` is not trivially zero). */
  readonly fromX: boolean;
  /** The value is a matrix product (or elementwise ops of one). */
  readonly product?: boolean;
}

/** The inputs every program takes. */
export const SIGNATURE: readonly Value[] = [
  { name: 'x', t: 'f32', s: [2, 3], bound: 5, fromX: true },
  { name: 'y', t: 'f32', s: [3], bound: 5, fromX: false },
  { name: 'w', t: 'f32', s: [3, 2], bound: 5, fromX: false },
  { name: 'k', t: 'i32', s: [2, 3], bound: 3, fromX: false },
  { name: 'm', t: 'bool', s: [2, 3], bound: 1, fromX: false },
];

/** Largest bound an f32 value may reach (keeps f32 far from overflow and rounding noise small). */
const F32_LIMIT = 1e4;
/** Largest bound an i32 value may reach unless overflow is allowed. */
const I32_LIMIT = 1 << 20;
const MAX_NUMEL = 48;
const MAX_RANK = 4;

const numel = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);
const dims = (s: readonly number[]) => `[${s.join(', ')}]`;
const same = (p: readonly number[], q: readonly number[]) => p.length === q.length && p.every((d, i) => d === q[i]);

/** A float literal the language reads as f32. */
function flit(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const FLOATS = [0.5, -1.5, 2, 0, 1, -0.25, 3];
const INTS = [1, 2, 3, -1, 0, 5];

type Result = { e: string; t: DType; s: readonly number[]; bound: number; fromX?: boolean; product?: boolean } | undefined;

class Ctx {
  constructor(
    readonly pool: Value[],
    readonly step: Step,
    readonly opts: GenOptions,
  ) {}

  /** The values satisfying `ok`, picked by `n`. */
  pick(n: number, ok: (v: Value) => boolean): Value | undefined {
    const c = this.pool.filter(ok);
    return c.length ? c[n % c.length] : undefined;
  }

  f32(n: number, ok: (v: Value) => boolean = () => true): Value | undefined {
    return this.pick(n, (v) => v.t === 'f32' && ok(v));
  }

  ok(t: DType, s: readonly number[], bound: number): boolean {
    if (s.length > MAX_RANK || numel(s) > MAX_NUMEL || s.some((d) => d < 1)) return false;
    if (t === 'f32' && !this.opts.nan && !(bound <= F32_LIMIT)) return false;
    if (t === 'i32' && !this.opts.overflow && !(bound <= I32_LIMIT)) return false;
    return true;
  }

  /**
   * A value of type t and shape s: one from the pool, or a constant (a splat, a literal list,
   * an iota) chosen by n.
   */
  operand(n: number, t: DType, s: readonly number[], fromPool = true): { e: string; bound: number; fromX: boolean } {
    const v = fromPool ? this.pick(n >> 2, (u) => u.t === t && same(u.s, s)) : undefined;
    if (v && n % 4 !== 0) return { e: v.name, bound: v.bound, fromX: v.fromX };
    const k = n % 5;
    if (t === 'bool') return { e: k % 2 || s.length === 0 ? `full(${dims(s)}, ${k % 3 ? 'true' : 'false'})` : `iota(${dims(s)}, ${n % s.length}) > ${n % 2}`, bound: 1, fromX: false };
    if (k === 0) return { e: t === 'f32' ? `zeros(${dims(s)})` : `full(${dims(s)}, 0)`, bound: 0, fromX: false };
    if (k === 1) return { e: t === 'f32' ? `ones(${dims(s)})` : `full(${dims(s)}, 1)`, bound: 1, fromX: false };
    if (k === 2 || s.length === 0) {
      const c = t === 'f32' ? flit(FLOATS[n % FLOATS.length]!) : String(INTS[n % INTS.length]!);
      return { e: `full(${dims(s)}, ${c})`, bound: 3, fromX: false };
    }
    if (k === 3 && s.length <= 2 && numel(s) <= 12) {
      const row = (j: number) => `[${Array.from({ length: s[s.length - 1]! }, (_, i) => (t === 'f32' ? flit(((i + j * 3 + n) % 7) * 0.5 - 1.5) : String((i + j + n) % 4))).join(', ')}]`;
      const list = s.length === 1 ? row(0) : `[${Array.from({ length: s[0]! }, (_, j) => row(j)).join(', ')}]`;
      // A list literal next to a scalar literal is refused (fuzz finding 1), so it is added to a splat.
      return { e: `${list} + ${t === 'f32' ? `zeros(${dims(s)})` : `full(${dims(s)}, 0)`}`, bound: 4, fromX: false };
    }
    const axis = n % s.length;
    const it = `iota(${dims(s)}, ${axis})`;
    return { e: t === 'f32' ? `cast(${it}, f32)` : it, bound: Math.max(...s), fromX: false };
  }
}

type Template = (c: Ctx) => Result;

const UNARY: readonly [string, (b: number) => number, boolean][] = [
  ['tanh(#)', () => 1, false],
  ['sigmoid(#)', () => 1, false],
  ['sin(#)', () => 1, false],
  ['abs(#)', (b) => b, false],
  ['-#', (b) => b, false],
  ['exp(tanh(#))', () => 2.72, false],
  ['softplus(#)', (b) => b + 1, false],
  ['relu(#)', (b) => b, false],
  ['sqrt(1.0 + # * #)', (b) => b + 1, false],
  ['log(1.0 + # * #)', (b) => 2 * Math.log(b + 1) + 1, false],
  ['stop_gradient(floor(#))', (b) => b + 1, false],
  ['gelu(#)', (b) => b, false],
  ['log(#)', () => Infinity, true],
  ['sqrt(#)', () => Infinity, true],
  ['exp(#)', () => Infinity, true],
];

/** Shapes that broadcast to s: s itself, a suffix, or with some axes of size 1. */
function broadcastShapes(s: readonly number[]): number[][] {
  const out: number[][] = [[...s], []];
  for (let i = 1; i < s.length; i++) out.push(s.slice(i));
  if (s.length >= 2) out.push([1, ...s.slice(1)], [...s.slice(0, -1), 1]);
  return out;
}

const BINARY: readonly [string, (a: number, b: number) => number][] = [
  ['# + @', (a, b) => a + b],
  ['# - @', (a, b) => a + b],
  ['# * @', (a, b) => a * b],
  ['max(#, @)', (a, b) => Math.max(a, b)],
  ['min(#, @)', (a, b) => Math.max(a, b)],
  ['# / (1.5 + @ * @)', (a) => a / 1.5],
];

const TEMPLATES: readonly Template[] = [
  // f32 unary
  (c) => {
    const a = c.f32(c.step.a);
    if (!a) return undefined;
    const allowed = UNARY.filter((u) => c.opts.nan || !u[2]);
    const [f, bound] = allowed[c.step.b % allowed.length]!;
    return { e: f.replaceAll('#', a.name), t: 'f32', s: a.s, bound: bound(a.bound), fromX: a.fromX, product: a.product };
  },
  // f32 binary with broadcasting: the second operand from the pool or a constant
  (c) => {
    const a = c.f32(c.step.a);
    if (!a) return undefined;
    const shapes = broadcastShapes(a.s);
    const bs = shapes[c.step.c % shapes.length]!;
    const b = c.operand(c.step.b, 'f32', bs);
    const [f, bound] = BINARY[(c.step.b + c.step.c) % BINARY.length]!;
    const swap = c.step.c % 3 === 0 && same(bs, a.s);
    const [p, q] = swap ? [`(${b.e})`, a.name] : [a.name, `(${b.e})`];
    return { e: f.replaceAll('#', p).replaceAll('@', q), t: 'f32', s: a.s, bound: bound(a.bound, b.bound), fromX: a.fromX || b.fromX, product: a.product };
  },
  // scalar literal arithmetic
  (c) => {
    const a = c.pick(c.step.a, (v) => v.t !== 'bool');
    if (!a) return undefined;
    const k = a.t === 'f32' ? flit(FLOATS[c.step.b % FLOATS.length]!) : String(INTS[c.step.b % INTS.length]!);
    const op = ['+', '-', '*'][c.step.c % 3]!;
    const kb = Math.abs(Number(k));
    return { e: c.step.c % 2 ? `${a.name} ${op} ${k}` : `${k} ${op} ${a.name}`, t: a.t, s: a.s, bound: op === '*' ? a.bound * kb : a.bound + kb, fromX: a.fromX, product: a.product };
  },
  // comparisons (bool)
  (c) => {
    const a = c.pick(c.step.a, (v) => v.t !== 'bool');
    if (!a) return undefined;
    const op = ['>', '<', '>=', '<=', '==', '!='][c.step.b % 6]!;
    const other = c.step.c % 2 ? c.operand(c.step.c >> 1, a.t, a.s).e : a.t === 'f32' ? flit(FLOATS[c.step.c % FLOATS.length]!) : String(INTS[c.step.c % INTS.length]!);
    return { e: `${a.name} ${op} (${other})`, t: 'bool', s: a.s, bound: 1 };
  },
  // logic
  (c) => {
    const a = c.pick(c.step.a, (v) => v.t === 'bool');
    if (!a) return undefined;
    if (c.step.b % 3 === 0) return { e: `not ${a.name}`, t: 'bool', s: a.s, bound: 1 };
    const b = c.operand(c.step.c, 'bool', a.s);
    return { e: `${a.name} ${c.step.b % 3 === 1 ? 'and' : 'or'} (${b.e})`, t: 'bool', s: a.s, bound: 1 };
  },
  // where
  (c) => {
    const m = c.pick(c.step.a, (v) => v.t === 'bool');
    const a = m && c.pick(c.step.b, (v) => v.t !== 'bool' && same(v.s, m.s));
    if (!m || !a) return undefined;
    const b = c.operand(c.step.c, a.t, a.s);
    return { e: `where(${m.name}, ${a.name}, ${b.e})`, t: a.t, s: a.s, bound: Math.max(a.bound, b.bound), fromX: a.fromX || b.fromX };
  },
  // casts
  (c) => {
    const a = c.pick(c.step.a, () => true);
    if (!a) return undefined;
    if (a.t === 'f32') {
      if (c.step.b % 2) return { e: `cast(${a.name} > 0.0, f32)`, t: 'f32', s: a.s, bound: 1 };
      return { e: `cast(tanh(${a.name}) * 3.5, i32)`, t: 'i32', s: a.s, bound: 3 };
    }
    const to: DType = a.t === 'i32' ? (c.step.b % 2 ? 'f32' : 'bool') : c.step.b % 2 ? 'f32' : 'i32';
    return { e: `cast(${a.name}, ${to})`, t: to, s: a.s, bound: a.bound };
  },
  // integer arithmetic
  (c) => {
    const a = c.pick(c.step.a, (v) => v.t === 'i32');
    if (!a) return undefined;
    const k = [2, 3, -2, 5][c.step.c % 4]!;
    switch (c.step.b % 7) {
      case 0:
        return { e: `${a.name} // ${k}`, t: 'i32', s: a.s, bound: a.bound };
      case 1:
        return { e: `${a.name} % ${k}`, t: 'i32', s: a.s, bound: Math.abs(k) };
      case 2:
        return { e: `abs(${a.name})`, t: 'i32', s: a.s, bound: a.bound };
      default: {
        const b = c.operand(c.step.c, 'i32', a.s);
        const op = ['+', '-', '*', 'max', 'min'][c.step.b % 5]!;
        const e = op.length > 1 ? `${op}(${a.name}, ${b.e})` : `${a.name} ${op} (${b.e})`;
        return { e, t: 'i32', s: a.s, bound: op === '*' ? a.bound * b.bound : a.bound + b.bound };
      }
    }
  },
  // a constant or splat of the shape of a value
  (c) => {
    const a = c.pick(c.step.a, () => true);
    if (!a) return undefined;
    if (c.step.b % 4 === 0 && a.t !== 'bool') return { e: `${c.step.c % 2 ? 'zeros' : 'ones'}_like(${a.name})`, t: a.t, s: a.s, bound: 1 };
    const o = c.operand(c.step.c * 4 + 1 + (c.step.b % 3), a.t, a.s, false);
    return { e: o.e, t: a.t, s: a.s, bound: o.bound };
  },
  // arange
  (c) => {
    const n = 1 + (c.step.a % 4);
    const lo = c.step.b % 3;
    return { e: lo ? `arange(${lo}, ${lo + n})` : `arange(${n})`, t: 'i32', s: [n], bound: lo + n };
  },
  // concat (the other operand may come first, and may be a splat)
  (c) => {
    const a = c.pick(c.step.a, (v) => v.s.length >= 1);
    if (!a) return undefined;
    const axis = c.step.b % a.s.length;
    const s2 = a.s.map((d, i) => (i === axis ? 1 + (c.step.c % 3) : d));
    const b = c.operand(c.step.c >> 1, a.t, s2);
    const parts = c.step.c % 2 ? [b.e, a.name] : [a.name, b.e];
    const s = a.s.map((d, i) => (i === axis ? d + s2[i]! : d));
    return { e: `concat([${parts.join(', ')}], axis=${axis})`, t: a.t, s, bound: Math.max(a.bound, b.bound), fromX: a.fromX || b.fromX };
  },
  // stack
  (c) => {
    const a = c.pick(c.step.a, (v) => v.s.length < MAX_RANK);
    if (!a) return undefined;
    const axis = c.step.b % (a.s.length + 1);
    const b = c.operand(c.step.c >> 1, a.t, a.s);
    const parts = c.step.c % 2 ? [b.e, a.name] : [a.name, b.e];
    const s = [...a.s.slice(0, axis), 2, ...a.s.slice(axis)];
    return { e: `stack([${parts.join(', ')}], axis=${axis})`, t: a.t, s, bound: Math.max(a.bound, b.bound), fromX: a.fromX || b.fromX };
  },
  // pad (of a value or of a splat)
  (c) => {
    const a = c.pick(c.step.a, (v) => v.s.length >= 1 && v.t !== 'bool');
    if (!a) return undefined;
    const n = 1 + (c.step.b % Math.min(2, a.s.length));
    const pads = Array.from({ length: n }, (_, i) => [(c.step.c >> i) % 2, (c.step.c >> (i + 2)) % 3]);
    const splat = c.step.b % 3 === 2;
    const src = splat ? c.operand(c.step.c * 4 + 2, a.t, a.s, false).e : a.name;
    const v = a.t === 'f32' ? flit(FLOATS[c.step.c % FLOATS.length]!) : String(INTS[c.step.c % INTS.length]!);
    const value = c.step.a % 2 ? `, value=${v}` : '';
    const s = a.s.map((d, i) => {
      const j = i - (a.s.length - n);
      return j >= 0 ? d + pads[j]![0]! + pads[j]![1]! : d;
    });
    return { e: `pad(${src}, [${pads.map((p) => `[${p[0]}, ${p[1]}]`).join(', ')}]${value})`, t: a.t, s, bound: Math.max(a.bound, 3), fromX: !splat && a.fromX };
  },
  // slices and integer indices
  (c) => {
    const a = c.pick(c.step.a, (v) => v.s.length >= 1);
    if (!a) return undefined;
    const axis = c.step.b % a.s.length;
    const d = a.s[axis]!;
    const lo = c.step.c % d;
    const kind = (c.step.c >> 2) % 4;
    let sub: string;
    let size: number | undefined;
    if (kind === 0) {
      sub = `${lo}`;
      size = undefined;
    } else if (kind === 1) {
      sub = `${lo}:`;
      size = d - lo;
    } else if (kind === 2) {
      const hi = lo + 1 + ((c.step.c >> 4) % (d - lo));
      sub = `${lo}:${hi}`;
      size = hi - lo;
    } else {
      sub = `${lo}::2`;
      size = Math.ceil((d - lo) / 2);
    }
    const idx = a.s.map((_, i) => (i === axis ? sub : ':'));
    const s = size === undefined ? a.s.filter((_, i) => i !== axis) : a.s.map((x, i) => (i === axis ? size! : x));
    return { e: `${a.name}[${idx.join(', ')}]`, t: a.t, s, bound: a.bound, fromX: a.fromX };
  },
  // reverse, transpose
  (c) => {
    const a = c.pick(c.step.a, (v) => v.s.length >= 1);
    if (!a) return undefined;
    if (a.s.length >= 2 && c.step.b % 2) return { e: `transpose(${a.name})`, t: a.t, s: [...a.s].reverse(), bound: a.bound, fromX: a.fromX };
    return { e: `reverse(${a.name}, ${c.step.c % a.s.length})`, t: a.t, s: a.s, bound: a.bound, fromX: a.fromX };
  },
  // reshape, broadcast_to
  (c) => {
    const a = c.pick(c.step.a, (v) => c.opts.reshapeOfProduct === true || !v.product);
    if (!a) return undefined;
    const n = numel(a.s);
    if (c.step.b % 3 === 0) {
      const s = [2, ...a.s];
      return { e: `broadcast_to(${a.name}, ${dims(s)})`, t: a.t, s, bound: a.bound, fromX: a.fromX };
    }
    const f = [1, 2, 3].filter((k) => n % k === 0);
    const k = f[c.step.c % f.length]!;
    const s = c.step.b % 3 === 1 ? [n] : [k, n / k];
    return { e: `reshape(${a.name}, ${dims(s)})`, t: a.t, s, bound: a.bound, fromX: a.fromX };
  },
  // reductions
  (c) => {
    const a = c.pick(c.step.a, (v) => v.t !== 'bool' && v.s.length >= 1);
    if (!a) return undefined;
    const axis = c.step.c % a.s.length;
    const keep = (c.step.c >> 2) % 2 === 1;
    const rest = keep ? a.s.map((d, i) => (i === axis ? 1 : d)) : a.s.filter((_, i) => i !== axis);
    const kd = keep ? ', keepdims=true' : '';
    const which = c.step.b % (a.t === 'f32' ? 7 : 4);
    const n = a.s[axis]!;
    if (which === 0) return { e: `sum(${a.name}, axis=${axis}${kd})`, t: a.t, s: rest, bound: a.bound * n, fromX: a.fromX };
    if (which === 1) return { e: `max(${a.name}, axis=${axis}${kd})`, t: a.t, s: rest, bound: a.bound, fromX: a.fromX };
    if (which === 2) return { e: `min(${a.name}, axis=${axis}${kd})`, t: a.t, s: rest, bound: a.bound, fromX: a.fromX };
    if (which === 3) return { e: `argmax(${a.name}, axis=${axis}${kd})`, t: 'i32', s: rest, bound: n };
    if (which === 4) return { e: `mean(${a.name}, axis=${axis}${kd})`, t: 'f32', s: rest, bound: a.bound, fromX: a.fromX };
    if (which === 5) return { e: `sum(${a.name})`, t: 'f32', s: [], bound: a.bound * numel(a.s), fromX: a.fromX };
    return { e: `softmax(${a.name}, axis=${axis})`, t: 'f32', s: a.s, bound: 1, fromX: a.fromX };
  },
  // matrix products
  (c) => {
    const a = c.f32(c.step.a, (v) => v.s.length === 2 || v.s.length === 1);
    if (!a) return undefined;
    const kdim = a.s[a.s.length - 1]!;
    const b = c.f32(c.step.b, (v) => (v.s.length === 2 || v.s.length === 1) && v.s[0] === kdim);
    const rhs = b ? { e: b.name, s: b.s, bound: b.bound, fromX: b.fromX } : { ...c.operand(c.step.c, 'f32', [kdim, 2], false), s: [kdim, 2] };
    const s = [...a.s.slice(0, -1), ...rhs.s.slice(1)];
    return { e: `${a.name} @ ${b ? rhs.e : `(${rhs.e})`}`, t: 'f32', s, bound: a.bound * rhs.bound * kdim, fromX: a.fromX || rhs.fromX, product: true };
  },
  // gradients of a scalar of a value with respect to x
  (c) => {
    if (c.opts.grad === false) return undefined;
    const a = c.f32(c.step.a, (v) => v.fromX);
    if (!a) return undefined;
    const wt = c.operand(c.step.b, 'f32', a.s);
    const f = ['sum(# * @)', 'sum(tanh(#) * @)', 'sum(# * #)'][c.step.c % 3]!;
    return { e: `grad(${f.replaceAll('#', a.name).replaceAll('@', `(${wt.e})`)}, x)`, t: 'f32', s: [2, 3], bound: Math.min(F32_LIMIT, 200 * (a.bound + 1) * (wt.bound + 1)), fromX: true };
  },
];

export const TEMPLATE_COUNT = TEMPLATES.length;

export function programArb(opts: GenOptions = {}): fc.Arbitrary<ProgramSpec> {
  const n = fc.nat({ max: 1 << 12 });
  return fc.record({
    steps: fc.array(fc.record({ op: fc.nat({ max: TEMPLATES.length - 1 }), a: n, b: n, c: n }), { minLength: 1, maxLength: opts.maxSteps ?? 8 }),
    outs: fc.array(fc.nat({ max: 64 }), { minLength: 1, maxLength: 3 }),
  });
}

/** The program as `.dl` source: `fn f(x, y, w, k, m)` returning up to three distinct values. */
/** The features a program may use unless the options turn them off. */
const ALL_FEATURES: GenOptions = { nan: true, overflow: true, aliasedOutputs: true, reshapeOfProduct: true };

export function renderProgram(p: ProgramSpec, given: GenOptions = {}): string {
  const opts: GenOptions = { ...ALL_FEATURES, ...given };
  const pool: Value[] = [...SIGNATURE];
  const lines: string[] = [];
  p.steps.forEach((step, i) => {
    let r: Result;
    for (let k = 0; k < TEMPLATES.length && !r; k++) {
      const ctx = new Ctx(pool, { ...step, op: (step.op + k) % TEMPLATES.length }, opts);
      const got = TEMPLATES[ctx.step.op]!(ctx);
      if (got && ctx.ok(got.t, got.s, got.bound)) r = got;
    }
    r ??= { e: 'tanh(x)', t: 'f32', s: [2, 3], bound: 1, fromX: true };
    const name = `v${i}`;
    lines.push(`  let ${name} = ${r.e}`);
    pool.push({ name, t: r.t, s: r.s, bound: r.bound, fromX: r.fromX ?? false, product: r.product ?? false });
  });
  const defined = pool.slice(SIGNATURE.length);
  const picked = [...new Set([defined[defined.length - 1]!, ...p.outs.map((o) => defined[o % defined.length]!)])];
  // An output may be scaled or offset (an epilogue after its last kernel); without aliasing,
  // every output after the first is, by a constant of its own, so no two are one value.
  const outs = picked.map((v, i) => {
    const how = (p.outs[i] ?? p.steps.length) % 3;
    // With aliasing, every output shares its epilogue's constants, so equal values stay equal.
    const j = opts.aliasedOutputs ? 0 : i;
    if ((j === 0 || opts.aliasedOutputs) && how === 0) return v.name;
    if (v.t === 'f32') return how === 1 ? `${v.name} * ${j + 1}.375` : `${v.name} + ${1000 * (j + 1)}.5`;
    const n = v.t === 'bool' ? `cast(${v.name}, i32)` : v.name;
    return how === 1 ? `${n} * ${j + 6}` : `${n} + ${1_000_000 * (j + 1)}`;
  });
  const sig = SIGNATURE.map((v) => `${v.name}: ${v.t}${dims(v.s)}`).join(', ');
  return [`fn f(${sig}) {`, ...lines, `  return ${outs.join(', ')}`, '}', ''].join('\n');
}
