/** @file The abstract syntax tree. Every node carries the span of source it was parsed from. */
import type { Span } from '../diagnostics/source.js';

export interface Ident {
  readonly name: string;
  readonly span: Span;
}

// ---- types -------------------------------------------------------------------------------

export type DimExpr =
  | { readonly kind: 'ellipsis'; readonly span: Span }
  | { readonly kind: 'variadic'; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly span: Span };

export type TypeExpr =
  /** `f32[B, D]`, `i32`, `bool[T]`, or a static type (`int`, `float`, `bool`) when dims is null. */
  | { readonly kind: 'named'; readonly name: Ident; readonly dims: readonly DimExpr[] | null; readonly span: Span }
  | { readonly kind: 'list'; readonly elem: TypeExpr; readonly span: Span }
  | { readonly kind: 'tuple'; readonly items: readonly TypeExpr[]; readonly span: Span };

// ---- expressions -------------------------------------------------------------------------

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '@' | '**' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export interface Arg {
  readonly name?: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export type IndexItem =
  | { readonly kind: 'expr'; readonly expr: Expr; readonly span: Span }
  | { readonly kind: 'slice'; readonly start?: Expr; readonly stop?: Expr; readonly step?: Expr; readonly span: Span }
  | { readonly kind: 'ellipsis'; readonly span: Span };

export type Expr =
  | { readonly kind: 'num'; readonly value: number; readonly isFloat: boolean; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | '+' | 'not'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'call'; readonly callee: Expr; readonly args: readonly Arg[]; readonly span: Span }
  | { readonly kind: 'index'; readonly target: Expr; readonly items: readonly IndexItem[]; readonly span: Span }
  | { readonly kind: 'member'; readonly target: Expr; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'tuple'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  /** Stands in for an expression the parser could not read (errors already reported). */
  | { readonly kind: 'error'; readonly span: Span };

// ---- statements --------------------------------------------------------------------------

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=';

export type Stmt =
  | { readonly kind: 'let'; readonly names: readonly Ident[]; readonly destructure: boolean; readonly type?: TypeExpr; readonly value: Expr; readonly span: Span }
  /** `x = …`, `x += …`; a tuple assignment `(h, c) = …` has `targets` (and an empty `target` name). */
  | { readonly kind: 'assign'; readonly target: Ident; readonly targets?: readonly Ident[]; readonly op: AssignOp; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'for'; readonly variable: Ident; readonly start: Expr; readonly end?: Expr; readonly body: readonly Stmt[]; readonly span: Span }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly otherwise?: readonly Stmt[]; readonly span: Span }
  | { readonly kind: 'return'; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly span: Span };

// ---- declarations ------------------------------------------------------------------------

export interface ParamDecl {
  readonly name: Ident;
  readonly type?: TypeExpr;
  readonly default?: Expr;
  readonly span: Span;
}

export interface ConstDecl {
  readonly kind: 'const';
  readonly name: Ident;
  readonly type?: TypeExpr;
  readonly value: Expr;
  readonly span: Span;
  readonly broken: boolean;
}

export interface FnDecl {
  readonly kind: 'fn';
  readonly name: Ident;
  readonly params: readonly ParamDecl[];
  readonly result?: TypeExpr;
  readonly body: readonly Stmt[];
  readonly span: Span;
  /** The parser recovered from an error inside this declaration: do not lower it. */
  readonly broken: boolean;
}

export interface ParamMember {
  readonly kind: 'param';
  /** Declared with `state`: persistent, never trained, written by assignment in a train step. */
  readonly state?: boolean;
  readonly name: Ident;
  readonly type: TypeExpr;
  readonly init: Expr;
  readonly span: Span;
  readonly broken: boolean;
}

export interface LayerMember {
  readonly kind: 'layer';
  readonly name: Ident;
  readonly count?: Expr;
  readonly value: Expr;
  readonly span: Span;
  readonly broken: boolean;
}

export type ModelMember = ParamMember | LayerMember | ConstDecl | FnDecl;

export interface ModelDecl {
  readonly kind: 'model';
  readonly name: Ident;
  readonly params: readonly ParamDecl[];
  readonly members: readonly ModelMember[];
  readonly span: Span;
  readonly broken: boolean;
}

/** A top-level `let net = MLP(…)`: a named model instance. */
export interface InstanceDecl {
  readonly kind: 'instance';
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
  readonly broken: boolean;
}

/** One `field = expr` of a `train` declaration (`loss`, `optimizer`, `params`, `freeze`, `clip_norm`, `schedule`). */
export interface TrainField {
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/**
 * `train NAME = Model.loss with adam(lr = 1e-3)` or `train NAME { loss = …  optimizer = … }`: a
 * training step. The one-line form gives the fields `loss` and `optimizer`. The fields are checked
 * when the declaration is lowered (src/frontend/lower/train.ts).
 */
export interface TrainDecl {
  readonly kind: 'train';
  readonly name: Ident;
  readonly fields: readonly TrainField[];
  readonly form: 'line' | 'block';
  readonly span: Span;
  readonly broken: boolean;
}

export type Decl = ConstDecl | FnDecl | ModelDecl | InstanceDecl | TrainDecl;

export interface Program {
  readonly decls: readonly Decl[];
}
