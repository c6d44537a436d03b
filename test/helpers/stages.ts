/**
 * Running one .dl function on every stage of the pipeline: the interpreter on the lowered graph
 * (float64), then the simplified graph on JS f64, JS f32 and WebGPU (when there is an adapter), for
 * tests that check closed forms and identities on each.
 */
import { compile } from '../../src/index.js';
import { makeExecutable, type ExecOptions } from '../../src/exec.js';
import { interpret } from '../../src/interp/interpret.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { WEBGPU } from './webgpu.js';

export interface Stage {
  readonly name: string;
  readonly opts?: ExecOptions;
  /** The test's tolerance on this stage (float64 or f32). */
  readonly tol: number;
}

/** Every stage, with the tolerance of float64 stages and of f32 ones. */
export function stages(f64: number, f32: number): Stage[] {
  return [
    { name: 'interp', tol: f64 },
    { name: 'js-f64', opts: { backend: 'js', precision: 'f64' }, tol: f64 },
    { name: 'js-f32', opts: { backend: 'js', precision: 'f32' }, tol: f32 },
    ...(WEBGPU ? [{ name: 'webgpu', opts: { backend: 'webgpu' as const }, tol: f32 }] : []),
  ];
}

/**
 * The outputs of `entry` of `src` on each stage, in the function's output order. `params` are the
 * model's parameters (by name) when it has any; `dims` fix dimension variables of its arguments.
 */
export async function onEveryStage(
  all: readonly Stage[],
  src: string,
  entry: string,
  inputs: Record<string, NDArray>,
  path: string,
  opts: { params?: ReadonlyMap<string, NDArray>; dims?: Record<string, number> } = {},
): Promise<{ stage: Stage; out: NDArray[] }[]> {
  const g = compile(src, entry, { path, ...(opts.dims ? { dims: opts.dims } : {}) });
  const params = new Map(opts.params ?? []);
  const ins = new Map(Object.entries(inputs));
  const names = g.outputs.map((o) => o.name);
  const simplified = runPipeline(g, { verify: true }).graph;
  const res: { stage: Stage; out: NDArray[] }[] = [];
  for (const stage of all) {
    let got: Map<string, NDArray>;
    if (stage.opts) {
      const exe = await makeExecutable(simplified, stage.opts);
      for (const [name, v] of params) exe.setParam(name, v.data);
      got = await exe.run(ins);
    } else got = interpret(g, ins, params);
    res.push({ stage, out: names.map((n) => got.get(n)!) });
  }
  return res;
}
