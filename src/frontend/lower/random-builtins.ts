/**
 * @file The random built-ins (docs/random.md): uniform, normal, bernoulli, randint, categorical,
 * permutation and dropout, lowered to the counter-based primitives of ir/ops/random.ts. Every draw is keyed by
 * (seed, call site, step) and counted by element: k0 = the `rng/seed` state (the run's seed),
 * k1 = a hash of the call site (line:col, how many times lowering has reached it, and a
 * stream number for draws that need several words), c0 = the element's flat index, c1 = the train
 * step counter (0 outside a `train` step).
 */
import type { Span } from '../../diagnostics/source.js';
import * as C from '../../ir/compose.js';
import type { Node } from '../../ir/graph.js';
import { UNIT } from '../../ir/ops/random.js';
import { formatType, normAxis, numel } from '../../ir/types.js';
import { hashString } from '../../runtime/random.js';
import type { Builtin } from './builtins.js';
import { def, req } from './builtin-def.js';
import { isStdlibPath, type ArgValue, type Lowerer } from './lowerer.js';
import { describe, isNumber, tensor } from './values.js';

/** The state every draw reads its seed from: an i32 scalar initialized to the run's seed. */
export const SEED_STATE = 'rng/seed';

interface RandomState {
  seed?: Node;
  stepName?: string;
  step?: Node;
  /** How many times lowering has reached each call site (loop iterations, inlined calls). */
  readonly visits: Map<string, number>;
}

const STATES = new WeakMap<Lowerer, RandomState>();

function stateOf(lw: Lowerer): RandomState {
  let s = STATES.get(lw);
  if (!s) STATES.set(lw, (s = { visits: new Map() }));
  return s;
}

/** Draws lowered from now on mix in the step counter `name` (a train step's `<train>/step`), so each step draws afresh. */
export function drawPerStep(lw: Lowerer, name: string): void {
  stateOf(lw).stepName = name;
}

/** The i32 step counter state `name` (zeros at first), made once per lowering and shared with the draws that read it. */
export function stepCounter(lw: Lowerer, name: string): Node {
  const s = stateOf(lw);
  if (s.step && s.stepName === name) return s.step;
  const step = lw.root.add('param', [], { name, dtype: 'i32', shape: [], init: { kind: 'zeros', args: {} } });
  if (s.stepName === name) s.step = step;
  return step;
}

/** The key of one call site: the seed, the step, and one k1 word per stream the draw uses. */
interface SiteKey {
  readonly seed: Node;
  readonly step: Node;
  readonly k1: readonly number[];
}

function siteKey(lw: Lowerer, span: Span, streams: number): SiteKey {
  const s = stateOf(lw);
  s.seed ??= lw.root.add('param', [], { name: SEED_STATE, dtype: 'i32', shape: [], init: { kind: 'seed', args: {} } });
  const step = s.stepName ? stepCounter(lw, s.stepName) : C.scalarConst(lw.b, 0, 'i32');
  const pos = span.file.position(span.start);
  // The user's file is not named (a program has one): the same file draws the same wherever it is run from.
  const site = `${isStdlibPath(span.file.path) ? span.file.path : ''}:${pos.line}:${pos.col}`;
  const visit = s.visits.get(site) ?? 0;
  s.visits.set(site, visit + 1);
  const k1 = Array.from({ length: streams }, (_, j) => hashString(`${site}#${visit}/${j}`) | 0);
  return { seed: s.seed, step, k1 };
}

/** The key and counter words (k0, k1, c0, c1) of one stream's draw over `shape`. */
function drawWords(lw: Lowerer, key: SiteKey, stream: number, shape: readonly number[]): Node[] {
  const b = lw.b;
  const wide = (x: Node) => C.broadcastTo(b, x, shape);
  let counter = C.reshape(b, b.add('iota', [], { dtype: 'i32', shape: [Math.max(1, numel(shape))], axis: 0 }), shape);
  // In the body of a loop that stays a loop, step t draws the elements after those of step t - 1.
  if (lw.loopSteps.length) {
    let at = lw.loopSteps[0]!.node;
    for (const l of lw.loopSteps.slice(1)) at = b.add('add', [b.add('mul', [at, C.scalarConst(b, l.trips, 'i32')]), l.node]);
    counter = b.add('add', [counter, wide(b.add('mul', [at, C.scalarConst(b, Math.max(1, numel(shape)), 'i32')]))]);
  }
  return [wide(key.seed), wide(C.scalarConst(b, key.k1[stream]!, 'i32')), counter, wide(key.step)];
}

/** The counter-based draw of one stream over `shape`: uniform in [0, 1), or an integer in [0, n). */
function draw(lw: Lowerer, key: SiteKey, stream: number, shape: readonly number[], n?: Node): Node {
  const words = drawWords(lw, key, stream, shape);
  return n ? lw.b.add('random_int', [...words, C.broadcastTo(lw.b, n, shape)]) : lw.b.add('random_uniform', words);
}

/** The largest `permutation(n)`: it compares all n² pairs of keys. */
const MAX_PERMUTATION = 4096;

function shapeArg(lw: Lowerer, a: ArgValue): number[] {
  const shape = lw.staticInts(a.value, a.span, 'a shape');
  if (shape.some((d) => d < 1)) lw.fail('DL0315', `a random draw of shape [${shape.join(', ')}] has no elements`, a.span, 'every axis must have at least one element');
  return shape;
}

/** An f32 operand broadcast to `shape`: a number, or a tensor that broadcasts. */
function f32Operand(lw: Lowerer, a: ArgValue, shape: readonly number[]): Node {
  const t = lw.toTensor(a.value, a.span, 'f32');
  if (t.type.dtype !== 'f32') lw.fail('DL0303', `expected an f32 value, got ${describe(a.value)}`, a.span, 'convert it with `cast(x, f32)`');
  return lw.at(a.span, () => C.broadcastTo(lw.b, t, shape));
}

/** A static probability in [0, 1] (`upTo1` false: in [0, 1)). */
function probability(lw: Lowerer, a: ArgValue, fn: string, upTo1: boolean): number {
  const p = lw.staticNumber(a.value, a.span, `the probability of \`${fn}\``);
  if (!(p >= 0 && (upTo1 ? p <= 1 : p < 1))) {
    lw.fail('DL0316', `the probability of \`${fn}\` must be in [0, ${upTo1 ? '1]' : '1)'}, got ${p}`, a.span, fn === 'dropout' ? 'p is the fraction of elements zeroed; p = 1 would drop everything' : undefined);
  }
  return p;
}

/** A static probability as the threshold a uniform is compared with: a multiple of 2⁻²⁴, exact in f32 and f64. */
const threshold = (p: number) => Math.round(p / UNIT) * UNIT;

/** mean + scale · z with the defaults skipped, so a default draw is exactly the primitive's value. */
function affine(lw: Lowerer, z: Node, shift: ArgValue | undefined, scale: ArgValue | undefined, shape: readonly number[], dflt: [number, number]): Node {
  const b = lw.b;
  const isDefault = (a: ArgValue | undefined, d: number) => !a || (isNumber(a.value) && a.value.v === d);
  let out = z;
  if (!isDefault(scale, dflt[1])) out = b.add('mul', [f32Operand(lw, scale!, shape), out]);
  if (!isDefault(shift, dflt[0])) out = b.add('add', [f32Operand(lw, shift!, shape), out]);
  return out;
}

/** Standard normals: `random_normal`, Box–Muller in fixed point of both words of one Threefry call (bit-identical on every backend). */
function standardNormal(lw: Lowerer, key: SiteKey, shape: readonly number[]): Node {
  return lw.b.add('random_normal', drawWords(lw, key, 0, shape));
}

function integerBound(lw: Lowerer, a: ArgValue, shape: readonly number[]): Node | number {
  if (a.value.k === 'int' || a.value.k === 'float') return lw.staticInt(a.value, a.span, 'a bound of `randint`');
  const t = lw.toTensor(a.value, a.span, 'i32');
  if (t.type.dtype !== 'i32') lw.fail('DL0303', `the bounds of \`randint\` are integers, got ${formatType(t.type)}`, a.span, 'convert with `cast(x, i32)`');
  return C.broadcastTo(lw.b, t, shape);
}

export const RANDOM_BUILTINS: Builtin[] = [
  def('uniform', ['shape', 'low', 'high'], 'uniform draws in [low, high) (default [0, 1)) of `shape`, fresh each train step; see docs/random.md', (lw, a, span) => {
    const shape = shapeArg(lw, req(lw, a, 0, 'uniform', ['shape', 'low', 'high'], span));
    const u = draw(lw, siteKey(lw, span, 1), 0, shape);
    if (!a[1] && !a[2]) return tensor(u);
    // low + (high − low) · u
    const b = lw.b;
    const lo = a[1] ? f32Operand(lw, a[1], shape) : C.broadcastTo(b, C.scalarConst(b, 0, 'f32'), shape);
    const hi = a[2] ? f32Operand(lw, a[2], shape) : C.broadcastTo(b, C.scalarConst(b, 1, 'f32'), shape);
    return tensor(b.add('add', [lo, b.add('mul', [b.add('sub', [hi, lo]), u])]));
  }),
  def('normal', ['shape', 'mean', 'std'], 'normal draws N(mean, std²) (default N(0, 1)) of `shape` by Box–Muller in fixed point (bit-identical on every backend); gradients flow to `mean` and `std`, not into the draw', (lw, a, span) => {
    const shape = shapeArg(lw, req(lw, a, 0, 'normal', ['shape', 'mean', 'std'], span));
    const z = standardNormal(lw, siteKey(lw, span, 1), shape);
    return tensor(affine(lw, z, a[1], a[2], shape, [0, 1]));
  }),
  def('bernoulli', ['p', 'shape'], 'f32 draws that are 1 with probability `p` (a number, or an f32 tensor broadcast to `shape`) and 0 otherwise', (lw, a, span) => {
    const pa = req(lw, a, 0, 'bernoulli', ['p', 'shape'], span);
    const b = lw.b;
    let shape: number[];
    let p: Node;
    if (isNumber(pa.value)) {
      if (!a[1]) lw.fail('DL0203', 'missing argument `shape` in the call to `bernoulli`', span, 'with a number `p`, give the shape: `bernoulli(0.5, [B, D])`');
      shape = shapeArg(lw, a[1]!);
      p = C.broadcastTo(b, C.scalarConst(b, threshold(probability(lw, pa, 'bernoulli', true)), 'f32'), shape);
    } else {
      const t = lw.toTensor(pa.value, pa.span, 'f32');
      if (t.type.dtype !== 'f32') lw.fail('DL0303', `the probability of \`bernoulli\` is f32, got ${formatType(t.type)}`, pa.span);
      shape = a[1] ? shapeArg(lw, a[1]) : [...t.type.shape];
      p = f32Operand(lw, pa, shape);
    }
    const u = draw(lw, siteKey(lw, span, 1), 0, shape);
    return tensor(C.cast(b, b.add('lt', [u, p]), 'f32'));
  }),
  def('randint', ['shape', 'low', 'high'], 'i32 draws uniform in [low, high) of `shape` (`randint(shape, n)`: in [0, n)); the bounds are integers or i32 tensors', (lw, a, span) => {
    const params = ['shape', 'low', 'high'];
    const shape = shapeArg(lw, req(lw, a, 0, 'randint', params, span));
    const first = req(lw, a, 1, 'randint', params, span);
    const [loArg, hiArg] = a[2] ? [first, a[2]] : [undefined, first];
    const lo = loArg ? integerBound(lw, loArg, shape) : 0;
    const hi = integerBound(lw, hiArg, shape);
    const b = lw.b;
    if (typeof lo === 'number' && typeof hi === 'number') {
      if (!(hi > lo)) lw.fail('DL0316', `\`randint\` draws from [low, high), which is empty for low = ${lo}, high = ${hi}`, hiArg.span, `high is excluded: \`randint(shape, ${lo}, ${lo + 1})\` always gives ${lo}`);
      lw.checkI32(hi - lo, hiArg.span);
      lw.checkI32(lo, loArg?.span ?? span);
    }
    const node = (v: Node | number) => (typeof v === 'number' ? C.broadcastTo(b, C.scalarConst(b, v, 'i32'), shape) : v);
    const n = typeof lo === 'number' && lo === 0 ? node(hi) : b.add('sub', [node(hi), node(lo)]);
    const r = draw(lw, siteKey(lw, span, 1), 0, shape, n);
    return tensor(typeof lo === 'number' && lo === 0 ? r : b.add('add', [r, node(lo)]));
  }),
  def('permutation', ['n'], 'a uniformly random permutation of 0 … n − 1 (i32[n]): the ranks of n random 31-bit keys; O(n²) work, so n ≤ 4096', (lw, a, span) => {
    const na = req(lw, a, 0, 'permutation', ['n'], span);
    const n = lw.staticInt(na.value, na.span, 'the length of `permutation`');
    if (!(n >= 1 && n <= MAX_PERMUTATION)) {
      lw.fail('DL0316', `\`permutation\` needs 1 ≤ n ≤ ${MAX_PERMUTATION}, got ${n}`, na.span, n > MAX_PERMUTATION ? 'it compares every pair of keys (n² work); for negative sampling draw with replacement: `randint([B, K], n)` or `categorical(logits)`' : undefined);
    }
    const b = lw.b;
    const sq = [n, n];
    // Keys uniform in [0, 2³¹ − 1); element i's value is its key's rank, ties broken by index, so
    // the result is always a permutation, and a uniform one up to ties (probability < n²/2³²).
    const key = draw(lw, siteKey(lw, span, 1), 0, [n], C.broadcastTo(b, C.scalarConst(b, 2147483647, 'i32'), [n]));
    const ki = C.broadcastTo(b, C.reshape(b, key, [n, 1]), sq);
    const kj = C.broadcastTo(b, C.reshape(b, key, [1, n]), sq);
    const ii = b.add('iota', [], { dtype: 'i32', shape: sq, axis: 0 });
    const jj = b.add('iota', [], { dtype: 'i32', shape: sq, axis: 1 });
    const before = b.add('or', [b.add('lt', [kj, ki]), b.add('and', [b.add('eq', [kj, ki]), b.add('lt', [jj, ii])])]);
    // A count of at most 4096 ones is exact in f32 whatever the order of the sum.
    return tensor(C.cast(b, C.reduce(b, 'reduce_sum', C.cast(b, before, 'f32'), [1]), 'i32'));
  }),
  def('categorical', ['logits', 'axis'], 'one i32 sample per row from the distribution softmax(logits) along `axis` (default the last), by the Gumbel-max trick', (lw, a, span) => {
    const la = req(lw, a, 0, 'categorical', ['logits', 'axis'], span);
    const logits = lw.toTensor(la.value, la.span, 'f32');
    if (logits.type.dtype !== 'f32' || logits.type.shape.length === 0) lw.fail('DL0303', `\`categorical\` needs f32 logits with at least one axis, got ${formatType(logits.type)}`, la.span);
    const r = logits.type.shape.length;
    const axis = normAxis(a[1] ? lw.staticInt(a[1].value, a[1].span, 'the axis') : -1, r);
    if (axis === undefined) lw.fail('DL0307', `the axis is out of range for ${formatType(logits.type)}`, a[1]!.span);
    const b = lw.b;
    const shape = logits.type.shape;
    const u = draw(lw, siteKey(lw, span, 1), 0, shape);
    // Gumbel noise −log(−log U) with U in [2⁻²⁵, 1): finite everywhere.
    const floor = C.broadcastTo(b, C.scalarConst(b, 2 ** -25, 'f32'), shape);
    const g = b.add('neg', [b.add('log', [b.add('neg', [b.add('log', [b.add('max', [u, floor])])])])]);
    return tensor(C.argReduce(b, 'argmax', b.add('add', [logits, g]), axis!));
  }),
  def('dropout', ['x', 'p', 'training'], 'zeroes each element of `x` with probability `p` and scales the kept ones by 1/(1 − p) (inverted dropout) in a train step, and is the identity elsewhere (evaluation); `training = true` drops in every mode; gradients flow through the kept elements', (lw, a, span) => {
    const xa = req(lw, a, 0, 'dropout', ['x', 'p', 'training'], span);
    const x = lw.toTensor(xa.value, xa.span, 'f32');
    if (x.type.dtype !== 'f32') lw.fail('DL0303', `\`dropout\` needs an f32 tensor, got ${formatType(x.type)}`, xa.span);
    const p = probability(lw, req(lw, a, 1, 'dropout', ['x', 'p', 'training'], span), 'dropout', false);
    const training = a[2] ? lw.staticBool(a[2].value, a[2].span, 'the mode of `dropout`') : lw.training;
    // Evaluation (anything but a train step's loss) keeps every element: inverted dropout needs no rescaling.
    if (p === 0 || !training) return tensor(x);
    const b = lw.b;
    const shape = x.type.shape;
    const u = draw(lw, siteKey(lw, span, 1), 0, shape);
    const keep = b.add('ge', [u, C.broadcastTo(b, C.scalarConst(b, threshold(p), 'f32'), shape)]);
    // The scale rounded to f32 first: x · s is then one correctly rounded product on every backend.
    const scale = C.broadcastTo(b, C.scalarConst(b, Math.fround(1 / (1 - p)), 'f32'), shape);
    return tensor(b.add('select', [keep, b.add('mul', [x, scale]), C.broadcastTo(b, C.scalarConst(b, 0, 'f32'), shape)]));
  }),
];
