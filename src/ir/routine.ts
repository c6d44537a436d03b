/**
 * @file Routines: ops whose value is not one expression per output element but an algorithm over
 * whole matrices (the dense linear algebra of ops/linalg/: Cholesky, triangular solves, LU,
 * Jacobi eigenvalues). Each runs once per matrix of a batch (the axes before the last two of the
 * first operand; every operand and the result have them too), reading contiguous inputs and
 * writing a contiguous result, with an optional scratch area of its own. An op defines its routine once (`OpDef.routine`):
 *  - `js`: the algorithm as JavaScript source text for one matrix, on any array type. The
 *    reference interpreter runs it in float64 (`evaluateRoutine`); the JS backend embeds the
 *    same text, so the two run one algorithm (on Float32Array memory in f32, rounding at each
 *    store).
 *  - `wgsl`: the algorithm for one matrix as the body of a compute shader run by one workgroup
 *    of ROUTINE_THREADS invocations (`tid` 0 … NT − 1), which share the work of each step and
 *    meet at `storageBarrier()` between steps.
 */
import { NDArray } from './ndarray.js';
import type { Attrs } from './op.js';
import { numel, type TensorType } from './types.js';

/** Invocations of a routine's workgroup (`NT` in its WGSL body). */
export const ROUTINE_THREADS = 64;

/**
 * The JavaScript of a routine: `source` defines `function name(ins, ino, out, oo, w, wo, d, f)`
 * computing one matrix. `ins[k]` is the array holding input k, whose matrix starts at `ino[k]`;
 * `out` / `oo` the result's array and start; `w` / `wo` the scratch array and start (when the
 * routine asks for scratch); `d` the sizes (`Routine.dims`); `f` the op's attributes.
 */
export interface RoutineJs {
  readonly name: string;
  readonly source: string;
}

/** What a routine's WGSL body is rendered with (every index and value is WGSL i32 / f32 code). */
export interface WgslRoutineContext<A extends Attrs = Attrs> {
  readonly attrs: A;
  /** Size `k` of `Routine.dims` as an i32 expression (from the kernel's parameter block). */
  dim(k: number): string;
  /** Element `i` of input `k`'s matrix. */
  load(k: number, i: string): string;
  /** Element `i` of the result's matrix (the result doubles as working memory). */
  loadOut(i: string): string;
  /** The statement storing `v` at element `i` of the result's matrix. */
  storeOut(i: string, v: string): string;
  loadScratch(i: string): string;
  storeScratch(i: string, v: string): string;
  /** An f32 NaN (WGSL has no literal for it). */
  readonly nan: string;
}

export interface Routine<A extends Attrs = Attrs> {
  /** The sizes the code works with (n, number of right-hand sides, …), from the operand types. */
  dims(inputs: readonly TensorType[], attrs: A): number[];
  /** f32 elements of scratch memory per matrix (default none). */
  scratch?(dims: readonly number[], attrs: A): number;
  readonly js: RoutineJs;
  /** The shader body for one matrix; `tid` (i32) and `NT` (its thread count) are in scope. */
  wgsl(c: WgslRoutineContext<A>): string[];
  /** Flops per matrix, for the cost model and the kernel report. */
  flops(dims: readonly number[], attrs: A): number;
}

/** The number of matrices: the product of the batch axes, all but the last two of the first operand. */
export function routineBatch(first: TensorType): number {
  return numel(first.shape.slice(0, Math.max(0, first.shape.length - 2)));
}

/** A routine's cost: its flops per matrix over the batch; every operand and the result moved once. */
export function routineCost<A extends Attrs>(r: Routine<A>, inputs: readonly TensorType[], out: TensorType, attrs: A): { flops: number; bytes: number } {
  const elements = inputs.reduce((s, t) => s + numel(t.shape), numel(out.shape));
  return { flops: r.flops(r.dims(inputs, attrs), attrs) * routineBatch(inputs[0]!), bytes: 4 * elements };
}

const compiled = new Map<string, (...args: unknown[]) => void>();

/** The routine's JS function (compiled once per process). */
export function routineFunction(js: RoutineJs): (...args: unknown[]) => void {
  let fn = compiled.get(js.name);
  if (!fn) {
    fn = new Function(`${js.source}\nreturn ${js.name};`)() as (...args: unknown[]) => void;
    compiled.set(js.name, fn);
  }
  return fn;
}

/** The reference evaluation of a routine: its JS algorithm in float64, matrix by matrix. */
export function evaluateRoutine<A extends Attrs>(r: Routine<A>, inputs: readonly NDArray[], attrs: A, out: TensorType): NDArray {
  const types: TensorType[] = inputs.map((x) => ({ dtype: 'f32', shape: x.shape }));
  const d = r.dims(types, attrs);
  const batch = routineBatch(types[0]!);
  const result = NDArray.zeros(out.shape);
  const fn = routineFunction(r.js);
  const per = inputs.map((x) => (batch ? x.size / batch : 0));
  const outPer = batch ? result.size / batch : 0;
  const ws = r.scratch?.(d, attrs) ?? 0;
  const w = new Float64Array(ws);
  for (let bt = 0; bt < batch; bt++) {
    fn(
      inputs.map((x) => x.data),
      per.map((p) => p * bt),
      result.data,
      outPer * bt,
      w,
      0,
      d,
      attrs,
    );
  }
  return result;
}
