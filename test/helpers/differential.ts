/**
 * Differential execution: one `.dl` function through every pipeline stage and backend, each
 * compared with the reference interpreter on the graph as lowered (float64). Stages:
 *
 * - `simplify/interp`: the simplified graph on the interpreter (float64, to 1e-9);
 * - `fused/js-f64`, `unfused/js-f64`: the compiled program, fused or one kernel per primitive,
 *   on the JS backend in float64 (to 1e-9);
 * - `fused/js-f32`, `fused/webgpu`: the shipped float32 programs (to 2e-3 of the output's scale).
 *
 * Integer and bool outputs must be equal. Inputs are rounded to float32 first, so every stage
 * sees the same numbers. Used by test/differential/* and by `npm run fuzz`.
 */
import { compile, CompileError, type Graph } from '../../src/index.js';
import { makeExecutable, type ExecOptions } from '../../src/exec.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { interpret } from '../../src/interp/interpret.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { runPipeline } from '../../src/passes/pipeline.js';

export const STAGES = ['simplify/interp', 'fused/js-f64', 'unfused/js-f64', 'fused/js-f32', 'fused/webgpu'] as const;
export type Stage = (typeof STAGES)[number];

/** The stages that run on the CPU (no WebGPU). */
export const CPU_STAGES: readonly Stage[] = STAGES.filter((s) => s !== 'fused/webgpu');

export interface Failure {
  /** `lower` when the program does not compile or the reference interpreter fails. */
  readonly stage: Stage | 'lower';
  readonly kind: 'compile' | 'crash' | 'mismatch';
  readonly message: string;
}

const F64_TOL = 1e-9;
const F32_TOL = 2e-3;

/**
 * Seeded inputs, rounded to f32: N(0, 1) floats, integers in -3..3, random bools. Indices outside
 * their range are meant (they test each op's own rule), so the stages run with checkIndexRanges: false.
 */
export function differentialInputs(g: Graph, seed: number): Map<string, NDArray> {
  const out = new Map<string, NDArray>();
  for (const i of g.inputs) {
    const name = String(i.attrs['name']);
    const { dtype, shape } = i.type;
    const a = randomArray(dtype, shape, seed, `input:${name}`, dtype === 'i32' ? { int: 7 } : 'any');
    out.set(name, new NDArray([...shape], a.data.map((v) => (dtype === 'i32' ? v - 3 : Math.fround(v)))));
  }
  return out;
}

function stageOptions(stage: Stage): ExecOptions | undefined {
  switch (stage) {
    case 'simplify/interp':
      return undefined;
    case 'fused/js-f64':
      return { backend: 'js', precision: 'f64' };
    case 'unfused/js-f64':
      return { backend: 'js', precision: 'f64', fuse: false };
    case 'fused/js-f32':
      return { backend: 'js', precision: 'f32' };
    case 'fused/webgpu':
      return { backend: 'webgpu' };
  }
}

function describeValues(a: ArrayLike<number>): string {
  const xs = Array.from(a).slice(0, 12).map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(6)));
  return `[${xs.join(', ')}${a.length > 12 ? ', …' : ''}]`;
}

/** Why `got` differs from `ref` for an output of the given dtype, or undefined when it agrees. */
export function compareOutput(dtype: string, ref: NDArray, got: NDArray | undefined, tol: number): string | undefined {
  if (!got) return 'missing';
  if (got.size !== ref.size) return `has ${got.size} elements, expected ${ref.size}`;
  let scale = 1;
  for (const v of ref.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.size; i++) {
    const r = ref.data[i]!;
    const v = got.data[i]!;
    const bad = dtype === 'f32' ? !(Object.is(r, v) || Math.abs(r - v) <= tol * scale || (Number.isNaN(r) && Number.isNaN(v))) : r !== v;
    if (bad) return `element ${i} is ${v}, expected ${r}: got ${describeValues(got.data)}, expected ${describeValues(ref.data)}`;
  }
  return undefined;
}

export interface DifferentialOptions {
  readonly stages?: readonly Stage[];
  readonly seed?: number;
  /** The function to run (default `f`). */
  readonly entry?: string;
}

/** Runs `src`'s entry through the stages; returns what disagrees with the reference (empty: all agree). */
export async function differential(src: string, opts: DifferentialOptions = {}): Promise<Failure[]> {
  const entry = opts.entry ?? 'f';
  let g: Graph;
  try {
    g = compile(src, entry, { path: 'fuzz.dl' });
  } catch (e) {
    return [{ stage: 'lower', kind: e instanceof CompileError ? 'compile' : 'crash', message: (e as Error).message }];
  }
  const inputs = differentialInputs(g, opts.seed ?? 1);
  let ref: Map<string, NDArray>;
  try {
    ref = interpret(g, inputs, new Map());
  } catch (e) {
    return [{ stage: 'lower', kind: 'crash', message: `interpreter: ${(e as Error).message}` }];
  }
  const failures: Failure[] = [];
  let simplified: Graph | undefined;
  for (const stage of opts.stages ?? CPU_STAGES) {
    let got: Map<string, NDArray>;
    try {
      simplified ??= runPipeline(g, { verify: true }).graph;
      const o = stageOptions(stage);
      got = o ? await (await makeExecutable(simplified, { ...o, checkIndexRanges: false })).run(inputs) : interpret(simplified, inputs, new Map());
    } catch (e) {
      failures.push({ stage, kind: 'crash', message: (e as Error).message.split('\n')[0]! });
      continue;
    }
    const tol = stage === 'fused/js-f32' || stage === 'fused/webgpu' ? F32_TOL : F64_TOL;
    for (const o of g.outputs) {
      const why = compareOutput(o.node.type.dtype, ref.get(o.name)!, got.get(o.name), tol);
      if (why) failures.push({ stage, kind: 'mismatch', message: `output ${o.name} (${o.node.type.dtype}[${o.node.type.shape.join(', ')}]) ${why}` });
    }
  }
  return failures;
}

/** The failures as text, one per line. */
export function formatFailures(fs: readonly Failure[]): string {
  return fs.map((f) => `${f.stage} ${f.kind}: ${f.message}`).join('\n');
}
