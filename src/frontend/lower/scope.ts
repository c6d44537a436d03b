/** @file Lexical scopes: names to values, chained to the enclosing scope. */
import type { Value } from './values.js';

export type BindingKind = 'builtin' | 'decl' | 'const' | 'let' | 'param' | 'arg' | 'loop' | 'dim' | 'member';

export interface Binding {
  value: Value;
  readonly kind: BindingKind;
}

/** Bindings made on first use: a file's declarations, so that a scope over thousands of them costs nothing until a name is read. */
export interface LazyBindings {
  /** The binding for `name`, or undefined when it is not one of these names. */
  bind(name: string): Binding | undefined;
  /** Every name `bind` knows (for suggestions). */
  names(): Iterable<string>;
}

export class Scope {
  private readonly names = new Map<string, Binding>();
  private lazy: LazyBindings | undefined;
  constructor(
    readonly parent: Scope | undefined,
    /** A function body's scope: `x = …` may rebind `let` names up to here. */
    readonly isFunction = false,
  ) {}

  define(name: string, value: Value, kind: BindingKind): void {
    this.names.set(name, { value, kind });
  }

  /** Names this scope binds on first use, behind those it defines. */
  setLazy(lazy: LazyBindings): void {
    this.lazy = lazy;
  }

  private own(name: string): Binding | undefined {
    const b = this.names.get(name);
    if (b || !this.lazy) return b;
    const made = this.lazy.bind(name);
    if (made) this.names.set(name, made);
    return made;
  }

  has(name: string): boolean {
    return this.own(name) !== undefined;
  }

  /** Overrides a binding only here (used for lazily materialized members). */
  local(name: string): Binding | undefined {
    return this.own(name);
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.own(name);
      if (b) return b;
    }
    return undefined;
  }

  /** The binding `name = …` would update: a `let` in this function's scopes. */
  assignable(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.own(name);
      if (b) return b;
      if (s.isFunction) return undefined;
    }
    return undefined;
  }

  /** Every visible name (for "did you mean" suggestions). */
  allNames(): string[] {
    const out = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) {
      for (const k of s.names.keys()) out.add(k);
      for (const k of s.lazy?.names() ?? []) out.add(k);
    }
    return [...out];
  }
}
