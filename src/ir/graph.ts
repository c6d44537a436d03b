/**
 * @file The IR: an SSA graph of tensor values. A node is one primitive applied to earlier nodes;
 * every node has a static type and the source span it came from. Nodes are kept in topological
 * (creation) order. A graph's interface is its inputs, its parameters and its named outputs.
 */
import type { Span } from '../diagnostics/source.js';
import type { Attrs } from './op.js';
import type { TensorType } from './types.js';

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly Node[];
  readonly attrs: Attrs;
  readonly type: TensorType;
  /** The user's source this value came from (for generated code: the forward expression). */
  readonly span: Span | undefined;
  /** The body of a loop (`scan`): a graph of its own, run once per step (src/ir/ops/scan.ts). */
  readonly body?: Graph;
}

export interface GraphOutput {
  readonly name: string;
  readonly node: Node;
}

/**
 * A persistent-state write: after a call, the parameter (or optimizer state) `name` holds the
 * value of `node`, computed from the values every state had before the call. A training step's
 * parameter, moment and step-counter updates are these; the kernel program writes each one into
 * its state buffer in place where that is safe (src/kernel/in-place.ts).
 */
export interface GraphUpdate {
  readonly name: string;
  readonly node: Node;
}

export interface Graph {
  readonly name: string;
  /** All nodes in topological order; ids are 0..n-1 in this order. */
  readonly nodes: readonly Node[];
  /** The `input` nodes, in signature order. */
  readonly inputs: readonly Node[];
  /** The `param` nodes, in first-use order. */
  readonly params: readonly Node[];
  readonly outputs: readonly GraphOutput[];
  /** State writes (empty for a pure function); each names one of `params`. */
  readonly updates: readonly GraphUpdate[];
}

/** Optimizer state and step counters (`digits/hidden.W/m`, `digits/step`): persistent, but not model parameters. */
export function isOptimizerState(name: string): boolean {
  return name.includes('/');
}

export function inputName(n: Node): string {
  return String(n.attrs['name']);
}

/** Number of uses of each node id by other nodes and by the outputs. */
export function useCounts(g: Graph): number[] {
  const uses = new Array<number>(g.nodes.length).fill(0);
  for (const n of g.nodes) for (const i of n.inputs) uses[i.id]!++;
  for (const o of g.outputs) uses[o.node.id]!++;
  for (const u of g.updates) uses[u.node.id]!++;
  return uses;
}
