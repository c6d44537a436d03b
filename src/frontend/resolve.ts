/**
 * @file Name resolution over the whole file, without lowering: unknown names and unknown type
 * names in every function, including functions that cannot run on their own (generic ones, or
 * members of models that need arguments) and so are only checked when something calls them.
 * Lowering reports the same errors with the same words when it meets them; the diagnostics
 * collector keeps one of each.
 */
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';
import { spanText } from '../diagnostics/source.js';
import { didYouMean } from '../diagnostics/suggest.js';
import { isDType } from '../ir/types.js';
import { findInitializer } from '../runtime/init.js';
import type * as A from './ast.js';
import { BUILTINS } from './lower/builtins.js';
import { unknownNames } from './lower/dim-solve.js';
import type { ParseResult } from './parse.js';

const STATIC_TYPES = ['int', 'float', 'bool', 'dtype'];

class Names {
  private readonly names = new Set<string>();
  private readonly lets = new Set<string>();
  constructor(
    readonly parent?: Names,
    /** What this scope is inside a function: its top level, a loop body or an `if` branch. */
    readonly block?: 'function' | 'loop body' | 'branch',
  ) {}
  add(n: string, isLet = false): void {
    if (!n) return;
    this.names.add(n);
    if (isLet) this.lets.add(n);
    else this.lets.delete(n);
  }
  has(n: string): boolean {
    return this.names.has(n) || (this.parent?.has(n) ?? false);
  }
  hasLocal(n: string): boolean {
    return this.names.has(n);
  }
  /** Whether `n` is a `let` variable of an enclosing block of the same function. */
  outerLet(n: string): boolean {
    for (let s: Names | undefined = this.parent; s; s = s.parent) {
      if (s.names.has(n)) return s.lets.has(n);
      if (s.block === 'function' || !s.block) return false;
    }
    return false;
  }
  all(): string[] {
    return [...this.names, ...(this.parent?.all() ?? [])];
  }
}

class Resolver {
  readonly out: Diagnostic[] = [];

  unknown(name: string, span: A.Ident['span'], sc: Names): void {
    if (isDType(name) || findInitializer(name)) return;
    this.out.push(error('DL0201', `unknown name \`${name}\``, { span, help: didYouMean(name, [...sc.all(), 'f32', 'i32', 'bool']) }));
  }

  type(t: A.TypeExpr, sc: Names, dims: Names): void {
    switch (t.kind) {
      case 'tuple':
        for (const i of t.items) this.type(i, sc, dims);
        return;
      case 'list':
        this.type(t.elem, sc, dims);
        return;
      case 'named': {
        const n = t.name.name;
        const ok = t.dims === null ? isDType(n) || STATIC_TYPES.includes(n) : isDType(n);
        if (n && !ok) {
          this.out.push(error('DL0201', `unknown type \`${n}\``, { span: t.name.span, help: didYouMean(n, ['f32', 'i32', 'bool', ...STATIC_TYPES]) ?? 'tensor types are f32, i32 and bool; static types are int, float, bool and dtype' }));
        }
        // Plain names bind first; then an expression with one new name (`4 * H`) binds it too,
        // since lowering solves for it (see lower/dim-solve.ts).
        for (const d of t.dims ?? []) {
          if (d.kind === 'variadic') dims.add(d.name.name);
          else if (d.kind === 'expr' && d.expr.kind === 'name') dims.add(d.expr.name);
        }
        // Solving one expression can make another solvable (`f32[I + H, 4 * H]`).
        const rest = (t.dims ?? []).flatMap((d) => (d.kind === 'expr' && d.expr.kind !== 'name' ? [d.expr] : []));
        const fresh = (e: A.Expr) => unknownNames(e, (x) => dims.has(x) || isDType(x));
        while (rest.length) {
          const i = rest.findIndex((e) => fresh(e).length <= 1);
          const e = rest.splice(Math.max(i, 0), 1)[0]!;
          const names = fresh(e);
          if (i >= 0 && names.length === 1) dims.add(names[0]!);
          else this.expr(e, dims);
        }
      }
    }
  }

  expr(e: A.Expr, sc: Names): void {
    switch (e.kind) {
      case 'name':
        if (!sc.has(e.name)) this.unknown(e.name, e.span, sc);
        return;
      case 'unary':
        this.expr(e.operand, sc);
        return;
      case 'binary':
        this.expr(e.left, sc);
        this.expr(e.right, sc);
        return;
      case 'call':
        this.expr(e.callee, sc);
        for (const a of e.args) this.expr(a.value, sc);
        return;
      case 'index':
        this.expr(e.target, sc);
        for (const i of e.items) {
          if (i.kind === 'expr') this.expr(i.expr, sc);
          else if (i.kind === 'slice') for (const x of [i.start, i.stop, i.step]) if (x) this.expr(x, sc);
        }
        return;
      case 'member':
        this.expr(e.target, sc);
        return;
      case 'tuple':
      case 'list':
        for (const i of e.items) this.expr(i, sc);
        return;
      default:
        return;
    }
  }

  block(stmts: readonly A.Stmt[], sc: Names): void {
    for (const s of stmts) {
      switch (s.kind) {
        case 'let':
          this.expr(s.value, sc);
          if (s.type) this.type(s.type, sc, sc);
          this.shadowedUpdate(s, sc);
          for (const n of s.names) sc.add(n.name, true);
          break;
        case 'assign':
          this.expr(s.value, sc);
          // An undeclared target is DL0206 from lowering; either way the name exists afterwards.
          for (const t of [s.target, ...(s.targets ?? [])]) if (!sc.has(t.name)) sc.add(t.name);
          break;
        case 'for': {
          this.expr(s.start, sc);
          if (s.end) this.expr(s.end, sc);
          const inner = new Names(sc, 'loop body');
          inner.add(s.variable.name);
          this.block(s.body, inner);
          break;
        }
        case 'if':
          this.expr(s.cond, sc);
          this.block(s.then, new Names(sc, 'branch'));
          if (s.otherwise) this.block(s.otherwise, new Names(sc, 'branch'));
          break;
        case 'return':
          this.expr(s.value, sc);
          break;
        case 'expr':
          this.expr(s.expr, sc);
          break;
      }
    }
  }

  /**
   * `let h = h + x` inside a loop body or branch, where `h` is a `let` outside it: a new `h` that
   * dies with the block, so the outer one is never updated (DL0211, a warning).
   */
  private shadowedUpdate(s: A.Stmt & { kind: 'let' }, sc: Names): void {
    if (sc.block !== 'loop body' && sc.block !== 'branch') return;
    const read = unknownNames(s.value, () => false);
    const hit = s.names.filter((n) => !sc.hasLocal(n.name) && sc.outerLet(n.name) && read.includes(n.name));
    if (!hit.length) return;
    const n = hit[0]!.name;
    const lhs = s.destructure ? `(${s.names.map((x) => x.name).join(', ')})` : n;
    const rhs = spanText(s.value.span);
    const fix = `${lhs} = ${rhs.length <= 50 && !rhs.includes('\n') ? rhs : '…'}`;
    const place = sc.block === 'loop body' ? 'the loop body' : 'this branch';
    this.out.push(
      warning('DL0211', `this \`let\` makes a new \`${n}\` that exists only inside ${place}, so the \`${n}\` outside it is never updated`, {
        span: s.span,
        help: `to update the outer \`${n}\`, assign instead of declaring: \`${fix}\``,
      }),
    );
  }

  /** The plain dimension names of a type (`B`, `H` and `S` in `f32[B, 4 * H, *S]`). */
  private plainDims(t: A.TypeExpr, dims: Names): void {
    if (t.kind === 'tuple') t.items.forEach((i) => this.plainDims(i, dims));
    else if (t.kind === 'list') this.plainDims(t.elem, dims);
    else for (const d of t.dims ?? []) {
      if (d.kind === 'variadic') dims.add(d.name.name);
      else if (d.kind === 'expr' && d.expr.kind === 'name' && !dims.has(d.expr.name)) dims.add(d.expr.name);
    }
  }

  fn(d: A.FnDecl, outer: Names): void {
    if (d.broken) return;
    const sc = new Names(outer, 'function');
    // Dimension expressions may use names bound by any parameter of the signature (lowering
    // checks them once all parameters are matched).
    for (const p of d.params) if (p.type) this.plainDims(p.type, sc);
    for (const p of d.params) {
      if (p.default) this.expr(p.default, sc);
      if (p.type) this.type(p.type, sc, sc);
      sc.add(p.name.name);
    }
    if (d.result) this.type(d.result, sc, sc);
    this.block(d.body, sc);
  }

  model(m: A.ModelDecl, global: Names): void {
    if (m.broken) return;
    const sc = new Names(global);
    sc.add('self');
    for (const p of m.params) {
      if (p.default) this.expr(p.default, sc);
      sc.add(p.name.name);
    }
    for (const mem of m.members) sc.add(mem.name.name);
    for (const mem of m.members) {
      if (mem.broken) continue;
      if (mem.kind === 'fn') this.fn(mem, sc);
      else if (mem.kind === 'const') this.expr(mem.value, sc);
      else if (mem.kind === 'layer') {
        if (mem.count) this.expr(mem.count, sc);
        this.expr(mem.value, sc);
      } else this.type(mem.type, sc, new Names(sc));
    }
  }
}

/** Unknown names and type names anywhere in the user's file. */
export function resolveNames(user: ParseResult, std: ParseResult): Diagnostic[] {
  const global = new Names();
  for (const b of BUILTINS.keys()) global.add(b);
  // A `train` declaration names a training step, not a value: its fields are checked when it is
  // lowered (lower/train.ts), and its name is not visible in expressions.
  for (const d of std.program.decls) if (d.kind !== 'train') global.add(d.name.name);
  for (const d of user.program.decls) if (d.kind !== 'train') global.add(d.name.name);
  const r = new Resolver();
  for (const d of user.program.decls) {
    if (d.broken || d.kind === 'train') continue;
    try {
      if (d.kind === 'fn') r.fn(d, global);
      else if (d.kind === 'model') r.model(d, global);
      else r.expr(d.value, global);
    } catch (e) {
      // Too deep to walk here; lowering reports it (DL0104).
      if (!(e instanceof RangeError)) throw e;
    }
  }
  return r.out;
}
