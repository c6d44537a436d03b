/** @file A model instance: one `model` declaration with its arguments bound, and its parameters. */
import type { Node } from '../../ir/graph.js';
import type { TensorType } from '../../ir/types.js';
import type { InitSpec } from '../../runtime/init.js';
import type { ModelDecl, ParamMember } from '../ast.js';
import type { Scope } from './scope.js';

export interface ParamSlot {
  readonly member: ParamMember;
  /** Full dotted name, e.g. `blocks.0.attn.Wq`. */
  readonly name: string;
  readonly type: TensorType;
  readonly init: InitSpec;
  /** Created on first use, so parameters a function never touches stay out of its graph. */
  node?: Node;
}

export interface Instance {
  readonly decl: ModelDecl;
  /** Dotted path from the root instance ('' for the root itself). */
  readonly path: string;
  /** Arguments, constants, parameters, layers and functions of this instance. */
  readonly scope: Scope;
  readonly params: Map<string, ParamSlot>;
}

export function memberPath(inst: Instance, name: string): string {
  return inst.path ? `${inst.path}.${name}` : name;
}
