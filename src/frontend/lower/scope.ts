/** @file Lexical scopes: names to values, chained to the enclosing scope. */
import type { Value } from './values.js';

export type BindingKind = 'builtin' | 'decl' | 'const' | 'let' | 'param' | 'arg' | 'loop' | 'dim' | 'member';

export interface Binding {
  value: Value;
  readonly kind: BindingKind;
}

export class Scope {
  private readonly names = new Map<string, Binding>();
  constructor(
    readonly parent: Scope | undefined,
    /** A function body's scope: `x = …` may rebind `let` names up to here. */
    readonly isFunction = false,
  ) {}

  define(name: string, value: Value, kind: BindingKind): void {
    this.names.set(name, { value, kind });
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Overrides a binding only here (used for lazily materialized members). */
  local(name: string): Binding | undefined {
    return this.names.get(name);
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.names.get(name);
      if (b) return b;
    }
    return undefined;
  }

  /** The binding `name = …` would update: a `let` in this function's scopes. */
  assignable(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.names.get(name);
      if (b) return b;
      if (s.isFunction) return undefined;
    }
    return undefined;
  }

  /** Every visible name (for "did you mean" suggestions). */
  allNames(): string[] {
    const out = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const k of s.names.keys()) out.add(k);
    return [...out];
  }
}
