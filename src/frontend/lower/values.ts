/**
 * @file What an expression evaluates to while lowering. Compile-time values (numbers, lists,
 * functions, models) are computed on the spot; tensors are IR nodes. Lowering is a partial
 * evaluator: everything static is folded away, so the IR holds tensors only.
 */
import type { Node } from '../../ir/graph.js';
import { formatType, type DType } from '../../ir/types.js';
import type { FnDecl, InstanceDecl, ModelDecl } from '../ast.js';
import type { Builtin } from './builtins.js';
import type { Instance } from './instance.js';
import type { Scope } from './scope.js';

export type Value =
  | { readonly k: 'int'; readonly v: number }
  | { readonly k: 'float'; readonly v: number }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'dtype'; readonly v: DType }
  | { readonly k: 'list'; readonly items: readonly Value[] }
  | { readonly k: 'tuple'; readonly items: readonly Value[] }
  | { readonly k: 'tensor'; readonly node: Node }
  | { readonly k: 'fn'; readonly decl: FnDecl; readonly scope: Scope; readonly owner?: Instance }
  | { readonly k: 'builtin'; readonly def: Builtin }
  | { readonly k: 'model'; readonly decl: ModelDecl; readonly scope: Scope }
  | { readonly k: 'instance'; readonly inst: Instance }
  /** A top-level `let net = Model(…)`, instantiated when first used. */
  | { readonly k: 'instanceDecl'; readonly decl: InstanceDecl; readonly scope: Scope }
  /** Named values, e.g. the gradients of a layer's parameters: `g.W`, `g.blocks[0].Wq`. */
  | { readonly k: 'record'; readonly label: string; readonly fields: ReadonlyMap<string, Value> }
  /** The result of an expression that already failed; using it reports nothing more. */
  | { readonly k: 'poison' };

export const POISON: Value = { k: 'poison' };
export const int = (v: number): Value => ({ k: 'int', v });
export const float = (v: number): Value => ({ k: 'float', v });
export const bool = (v: boolean): Value => ({ k: 'bool', v });
export const tensor = (node: Node): Value => ({ k: 'tensor', node });

export function isNumber(v: Value): v is { k: 'int' | 'float'; v: number } {
  return v.k === 'int' || v.k === 'float';
}

/** How a value is described in messages: "a tensor f32[3, 4]", "the function `relu`". */
export function describe(v: Value): string {
  switch (v.k) {
    case 'int':
      return `the integer ${v.v}`;
    case 'float':
      return `the number ${v.v}`;
    case 'bool':
      return `the boolean ${v.v}`;
    case 'dtype':
      return `the dtype ${v.v}`;
    case 'list':
      return `a list of ${v.items.length}`;
    case 'tuple':
      return `a tuple of ${v.items.length}`;
    case 'tensor':
      return `a tensor ${formatType(v.node.type)}`;
    case 'fn':
      return `the function \`${v.decl.name.name}\``;
    case 'builtin':
      return `the built-in \`${v.def.name}\``;
    case 'model':
      return `the model \`${v.decl.name.name}\``;
    case 'instance':
      return `the layer \`${v.inst.path || v.inst.decl.name.name}\` (a ${v.inst.decl.name.name})`;
    case 'record':
      return `${v.label} (with ${[...v.fields.keys()].map((k) => `\`${k}\``).join(', ')})`;
    case 'instanceDecl':
      return `the layer \`${v.decl.name.name}\``;
    case 'poison':
      return 'an invalid value';
  }
}
