/**
 * @file The numerical gradient check, in float64 on the reference interpreter. For each variable
 * t and a random direction v it compares the reverse-mode directional derivative ⟨∇ₜL, v⟩ with
 * the central difference (L(t + εv) − L(t − εv)) / 2ε: the dot-product test, two evaluations
 * per variable whatever its size.
 */
import { buildGraph, GraphBuilder } from '../ir/builder.js';
import * as C from '../ir/compose.js';
import type { Graph, Node } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { numel, type DType } from '../ir/types.js';
import { interpret, type ParamStore } from '../interp/interpret.js';
import type { Domain } from '../ir/op.js';
import { RandomStream } from '../runtime/random.js';
import { vjp } from '../passes/autodiff.js';

export interface Variable {
  readonly kind: 'input' | 'param';
  readonly name: string;
}

export function variableOf(n: Node): Variable {
  return { kind: n.op === 'param' ? 'param' : 'input', name: String(n.attrs['name']) };
}

/** The float inputs and parameters of a graph. */
export function floatVariables(g: Graph): Node[] {
  return [...g.inputs, ...g.params].filter((n) => n.type.dtype === 'f32');
}

/** The output name of a variable's gradient in a gradient graph. */
export function gradName(n: Node): string {
  return `grad_${n.op}_${String(n.attrs["name"])}`;
}

/**
 * A graph computing the (scalar) first output of `g` and its gradient with respect to `wrt`
 * (input or param nodes of g). Outputs: `value`, then one per variable.
 */
export function gradientGraph(g: Graph, wrt: readonly Node[]): Graph {
  const b = new GraphBuilder();
  const map = b.import(g);
  const y = map.get(g.outputs[0]!.node)!;
  const vars = wrt.map((w) => map.get(w)!);
  const gs = vjp(b, y, vars, C.scalarConst(b, 1, 'f32'));
  const outputs = [{ name: 'value', node: y }, ...gs.map((gr, i) => ({ name: gradName(wrt[i]!), node: gr ?? C.fullLike(b, 0, vars[i]!) }))];
  return buildGraph(`${g.name}.grad`, g.inputs.map((i) => map.get(i)!), outputs);
}

/** Random values of a type, from a named stream: N(0, 1) unless a domain says otherwise. */
/** Square matrices over the last two axes of `shape` for the matrix domains (see `Domain`), from normal draws z and uniform draws u. */
function matrices(shape: readonly number[], z: Float64Array, u: Float64Array, domain: 'spd' | 'invertible' | 'eig'): Float64Array {
  const n = shape[shape.length - 1] ?? 1;
  if (shape.length < 2 || shape[shape.length - 2] !== n) return z;
  const out = new Float64Array(z.length);
  for (let o = 0; o < z.length; o += n * n) {
    const m = (i: number, j: number) => z[o + i * n + j]!;
    if (domain === 'invertible') {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[o + i * n + j] = (0.3 * m(i, j)) / Math.sqrt(n) + (i === j ? (u[o + i]! < 0.5 ? -1 : 1) : 0);
    } else if (domain === 'spd') {
      // M·Mᵀ/n + I/2: eigenvalues in about [0.5, 4.5].
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += m(i, k) * m(j, k);
          out[o + i * n + j] = s / n + (i === j ? 0.5 : 0);
        }
    } else {
      // Q·diag(λ)·Qᵀ with Q orthogonal (Gram–Schmidt of the draws) and λ_k = k − n/2 + 0.3·u_k.
      const q = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => m(i, j)));
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < i; k++) {
          const d = q[i]!.reduce((s, v, j) => s + v * q[k]![j]!, 0);
          for (let j = 0; j < n; j++) q[i]![j]! -= d * q[k]![j]!;
        }
        const norm = Math.hypot(...q[i]!) || 1;
        for (let j = 0; j < n; j++) q[i]![j]! /= norm;
      }
      const lam = Array.from({ length: n }, (_, k) => k - n / 2 + 0.3 * u[o + k]!);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[o + i * n + j] = lam.reduce((s, l, k) => s + l * q[k]![i]! * q[k]![j]!, 0);
    }
  }
  return out;
}

export function randomArray(dtype: DType, shape: readonly number[], seed: number, name: string, domain: Domain = 'any'): NDArray {
  const rng = RandomStream.forName(seed, name);
  const n = numel(shape);
  let data: Float64Array;
  if (dtype === 'bool' || domain === 'bool') data = rng.uniform(n).map((u) => (u < 0.5 ? 0 : 1));
  else if (dtype === 'i32' || typeof domain === 'object') {
    const hi = typeof domain === 'object' ? domain.int : 2;
    data = rng.uniform(n).map((u) => Math.min(hi - 1, Math.floor(u * hi)));
  } else {
    const z = rng.normal(n);
    if (domain === 'positive') data = z.map((v) => Math.abs(v) + 0.5);
    else if (domain === 'nonzero') data = z.map((v) => (v < 0 ? v - 0.3 : v + 0.3));
    else if (domain === 'unit') data = rng.uniform(n).map((u) => 1.8 * u - 0.9);
    else if (domain === 'spd' || domain === 'invertible' || domain === 'eig') data = matrices(shape, z, rng.uniform(n), domain);
    else data = z;
  }
  return new NDArray([...shape], data);
}

export interface DirectionalResult {
  readonly variable: Variable;
  /** The function's value at the point (a NaN or infinite value explains a failure). */
  readonly value: number;
  /** ⟨∇L, v⟩ from reverse mode. */
  readonly ad: number;
  /** The central difference. */
  readonly fd: number;
  readonly absErr: number;
  readonly relErr: number;
  /**
   * |value of the gradient program − value of the program the differences ran on| (0 when they
   * are one program); it fails the check past the same tolerance.
   */
  readonly valueErr: number;
  readonly ok: boolean;
}

export interface CheckOptions {
  readonly eps?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

/** A point: the inputs and parameters a function is evaluated at. */
export interface Point {
  readonly inputs: ReadonlyMap<string, NDArray>;
  readonly params: ParamStore;
}

/** One dot-product test: a variable, its direction v, and the two shifted points x ± εv. */
export interface Probe {
  readonly variable: Variable;
  readonly gradOutput: string;
  readonly v: NDArray;
  readonly plus: Point;
  readonly minus: Point;
}

function dot(a: NDArray, b: NDArray): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

function axpy(x: NDArray, a: number, v: NDArray): NDArray {
  return new NDArray(x.shape, x.data.map((xi, i) => xi + a * v.data[i]!));
}

function shiftedPoint(p: Point, variable: Variable, a: number, v: NDArray): Point {
  if (variable.kind === 'input') {
    const inputs = new Map(p.inputs);
    inputs.set(variable.name, axpy(p.inputs.get(variable.name)!, a, v));
    return { inputs, params: p.params };
  }
  const params = new Map(p.params);
  params.set(variable.name, axpy(p.params.get(variable.name)!, a, v));
  return { inputs: p.inputs, params };
}

/** The probes of the variables `wrt` at a point, with directions drawn from `seed`. */
export function probes(wrt: readonly Node[], point: Point, seed: number, eps: number): Probe[] {
  return wrt.map((w) => {
    const variable = variableOf(w);
    const v = randomArray('f32', w.type.shape, seed, `direction:${variable.kind}:${variable.name}`);
    return { variable, gradOutput: gradName(w), v, plus: shiftedPoint(point, variable, eps, v), minus: shiftedPoint(point, variable, -eps, v) };
  });
}

/**
 * Scores one probe: `grad` holds the gradient program's outputs at the point, `at` the
 * function's value there on the program the differences ran on, `fPlus`/`fMinus` its values at
 * the shifted points.
 */
export function score(probe: Probe, grad: ReadonlyMap<string, NDArray>, at: number, fPlus: number, fMinus: number, opts: CheckOptions = {}): DirectionalResult {
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-7;
  const value = grad.get('value')!.data[0]!;
  const ad = dot(grad.get(probe.gradOutput)!, probe.v);
  const fd = (fPlus - fMinus) / (2 * eps);
  const absErr = Math.abs(ad - fd);
  const scale = Math.max(Math.abs(ad), Math.abs(fd));
  const relErr = scale > 0 ? absErr / scale : 0;
  const valueErr = Object.is(value, at) ? 0 : Math.abs(value - at);
  // A value that is not finite checks nothing: it fails, and the report says where.
  const ok = Number.isFinite(ad) && Number.isFinite(fd) && absErr <= atol + rtol * scale && valueErr <= atol + rtol * Math.abs(at);
  return { variable: probe.variable, value, ad, fd, absErr, relErr, valueErr, ok };
}

/**
 * Dot-product tests for each variable in `wrt` at one point (inputs, params), with directions
 * drawn from `seed`, on the interpreter: `grad` is `gradientGraph(g, wrt)` (built once and
 * reused across points). `gradcheck` runs the same tests on compiled programs.
 */
export function directionalCheck(
  g: Graph,
  grad: Graph,
  wrt: readonly Node[],
  inputs: ReadonlyMap<string, NDArray>,
  params: ParamStore,
  seed: number,
  opts: CheckOptions = {},
): DirectionalResult[] {
  const out = interpret(grad, inputs, params);
  const value = (p: Point) => interpret(g, p.inputs, p.params).get(g.outputs[0]!.name)!.data[0]!;
  const at = out.get('value')!.data[0]!;
  return probes(wrt, { inputs, params }, seed, opts.eps ?? 1e-6).map((p) => score(p, out, at, value(p.plus), value(p.minus), opts));
}
