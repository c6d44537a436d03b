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
  readonly ok: boolean;
}

export interface CheckOptions {
  readonly eps?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

function dot(a: NDArray, b: NDArray): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

function axpy(x: NDArray, a: number, v: NDArray): NDArray {
  return new NDArray(x.shape, x.data.map((xi, i) => xi + a * v.data[i]!));
}

/**
 * Dot-product tests for each variable in `wrt` at one point (inputs, params), with directions
 * drawn from `seed`. `grad` is `gradientGraph(g, wrt)` (built once and reused across points).
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
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-7;
  const out = interpret(grad, inputs, params);
  const at = out.get('value')!.data[0]!;
  const value = (ins: ReadonlyMap<string, NDArray>, ps: ParamStore) => interpret(g, ins, ps).get(g.outputs[0]!.name)!.data[0]!;
  return wrt.map((w, i) => {
    const variable = variableOf(w);
    const v = randomArray('f32', w.type.shape, seed, `direction:${variable.kind}:${variable.name}`);
    const ad = dot(out.get(gradName(wrt[i]!))!, v);
    const shifted = (a: number): number => {
      if (variable.kind === 'input') {
        const ins = new Map(inputs);
        ins.set(variable.name, axpy(inputs.get(variable.name)!, a, v));
        return value(ins, params);
      }
      const ps = new Map(params);
      ps.set(variable.name, axpy(params.get(variable.name)!, a, v));
      return value(inputs, ps);
    };
    const fd = (shifted(eps) - shifted(-eps)) / (2 * eps);
    const absErr = Math.abs(ad - fd);
    const scale = Math.max(Math.abs(ad), Math.abs(fd));
    const relErr = scale > 0 ? absErr / scale : 0;
    // A value that is not finite checks nothing: it fails, and the report says where.
    const ok = Number.isFinite(ad) && Number.isFinite(fd) && absErr <= atol + rtol * scale;
    return { variable, value: at, ad, fd, absErr, relErr, ok };
  });
}
