/**
 * @file How a built-in is declared: its parameter names (for keyword arguments), a one-line doc,
 * and a body that gets the bound arguments. A shape or dtype error an op raises in the body is
 * reported at the call.
 */
import type { Span } from '../../diagnostics/source.js';
import type { Builtin } from './builtins.js';
import type { ArgValue, Lowerer } from './lowerer.js';
import type { Value } from './values.js';

export type Bound = (ArgValue | undefined)[];

export function def(name: string, params: string[], doc: string, body: (lw: Lowerer, a: Bound, span: Span) => Value): Builtin {
  return {
    name,
    params,
    doc,
    call(lw, args, span) {
      const a = lw.bindArgs(params, args, name, span);
      return lw.at(span, () => body(lw, a, span));
    },
  };
}

/** A required argument. */
export function req(lw: Lowerer, a: Bound, i: number, fn: string, params: readonly string[], span: Span): ArgValue {
  const v = a[i];
  if (!v) lw.fail('DL0203', `missing argument \`${params[i]}\` in the call to \`${fn}\``, span);
  return v!;
}
