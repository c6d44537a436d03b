/**
 * @file The pass pipeline after lowering. Each pass maps a graph to a graph; with `verify`, the
 * verifier runs after every pass (tests always turn it on).
 */
import type { Graph } from '../ir/graph.js';
import { verifyGraph } from '../ir/verify.js';
import { simplify } from './simplify.js';

export interface Pass {
  readonly name: string;
  readonly doc: string;
  run(g: Graph): Graph;
}

export const PASSES: readonly Pass[] = [
  { name: 'simplify', doc: 'CSE, constant folding, algebraic identities, dead-code elimination', run: (g) => simplify(g).graph },
];

export const PASS_NAMES = ['lower', ...PASSES.map((p) => p.name)];

export interface PipelineResult {
  readonly graph: Graph;
  /** Node count after lowering and after each pass that ran. */
  readonly counts: { pass: string; nodes: number }[];
}

/** Runs the passes in order, stopping after `until` (a pass name or 'lower'). */
export function runPipeline(g: Graph, opts: { until?: string; verify?: boolean } = {}): PipelineResult {
  const counts = [{ pass: 'lower', nodes: g.nodes.length }];
  const check = (x: Graph, after: string) => {
    if (!opts.verify) return;
    const problems = verifyGraph(x);
    if (problems.length) throw new Error(`internal: the IR is invalid after ${after}:\n${problems.join('\n')}`);
  };
  check(g, 'lower');
  let cur = g;
  if (opts.until === 'lower') return { graph: cur, counts };
  for (const p of PASSES) {
    cur = p.run(cur);
    check(cur, p.name);
    counts.push({ pass: p.name, nodes: cur.nodes.length });
    if (opts.until === p.name) break;
  }
  return { graph: cur, counts };
}
