/**
 * @file GraphBuilder: the only way nodes are made (by the frontend, and by later rewrites).
 * Each `add` runs the op's shape rule, so every node is typed the moment it exists.
 */
import type { Span } from '../diagnostics/source.js';
import type { Graph, GraphOutput, GraphUpdate, Node } from './graph.js';
import { OpError, type Attrs } from './op.js';
import { formatShape, numel } from './types.js';
import { getOp } from './ops/index.js';

/** The most nodes one program may have after inlining and unrolling. */
export const MAX_NODES = 400_000;

/** The most elements one tensor may have (indices are 32-bit in generated code). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  /** Stamped on every node created; the frontend sets it to the expression being lowered. */
  span: Span | undefined;

  constructor(readonly maxNodes = MAX_NODES) {}

  /** Every node made so far, in creation order. */
  nodeList(): readonly Node[] {
    return this.nodes;
  }

  get size(): number {
    return this.nodes.length;
  }

  add(op: string, inputs: readonly Node[], attrs: Attrs = {}, body?: Graph): Node {
    const def = getOp(op);
    if (Boolean(def.body) !== Boolean(body)) throw new Error(`internal: ${op} ${def.body ? 'needs' : 'takes no'} body graph`);
    if (def.arity === 'variadic' ? inputs.length === 0 : inputs.length !== def.arity) {
      throw new Error(`internal: ${op} takes ${def.arity} inputs, got ${inputs.length}`);
    }
    if (this.nodes.length >= this.maxNodes) {
      throw new OpError(
        'DL0312',
        () => `the program has more than ${this.maxNodes} operations after inlining and unrolling loops`,
        'shorten the loops, or keep repeated work in fewer, larger tensor operations',
      );
    }
    const type = def.infer(
      inputs.map((i) => i.type),
      attrs,
      body,
    );
    // Every size must be a whole number, and every tensor addressable with 32-bit indices.
    if (type.shape.some((d) => !Number.isInteger(d) || d < 0) || numel(type.shape) > MAX_TENSOR_ELEMENTS) {
      throw new OpError(
        'DL0311',
        (w) => `a tensor of shape ${formatShape(type.shape)} is not possible${w}: ${type.shape.some((d) => d < 0) ? 'sizes cannot be negative' : type.shape.some((d) => !Number.isInteger(d)) ? 'sizes must be whole numbers' : `it would have more than ${MAX_TENSOR_ELEMENTS} elements`}`,
      );
    }
    const node: Node = { id: this.nodes.length, op, inputs, attrs, type, span: this.span, ...(body ? { body } : {}) };
    this.nodes.push(node);
    return node;
  }

  /**
   * Re-creates every node of `g` in this builder; returns the old → new node map. Nodes already in
   * `map` (replacements given by the caller) are not re-created.
   */
  import(g: Graph, map = new Map<Node, Node>()): Map<Node, Node> {
    const saved = this.span;
    for (const n of g.nodes) {
      if (map.has(n)) continue;
      this.span = n.span;
      map.set(
        n,
        this.add(
          n.op,
          n.inputs.map((i) => map.get(i)!),
          n.attrs,
          n.body,
        ),
      );
    }
    this.span = saved;
    return map;
  }

  /**
   * Builds the graph: keeps the inputs and every node the outputs depend on, in creation order,
   * renumbered from 0. Parameters are listed in the order they are first used.
   */
  finish(name: string, inputs: readonly Node[], outputs: readonly GraphOutput[], updates: readonly GraphUpdate[] = []): Graph {
    return buildGraph(name, inputs, outputs, updates);
  }
}

/** Collects the nodes reachable from `outputs` and `updates` (plus `inputs`), renumbered in topological order. */
export function buildGraph(name: string, inputs: readonly Node[], outputs: readonly GraphOutput[], updates: readonly GraphUpdate[] = []): Graph {
  const live = new Set<Node>(inputs);
  const stack = [...outputs.map((o) => o.node), ...updates.map((u) => u.node)];
  while (stack.length) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    for (const i of n.inputs) stack.push(i);
  }
  // Topological order: sort by original id (ids grow with creation, and inputs precede users).
  const order = [...live].sort((a, b) => a.id - b.id);
  const renamed = new Map<Node, Node>();
  const nodes: Node[] = [];
  for (const n of order) {
    const m: Node = { ...n, id: nodes.length, inputs: n.inputs.map((i) => renamed.get(i)!) };
    renamed.set(n, m);
    nodes.push(m);
  }
  return {
    name,
    nodes,
    inputs: inputs.map((i) => renamed.get(i)!),
    params: nodes.filter((n) => n.op === 'param'),
    outputs: outputs.map((o) => ({ name: o.name, node: renamed.get(o.node)! })),
    updates: updates.map((u) => ({ name: u.name, node: renamed.get(u.node)! })),
  };
}
