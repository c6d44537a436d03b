/**
 * @file The programs `gradcheck` checks: what ships, after the whole pipeline. The gradient
 * program is the gradient graph simplified and, on a compiled backend, fused and generated for
 * that backend; finite differences run in float64 wherever the backend allows it — the simplified
 * forward graph on the interpreter, the fused forward program on the JS backend in f64 — and, for
 * the float32 backends (WebGPU, JS f32), on the fused JS f64 forward program.
 */
import type { Precision } from '../kernel/memory.js';
import type { Graph, Node } from '../ir/graph.js';
import type { NDArray } from '../ir/ndarray.js';
import { interpret } from '../interp/interpret.js';
import { makeExecutable, type ExecBackend } from '../exec.js';
import { runPipeline } from '../passes/pipeline.js';
import { gradientGraph, type CheckOptions, type Point } from './check.js';

/** Runs one program at a point (inputs and parameters). */
export interface Runner {
  run(p: Point): Promise<Map<string, NDArray>>;
}

export interface Target {
  readonly backend: ExecBackend;
  /** The compiled program's precision (JS only: f64 by default; WebGPU is f32). */
  readonly precision?: Precision;
}

export interface CheckedPrograms {
  /** The gradient program: outputs `value` and one gradient per variable. */
  readonly grad: Runner;
  /** The forward program the finite differences run on (float64). */
  readonly forward: Runner;
  readonly forwardOutput: string;
  /** Default tolerances for the gradient program's precision. */
  readonly tolerance: CheckOptions;
}

/** The precision of a target's compiled program. */
export function precisionOf(t: Target): Precision {
  return t.backend === 'webgpu' ? 'f32' : t.backend === 'js' ? (t.precision ?? 'f64') : 'f64';
}

/** In words, what a target checks (for reports and docs). */
export function describeTarget(t: Target): string {
  if (t.backend === 'interp') return 'the simplified graph on the interpreter (float64); finite differences on the same graph';
  if (precisionOf(t) === 'f64') return 'the fused JS program in float64; finite differences on the fused JS forward program in float64';
  const what = t.backend === 'webgpu' ? 'the fused WebGPU program (float32)' : 'the fused JS program in float32';
  return `${what}; finite differences in float64 on the fused JS forward program`;
}

async function runner(g: Graph, t: Target): Promise<Runner> {
  if (t.backend === 'interp') return { run: async (p) => interpret(g, p.inputs, p.params) };
  const exe = await makeExecutable(g, { backend: t.backend, precision: precisionOf(t) });
  const params = g.params.map((n) => String(n.attrs['name']));
  return {
    run: async (p) => {
      for (const name of params) exe.setParam(name, p.params.get(name)!.data);
      return exe.run(p.inputs);
    },
  };
}

/** Builds the gradient and forward programs of a lowered scalar function for a target. */
export async function checkedPrograms(lowered: Graph, wrt: readonly Node[], t: Target): Promise<CheckedPrograms> {
  const forward = runPipeline(lowered).graph;
  const grad = runPipeline(gradientGraph(lowered, wrt)).graph;
  const f32 = precisionOf(t) === 'f32';
  return {
    grad: await runner(grad, t),
    forward: await runner(forward, t.backend === 'interp' ? t : { backend: 'js', precision: 'f64' }),
    forwardOutput: forward.outputs[0]!.name,
    tolerance: f32 ? { rtol: 1e-3, atol: 1e-4 } : {},
  };
}
