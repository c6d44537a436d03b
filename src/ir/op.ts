/**
 * @file The shape of an op definition. Every primitive is one `OpDef` object in `ops/`, holding
 * everything the compiler knows about it: attributes, shape/dtype rule, float64 reference
 * evaluation, cost and fusion kind. Passes ask the definition; none switches over op names.
 */
import type { Code } from '../diagnostics/codes.js';
import type { Expr } from '../kernel/expr.js';
import type { GraphBuilder } from './builder.js';
import type { Graph, Node } from './graph.js';
import type { NDArray } from './ndarray.js';
import type { Routine } from './routine.js';
import { numel, type DType, type TensorType } from './types.js';

/** What fusion looks at: how an op reads its inputs and produces its output. */
export type OpKind =
  | 'elementwise'
  | 'reduce'
  | 'movement'
  | 'indexing'
  | 'contraction'
  | 'window'
  | 'source'
  /** A loop over a body graph (`scan`): a sequence of kernels run once per step. */
  | 'loop'
  /** An algorithm over whole matrices (linear algebra, `routine`): a kernel of its own. */
  | 'routine';

export type AttrValue =
  | number
  | boolean
  | string
  | null
  | readonly AttrValue[]
  | { readonly [k: string]: AttrValue };
export type Attrs = { readonly [k: string]: AttrValue };

/** Attribute kinds, used by the verifier and the printer. */
export type AttrKind = 'int' | 'ints' | 'float' | 'bool' | 'dtype' | 'string' | 'json';

export interface Cost {
  /** Floating-point (or integer) operations. */
  readonly flops: number;
  /** Bytes read and written assuming every input and the output go through memory once. */
  readonly bytes: number;
}

/**
 * A shape or dtype rule failed. `message` receives a phrase locating the failing expression
 * (" in `x @ W`", or "" when none is known) so ops can word their errors naturally.
 */
export class OpError extends Error {
  constructor(
    readonly code: Code,
    readonly describe: (where: string) => string,
    readonly help?: string,
  ) {
    super(describe(''));
  }
}

export function opError(code: Code, describe: (where: string) => string, help?: string): never {
  throw new OpError(code, describe, help);
}

/** What a graph reads from outside: the caller's inputs and the parameter store. */
export interface EvalEnv {
  input(name: string): NDArray;
  param(name: string): NDArray;
}

/** What a reverse-mode rule gets: the forward node, its output's cotangent, and a builder. */
export interface VjpContext<A extends Attrs = any> {
  readonly b: GraphBuilder;
  /** The forward node; its inputs are `node.inputs`. */
  readonly node: Node;
  readonly attrs: A;
  /** Cotangent of the node's output (same type as the output). */
  readonly g: Node;
}

/**
 * Cotangents of the inputs, built as ordinary IR (so they can be differentiated again).
 * `undefined` for an input that receives no gradient (indices, conditions, integers).
 */
export type VjpRule<A extends Attrs = any> = (ctx: VjpContext<A>) => readonly (Node | undefined)[];

/**
 * How a test draws a valid instance of an op: input shapes and value domains, attributes.
 * Implemented over fast-check by the property tests, so failures shrink.
 */
export interface Draw {
  int(min: number, max: number): number;
  bool(): boolean;
  pick<T>(xs: readonly T[]): T;
  /** A shape of rank in [minRank, maxRank] with sizes in [1, maxDim]. */
  shape(minRank: number, maxRank: number, maxDim?: number): number[];
}

/**
 * Values a test input is drawn from. The matrix domains hold square matrices over the last two
 * axes: `spd` symmetric positive definite (condition number below 10), `invertible` well
 * conditioned (±1 on the diagonal plus small noise), `eig` symmetric with eigenvalues at least
 * 0.7 apart (so eigenvectors are well defined).
 */
export type Domain = 'any' | 'positive' | 'nonzero' | 'unit' | 'distinct' | 'spd' | 'invertible' | 'eig' | { readonly int: number } | 'bool';

export interface OpCase {
  readonly inputs: readonly { readonly dtype: DType; readonly shape: readonly number[]; readonly domain?: Domain }[];
  readonly attrs: Attrs;
  /** The body graph, for ops that carry one (`scan`). */
  readonly body?: Graph;
}

export interface OpTestSpec {
  /** Draws a valid case; the property tests check evaluate, the shape rule and the VJP on it. */
  sample(d: Draw): OpCase;
  /** Highest derivative order checked by finite differences (0: not differentiable). */
  readonly order?: number;
}

/** The code generators. Adding one makes every op with templates fail to type-check until it has one. */
export type Backend = 'js' | 'wgsl';

/** What a backend template gets: its operands as code, their dtypes and the result dtype. */
export interface EmitContext {
  readonly args: readonly string[];
  readonly types: readonly DType[];
  readonly out: DType;
  /** Requests a helper function of the backend's prelude (emitted once per module). */
  helper(name: string): string;
}

export type Template = (c: EmitContext) => string;

/** How codegen sees one output element of an op: reads of its inputs at computed indices. */
export interface ExprContext<A extends Attrs = any> {
  readonly attrs: A;
  /** The output element's multi-index. */
  readonly idx: readonly Expr[];
  readonly inputs: readonly TensorType[];
  readonly out: TensorType;
  /** The element of input `i` at a multi-index. */
  read(i: number, idx: readonly Expr[]): Expr;
  /** The element of input `i` at a flat (row-major) position: how reshape stays free. */
  readFlat(i: number, flat: Expr): Expr;
  /** A fresh loop-index name for a reduction. */
  fresh(): string;
}

/**
 * A reduction's combining rule: an elementwise op and its identity, or arg-max/min tracking,
 * where `beats` is the code of "value args[0] replaces the best so far, args[1]" (NaN beats numbers).
 */
export type Monoid = { readonly combine: string; readonly identity: number } | { readonly arg: 'max' | 'min'; readonly beats: Readonly<Record<Backend, Template>> };

/** A node about to be rebuilt by the simplifier (its inputs already simplified). */
export interface SimplifyContext<A extends Attrs = any> {
  readonly b: GraphBuilder;
  readonly inputs: readonly Node[];
  readonly attrs: A;
  readonly type: TensorType;
  /** Whether input k's value is read by this node alone (so a rewrite need not keep it). */
  readonly soleReader?: (k: number) => boolean;
}

export interface OpDef<A extends Attrs = any> {
  readonly name: string;
  readonly kind: OpKind;
  /** One line for docs/ops.md and messages. */
  readonly doc: string;
  /** Number of tensor inputs, or 'variadic' (one or more). */
  readonly arity: number | 'variadic';
  readonly attrs: { readonly [K in keyof A]: AttrKind };
  /** The output type, or throws OpError. `body` is the node's sub-graph (ops with `body: true`). */
  infer(inputs: readonly TensorType[], attrs: A, body?: Graph): TensorType;
  /** The op carries a body graph (`Node.body`): a loop. */
  readonly body?: true;
  /**
   * Reference semantics in float64 (integers and booleans are exact in float64). `env` gives
   * source ops the values from outside the graph (inputs and parameters).
   */
  evaluate(inputs: readonly NDArray[], attrs: A, out: TensorType, env: EvalEnv, body?: Graph): NDArray;
  /** Work and traffic; defaults to one flop per output element. */
  cost?(inputs: readonly TensorType[], out: TensorType, attrs: A): Cost;
  /**
   * Reverse-mode rule. `null` means the op is not differentiable: differentiating through it
   * (from a float input to a float output) is an error at the user's source line.
   */
  vjp: VjpRule<A> | null;
  /** How property tests draw instances of this op. */
  readonly test?: OpTestSpec;
  /**
   * Algebraic identities exact in floating point (x·1 → x, reshape∘reshape → reshape, …): a
   * replacement for the node, or undefined to keep it.
   */
  simplify?(ctx: SimplifyContext<A>): Node | undefined;
  /**
   * Codegen: one output element as a kernel expression over reads of the inputs. Movement ops
   * are pure index arithmetic here, which is how they become views instead of copies.
   * Absent for `input` and `param` (their values live in buffers).
   */
  expr?(ctx: ExprContext<A>): Expr;
  /** Scalar templates per backend (elementwise ops). */
  readonly emit?: Readonly<Record<Backend, Template>>;
  /** For reductions: how values combine. */
  readonly monoid?: Monoid;
  /**
   * For movement ops: each output element is read at an affine function of its index (a
   * strided view), so a matrix product can read through it without a copy.
   */
  readonly strided?: boolean;
  /**
   * For movement ops that create elements no input holds (padding): their value. The
   * simplifier folds a movement of splat constants to a splat only when every input and this
   * value agree.
   */
  fill?(attrs: A): number;
  /** For routines (kind `routine`): the algorithm per matrix, for every backend (ir/routine.ts). */
  readonly routine?: Routine<A>;
}

export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  return def;
}

export const BYTES_PER_ELEMENT = 4;

export function defaultCost(inputs: readonly TensorType[], out: TensorType, flopsPerElement = 1): Cost {
  const bytes = (inputs.reduce((s, t) => s + numel(t.shape), 0) + numel(out.shape)) * BYTES_PER_ELEMENT;
  return { flops: numel(out.shape) * flopsPerElement, bytes };
}

export function costOf(def: OpDef, inputs: readonly TensorType[], out: TensorType, attrs: Attrs): Cost {
  return def.cost ? def.cost(inputs, out, attrs) : defaultCost(inputs, out);
}
