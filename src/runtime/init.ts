/**
 * @file Parameter initializers, each defined once: its documented distribution and how to draw
 * it. Deterministic: a parameter's values depend only on the seed, its name and its shape.
 *
 * Fans (the layout is `x @ W`, so a dense weight is [in, out]): rank 1 → fan_in = fan_out = n;
 * rank 2 [in, out]; rank ≥ 3 (a convolution [out, in, k…]) → fan_in = in·∏k, fan_out = out·∏k.
 */
import { RandomStream } from './random.js';

export interface InitSpec {
  readonly kind: string;
  readonly args: { readonly [k: string]: number };
}

export interface InitDef {
  readonly name: string;
  readonly doc: string;
  /** Argument names with defaults (all numbers). */
  readonly params: { readonly [k: string]: number | undefined };
  draw(shape: readonly number[], args: { readonly [k: string]: number }, rng: RandomStream): Float64Array;
}

export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function normalWith(std: (s: readonly number[]) => number): InitDef['draw'] {
  return (shape, _a, rng) => {
    const sd = std(shape);
    return rng.normal(count(shape)).map((z) => z * sd);
  };
}

function uniformWith(bound: (s: readonly number[]) => number): InitDef['draw'] {
  return (shape, _a, rng) => {
    const b = bound(shape);
    return rng.uniform(count(shape)).map((u) => (2 * u - 1) * b);
  };
}

const fanIn = (s: readonly number[]) => Math.max(1, fans(s).fanIn);
const fanSum = (s: readonly number[]) => Math.max(1, fans(s).fanIn + fans(s).fanOut);

/** Q from the QR decomposition of a rows×cols (rows ≥ cols) matrix, column signs fixed by R. */
function orthonormalColumns(a: Float64Array, rows: number, cols: number): Float64Array {
  const q = Float64Array.from(a);
  for (let j = 0; j < cols; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dotp = 0;
        for (let i = 0; i < rows; i++) dotp += q[i * cols + k]! * q[i * cols + j]!;
        for (let i = 0; i < rows; i++) q[i * cols + j]! -= dotp * q[i * cols + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += q[i * cols + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    // Sign convention: make the diagonal of R positive (R_jj = <a_j, q_j> before normalizing).
    let rjj = 0;
    for (let i = 0; i < rows; i++) rjj += a[i * cols + j]! * q[i * cols + j]!;
    const sgn = rjj < 0 ? -1 : 1;
    for (let i = 0; i < rows; i++) q[i * cols + j] = (sgn * q[i * cols + j]!) / norm;
  }
  return q;
}

export const INITIALIZERS: readonly InitDef[] = [
  { name: 'zeros', doc: 'all 0', params: {}, draw: (s) => new Float64Array(count(s)) },
  { name: 'ones', doc: 'all 1', params: {}, draw: (s) => new Float64Array(count(s)).fill(1) },
  { name: 'constant', doc: 'all `value`', params: { value: undefined }, draw: (s, a) => new Float64Array(count(s)).fill(a['value']!) },
  {
    name: 'normal',
    doc: 'N(mean, std²), default N(0, 1)',
    params: { mean: 0, std: 1 },
    draw: (s, a, rng) => rng.normal(count(s)).map((z) => a['mean']! + a['std']! * z),
  },
  {
    name: 'uniform',
    doc: 'U[low, high), default U[−1, 1)',
    params: { low: -1, high: 1 },
    draw: (s, a, rng) => rng.uniform(count(s)).map((u) => a['low']! + (a['high']! - a['low']!) * u),
  },
  // The random functions' key (the `rng/seed` state, i32): the run's seed itself.
  { name: 'seed', doc: "the run's seed (`--seed`) as an i32; the state `rng/seed` that keys the random functions", params: {}, draw: (s, _a, rng) => new Float64Array(count(s)).fill(rng.k0 | 0) },
  { name: 'lecun_normal', doc: 'N(0, 1/fan_in)', params: {}, draw: normalWith((s) => Math.sqrt(1 / fanIn(s))) },
  { name: 'lecun_uniform', doc: 'U[±√(3/fan_in)] (variance 1/fan_in)', params: {}, draw: uniformWith((s) => Math.sqrt(3 / fanIn(s))) },
  { name: 'glorot_normal', doc: 'N(0, 2/(fan_in + fan_out)); alias xavier_normal', params: {}, draw: normalWith((s) => Math.sqrt(2 / fanSum(s))) },
  {
    name: 'glorot_uniform',
    doc: 'U[±√(6/(fan_in + fan_out))] (variance 2/(fan_in + fan_out)); alias xavier_uniform',
    params: {},
    draw: uniformWith((s) => Math.sqrt(6 / fanSum(s))),
  },
  { name: 'he_normal', doc: 'N(0, 2/fan_in); alias kaiming_normal', params: {}, draw: normalWith((s) => Math.sqrt(2 / fanIn(s))) },
  { name: 'he_uniform', doc: 'U[±√(6/fan_in)] (variance 2/fan_in); alias kaiming_uniform', params: {}, draw: uniformWith((s) => Math.sqrt(6 / fanIn(s))) },
  {
    name: 'orthogonal',
    doc: 'a random (Haar) orthogonal matrix times `gain`: WᵀW = gain²·I (or WWᵀ when wide); higher ranks are flattened to [shape[0], rest]',
    params: { gain: 1 },
    draw(s, a, rng) {
      const rows = s[0] ?? 1;
      const cols = count(s.slice(1));
      const tall = rows >= cols;
      const [r, c] = tall ? [rows, cols] : [cols, rows];
      const q = orthonormalColumns(rng.normal(r * c), r, c);
      const out = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = a['gain']! * (tall ? q[i * c + j]! : q[j * c + i]!);
      return out;
    },
  },
];

export const INIT_ALIASES: { readonly [k: string]: string } = {
  xavier_normal: 'glorot_normal',
  xavier_uniform: 'glorot_uniform',
  kaiming_normal: 'he_normal',
  kaiming_uniform: 'he_uniform',
};

export function findInitializer(name: string): InitDef | undefined {
  const canonical = INIT_ALIASES[name] ?? name;
  return INITIALIZERS.find((d) => d.name === canonical);
}

/** Draws a parameter's initial values. */
export function initialize(spec: InitSpec, shape: readonly number[], seed: number, name: string): Float64Array {
  const def = findInitializer(spec.kind);
  if (!def) throw new Error(`unknown initializer ${spec.kind}`);
  const args: Record<string, number> = {};
  for (const [k, d] of Object.entries(def.params)) args[k] = spec.args[k] ?? d ?? 0;
  return def.draw(shape, args, RandomStream.forName(seed, name));
}
