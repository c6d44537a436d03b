/**
 * @file Checking values against declared types. Dimension variables unify: the first
 * occurrence binds a name to a size, later ones must agree. A bound dimension is visible in the
 * function body as an integer; `*S` binds a list of leading axes, `...` matches any number.
 */
import type { Code } from '../../diagnostics/codes.js';
import { spanText, type Span } from '../../diagnostics/source.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import { formatShape, formatType, isDType, type DType, type TensorType } from '../../ir/types.js';
import type * as A from '../ast.js';
import type { Lowerer } from './lowerer.js';
import type { Scope } from './scope.js';
import { solveDim, unknownNames } from './dim-solve.js';
import { describe, float, isNumber, tensor, type Value } from './values.js';

/** A dimension expression waiting to be checked, and its check. */
export interface DeferredDim {
  readonly e: A.Expr;
  readonly sc: Scope;
  readonly run: () => void;
}

export class DimEnv {
  readonly dims = new Map<string, number>();
  /** While a function's parameters are matched: expressions with several unknown names, checked by `finishSignature`. */
  deferred: DeferredDim[] | undefined;
  readonly lists = new Map<string, number[]>();
  /** What first bound each name, for messages. */
  readonly origin = new Map<string, string>();
}

const STATIC_TYPES = ['int', 'float', 'bool', 'dtype'];

export class TypeMatcher {
  constructor(private readonly lw: Lowerer) {}

  /** Checks (and converts) `v` against `t`, binding dimension variables in `env` and `sc`. */
  match(v: Value, t: A.TypeExpr, env: DimEnv, sc: Scope, what: string, span: Span, code: Code = 'DL0304'): Value {
    const typeText = spanText(t.span);
    switch (t.kind) {
      case 'tuple': {
        if (v.k !== 'tuple' || v.items.length !== t.items.length) {
          this.lw.fail(code, `${what} should be a tuple of ${t.items.length} (${typeText}), got ${describe(v)}`, span);
        }
        const items = (v as Value & { k: 'tuple' }).items;
        return { k: 'tuple', items: items.map((it, i) => this.match(it, t.items[i]!, env, sc, `item ${i} of ${what}`, span, code)) };
      }
      case 'list': {
        const items = v.k === 'list' || v.k === 'tuple' ? v.items : v.k === 'int' ? [v] : undefined;
        if (!items) this.lw.fail(code, `${what} should be a list (${typeText}), got ${describe(v)}`, span);
        return { k: 'list', items: items!.map((it, i) => this.match(it, t.elem, env, sc, `item ${i} of ${what}`, span, code)) };
      }
      case 'named':
        break;
    }
    const name = t.name.name;
    if (t.dims === null && STATIC_TYPES.includes(name)) return this.matchStatic(v, name, what, span, code);
    if (!isDType(name)) {
      this.lw.fail('DL0201', `unknown type \`${name}\``, t.name.span, didYouMean(name, ['f32', 'i32', 'bool', ...STATIC_TYPES]) ?? 'tensor types are f32, i32 and bool; static types are int, float, bool and dtype');
    }
    const dtype = name as DType;
    if (v.k !== 'tensor' && !isNumber(v) && v.k !== 'bool' && v.k !== 'list') {
      this.lw.fail(code, `${what} should be a tensor ${typeText}, got ${describe(v)}`, span);
    }
    if (v.k === 'float' && dtype === 'i32') this.lw.fail(code, `${what} should be ${typeText}, got ${describe(v)}`, span);
    const node = this.lw.toTensor(v, span, dtype);
    if (node.type.dtype !== dtype) {
      this.lw.fail(code, `${what} should be ${typeText}, got ${formatType(node.type)}`, span, `convert it with \`cast(x, ${dtype})\``);
    }
    this.matchDims(node.type, t.dims ?? [], env, sc, what, span, typeText, code);
    return tensor(node);
  }

  private matchStatic(v: Value, name: string, what: string, span: Span, code: Code): Value {
    const ok =
      (name === 'int' && (v.k === 'int' || (v.k === 'float' && Number.isInteger(v.v)))) ||
      (name === 'float' && isNumber(v)) ||
      (name === 'bool' && v.k === 'bool') ||
      (name === 'dtype' && v.k === 'dtype');
    if (!ok) {
      const help = v.k === 'tensor' ? `\`${name}\` parameters take compile-time values; for a tensor write a type like \`f32[...]\`` : undefined;
      this.lw.fail(code, `${what} should be ${name === 'int' ? 'an' : 'a'} ${name} known at compile time, got ${describe(v)}`, span, help);
    }
    if (name === 'float') return float((v as { v: number }).v);
    if (name === 'int' && v.k === 'float') return { k: 'int', v: v.v };
    return v;
  }

  private matchDims(t: TensorType, dims: readonly A.DimExpr[], env: DimEnv, sc: Scope, what: string, span: Span, typeText: string, code: Code): void {
    const shape = t.shape;
    const vi = dims.findIndex((d) => d.kind !== 'expr');
    if (dims.filter((d) => d.kind !== 'expr').length > 1) {
      this.lw.fail('DL0311', 'a type can have only one `...` or `*name`', dims[vi]!.span);
    }
    const mismatch = (note?: string): never =>
      this.lw.fail(code, `${what} should be ${typeText}, got ${formatType(t)}`, span, undefined, note ? [note] : undefined);
    if (vi < 0 && shape.length !== dims.length) {
      mismatch(`the type has ${dims.length} ${dims.length === 1 ? 'axis' : 'axes'}, the value has ${shape.length}`);
    }
    const fixed = vi < 0 ? dims.length : dims.length - 1;
    if (vi >= 0 && shape.length < fixed) mismatch(`the type needs at least ${fixed} axes, the value has ${shape.length}`);
    const pairs: [A.DimExpr, number, number][] = [];
    if (vi < 0) dims.forEach((d, i) => pairs.push([d, shape[i]!, i]));
    else {
      for (let i = 0; i < vi; i++) pairs.push([dims[i]!, shape[i]!, i]);
      const tail = dims.length - vi - 1;
      for (let j = 0; j < tail; j++) {
        const ax = shape.length - tail + j;
        pairs.push([dims[vi + 1 + j]!, shape[ax]!, ax]);
      }
      const v = dims[vi]!;
      if (v.kind === 'variadic') {
        const mid = shape.slice(vi, shape.length - tail);
        const have = env.lists.get(v.name.name);
        if (have) {
          if (have.length !== mid.length || have.some((d, i) => d !== mid[i])) {
            this.lw.fail(
              'DL0305',
              `${what} has leading axes ${formatShape(mid)} where the type says \`*${v.name.name}\`, but \`${v.name.name}\` is already ${formatShape(have)}`,
              span,
              undefined,
              [`\`${v.name.name}\` was set by ${env.origin.get(v.name.name)}`],
            );
          }
        } else {
          env.lists.set(v.name.name, mid);
          env.origin.set(v.name.name, what);
          sc.define(v.name.name, { k: 'list', items: mid.map((d) => ({ k: 'int', v: d })) }, 'dim');
        }
      }
    }
    // Plain names first, so that `f32[4 * H, H]` binds `H` before `4 * H` is checked.
    const exprs: { e: A.Expr; actual: number; axis: number }[] = [];
    for (const [d, actual, axis] of pairs) {
      const e = (d as A.DimExpr & { kind: 'expr' }).expr;
      if (e.kind === 'name') {
        const nm = e.name;
        const bound = env.dims.get(nm);
        if (bound !== undefined) {
          if (bound !== actual) {
            this.lw.fail('DL0305', `${what} has ${actual} at axis ${axis} where the type says \`${nm}\`, but \`${nm}\` is already ${bound}`, span, undefined, [
              `\`${nm}\` was set to ${bound} by ${env.origin.get(nm)}`,
            ]);
          }
          continue;
        }
        const known = sc.lookup(nm);
        if (!known) {
          env.dims.set(nm, actual);
          env.origin.set(nm, what);
          sc.define(nm, { k: 'int', v: actual }, 'dim');
          continue;
        }
      }
      exprs.push({ e, actual, axis });
    }
    const check = ({ e, actual, axis }: (typeof exprs)[number]): void => {
      const unknown = this.unknown(e, sc);
      if (unknown.length === 1 && !this.solve(unknown[0]!, e, actual, axis, env, sc, what, span)) {
        this.lw.fail('DL0201', `unknown name \`${unknown[0]}\``, e.span, `\`${spanText(e.span)}\` cannot be solved for \`${unknown[0]}\` (only \`k * ${unknown[0]}\`, \`${unknown[0]} + k\`, \`${unknown[0]} - k\` and \`${unknown[0]} / k\` forms are); bind it with a plain axis, e.g. \`f32[${unknown[0]}, …]\``);
      }
      const want = this.lw.staticInt(this.lw.eval(e, sc), e.span, 'a dimension');
      if (want < 0) this.lw.fail('DL0311', `a dimension cannot be negative (${want})`, e.span);
      const text = spanText(e.span);
      if (want !== actual) mismatch(`axis ${axis} should be ${want}${text === String(want) ? '' : ` (\`${text}\`)`}, but it is ${actual}`);
    };
    this.checkExprs(
      exprs.map((x) => ({ e: x.e, sc, run: () => check(x) })),
      env,
    );
  }

  private unknown(e: A.Expr, sc: Scope): string[] {
    return unknownNames(e, (n) => isDType(n) || sc.lookup(n) !== undefined);
  }

  /**
   * Checks dimension expressions, those with at most one unknown name first and again after each
   * (solving one can make another solvable: `f32[I + H, 4 * H]`). Expressions with several unknown
   * names wait in `env.deferred` while a signature is being matched, else they are reported.
   */
  private checkExprs(todo: DeferredDim[], env: DimEnv, final = false): void {
    const rest = [...todo];
    while (rest.length) {
      let i = rest.findIndex((x) => this.unknown(x.e, x.sc).length <= 1);
      if (i < 0) {
        if (env.deferred && !final) {
          env.deferred.push(...rest);
          return;
        }
        i = 0;
      }
      rest.splice(i, 1)[0]!.run();
    }
  }

  /** Checks the dimension expressions that waited for the rest of a signature (see `DimEnv.deferred`). */
  finishSignature(env: DimEnv): void {
    const waiting = env.deferred ?? [];
    env.deferred = undefined;
    this.checkExprs(waiting, env, true);
  }

  /** Binds the one unknown name `x` of the dimension expression `e` so that `e` is `actual` (`4 * H` = 12 gives H = 3). */
  private solve(x: string, e: A.Expr, actual: number, axis: number, env: DimEnv, sc: Scope, what: string, span: Span): boolean {
    const value = (y: A.Expr): number | undefined => {
      const v = this.lw.eval(y, sc);
      return isNumber(v) ? v.v : undefined;
    };
    const n = solveDim(e, x, actual, value);
    if (n === undefined) return false;
    if (!Number.isInteger(n) || n < 0) {
      this.lw.fail(
        'DL0305',
        `${what} has ${actual} at axis ${axis} where the type says \`${spanText(e.span)}\`, so \`${x}\` would be ${Number(n.toPrecision(6))}, which is not a size`,
        span,
        'a dimension must be a whole number of at least 0; check the shape of the value',
      );
    }
    env.dims.set(x, n);
    env.origin.set(x, what);
    sc.define(x, { k: 'int', v: n }, 'dim');
    return true;
  }

  /** A parameter's type: every dimension must be known from the model's arguments. */
  concreteTensorType(t: A.TypeExpr, sc: Scope, what: string): TensorType {
    if (t.kind !== 'named' || !isDType(t.name.name)) {
      this.lw.fail('DL0311', `${what} needs a tensor type such as \`f32[4, 8]\``, t.span);
    }
    const shape = (t.dims ?? []).map((d) => {
      if (d.kind !== 'expr') this.lw.fail('DL0311', `${what} must have a fixed shape; \`...\` and \`*name\` are for function parameters`, d.span);
      const e = (d as A.DimExpr & { kind: 'expr' }).expr;
      if (e.kind === 'name' && !sc.lookup(e.name)) {
        this.lw.fail('DL0310', `the size \`${e.name}\` of ${what} is not known`, e.span, 'parameter shapes are fixed by the model\'s arguments and constants');
      }
      const n = this.lw.staticInt(this.lw.eval(e, sc), e.span, 'a dimension');
      if (n < 0) this.lw.fail('DL0311', `a dimension cannot be negative (${n})`, e.span);
      if (n === 0) this.lw.fail('DL0315', `${what} would have no elements: its size \`${spanText(e.span)}\` is 0`, e.span, 'every axis must have at least one element');
      return n;
    });
    return { dtype: t.name.name as DType, shape };
  }

  /**
   * The type an entry-point input gets: free dimension names are sized by `free(name)`
   * (from --dim, the caller's arrays, or a small example size).
   */
  entryType(t: A.TypeExpr, env: DimEnv, sc: Scope, what: string, free: (name: string) => number): TensorType {
    if (t.kind !== 'named' || !isDType(t.name.name)) {
      this.lw.fail('DL0311', `${what} of an entry point must be a tensor type such as \`f32[B, 4]\``, t.span);
    }
    const shape: number[] = [];
    const bindFree = (name: string): number => {
      const n = free(name);
      env.dims.set(name, n);
      env.origin.set(name, what);
      sc.define(name, { k: 'int', v: n }, 'dim');
      return n;
    };
    // Plain names get their sizes first, then the unknown names of expressions such as `4 * H`
    // (so `f32[4 * H, H]`, `f32[2 * K]` and `f32[I + H]` work as entry inputs: all are free).
    const exprs = (t.dims ?? []).flatMap((d) => (d.kind === 'expr' ? [d.expr] : []));
    const unbound = (n: string) => env.dims.get(n) === undefined && !sc.lookup(n) && !isDType(n);
    for (const e of exprs) if (e.kind === 'name' && unbound(e.name)) bindFree(e.name);
    for (const e of exprs) for (const n of unknownNames(e, (x) => !unbound(x))) bindFree(n);
    for (const d of t.dims ?? []) {
      // Leading axes of a generic type get one axis of an example size (rank 0 would make
      // axis arguments such as -1 invalid); a bound `*S` keeps its axes.
      if (d.kind === 'ellipsis') {
        shape.push(free('...'));
        continue;
      }
      if (d.kind === 'variadic') {
        shape.push(...(env.lists.get(d.name.name) ?? [free(`*${d.name.name}`)]));
        continue;
      }
      const e = d.expr;
      if (e.kind === 'name' && env.dims.get(e.name) === undefined && !sc.lookup(e.name)) {
        const n = free(e.name);
        env.dims.set(e.name, n);
        env.origin.set(e.name, what);
        sc.define(e.name, { k: 'int', v: n }, 'dim');
        shape.push(n);
        continue;
      }
      if (e.kind === 'name' && env.dims.has(e.name)) {
        shape.push(env.dims.get(e.name)!);
        continue;
      }
      const n = this.lw.staticInt(this.lw.eval(e, sc), e.span, 'a dimension');
      if (n < 0) this.lw.fail('DL0311', `a dimension cannot be negative (${n})`, e.span);
      shape.push(n);
    }
    return { dtype: t.name.name as DType, shape };
  }
}
