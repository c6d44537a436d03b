/**
 * @file The reference interpreter: evaluates a graph node by node in float64 with each op's
 * `evaluate`. It is the oracle every backend is tested against, so it is plain, not fast.
 */
import type { Graph } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { getOp } from '../ir/ops/index.js';
import { formatShape, numel, sameShape } from '../ir/types.js';
import { initialize, type InitSpec } from '../runtime/init.js';
import { toDType } from '../ir/ops/elementwise.js';

/** Values larger than this many elements are refused rather than exhausting memory. */
export const MAX_ELEMENTS = 1 << 27;

export type ParamStore = Map<string, NDArray>;

/** Initial values for every parameter of a graph (deterministic in the seed). */
export function initParams(g: Graph, seed = 0, store: ParamStore = new Map()): ParamStore {
  for (const p of g.params) {
    const name = String(p.attrs['name']);
    if (store.has(name)) continue;
    const data = initialize(p.attrs['init'] as unknown as InitSpec, p.type.shape, seed, name);
    // An integer or bool parameter holds what its dtype can (the backends store it the same way).
    store.set(name, new NDArray([...p.type.shape], data.map((v) => toDType(v, p.type.dtype))));
  }
  return store;
}

export class EvalError extends Error {}

/**
 * Evaluates a graph on named inputs and parameter values; returns its outputs. A graph with
 * state updates (a training step) writes them into `params` after computing everything.
 */
export function interpret(g: Graph, inputs: ReadonlyMap<string, NDArray>, params: ParamStore): Map<string, NDArray> {
  const values: NDArray[] = new Array(g.nodes.length);
  const env = {
    input(name: string): NDArray {
      const v = inputs.get(name);
      if (!v) throw new EvalError(`missing input \`${name}\``);
      return v;
    },
    param(name: string): NDArray {
      const v = params.get(name);
      if (!v) throw new EvalError(`missing parameter \`${name}\``);
      return v;
    },
  };
  for (const n of g.nodes) {
    if (numel(n.type.shape) > MAX_ELEMENTS) {
      throw new EvalError(`a value of shape ${formatShape(n.type.shape)} is too large to evaluate`);
    }
    const v = getOp(n.op).evaluate(
      n.inputs.map((i) => values[i.id]!),
      n.attrs,
      n.type,
      env,
      n.body,
    );
    if (!sameShape(v.shape, n.type.shape)) {
      throw new EvalError(`${n.op} produced shape ${formatShape(v.shape)}, expected ${formatShape(n.type.shape)}`);
    }
    values[n.id] = v;
  }
  // State writes: every value was computed from the states as they were before the call.
  for (const u of g.updates) params.set(u.name, values[u.node.id]!);
  return new Map(g.outputs.map((o) => [o.name, values[o.node.id]!]));
}
