/**
 * @file Lowering: evaluates the AST as a partial evaluator. Compile-time values are computed;
 * tensor operations become IR nodes through the GraphBuilder (which runs each op's shape rule).
 * Functions are inlined at their call sites; `for` loops are unrolled, or kept as loops (`scan`
 * nodes with a body graph, src/frontend/lower/loop.ts) when they are long, so the result is one
 * acyclic graph. Errors become diagnostics at the offending expression and an invalid value
 * ("poison") that silences the errors it would otherwise cause further on.
 */
import { DiagnosticBag, DiagnosticError, error, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Code } from '../../diagnostics/codes.js';
import { spanLocation, spanText, type Span } from '../../diagnostics/source.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import * as C from '../../ir/compose.js';
import type { Node } from '../../ir/graph.js';
import { OpError } from '../../ir/op.js';
import { formatType, isDType, normAxis, type DType } from '../../ir/types.js';
import { findInitializer, INIT_ALIASES, INITIALIZERS, type InitSpec } from '../../runtime/init.js';
import type * as A from '../ast.js';
import { BUILTINS } from './builtins.js';
import { memberPath, type Instance } from './instance.js';
import { EMPTY_TENSOR_HELP, NonEmptyBuilder } from './nonempty-builder.js';
import { lowerLoopAsScan, wantsScan, type LoopMode, type LoopStep } from './loop.js';
import { Scope, type Binding } from './scope.js';
import { DimEnv, TypeMatcher } from './types.js';
import { bool, describe, float, int, isNumber, POISON, tensor, type Value } from './values.js';

export interface ArgValue {
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly value: Value;
  readonly span: Span;
}

interface Frame {
  readonly name: string;
  readonly decl: A.FnDecl | A.ModelDecl;
  readonly callSpan: Span;
}

/** Abandons the current expression without a message: an error was already reported. */
export class PoisonSignal extends Error {
  constructor() {
    super('poison');
  }
}

/** Marks a file as the standard library: errors inside it are reported at the user's call. */
export function isStdlibPath(path: string): boolean {
  return path.startsWith('<stdlib>');
}

/** Statements executed per lowering before the program is declared too large (no hangs). */
const FUEL = 2_000_000;

const BINARY_OPS: Record<string, string> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  and: 'and',
  or: 'or',
};

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** The dtype a compile-time list becomes as a tensor: f32 if it holds a float, bool if it holds only bools, else i32 (a tensor item gives its own dtype). */
function listDType(v: Value & { k: 'list' }): DType {
  let kind: DType | undefined;
  const walk = (x: Value): void => {
    if (x.k === 'tensor') kind ??= x.node.type.dtype;
    else if (x.k === 'float') kind = kind === undefined || kind === 'i32' || kind === 'bool' ? 'f32' : kind;
    else if (x.k === 'int') kind = kind === undefined || kind === 'bool' ? 'i32' : kind;
    else if (x.k === 'bool') kind ??= 'bool';
    else if (x.k === 'list') x.items.forEach(walk);
  };
  walk(v);
  return kind ?? 'i32';
}

export class Lowerer {
  /** The program's builder; parameters are always made here (a loop body reads them as captures). */
  readonly root = new NonEmptyBuilder();
  /** Where nodes are made: the root, or a loop body being lowered (src/frontend/lower/loop.ts). */
  b: NonEmptyBuilder = this.root;
  diags = new DiagnosticBag();
  /** Whether `for` loops over ranges stay loops (src/frontend/lower/loop.ts). */
  loopMode: LoopMode = 'auto';
  /** The steps of the loops whose bodies are being lowered, outermost first (random draws mix them in). */
  readonly loopSteps: LoopStep[] = [];
  readonly types: TypeMatcher;
  private readonly stack: Frame[] = [];
  private fuel = FUEL;
  /** Set while evaluating a `layer` declaration: the dotted path the new instance gets. */
  private pendingPath: string | undefined;
  private readonly topInstances = new Map<A.InstanceDecl, Instance>();
  /** Added to shape errors when free dimensions were given example sizes. */
  dimNote: string | undefined;
  /** True while lowering a `train` step's loss: `training()` is true and `dropout` drops (docs/language.md §15). */
  training = false;
  /** The `param` nodes of `state` members: persistent, never trained. */
  readonly stateNodes = new Set<Node>();
  /** The binding of each `state` member, with its state's name and node. */
  private readonly stateBindings = new Map<Binding, { readonly name: string; readonly node: Node }>();
  /** What each state assigned in this lowering holds after the step: its last assigned value, by name. */
  readonly stateWrites = new Map<string, Node>();

  constructor() {
    this.types = new TypeMatcher(this);
  }

  // ---- diagnostics ----------------------------------------------------------------------

  /** The innermost call site in user code (stdlib spans are reported there). */
  userSpan(s: Span): Span {
    if (!isStdlibPath(s.file.path)) return s;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const f = this.stack[i]!;
      if (!isStdlibPath(f.callSpan.file.path)) return f.callSpan;
    }
    return s;
  }

  report(d: Diagnostic): void {
    if (!d.span) {
      this.diags.add(d);
      return;
    }
    const notes = [...d.notes];
    let s = d.span;
    if (isStdlibPath(s.file.path)) {
      for (let i = this.stack.length - 1; i >= 0; i--) {
        const f = this.stack[i]!;
        if (!isStdlibPath(f.callSpan.file.path)) {
          notes.unshift(`inside \`${f.name}\` from the standard library`);
          s = f.callSpan;
          break;
        }
      }
    } else if (this.stack.length) {
      const f = this.stack[this.stack.length - 1]!;
      if (f.decl.kind === 'fn' && f.decl.span.file === s.file && s.start >= f.decl.span.start && s.end <= f.decl.span.end) {
        notes.push(`while inlining the call to \`${f.name}\` at ${spanLocation(this.userSpan(f.callSpan))}`);
      }
    }
    if (this.dimNote && d.code.startsWith('DL03')) notes.push(this.dimNote);
    this.diags.add({ ...d, span: s, notes });
  }

  fail(code: Code, message: string, span: Span | undefined, help?: string, notes?: string[]): never {
    throw new DiagnosticError(error(code, message, { span, help, ...(notes ? { notes } : {}) }));
  }

  /** " in `x @ W`" for a short single-line span, else "". */
  where(s: Span): string {
    const u = this.userSpan(s);
    const text = spanText(u);
    return text.length <= 60 && !text.includes('\n') ? ` in \`${text}\`` : '';
  }

  private reportCaught(err: unknown, s: Span): void {
    if (err instanceof PoisonSignal) return;
    if (err instanceof OpError) {
      this.report(error(err.code, err.describe(this.where(s)), { span: s, help: err.help }));
    } else if (err instanceof DiagnosticError) {
      this.report(err.diagnostic);
    } else if (err instanceof RangeError) {
      this.report(error('DL0104', 'this is nested too deeply to compile', { span: s, help: 'split it into smaller pieces with `let`' }));
    } else {
      throw err;
    }
  }

  /** Runs `f`; a user error inside it is reported at `s` and gives undefined. */
  attempt<T>(s: Span, f: () => T): T | undefined {
    try {
      return this.at(s, f);
    } catch (err) {
      this.reportCaught(err, s);
      return undefined;
    }
  }

  /** Runs `f` with node spans pointing at `s` (or at the user's call site for stdlib code). */
  at<T>(s: Span, f: () => T): T {
    const saved = this.b.span;
    this.b.span = this.userSpan(s);
    try {
      return f();
    } finally {
      this.b.span = saved;
    }
  }

  // ---- expressions ----------------------------------------------------------------------

  eval(e: A.Expr, sc: Scope): Value {
    try {
      return this.evalInner(e, sc);
    } catch (err) {
      this.reportCaught(err, e.span);
      return POISON;
    }
  }

  private evalInner(e: A.Expr, sc: Scope): Value {
    switch (e.kind) {
      case 'num':
        if (!Number.isFinite(e.value) || (!e.isFloat && !Number.isSafeInteger(e.value))) {
          this.fail('DL0103', `the number ${spanText(e.span)} is too large`, e.span);
        }
        return e.isFloat ? float(e.value) : int(e.value);
      case 'bool':
        return bool(e.value);
      case 'name':
        return this.lookupName(e.name, e.span, sc);
      case 'unary':
        return this.unary(e, this.eval(e.operand, sc));
      case 'binary':
        return this.binary(e, this.eval(e.left, sc), this.eval(e.right, sc));
      case 'call':
        return this.callExpr(e, sc);
      case 'index':
        return this.index(e, this.eval(e.target, sc), sc);
      case 'member':
        return this.member(e, this.eval(e.target, sc));
      case 'tuple':
        return this.collect(e.items, sc, 'tuple');
      case 'list':
        return this.collect(e.items, sc, 'list');
      case 'error':
        return POISON;
    }
  }

  private collect(items: readonly A.Expr[], sc: Scope, k: 'tuple' | 'list'): Value {
    const vs = items.map((i) => this.eval(i, sc));
    if (vs.some((v) => v.k === 'poison')) return POISON;
    return { k, items: vs };
  }

  lookupName(name: string, s: Span, sc: Scope): Value {
    const bnd = sc.lookup(name);
    if (!bnd) {
      if (isDType(name)) return { k: 'dtype', v: name };
      const init = findInitializer(name);
      const help = init
        ? `\`${name}\` is an initializer; use it after \`=\` in a \`param\` declaration`
        : didYouMean(name, [...sc.allNames(), 'f32', 'i32', 'bool']);
      this.fail('DL0201', `unknown name \`${name}\``, s, help);
    }
    if (bnd.value.k === 'instanceDecl') bnd.value = { k: 'instance', inst: this.topInstance(bnd.value.decl, bnd.value.scope) };
    return bnd.value;
  }

  private unary(e: A.Expr & { kind: 'unary' }, v: Value): Value {
    if (v.k === 'poison') return POISON;
    if (e.op === 'not') {
      if (v.k === 'bool') return bool(!v.v);
      const t = this.toTensor(v, e.operand.span);
      return tensor(this.at(e.span, () => this.b.add('not', [t])));
    }
    if (e.op === '+') return v;
    if (v.k === 'int') return int(-v.v);
    if (v.k === 'float') return float(-v.v);
    const t = this.toTensor(v, e.operand.span);
    return tensor(this.at(e.span, () => this.b.add('neg', [t])));
  }

  private binary(e: A.Expr & { kind: 'binary' }, l: Value, r: Value): Value {
    if (l.k === 'poison' || r.k === 'poison') return POISON;
    const st = this.staticBinary(e, l, r);
    if (st) return st;
    return this.at(e.span, () => tensor(this.tensorBinary(e.op, l, r, e.left.span, e.right.span, e.span)));
  }

  /** Arithmetic on compile-time values; undefined when a tensor is involved. */
  private staticBinary(e: A.Expr & { kind: 'binary' }, l: Value, r: Value): Value | undefined {
    const op = e.op;
    if ((op === 'and' || op === 'or') && l.k === 'bool' && r.k === 'bool') return bool(op === 'and' ? l.v && r.v : l.v || r.v);
    if ((op === '==' || op === '!=') && l.k === 'dtype' && r.k === 'dtype') return bool((l.v === r.v) === (op === '=='));
    if ((op === '==' || op === '!=') && l.k === 'bool' && r.k === 'bool') return bool((l.v === r.v) === (op === '=='));
    if (op === '+' && l.k === 'list' && r.k === 'list') return { k: 'list', items: [...l.items, ...r.items] };
    if (!isNumber(l) || !isNumber(r)) {
      const tensorish = (v: Value) => v.k === 'tensor' || isNumber(v) || v.k === 'bool' || v.k === 'list';
      if (tensorish(l) && tensorish(r)) return undefined;
      const bad = tensorish(l) ? r : l;
      this.fail('DL0207', `cannot use \`${op}\` with ${describe(bad)}`, tensorish(l) ? e.right.span : e.left.span);
    }
    const a = l.v;
    const c = r.v;
    const ints = l.k === 'int' && r.k === 'int';
    const num = (v: number) => {
      if (!Number.isFinite(v) || (ints && Number.isInteger(v) && !Number.isSafeInteger(v))) {
        this.fail('DL0313', `this compile-time value overflows (${v})`, e.span, 'compile-time integers must stay below 2^53');
      }
      return ints && Number.isInteger(v) ? int(v) : float(v);
    };
    switch (op) {
      case '+':
        return num(a + c);
      case '-':
        return num(a - c);
      case '*':
        return num(a * c);
      case '/':
        if (c === 0) this.fail('DL0313', 'division by zero in a compile-time expression', e.span);
        return float(a / c);
      case '//':
        if (c === 0) this.fail('DL0313', 'division by zero in a compile-time expression', e.span);
        return num(Math.floor(a / c));
      case '%':
        if (c === 0) this.fail('DL0313', 'modulo by zero in a compile-time expression', e.span);
        return num(a - c * Math.floor(a / c));
      case '**':
        return c >= 0 ? num(a ** c) : float(a ** c);
      case '==':
        return bool(a === c);
      case '!=':
        return bool(a !== c);
      case '<':
        return bool(a < c);
      case '<=':
        return bool(a <= c);
      case '>':
        return bool(a > c);
      case '>=':
        return bool(a >= c);
      case '@':
        this.fail('DL0311', '`@` multiplies tensors, not numbers', e.span, 'use `*` for numbers');
        break;
      case 'and':
      case 'or':
        this.fail('DL0303', `\`${op}\` needs booleans, got ${describe(l)} and ${describe(r)}`, e.span);
    }
    return undefined;
  }

  /** The dtype both operands of an elementwise op are converted to. */
  private commonDType(op: string, l: Value, r: Value, span: Span): DType {
    const dt = (v: Value): DType | undefined => (v.k === 'tensor' ? v.node.type.dtype : undefined);
    const [a, c] = [dt(l), dt(r)];
    const logical = op === 'and' || op === 'or';
    if (logical) {
      const isBool = (v: Value) => v.k === 'bool' || (v.k === 'tensor' && v.node.type.dtype === 'bool') || (v.k === 'list' && listDType(v) === 'bool');
      if (!isBool(l) || !isBool(r)) {
        const bad = isBool(l) ? r : l;
        this.fail('DL0303', `\`${op}\` needs bool operands, got ${describe(bad)}${this.where(span)}`, span, 'compare first, e.g. `x > 0.0`');
      }
      return 'bool';
    }
    const eq = op === '==' || op === '!=';
    const staticKind = (v: Value): DType => (v.k === 'float' ? 'f32' : v.k === 'bool' ? 'bool' : v.k === 'list' ? listDType(v) : 'i32');
    const mixErr = (x: DType, y: DType) =>
      this.fail('DL0303', `cannot mix ${x} and ${y}${this.where(span)}`, span, `convert one side first, e.g. \`cast(x, ${x === 'i32' ? y : x})\``);
    if (a && c) {
      if (a === c) {
        if (a === 'bool' && !eq) this.fail('DL0303', `cannot use \`${op}\` on two bool tensors${this.where(span)}`, span, 'use `and`/`or`, or `cast(x, f32)` first');
        return a;
      }
      if (a === 'bool') return c;
      if (c === 'bool') return a;
      return mixErr(a, c);
    }
    if (!a && !c) {
      // Two compile-time operands, at least one a list (`[1.7, 0.2] > 0.0`): integers promote to
      // f32 as in compile-time arithmetic; bool takes the other operand's type.
      const [p, q] = [staticKind(l), staticKind(r)];
      if (p === q) {
        if (p === 'bool' && !eq) this.fail('DL0303', `cannot use \`${op}\` on bool values${this.where(span)}`, span, 'use `and`/`or`, or `cast(x, f32)` first');
        return p;
      }
      if (p === 'bool') return q;
      if (q === 'bool') return p;
      return 'f32';
    }
    const t = (a ?? c)!;
    const s = staticKind(a ? r : l);
    if (t === s) {
      if (t === 'bool' && !eq) this.fail('DL0303', `cannot use \`${op}\` on bool values${this.where(span)}`, span, 'use `and`/`or`, or `cast(x, f32)` first');
      return t;
    }
    if (t === 'bool') return s;
    if (t === 'f32') return 'f32';
    if (s === 'bool') return t;
    // An i32 tensor with a float number.
    return mixErr(t, s);
  }

  tensorBinary(op: A.BinaryOp, l: Value, r: Value, ls: Span, rs: Span, span: Span): Node {
    if (op === '@') return C.matmul(this.b, this.toTensor(l, ls), this.toTensor(r, rs));
    if (op === '**') return this.power(l, r, ls, rs);
    if (op === '//' || op === '%') return this.floorDivMod(op, l, r, ls, rs, span);
    const dt = this.commonDType(op, l, r, span);
    if (op === '/' && dt === 'i32') {
      this.fail('DL0303', `\`/\` on i32 values${this.where(span)}: use \`//\` for integer (floor) division, or cast to f32`, span, 'e.g. `a // b`, or `cast(a, f32) / cast(b, f32)`');
    }
    const x = C.cast(this.b, this.toTensor(l, ls, dt), dt);
    const y = C.cast(this.b, this.toTensor(r, rs, dt), dt);
    const name = BINARY_OPS[op]!;
    if (COMPARISONS.has(op) || op === 'and' || op === 'or') return C.binary(this.b, name, x, y);
    return C.binary(this.b, name, x, y);
  }

  /** Python semantics: a // b rounds toward −∞ and a % b takes the sign of b. */
  private floorDivMod(op: '//' | '%', l: Value, r: Value, ls: Span, rs: Span, span: Span): Node {
    const dt = this.commonDType(op, l, r, span);
    const [x, y] = C.broadcastAll(this.b, [C.cast(this.b, this.toTensor(l, ls, dt), dt), C.cast(this.b, this.toTensor(r, rs, dt), dt)]);
    const b = this.b;
    if (dt === 'f32') {
      const q = b.add('floor', [b.add('div', [x!, y!])]);
      return op === '//' ? q : b.add('sub', [x!, b.add('mul', [y!, q])]);
    }
    // Integers: truncated division, corrected where the remainder's sign differs from b's
    // (never for b = 0: x // 0 = 0 and x % 0 = x, so x = (x // b)·b + x % b still holds).
    const q0 = b.add('div', [x!, y!]);
    const r0 = b.add('sub', [x!, b.add('mul', [q0, y!])]);
    const zero = C.fullLike(b, 0, r0);
    const signs = b.add('and', [b.add('ne', [r0, zero]), b.add('ne', [b.add('lt', [r0, zero]), b.add('lt', [y!, zero])])]);
    const fix = b.add('and', [signs, b.add('ne', [y!, zero])]);
    if (op === '//') return b.add('sub', [q0, C.cast(b, fix, dt)]);
    return b.add('add', [r0, C.select(b, fix, y!, zero)]);
  }

  /**
   * x ** y. A small whole exponent is repeated multiplication (exact, differentiable for any
   * sign of x, and it works on i32); anything else is `pow`, which needs f32 and, on WebGPU, x > 0.
   */
  private power(l: Value, r: Value, ls: Span, rs: Span): Node {
    const n = isNumber(r) && Number.isInteger(r.v) && Math.abs(r.v) <= 16 ? r.v : undefined;
    if (n !== undefined && n >= 0) {
      const x = this.toTensor(l, ls, isNumber(l) && l.k === 'float' ? 'f32' : undefined);
      if (x.type.dtype === 'bool') this.fail('DL0303', `\`**\` needs a number, got ${formatType(x.type)}`, ls);
      if (n === 0) return C.fullLike(this.b, 1, x);
      let result: Node | undefined;
      let base = x;
      for (let e = n; e > 0; e >>= 1) {
        if (e & 1) result = result ? this.b.add('mul', [result, base]) : base;
        if (e > 1) base = this.b.add('mul', [base, base]);
      }
      return result!;
    }
    const x = this.toTensor(l, ls, 'f32');
    if (x.type.dtype !== 'f32') this.fail('DL0303', `\`**\` with this exponent needs an f32 base, got ${formatType(x.type)}`, ls, 'convert with `cast(x, f32)`');
    if (n !== undefined) {
      const pos = this.power(l, int(-n), ls, rs);
      return C.binary(this.b, 'div', C.fullLike(this.b, 1, pos), pos);
    }
    return C.binary(this.b, 'pow', x, this.toTensor(r, rs, 'f32'));
  }

  // ---- conversions ----------------------------------------------------------------------

  /** A value as a tensor: numbers and nested lists become constants, lists of tensors stack. */
  toTensor(v: Value, s: Span, dtype?: DType): Node {
    switch (v.k) {
      case 'tensor':
        return v.node;
      case 'int':
        if ((dtype ?? 'i32') === 'i32') this.checkI32(v.v, s);
        return this.at(s, () => C.scalarConst(this.b, v.v, dtype ?? 'i32'));
      case 'float':
        if (dtype === 'i32') this.fail('DL0303', `expected an integer, got the number ${v.v}`, s, 'use an integer literal, or `cast` the tensor to f32');
        return this.at(s, () => C.scalarConst(this.b, v.v, dtype === 'bool' ? 'f32' : (dtype ?? 'f32')));
      case 'bool':
        return this.at(s, () => C.scalarConst(this.b, v.v ? 1 : 0, 'bool'));
      case 'list':
        return this.at(s, () => this.listToTensor(v.items, s, dtype));
      case 'poison':
        throw new PoisonSignal();
      default:
        return this.fail('DL0207', `expected a tensor, got ${describe(v)}`, s);
    }
  }

  private listToTensor(items: readonly Value[], s: Span, dtype?: DType): Node {
    if (items.length === 0) this.fail('DL0311', 'an empty list cannot be a tensor', s);
    const flat: number[] = [];
    let shape: number[] | undefined;
    let kind: DType = 'i32';
    const walk = (v: Value, depth: number, dims: number[]): boolean => {
      if (isNumber(v) || v.k === 'bool') {
        if (v.k === 'float') kind = 'f32';
        if (v.k === 'bool' && kind === 'i32' && flat.length === 0) kind = 'bool';
        flat.push(v.k === 'bool' ? (v.v ? 1 : 0) : v.v);
        if (!shape) shape = dims.slice();
        else if (shape.length !== dims.length) return false;
        return true;
      }
      if (v.k === 'list') {
        const here = [...dims, v.items.length];
        if (shape && (shape[depth] !== v.items.length)) return false;
        for (const it of v.items) if (!walk(it, depth + 1, here)) return false;
        return true;
      }
      return false;
    };
    const allStatic = items.every((it) => isNumber(it) || it.k === 'bool' || it.k === 'list');
    if (allStatic) {
      const ok = walk({ k: 'list', items }, 0, []);
      if (!ok || !shape) this.fail('DL0311', 'this list is not a rectangular array of numbers', s);
      const dt = dtype ?? kind;
      if (dt === 'i32' && (kind as DType) === 'f32') this.fail('DL0303', 'this list holds non-integer numbers but an i32 tensor is needed', s, 'write integers, or cast the other operand to f32');
      if (dt === 'i32') for (const n of flat) this.checkI32(n, s);
      return this.b.add('constant', [], { dtype: dt, shape: shape!, value: flat });
    }
    // A list containing tensors: stack them along a new first axis.
    const ts = items.map((it) => this.toTensor(it, s, dtype));
    return C.stack(this.b, ts, 0);
  }

  /** An integer that becomes an i32 tensor element must fit in 32 bits (it would wrap silently). */
  checkI32(n: number, s: Span): void {
    if (n >= -(2 ** 31) && n < 2 ** 31) return;
    const literal = /^[-+]?\s*\d+$/.test(spanText(s));
    this.fail(
      literal ? 'DL0103' : 'DL0313',
      `${literal ? 'the integer literal' : 'the compile-time integer'} ${n}${literal ? '' : this.where(s)} is out of range for i32 (−2147483648 to 2147483647)`,
      s,
      'for a large f32 constant write a float (`3.0e9`); i32 tensors hold 32-bit integers',
    );
  }

  staticInt(v: Value, s: Span, what: string): number {
    if (v.k === 'poison') throw new PoisonSignal();
    if ((v.k === 'int' || v.k === 'float') && Number.isInteger(v.v) && !Number.isSafeInteger(v.v)) {
      this.fail('DL0313', `${what} is too large (${v.v})`, s);
    }
    if (v.k === 'int') return v.v;
    if (v.k === 'float' && Number.isInteger(v.v)) return v.v;
    return this.fail('DL0310', `${what} must be an integer known at compile time, got ${describe(v)}`, s);
  }

  staticNumber(v: Value, s: Span, what: string): number {
    if (v.k === 'poison') throw new PoisonSignal();
    if (isNumber(v)) return v.v;
    return this.fail('DL0310', `${what} must be a number known at compile time, got ${describe(v)}`, s);
  }

  staticBool(v: Value, s: Span, what: string): boolean {
    if (v.k === 'poison') throw new PoisonSignal();
    if (v.k === 'bool') return v.v;
    return this.fail('DL0310', `${what} must be \`true\` or \`false\` known at compile time, got ${describe(v)}`, s);
  }

  staticInts(v: Value, s: Span, what: string): number[] {
    if (v.k === 'poison') throw new PoisonSignal();
    if (v.k === 'int') return [v.v];
    if (v.k === 'list' || v.k === 'tuple') return v.items.map((i) => this.staticInt(i, s, what));
    return this.fail('DL0310', `${what} must be a list of integers known at compile time, got ${describe(v)}`, s);
  }

  // ---- indexing and members -------------------------------------------------------------

  private index(e: A.Expr & { kind: 'index' }, target: Value, sc: Scope): Value {
    if (target.k === 'poison') return POISON;
    if (target.k === 'list' || target.k === 'tuple') {
      if (e.items.length !== 1 || e.items[0]!.kind === 'ellipsis') this.fail('DL0311', 'a list takes one index or slice', e.span);
      const it = e.items[0]!;
      const n = target.items.length;
      if (it.kind === 'expr') {
        const i = this.staticInt(this.eval(it.expr, sc), it.span, 'a list index');
        const j = i < 0 ? i + n : i;
        if (j < 0 || j >= n) this.fail('DL0309', `index ${i} is out of range for a list of ${n}`, it.span);
        return target.items[j]!;
      }
      const [a, z, st] = this.sliceBounds(it as A.IndexItem & { kind: 'slice' }, n, sc);
      const out: Value[] = [];
      for (let i = a; i < z; i += st) out.push(target.items[i]!);
      return { k: target.k, items: out };
    }
    const x = this.toTensor(target, e.target.span);
    const rank = x.type.shape.length;
    const ell = e.items.filter((i) => i.kind === 'ellipsis').length;
    if (ell > 1) this.fail('DL0311', 'only one `...` is allowed in an index', e.span);
    const explicit = e.items.length - ell;
    if (explicit > rank) {
      this.fail('DL0309', `too many indices: ${formatType(x.type)} has ${rank} ${rank === 1 ? 'axis' : 'axes'} but ${explicit} are indexed`, e.span);
    }
    // Expand `...` to the axes not named explicitly.
    const items: (A.IndexItem | undefined)[] = [];
    for (const it of e.items) {
      if (it.kind === 'ellipsis') for (let k = 0; k < rank - explicit; k++) items.push(undefined);
      else items.push(it);
    }
    while (items.length < rank) items.push(undefined);
    const start: number[] = [];
    const stop: number[] = [];
    const step: number[] = [];
    const drop: number[] = [];
    let gatherAxis = -1;
    let gatherIdx: Node | undefined;
    items.forEach((it, axis) => {
      const dim = x.type.shape[axis]!;
      if (!it) {
        start.push(0);
        stop.push(dim);
        step.push(1);
        return;
      }
      if (it.kind === 'slice') {
        const [a, z, st] = this.sliceBounds(it, dim, sc);
        if (z <= a) {
          const shape = x.type.shape.map((d, i) => (i === axis ? 0 : d));
          this.fail(
            'DL0315',
            `the slice \`${spanText(it.span)}\` selects nothing from axis ${axis} of ${formatType(x.type)} (size ${dim})${this.where(e.span)}: the result would be ${formatType({ dtype: x.type.dtype, shape })}`,
            it.span,
            EMPTY_TENSOR_HELP,
          );
        }
        start.push(a);
        stop.push(Math.max(a, z));
        step.push(st);
        return;
      }
      const iv = this.eval((it as A.IndexItem & { kind: 'expr' }).expr, sc);
      if (iv.k === 'poison') throw new PoisonSignal();
      if (iv.k === 'int') {
        const j = normAxis(iv.v, dim);
        if (j === undefined) this.fail('DL0309', `index ${iv.v} is out of range for axis ${axis} of ${formatType(x.type)}`, it.span, `valid indices are ${-dim} to ${dim - 1}`);
        start.push(j!);
        stop.push(j! + 1);
        step.push(1);
        drop.push(axis);
        return;
      }
      if (gatherIdx) this.fail('DL0311', 'only one tensor index is allowed per subscript', it.span, 'index one axis at a time');
      const idx = this.toTensor(iv, it.span, 'i32');
      if (idx.type.dtype !== 'i32') this.fail('DL0303', `a tensor index must be i32, got ${formatType(idx.type)}`, it.span, 'convert with `cast(i, i32)`');
      gatherIdx = idx;
      gatherAxis = axis;
      start.push(0);
      stop.push(dim);
      step.push(1);
    });
    return this.at(e.span, () => {
      let y = x;
      const trivial = start.every((a, i) => a === 0 && stop[i] === x.type.shape[i] && step[i] === 1);
      if (!trivial) y = this.b.add('slice', [y], { start, stop, step });
      if (drop.length) y = C.reshape(this.b, y, y.type.shape.filter((_, i) => !drop.includes(i)));
      if (gatherIdx) {
        const axis = gatherAxis - drop.filter((d) => d < gatherAxis).length;
        y = this.b.add('gather', [y, gatherIdx], { axis });
      }
      return tensor(y);
    });
  }

  /** NumPy slice bounds (negative indices count from the end; out-of-range bounds clamp). */
  private sliceBounds(it: A.IndexItem & { kind: 'slice' }, dim: number, sc: Scope): [number, number, number] {
    const get = (ex: A.Expr | undefined, what: string) => {
      if (!ex) return undefined;
      const v = this.eval(ex, sc);
      if (v.k === 'poison') throw new PoisonSignal();
      return this.staticInt(v, ex.span, what);
    };
    const st = get(it.step, 'a slice step') ?? 1;
    if (st < 1) this.fail('DL0311', `slice steps must be positive, got ${st}`, it.step?.span ?? it.span, 'reverse with `reverse(x, axis)` first');
    const norm = (v: number | undefined, d: number) => (v === undefined ? d : Math.min(Math.max(v < 0 ? v + dim : v, 0), dim));
    const a = norm(get(it.start, 'a slice start'), 0);
    const z = norm(get(it.stop, 'a slice end'), dim);
    return [a, Math.max(a, z), st];
  }

  private member(e: A.Expr & { kind: 'member' }, target: Value): Value {
    const name = e.name.name;
    if (target.k === 'poison') return POISON;
    if (target.k === 'tensor') {
      const t = target.node.type;
      switch (name) {
        case 'T':
          return this.at(e.span, () => tensor(C.transposeLast2(this.b, target.node)));
        case 'shape':
          return { k: 'list', items: t.shape.map(int) };
        case 'dtype':
          return { k: 'dtype', v: t.dtype };
        case 'rank':
        case 'ndim':
          return int(t.shape.length);
        default:
          this.fail('DL0208', `a tensor has no member \`${name}\``, e.name.span, didYouMean(name, ['T', 'shape', 'dtype', 'rank', 'ndim']) ?? 'tensors have `.T`, `.shape`, `.dtype` and `.rank`');
      }
    }
    if (target.k === 'list' && (name === 'length' || name === 'len')) return int(target.items.length);
    if ((isNumber(target) || target.k === 'bool' || target.k === 'list') && ['dtype', 'shape', 'rank', 'ndim', 'T'].includes(name)) {
      // A literal answers as the tensor it would become.
      return this.member(e, tensor(this.toTensor(target, e.target.span)));
    }
    if (target.k === 'record') {
      const f = target.fields.get(name);
      if (!f) this.fail('DL0208', `${describe(target)} has no member \`${name}\``, e.name.span, didYouMean(name, [...target.fields.keys()]));
      return f!;
    }
    if (target.k === 'instance') {
      const bnd = target.inst.scope.local(name);
      if (!bnd) {
        const names = this.memberNames(target.inst);
        this.fail('DL0208', `${describe(target)} has no member \`${name}\``, e.name.span, didYouMean(name, names) ?? (names.length ? `its members are ${names.map((n) => `\`${n}\``).join(', ')}` : undefined));
      }
      return bnd!.value;
    }
    if (target.k === 'model') {
      this.fail('DL0207', `\`${target.decl.name.name}\` is a model, not a layer`, e.target.span, `create a layer first, e.g. \`layer l = ${target.decl.name.name}(…)\``);
    }
    return this.fail('DL0208', `${describe(target)} has no member \`${name}\``, e.name.span);
  }

  private memberNames(inst: Instance): string[] {
    const out: string[] = [];
    for (const m of inst.decl.members) out.push(m.name.name);
    for (const p of inst.decl.params) out.push(p.name.name);
    return out;
  }

  // ---- calls ----------------------------------------------------------------------------

  private callExpr(e: A.Expr & { kind: 'call' }, sc: Scope): Value {
    const callee = this.eval(e.callee, sc);
    const args: ArgValue[] = e.args.map((a) => ({
      ...(a.name ? { name: a.name.name, nameSpan: a.name.span } : {}),
      value: this.eval(a.value, sc),
      span: a.value.span,
    }));
    if (callee.k === 'poison') return POISON;
    // A built-in decides for itself how to treat invalid arguments (most return poison).
    if (callee.k !== 'builtin' && args.some((a) => a.value.k === 'poison')) return POISON;
    return this.callValue(callee, args, e.span, e.callee.span);
  }

  callValue(callee: Value, args: ArgValue[], span: Span, calleeSpan: Span): Value {
    switch (callee.k) {
      case 'fn':
        return this.callFn(callee, args, span);
      case 'builtin':
        if (args.some((a) => a.value.k === 'poison')) return POISON;
        return this.at(span, () => callee.def.call(this, args, span));
      case 'model': {
        const path = this.pendingPath;
        if (path === undefined) {
          this.fail(
            'DL0210',
            `a model can only be created in a \`layer\` declaration or a top-level \`let\``,
            span,
            `declare it as a member: \`layer l = ${callee.decl.name.name}(…)\``,
          );
        }
        this.pendingPath = undefined;
        return { k: 'instance', inst: this.instantiate(callee.decl, callee.scope, args, span, path!) };
      }
      case 'instance': {
        const fwd = callee.inst.scope.local('forward');
        if (!fwd || fwd.value.k !== 'fn') {
          this.fail('DL0208', `${describe(callee)} has no \`forward\` function to call`, calleeSpan, 'call one of its functions by name, e.g. `layer.fn(x)`');
        }
        return this.callFn(fwd!.value as Value & { k: 'fn' }, args, span);
      }
      case 'poison':
        return POISON;
      default:
        return this.fail('DL0207', `${describe(callee)} is not a function`, calleeSpan);
    }
  }

  /**
   * Matches call arguments to parameter names: positional first, then by keyword.
   * Returns one entry per parameter (undefined where not given).
   */
  bindArgs(params: readonly string[], args: readonly ArgValue[], callee: string, span: Span): (ArgValue | undefined)[] {
    const out: (ArgValue | undefined)[] = new Array(params.length).fill(undefined);
    let pos = 0;
    let keyword: ArgValue | undefined;
    for (const a of args) {
      if (a.name === undefined && keyword) {
        this.fail('DL0204', `a positional argument follows the keyword argument \`${keyword.name}=\``, a.span, `pass it by name too, or before \`${keyword.name}=\`${keyword.value.k === 'tensor' || keyword.value.k === 'bool' ? ' (to compare values, write `==`)' : ''}`);
      }
      if (a.name !== undefined) keyword ??= a;
      if (a.name === undefined) {
        if (pos >= params.length) {
          this.fail('DL0203', `\`${callee}\` takes ${params.length} argument${params.length === 1 ? '' : 's'} but ${args.filter((x) => !x.name).length} were given`, a.span);
        }
        out[pos++] = a;
        continue;
      }
      const i = params.indexOf(a.name);
      if (i < 0) {
        this.fail('DL0204', `\`${callee}\` has no parameter \`${a.name}\``, a.nameSpan ?? a.span, didYouMean(a.name, params) ?? `its parameters are ${params.map((p) => `\`${p}\``).join(', ')}`);
      }
      if (out[i]) this.fail('DL0204', `argument \`${a.name}\` is given twice`, a.nameSpan ?? a.span);
      out[i] = a;
    }
    return out;
  }

  callFn(fn: Value & { k: 'fn' }, args: ArgValue[], span: Span): Value {
    const d = fn.decl;
    const name = fn.owner ? `${fn.owner.decl.name.name}.${d.name.name}` : d.name.name;
    if (d.broken) return POISON;
    if (this.stack.some((f) => f.decl === d)) {
      this.fail('DL0205', `\`${name}\` calls itself: functions are inlined, so recursion cannot be compiled`, span, 'write the repetition as a `for` loop');
    }
    if (this.stack.length > 200) this.fail('DL0104', 'calls are nested too deeply', span);
    const bound = this.bindArgs(
      d.params.map((p) => p.name.name),
      args,
      name,
      span,
    );
    const sc = new Scope(fn.scope, true);
    const env = new DimEnv();
    env.deferred = [];
    this.stack.push({ name, decl: d, callSpan: span });
    try {
      d.params.forEach((p, i) => {
        const a = bound[i];
        let v: Value;
        if (a) v = a.value;
        else if (p.default) v = this.eval(p.default, sc);
        else this.fail('DL0203', `missing argument \`${p.name.name}\` in the call to \`${name}\``, span);
        if (v!.k === 'poison') throw new PoisonSignal();
        if (p.type) v = this.types.match(v!, p.type, env, sc, `argument \`${p.name.name}\` of \`${name}\``, a?.span ?? span);
        sc.define(p.name.name, v!, 'arg');
      });
      this.types.finishSignature(env);
      return this.callBody(d, sc, name, env).value;
    } catch (err) {
      if (err instanceof PoisonSignal) return POISON;
      throw err;
    } finally {
      this.stack.pop();
    }
  }

  private lastReturn: A.Expr | undefined;

  /** Runs a function body in a scope holding its arguments; checks the declared result type. */
  callBody(d: A.FnDecl, sc: Scope, name: string, env: DimEnv): { value: Value; returnExpr?: A.Expr } {
    this.lastReturn = undefined;
    const result = this.execBlock(d.body, sc);
    const ret = this.lastReturn as A.Expr | undefined;
    if (result === undefined) {
      this.fail('DL0314', `\`${name}\` ends without returning a value`, d.name.span, 'add a `return` statement');
    }
    if (result!.k === 'poison' || !d.result) return { value: result!, ...(ret ? { returnExpr: ret } : {}) };
    const value = this.types.match(result!, d.result, env, sc, `the result of \`${name}\``, ret?.span ?? d.name.span, 'DL0306');
    return { value, ...(ret ? { returnExpr: ret } : {}) };
  }

  // ---- statements -----------------------------------------------------------------------

  /** Runs statements; returns the value of a `return`, if one ran. */
  execBlock(stmts: readonly A.Stmt[], sc: Scope): Value | undefined {
    for (const s of stmts) {
      if (--this.fuel < 0) {
        this.fail('DL0312', 'the program is too large to unroll: its loops and calls run more than 2,000,000 statements', s.span, 'use fewer loop iterations, or fewer nested loops');
      }
      let r: Value | undefined;
      try {
        r = this.exec(s, sc);
      } catch (err) {
        if (err instanceof DiagnosticError && err.diagnostic.code === 'DL0312') throw err;
        if (err instanceof PoisonSignal) return POISON;
        this.reportCaught(err, s.span);
        continue;
      }
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private exec(s: A.Stmt, sc: Scope): Value | undefined {
    switch (s.kind) {
      case 'let': {
        // The initializer sees the outer binding (`let sum = sum(x)`); whatever goes wrong
        // after it, the names exist afterwards (as invalid values).
        let v = this.eval(s.value, sc);
        for (const n of s.names) if (!sc.has(n.name)) sc.define(n.name, POISON, 'let');
        if (s.destructure) {
          if (v.k === 'poison') {
            for (const n of s.names) sc.define(n.name, POISON, 'let');
            return undefined;
          }
          if (v.k !== 'tuple' && v.k !== 'list') this.fail('DL0207', `cannot unpack ${describe(v)} into ${s.names.length} names`, s.value.span);
          const items = (v as Value & { k: 'tuple' }).items;
          if (items.length !== s.names.length) {
            this.fail('DL0203', `cannot unpack ${items.length} values into ${s.names.length} names`, s.value.span);
          }
          s.names.forEach((n, i) => sc.define(n.name, items[i]!, 'let'));
          return undefined;
        }
        const name = s.names[0];
        if (!name) return undefined;
        if (s.type && v.k !== 'poison') v = this.types.match(v, s.type, new DimEnv(), sc, `\`${name.name}\``, s.value.span);
        sc.define(name.name, v, 'let');
        return undefined;
      }
      case 'assign': {
        if (s.targets) return this.assignTuple(s, s.targets, sc);
        if (s.target.name && this.assignState(s, sc)) return undefined;
        const bnd = this.assignable(s.target, sc);
        let v = this.eval(s.value, sc);
        if (s.op !== '=' && v.k !== 'poison' && bnd!.value.k !== 'poison') {
          const op = s.op[0] as A.BinaryOp;
          const fake: A.Expr & { kind: 'binary' } = { kind: 'binary', op, left: { kind: 'name', name: s.target.name, span: s.target.span }, right: s.value, span: s.span };
          v = this.binary(fake, bnd!.value, v);
        }
        bnd!.value = v;
        return undefined;
      }
      case 'for': {
        const startV = this.eval(s.start, sc);
        if (startV.k === 'poison') return POISON;
        let items: Value[];
        if (s.end) {
          const endV = this.eval(s.end, sc);
          if (endV.k === 'poison') return POISON;
          const a = this.staticInt(startV, s.start.span, 'a loop bound');
          const z = this.staticInt(endV, s.end.span, 'a loop bound');
          if (wantsScan(this.loopMode, z - a) && lowerLoopAsScan(this, s, sc, a, z)) return undefined;
          if (z - a > FUEL) this.fail('DL0312', `a loop of ${z - a} iterations is too long to unroll`, s.span, 'use fewer iterations');
          items = [];
          for (let i = a; i < z; i++) items.push(int(i));
        } else if (startV.k === 'list' || startV.k === 'tuple') {
          items = [...startV.items];
        } else {
          return this.fail('DL0310', `a \`for\` loop runs over \`a..b\` or a list of layers, not ${describe(startV)}`, s.start.span, 'write `for i in 0..n { … }`');
        }
        for (const it of items) {
          const inner = new Scope(sc);
          inner.define(s.variable.name, it, 'loop');
          const r = this.execBlock(s.body, inner);
          if (r !== undefined) return r;
        }
        return undefined;
      }
      case 'if': {
        const c = this.eval(s.cond, sc);
        if (c.k === 'poison') return POISON;
        if (c.k === 'tensor') {
          this.fail('DL0310', '`if` needs a condition known at compile time, but this is a tensor', s.cond.span, 'to choose between tensors elementwise, use `where(cond, a, b)`');
        }
        const branch = this.staticBool(c, s.cond.span, 'an `if` condition') ? s.then : s.otherwise;
        return branch ? this.execBlock(branch, new Scope(sc)) : undefined;
      }
      case 'return': {
        const v = this.eval(s.value, sc);
        this.lastReturn = s.value;
        return v;
      }
      case 'expr': {
        const v = this.eval(s.expr, sc);
        if (v.k !== 'poison') this.fail('DL0314', 'this value is computed but never used', s.expr.span, 'bind it with `let`, or `return` it');
        return undefined;
      }
    }
  }

  /**
   * `running_mean = …` where `running_mean` is a `state` member: in a train step, the state holds the
   * last value assigned after the step, and later reads in the step see it; DL0317 outside a train step.
   * False when the name is not a state member.
   */
  private assignState(s: A.Stmt & { kind: 'assign' }, sc: Scope): boolean {
    const bnd = sc.assignable(s.target.name) ? undefined : sc.lookup(s.target.name);
    const st = bnd && this.stateBindings.get(bnd);
    if (!bnd || !st) return false;
    if (!this.training) {
      this.fail('DL0317', `\`${s.target.name}\` is state${st.name === s.target.name ? '' : ` (\`${st.name}\`)`}: it can be assigned only while lowering a \`train\` step`, s.target.span, 'guard the update with `if training() { … }`');
    }
    let v = this.eval(s.value, sc);
    if (v.k === 'poison' || bnd.value.k === 'poison') return true;
    if (s.op !== '=') {
      const op = s.op[0] as A.BinaryOp;
      const fake: A.Expr & { kind: 'binary' } = { kind: 'binary', op, left: { kind: 'name', name: s.target.name, span: s.target.span }, right: s.value, span: s.span };
      v = this.binary(fake, bnd.value, v);
    }
    const node = this.toTensor(v, s.value.span, st.node.type.dtype);
    const want = st.node.type;
    if (node.type.dtype !== want.dtype || node.type.shape.length !== want.shape.length || node.type.shape.some((d, i) => d !== want.shape[i])) {
      this.fail('DL0306', `the state \`${st.name}\` is ${formatType(want)}, but this value is ${formatType(node.type)}`, s.value.span);
    }
    bnd.value = tensor(node);
    this.stateWrites.set(st.name, node);
    return true;
  }

  /** The `let` binding `name = …` updates; DL0206 for anything else. */
  private assignable(target: A.Ident, sc: Scope): { value: Value } {
    if (!target.name) this.fail('DL0206', 'only a name can be assigned to', target.span, 'assign to a name, or to a tuple of names: `(h, c) = cell(x, h, c)`');
    const bnd = sc.assignable(target.name);
    if (!bnd || bnd.kind !== 'let') {
      const other = sc.lookup(target.name);
      // Later uses of the name stay quiet: this statement already explains the problem.
      if (!other) sc.define(target.name, POISON, 'let');
      const why = other ? `\`${target.name}\` is not a \`let\` variable of this function` : `\`${target.name}\` is not declared`;
      this.fail('DL0206', `cannot assign to \`${target.name}\`: ${why}`, target.span, other ? undefined : `declare it first: \`let ${target.name} = …\``);
    }
    return bnd!;
  }

  /** `(h, c) = cell(x, h, c)`: unpacks a tuple or list into existing `let` variables. */
  private assignTuple(s: A.Stmt & { kind: 'assign' }, targets: readonly A.Ident[], sc: Scope): undefined {
    if (s.op !== '=') this.fail('DL0206', `\`${s.op}\` cannot update a tuple of names`, s.target.span, 'update each name on its own, e.g. `h += dh`');
    const seen = new Set<string>();
    const bnds = targets.map((t) => {
      if (t.name && seen.has(t.name)) this.fail('DL0206', `\`${t.name}\` is assigned twice in one assignment`, t.span);
      seen.add(t.name);
      return this.assignable(t, sc);
    });
    const v = this.eval(s.value, sc);
    if (v.k === 'poison') {
      for (const b of bnds) b.value = POISON;
      return undefined;
    }
    if (v.k !== 'tuple' && v.k !== 'list') this.fail('DL0207', `cannot unpack ${describe(v)} into ${targets.length} names`, s.value.span);
    const items = (v as Value & { k: 'tuple' }).items;
    if (items.length !== targets.length) this.fail('DL0203', `cannot unpack ${items.length} values into ${targets.length} names`, s.value.span);
    bnds.forEach((b, i) => (b.value = items[i]!));
    return undefined;
  }

  // ---- models ---------------------------------------------------------------------------

  private topInstance(decl: A.InstanceDecl, sc: Scope): Instance {
    const have = this.topInstances.get(decl);
    if (have) return have;
    // Parameters of a top-level instance are named after it (`net.l1.W`), however it is reached.
    const path = decl.name.name;
    const v = decl.value;
    if (decl.broken || v.kind !== 'call') {
      this.fail('DL0210', `\`${decl.name.name}\` must be created by calling a model, e.g. \`let net = MLP(…)\``, v.span);
    }
    const callee = this.eval((v as A.Expr & { kind: 'call' }).callee, sc);
    if (callee.k !== 'model') {
      if (callee.k === 'poison') throw new PoisonSignal();
      this.fail('DL0210', `a top-level \`let\` creates a model instance, but ${describe(callee)} is not a model`, v.span);
    }
    const call = v as A.Expr & { kind: 'call' };
    const args: ArgValue[] = call.args.map((a) => ({
      ...(a.name ? { name: a.name.name, nameSpan: a.name.span } : {}),
      value: this.eval(a.value, sc),
      span: a.value.span,
    }));
    if (args.some((a) => a.value.k === 'poison')) throw new PoisonSignal();
    const m = callee as Value & { k: 'model' };
    const inst = this.instantiate(m.decl, m.scope, args, v.span, path);
    this.topInstances.set(decl, inst);
    return inst;
  }

  instantiate(decl: A.ModelDecl, defScope: Scope, args: ArgValue[], span: Span, path: string): Instance {
    const name = decl.name.name;
    if (decl.broken) throw new PoisonSignal();
    if (this.building.includes(decl)) {
      this.fail('DL0205', `model \`${name}\` contains itself, so it would never end`, span, 'a model cannot have a layer of its own kind (directly or through other layers)');
    }
    const bound = this.bindArgs(
      decl.params.map((p) => p.name.name),
      args,
      name,
      span,
    );
    const sc = new Scope(defScope);
    const inst: Instance = { decl, path, scope: sc, params: new Map() };
    sc.define('self', { k: 'instance', inst }, 'member');
    this.building.push(decl);
    // A frame, so errors inside a standard-library model point at the user's layer.
    this.stack.push({ name, decl, callSpan: span });
    try {
      this.instantiateMembers(inst, decl, name, bound, span);
    } finally {
      this.stack.pop();
      this.building.pop();
    }
    return inst;
  }

  /** Models being instantiated (to report a model that contains itself). */
  private readonly building: A.ModelDecl[] = [];

  private instantiateMembers(inst: Instance, decl: A.ModelDecl, name: string, bound: (ArgValue | undefined)[], span: Span): void {
    const sc = inst.scope;
    const env = new DimEnv();
    decl.params.forEach((p, i) => {
      const a = bound[i];
      let v: Value;
      if (a) v = a.value;
      else if (p.default) v = this.eval(p.default, sc);
      else this.fail('DL0203', `missing argument \`${p.name.name}\` for model \`${name}\``, span);
      if (v!.k === 'poison') throw new PoisonSignal();
      if (p.type) v = this.types.match(v!, p.type, env, sc, `argument \`${p.name.name}\` of \`${name}\``, a?.span ?? span);
      sc.define(p.name.name, v!, 'arg');
    });
    const seen = new Map<string, Span>(decl.params.map((p) => [p.name.name, p.name.span]));
    for (const m of decl.members) {
      const mname = m.name.name;
      if (!mname) continue;
      const prev = seen.get(mname);
      if (prev) {
        this.report(error('DL0202', `\`${mname}\` is defined twice in model \`${name}\``, { span: m.name.span, notes: [`the first definition is at ${spanLocation(prev)}`] }));
        continue;
      }
      seen.set(mname, m.name.span);
      try {
        this.instantiateMember(inst, m);
      } catch (err) {
        this.reportCaught(err, m.span);
        sc.define(mname, POISON, 'member');
      }
    }
  }

  private instantiateMember(inst: Instance, m: A.ModelMember): void {
    const sc = inst.scope;
    const mname = m.name.name;
    switch (m.kind) {
      case 'const':
        sc.define(mname, this.constValue(m, sc), 'const');
        return;
      case 'fn':
        sc.define(mname, { k: 'fn', decl: m, scope: sc, owner: inst }, 'member');
        return;
      case 'param': {
        if (m.broken) {
          sc.define(mname, POISON, 'member');
          return;
        }
        const type = this.types.concreteTensorType(m.type, sc, `parameter \`${mname}\``);
        const init = this.initSpec(m.init, sc);
        const pname = memberPath(inst, mname);
        const node = this.at(m.span, () => this.root.add('param', [], { name: pname, dtype: type.dtype, shape: [...type.shape], init: { kind: init.kind, args: { ...init.args } } }));
        inst.params.set(mname, { member: m, name: pname, type, init, node });
        sc.define(mname, tensor(node), 'member');
        if (m.state) {
          this.stateNodes.add(node);
          this.stateBindings.set(sc.local(mname)!, { name: pname, node });
        }
        return;
      }
      case 'layer': {
        if (m.broken) {
          sc.define(mname, POISON, 'member');
          return;
        }
        const make = (path: string): Value => {
          if (m.value.kind !== 'call') {
            this.fail('DL0210', 'a layer must be created by calling a model, e.g. `layer l = Linear(4, 8)`', m.value.span);
          }
          this.pendingPath = path;
          try {
            const v = this.eval(m.value, sc);
            if (v.k !== 'instance' && v.k !== 'poison') {
              this.fail('DL0210', `a layer must be a model instance, but this is ${describe(v)}`, m.value.span);
            }
            return v;
          } finally {
            this.pendingPath = undefined;
          }
        };
        if (m.count) {
          const n = this.staticInt(this.eval(m.count, sc), m.count.span, 'the number of repeated layers');
          if (n < 0 || n > 10_000) this.fail('DL0311', `cannot repeat a layer ${n} times`, m.count.span);
          const items: Value[] = [];
          for (let i = 0; i < n; i++) items.push(make(memberPath(inst, `${mname}.${i}`)));
          sc.define(mname, { k: 'list', items }, 'member');
        } else {
          sc.define(mname, make(memberPath(inst, mname)), 'member');
        }
        return;
      }
    }
  }

  constValue(d: A.ConstDecl, sc: Scope): Value {
    if (d.broken) return POISON;
    let v = this.eval(d.value, sc);
    if (d.type && v.k !== 'poison') v = this.types.match(v, d.type, new DimEnv(), sc, `\`${d.name.name}\``, d.value.span);
    if (v.k === 'tensor') {
      this.fail('DL0310', `\`const ${d.name.name}\` must be known at compile time, but it is a tensor`, d.value.span, 'use a number, a list of numbers, or a `let` inside a function');
    }
    return v;
  }

  /** Reads `= glorot_uniform`, `= normal(0, 0.02)`, `= 0.1` in a `param` declaration. */
  private initSpec(e: A.Expr, sc: Scope): InitSpec {
    if (e.kind === 'num' || (e.kind === 'unary' && e.operand.kind === 'num')) {
      const v = this.staticNumber(this.eval(e, sc), e.span, 'an initial value');
      return { kind: 'constant', args: { value: v } };
    }
    const nameExpr = e.kind === 'call' ? e.callee : e;
    if (nameExpr.kind !== 'name') {
      this.fail('DL0209', 'expected an initializer such as `zeros`, `normal(0, 0.02)` or `glorot_uniform`', e.span);
    }
    const iname = (nameExpr as A.Expr & { kind: 'name' }).name;
    const def = findInitializer(iname);
    if (!def) {
      const all = [...INITIALIZERS.map((d) => d.name), ...Object.keys(INIT_ALIASES)];
      this.fail('DL0209', `unknown initializer \`${iname}\``, nameExpr.span, didYouMean(iname, all) ?? `initializers are ${INITIALIZERS.map((d) => `\`${d.name}\``).join(', ')}`);
    }
    const pnames = Object.keys(def!.params);
    const args: ArgValue[] = e.kind === 'call' ? e.args.map((a) => ({ ...(a.name ? { name: a.name.name, nameSpan: a.name.span } : {}), value: this.eval(a.value, sc), span: a.value.span })) : [];
    const bound = this.bindArgs(pnames, args, iname, e.span);
    const out: Record<string, number> = {};
    pnames.forEach((p, i) => {
      const a = bound[i];
      if (a) out[p] = this.staticNumber(a.value, a.span, `initializer argument \`${p}\``);
      else if (def!.params[p] === undefined) this.fail('DL0203', `initializer \`${iname}\` needs \`${p}\``, e.span);
    });
    return { kind: def!.name, args: out };
  }
}

export { BUILTINS };
