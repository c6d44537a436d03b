/**
 * @file CST → AST. Tolerates the holes error recovery leaves (a missing child becomes an
 * `error` expression); declarations with a syntax error inside are marked `broken`.
 */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { span, type SourceFile, type Span } from '../diagnostics/source.js';
import type * as A from './ast.js';

/**
 * Whether a token or CST location offset is a real position in the source. Tokens inserted by
 * error recovery, the EOF token and nodes without tokens have none: Chevrotain marks them -1
 * (NaN before Chevrotain 12).
 */
export function knownOffset(o: number | undefined): o is number {
  return o !== undefined && Number.isFinite(o) && o >= 0;
}

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

export class AstBuilder {
  /** Errors found while building the AST (slips the grammar accepts to recover well). */
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly file: SourceFile,
    /** Offsets of syntax errors; a declaration containing one is `broken`. */
    private readonly errorOffsets: readonly number[],
  ) {}

  // ---- helpers ----

  private tokSpan(t: IToken): Span {
    const s = knownOffset(t.startOffset) ? t.startOffset : this.file.text.length;
    const e = knownOffset(t.endOffset) ? t.endOffset + 1 : s;
    return span(this.file, s, e);
  }

  private nodeSpan(n: CstNode): Span {
    const l = n.location;
    const s = l && knownOffset(l.startOffset) ? l.startOffset : this.file.text.length;
    const e = l && knownOffset(l.endOffset) ? l.endOffset + 1 : s;
    return span(this.file, s, e);
  }

  private broken(s: Span): boolean {
    return this.errorOffsets.some((o) => o >= s.start && o <= s.end);
  }

  private tok(c: Children, name: string, i = 0): IToken | undefined {
    const e = c[name]?.[i];
    return e && isToken(e) && !e.isInsertedInRecovery ? e : undefined;
  }

  private toks(c: Children, name: string): IToken[] {
    return (c[name] ?? []).filter(isToken);
  }

  private node(c: Children, name: string, i = 0): CstNode | undefined {
    const e = c[name]?.[i];
    return e && !isToken(e) ? e : undefined;
  }

  private nodes(c: Children, name: string): CstNode[] {
    return (c[name] ?? []).filter((e): e is CstNode => !isToken(e));
  }

  private ident(t: IToken | undefined, fallback: Span): A.Ident {
    return t ? { name: t.image, span: this.tokSpan(t) } : { name: '', span: fallback };
  }

  private errorExpr(s: Span): A.Expr {
    return { kind: 'error', span: s };
  }

  // ---- declarations ----

  program(n: CstNode): A.Program {
    const decls: A.Decl[] = [];
    for (const d of this.nodes(n.children, 'topDecl')) {
      const c = d.children;
      const inner = this.node(c, 'constDecl') ?? this.node(c, 'fnDecl') ?? this.node(c, 'modelDecl') ?? this.node(c, 'letStmt') ?? this.node(c, 'trainDecl');
      if (!inner) continue;
      if (inner.name === 'trainDecl') decls.push(this.trainDecl(inner));
      else if (inner.name === 'constDecl') decls.push(this.constDecl(inner));
      else if (inner.name === 'fnDecl') decls.push(this.fnDecl(inner));
      else if (inner.name === 'modelDecl') decls.push(this.modelDecl(inner));
      else {
        const s = this.nodeSpan(inner);
        const ic = inner.children;
        decls.push({
          kind: 'instance',
          name: this.ident(this.tok(ic, 'Identifier'), s),
          value: this.exprOf(ic, 'expr', s),
          span: s,
          broken: this.broken(s) || !this.tok(ic, 'Identifier'),
        });
      }
    }
    return { decls };
  }

  private trainDecl(n: CstNode): A.TrainDecl {
    const c = n.children;
    const s = this.nodeSpan(n);
    const name = this.ident(this.tok(c, 'name'), s);
    const fields: A.TrainField[] = [];
    let broken = this.broken(s) || !name.name;
    if (this.toks(c, 'LBrace').length) {
      for (const f of this.nodes(c, 'trainField')) {
        const fs = this.nodeSpan(f);
        fields.push({ name: this.ident(this.tok(f.children, 'Identifier'), fs), value: this.exprOf(f.children, 'expr', fs), span: fs });
      }
      return { kind: 'train', name, fields, form: 'block', span: s, broken };
    }
    const path = this.node(c, 'entryPath');
    if (path) {
      const ps = this.nodeSpan(path);
      const ids = this.toks(path.children, 'Identifier')
        .filter((t) => !t.isInsertedInRecovery)
        .sort((a, b) => a.startOffset - b.startOffset);
      let loss: A.Expr | undefined;
      for (const t of ids) {
        const ts = this.tokSpan(t);
        loss = loss ? { kind: 'member', target: loss, name: { name: t.image, span: ts }, span: span(this.file, loss.span.start, ts.end) } : { kind: 'name', name: t.image, span: ts };
      }
      const lossKw = { name: 'loss', span: ps };
      fields.push({ name: lossKw, value: loss ?? this.errorExpr(ps), span: ps });
    }
    const withKw = this.tok(c, 'withKw');
    if (withKw && withKw.image !== 'with') {
      this.diagnostics.push(error('DL0102', `expected \`with\`, found \`${withKw.image}\``, { span: this.tokSpan(withKw), help: 'write `train NAME = Model.loss with optimizer(…)`' }));
      broken = true;
    }
    const opt = this.node(c, 'optimizer');
    if (opt) {
      const value = this.expr(opt);
      fields.push({ name: { name: 'optimizer', span: value.span }, value, span: value.span });
    }
    return { kind: 'train', name, fields, form: 'line', span: s, broken };
  }

  private constDecl(n: CstNode): A.ConstDecl {
    const c = n.children;
    const s = this.nodeSpan(n);
    const type = this.node(c, 'typeExpr');
    return {
      kind: 'const',
      name: this.ident(this.tok(c, 'Identifier'), s),
      ...(type ? { type: this.typeExpr(type) } : {}),
      value: this.exprOf(c, 'expr', s),
      span: s,
      broken: this.broken(s),
    };
  }

  private fnDecl(n: CstNode): A.FnDecl {
    const c = n.children;
    const s = this.nodeSpan(n);
    const pl = this.node(c, 'paramList');
    const result = this.node(c, 'typeExpr');
    const block = this.node(c, 'block');
    return {
      kind: 'fn',
      name: this.ident(this.tok(c, 'Identifier'), s),
      params: pl ? this.paramList(pl) : [],
      ...(result ? { result: this.typeExpr(result) } : {}),
      body: block ? this.block(block) : [],
      span: s,
      broken: this.broken(s),
    };
  }

  private paramList(n: CstNode): A.ParamDecl[] {
    return this.nodes(n.children, 'paramDecl').map((p) => {
      const c = p.children;
      const s = this.nodeSpan(p);
      const type = this.node(c, 'typeExpr');
      const def = this.node(c, 'expr');
      return {
        name: this.ident(this.tok(c, 'Identifier'), s),
        ...(type ? { type: this.typeExpr(type) } : {}),
        ...(def ? { default: this.expr(def) } : {}),
        span: s,
      };
    });
  }

  private modelDecl(n: CstNode): A.ModelDecl {
    const c = n.children;
    const s = this.nodeSpan(n);
    const pl = this.node(c, 'paramList');
    const members: A.ModelMember[] = [];
    for (const m of this.nodes(c, 'modelMember')) {
      const mc = m.children;
      const pm = this.node(mc, 'paramMember');
      const lm = this.node(mc, 'layerMember');
      const cd = this.node(mc, 'constDecl');
      const fd = this.node(mc, 'fnDecl');
      if (pm) {
        const ms = this.nodeSpan(pm);
        const type = this.node(pm.children, 'typeExpr');
        members.push({
          kind: 'param',
          ...(this.toks(pm.children, 'stateKw').length ? { state: true } : {}),
          name: this.ident(this.tok(pm.children, 'Identifier'), ms),
          type: type ? this.typeExpr(type) : { kind: 'named', name: { name: '', span: ms }, dims: null, span: ms },
          init: this.exprOf(pm.children, 'expr', ms),
          span: ms,
          broken: this.broken(ms) || !type,
        });
      } else if (lm) {
        const ms = this.nodeSpan(lm);
        const exprs = this.nodes(lm.children, 'expr');
        const counted = this.toks(lm.children, 'LBracket').length > 0;
        const count = counted ? exprs[0] : undefined;
        const value = counted ? exprs[1] : exprs[0];
        members.push({
          kind: 'layer',
          name: this.ident(this.tok(lm.children, 'Identifier'), ms),
          ...(count ? { count: this.expr(count) } : {}),
          value: value ? this.expr(value) : this.errorExpr(ms),
          span: ms,
          broken: this.broken(ms),
        });
      } else if (cd) members.push(this.constDecl(cd));
      else if (fd) members.push(this.fnDecl(fd));
    }
    return {
      kind: 'model',
      name: this.ident(this.tok(c, 'Identifier'), s),
      params: pl ? this.paramList(pl) : [],
      members,
      span: s,
      // A syntax error inside one member breaks only that member (its siblings are still checked);
      // one anywhere else in the model (its header, between members) breaks the whole model.
      broken: this.errorOffsets.some((o) => o >= s.start && o <= s.end && !members.some((m) => m.broken && o >= m.span.start && o <= m.span.end)),
    };
  }

  // ---- statements ----

  private block(n: CstNode): A.Stmt[] {
    const out: A.Stmt[] = [];
    for (const st of this.nodes(n.children, 'stmt')) {
      const s = this.stmt(st);
      if (s) out.push(s);
    }
    return out;
  }

  private stmt(n: CstNode): A.Stmt | undefined {
    const c = n.children;
    const let_ = this.node(c, 'letStmt');
    if (let_) return this.letStmt(let_);
    const f = this.node(c, 'forStmt');
    if (f) return this.forStmt(f);
    const i = this.node(c, 'ifStmt');
    if (i) return this.ifStmt(i);
    const r = this.node(c, 'returnStmt');
    if (r) {
      const s = this.nodeSpan(r);
      const exprs = this.nodes(r.children, 'expr').map((e) => this.expr(e));
      const value: A.Expr = exprs.length === 1 ? exprs[0]! : exprs.length === 0 ? this.errorExpr(s) : { kind: 'tuple', items: exprs, span: s };
      return { kind: 'return', value, span: s };
    }
    const a = this.node(c, 'assignOrExpr');
    if (a) return this.assignOrExpr(a);
    return undefined;
  }

  private letStmt(n: CstNode): A.Stmt {
    const c = n.children;
    const s = this.nodeSpan(n);
    const destructure = this.toks(c, 'LParen').length > 0;
    const names = this.toks(c, 'Identifier')
      .filter((t) => !t.isInsertedInRecovery)
      .map((t) => this.ident(t, s));
    const type = this.node(c, 'typeExpr');
    return {
      kind: 'let',
      names,
      destructure,
      ...(type ? { type: this.typeExpr(type) } : {}),
      value: this.exprOf(c, 'expr', s),
      span: s,
    };
  }

  private forStmt(n: CstNode): A.Stmt {
    const c = n.children;
    const s = this.nodeSpan(n);
    const exprs = this.nodes(c, 'expr');
    const block = this.node(c, 'block');
    return {
      kind: 'for',
      variable: this.ident(this.tok(c, 'Identifier'), s),
      start: exprs[0] ? this.expr(exprs[0]) : this.errorExpr(s),
      ...(exprs[1] ? { end: this.expr(exprs[1]) } : {}),
      body: block ? this.block(block) : [],
      span: s,
    };
  }

  private ifStmt(n: CstNode): A.Stmt {
    const c = n.children;
    const s = this.nodeSpan(n);
    const blocks = this.nodes(c, 'block');
    const elif = this.node(c, 'ifStmt');
    const otherwise = elif ? [this.ifStmt(elif)] : blocks[1] ? this.block(blocks[1]) : undefined;
    let cond = this.exprOf(c, 'expr', s);
    const eq = this.tok(c, 'assignInCondition');
    const rhs = this.node(c, 'conditionRhs');
    if (eq) {
      this.diagnostics.push(error('DL0102', 'expected `{`, found `=`', { span: this.tokSpan(eq), help: 'to compare values use `==`' }));
      if (rhs) {
        const right = this.expr(rhs);
        cond = { kind: 'binary', op: '==', left: cond, right, span: span(this.file, cond.span.start, right.span.end) };
      }
    }
    return {
      kind: 'if',
      cond,
      then: blocks[0] ? this.block(blocks[0]) : [],
      ...(otherwise ? { otherwise } : {}),
      span: s,
    };
  }

  private assignOrExpr(n: CstNode): A.Stmt {
    const c = n.children;
    const s = this.nodeSpan(n);
    const exprs = this.nodes(c, 'expr');
    const opTok = (['Assign', 'PlusAssign', 'MinusAssign', 'StarAssign', 'SlashAssign'] as const).map((k) => this.tok(c, k)).find((t) => t);
    if (!opTok || exprs.length < 2) {
      return { kind: 'expr', expr: exprs[0] ? this.expr(exprs[0]) : this.errorExpr(s), span: s };
    }
    const target = this.expr(exprs[0]!);
    const value = this.expr(exprs[1]!);
    const op = opTok.image as A.AssignOp;
    if (target.kind === 'tuple') {
      // `(h, c) = cell(…)`; items that are not names are reported by lowering.
      const targets = target.items.map((i) => ({ name: i.kind === 'name' ? i.name : '', span: i.span }));
      return { kind: 'assign', target: { name: '', span: target.span }, targets, op, value, span: s };
    }
    if (target.kind !== 'name') {
      // Reported by lowering as an invalid assignment target.
      return { kind: 'assign', target: { name: '', span: target.span }, op, value, span: s };
    }
    return { kind: 'assign', target: { name: target.name, span: target.span }, op, value, span: s };
  }

  // ---- types ----

  typeExpr(n: CstNode): A.TypeExpr {
    const c = n.children;
    const s = this.nodeSpan(n);
    const id = this.tok(c, 'Identifier');
    if (id) {
      const hasBrackets = this.toks(c, 'LBracket').length > 0;
      return { kind: 'named', name: this.ident(id, s), dims: hasBrackets ? this.nodes(c, 'dim').map((d) => this.dim(d)) : null, span: s };
    }
    const inner = this.nodes(c, 'typeExpr').map((t) => this.typeExpr(t));
    if (this.toks(c, 'LParen').length) return { kind: 'tuple', items: inner, span: s };
    return { kind: 'list', elem: inner[0] ?? { kind: 'named', name: { name: '', span: s }, dims: null, span: s }, span: s };
  }

  private dim(n: CstNode): A.DimExpr {
    const c = n.children;
    const s = this.nodeSpan(n);
    if (this.tok(c, 'Ellipsis')) return { kind: 'ellipsis', span: s };
    if (this.tok(c, 'Star')) return { kind: 'variadic', name: this.ident(this.tok(c, 'Identifier'), s), span: s };
    return { kind: 'expr', expr: this.exprOf(c, 'expr', s), span: s };
  }

  // ---- expressions ----

  private exprOf(c: Children, name: string, fallback: Span): A.Expr {
    const n = this.node(c, name);
    return n ? this.expr(n) : this.errorExpr(fallback);
  }

  expr(n: CstNode): A.Expr {
    switch (n.name) {
      case 'expr':
        return this.exprOf(n.children, 'orExpr', this.nodeSpan(n));
      case 'orExpr':
        return this.chain(n, 'andExpr', ['Or']);
      case 'andExpr':
        return this.chain(n, 'notExpr', ['And']);
      case 'notExpr': {
        const inner = this.node(n.children, 'notExpr');
        if (inner) return { kind: 'unary', op: 'not', operand: this.expr(inner), span: this.nodeSpan(n) };
        return this.exprOf(n.children, 'cmpExpr', this.nodeSpan(n));
      }
      case 'cmpExpr':
        return this.chain(n, 'addExpr', ['EqEq', 'NotEq', 'LessEq', 'GreaterEq', 'Less', 'Greater']);
      case 'addExpr':
        return this.chain(n, 'mulExpr', ['Plus', 'Minus']);
      case 'mulExpr':
        return this.chain(n, 'unaryExpr', ['Star', 'SlashSlash', 'Slash', 'Percent', 'At']);
      case 'unaryExpr': {
        const inner = this.node(n.children, 'unaryExpr');
        if (inner) {
          const op = this.tok(n.children, 'Minus') ? '-' : '+';
          return { kind: 'unary', op, operand: this.expr(inner), span: this.nodeSpan(n) };
        }
        return this.exprOf(n.children, 'powExpr', this.nodeSpan(n));
      }
      case 'powExpr': {
        const base = this.exprOf(n.children, 'postfixExpr', this.nodeSpan(n));
        const exp = this.node(n.children, 'unaryExpr');
        if (!exp) return base;
        return { kind: 'binary', op: '**', left: base, right: this.expr(exp), span: this.nodeSpan(n) };
      }
      case 'postfixExpr':
        return this.postfix(n);
      case 'primary':
        return this.primary(n);
      default:
        return this.errorExpr(this.nodeSpan(n));
    }
  }

  /** A left-associative chain `a op b op c`, operators taken in source order. */
  private chain(n: CstNode, operand: string, ops: string[]): A.Expr {
    const c = n.children;
    const operands = this.nodes(c, operand);
    const opToks = ops.flatMap((k) => this.toks(c, k)).sort((a, b) => a.startOffset - b.startOffset);
    const s0 = this.nodeSpan(n);
    let acc = operands[0] ? this.expr(operands[0]) : this.errorExpr(s0);
    for (let i = 0; i < opToks.length; i++) {
      const rhsNode = operands[i + 1];
      const right = rhsNode ? this.expr(rhsNode) : this.errorExpr(this.tokSpan(opToks[i]!));
      acc = {
        kind: 'binary',
        op: opToks[i]!.image as A.BinaryOp,
        left: acc,
        right,
        span: span(this.file, acc.span.start, Math.max(right.span.end, acc.span.end)),
      };
    }
    return acc;
  }

  private postfix(n: CstNode): A.Expr {
    const c = n.children;
    let acc = this.exprOf(c, 'primary', this.nodeSpan(n));
    const suffixes = [...this.nodes(c, 'callSuffix'), ...this.nodes(c, 'indexSuffix'), ...this.nodes(c, 'memberSuffix')].sort(
      (a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0),
    );
    for (const sfx of suffixes) {
      const ss = this.nodeSpan(sfx);
      const whole = span(this.file, acc.span.start, Math.max(ss.end, acc.span.end));
      if (sfx.name === 'callSuffix') {
        const args = this.nodes(sfx.children, 'arg').map((a): A.Arg => {
          const ac = a.children;
          const name = this.tok(ac, 'Identifier');
          return { ...(name ? { name: this.ident(name, ss) } : {}), value: this.exprOf(ac, 'expr', this.nodeSpan(a)), span: this.nodeSpan(a) };
        });
        acc = { kind: 'call', callee: acc, args, span: whole };
      } else if (sfx.name === 'indexSuffix') {
        acc = { kind: 'index', target: acc, items: this.nodes(sfx.children, 'indexItem').map((i) => this.indexItem(i)), span: whole };
      } else {
        acc = { kind: 'member', target: acc, name: this.ident(this.tok(sfx.children, 'Identifier'), ss), span: whole };
      }
    }
    return acc;
  }

  private indexItem(n: CstNode): A.IndexItem {
    const c = n.children;
    const s = this.nodeSpan(n);
    if (this.tok(c, 'Ellipsis')) return { kind: 'ellipsis', span: s };
    const start = this.node(c, 'start');
    const tail = this.node(c, 'sliceTail');
    if (!tail) return { kind: 'expr', expr: start ? this.expr(start) : this.errorExpr(s), span: s };
    const stop = this.node(tail.children, 'stop');
    const step = this.node(tail.children, 'step');
    return {
      kind: 'slice',
      ...(start ? { start: this.expr(start) } : {}),
      ...(stop ? { stop: this.expr(stop) } : {}),
      ...(step ? { step: this.expr(step) } : {}),
      span: s,
    };
  }

  private primary(n: CstNode): A.Expr {
    const c = n.children;
    const s = this.nodeSpan(n);
    const num = this.tok(c, 'Float') ?? this.tok(c, 'Int');
    if (num) return { kind: 'num', value: Number(num.image), isFloat: num.tokenType.name === 'Float', span: s };
    if (this.tok(c, 'True')) return { kind: 'bool', value: true, span: s };
    if (this.tok(c, 'False')) return { kind: 'bool', value: false, span: s };
    const id = this.tok(c, 'Identifier');
    if (id) return { kind: 'name', name: id.image, span: s };
    const items = this.nodes(c, 'expr').map((e) => this.expr(e));
    if (this.toks(c, 'LParen').length) {
      const commas = this.toks(c, 'Comma').length;
      if (items.length === 1 && commas === 0) return items[0]!;
      return { kind: 'tuple', items, span: s };
    }
    if (this.toks(c, 'LBracket').length) return { kind: 'list', items, span: s };
    return this.errorExpr(s);
  }
}
