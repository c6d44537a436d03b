/**
 * @file Differentiation in the language: `grad`, `value_and_grad`, `jvp`, `stop_gradient`.
 * They are ordinary expressions: the gradient graph is built into the program being lowered,
 * so gradients work inside functions, inside other gradients, and inside loops.
 */
import { warning } from '../../diagnostics/diagnostic.js';
import { spanText, type Span } from '../../diagnostics/source.js';
import * as C from '../../ir/compose.js';
import type { Node } from '../../ir/graph.js';
import { formatType } from '../../ir/types.js';
import { vjp } from '../../passes/autodiff.js';
import type { Builtin } from './builtins.js';
import type { Instance } from './instance.js';
import type { ArgValue, Lowerer } from './lowerer.js';
import { describe, tensor, type Value } from './values.js';

interface Leaf {
  readonly node: Node;
  readonly name: string;
}

/** The tensors a `wrt` argument names, and how to put their gradients back in its shape. */
function flatten(lw: Lowerer, v: Value, a: ArgValue, leaves: Leaf[], label: string): (gs: readonly Node[]) => Value {
  switch (v.k) {
    case 'tensor': {
      if (v.node.type.dtype !== 'f32') {
        lw.fail('DL0403', `cannot differentiate with respect to ${label}: it is ${formatType(v.node.type)}, not a float tensor`, a.span);
      }
      const i = leaves.length;
      leaves.push({ node: v.node, name: label });
      return (gs) => tensor(gs[i]!);
    }
    case 'list':
    case 'tuple': {
      const parts = v.items.map((it, j) => flatten(lw, it, a, leaves, `${label}[${j}]`));
      return (gs) => ({ k: v.k, items: parts.map((p) => p(gs)) });
    }
    case 'instance':
      return flattenInstance(lw, v.inst, a, leaves);
    default:
      return lw.fail('DL0403', `cannot differentiate with respect to ${describe(v)}`, a.span, 'differentiate with respect to tensors, lists of tensors, or a layer (all its parameters)');
  }
}

function flattenInstance(lw: Lowerer, inst: Instance, a: ArgValue, leaves: Leaf[]): (gs: readonly Node[]) => Value {
  const fields: [string, (gs: readonly Node[]) => Value][] = [];
  for (const m of inst.decl.members) {
    const b = inst.scope.local(m.name.name);
    if (!b || b.value.k === 'poison') continue;
    const prefix = inst.path ? `${inst.path}.` : '';
    if (m.kind === 'param' && !m.state && b.value.k === 'tensor') {
      fields.push([m.name.name, flatten(lw, b.value, a, leaves, `${prefix}${m.name.name}`)]);
    } else if (m.kind === 'layer') {
      fields.push([m.name.name, flatten(lw, b.value, a, leaves, `${prefix}${m.name.name}`)]);
    }
  }
  const label = `the gradients of ${inst.path ? `\`${inst.path}\`` : `a ${inst.decl.name.name}`}`;
  return (gs) => ({ k: 'record', label, fields: new Map(fields.map(([k, f]) => [k, f(gs)])) });
}

function scalarToDifferentiate(lw: Lowerer, a: ArgValue, what: string): Node {
  const y = lw.toTensor(a.value, a.span);
  if (y.type.dtype !== 'f32' || y.type.shape.length !== 0) {
    lw.fail('DL0403', `\`${what}\` differentiates a scalar f32 value, but this is ${formatType(y.type)}`, a.span, y.type.shape.length ? 'reduce it first, e.g. `grad(sum(y), x)`' : undefined);
  }
  return y;
}

/** Gradients of y for the wrt structure; zero (with a warning) where y does not depend on it. */
export function gradient(lw: Lowerer, ya: ArgValue, wa: ArgValue, span: Span, what = 'grad'): Value {
  const y = scalarToDifferentiate(lw, ya, what);
  const leaves: Leaf[] = [];
  const rebuild = flatten(lw, wa.value, wa, leaves, `\`${spanText(lw.userSpan(wa.span))}\``);
  const seed = C.scalarConst(lw.b, 1, 'f32');
  const gs = vjp(
    lw.b,
    y,
    leaves.map((l) => l.node),
    seed,
  );
  const filled = gs.map((g, i) => {
    if (g) return g;
    const leaf = leaves[i]!;
    lw.report(
      warning('DL0402', `the gradient with respect to ${leaf.name.startsWith('`') ? leaf.name : `\`${leaf.name}\``} is zero: \`${spanText(lw.userSpan(ya.span))}\` does not depend on it`, {
        span: lw.userSpan(span),
      }),
    );
    return C.fullLike(lw.b, 0, leaf.node);
  });
  return rebuild(filled);
}

function req(lw: Lowerer, a: (ArgValue | undefined)[], i: number, fn: string, names: string[], span: Span): ArgValue {
  const v = a[i];
  if (!v) lw.fail('DL0203', `missing argument \`${names[i]}\` in the call to \`${fn}\``, span);
  return v!;
}

function fnDef(name: string, params: string[], doc: string, body: (lw: Lowerer, a: (ArgValue | undefined)[], span: Span) => Value): Builtin {
  return { name, params, doc, call: (lw, args, span) => body(lw, lw.bindArgs(params, args, name, span), span) };
}

export const GRAD_BUILTINS: Builtin[] = [
  fnDef('grad', ['y', 'wrt'], 'the gradient of the scalar y with respect to a tensor, a list of tensors, or a layer (a record of its parameters\' gradients)', (lw, a, span) =>
    gradient(lw, req(lw, a, 0, 'grad', ['y', 'wrt'], span), req(lw, a, 1, 'grad', ['y', 'wrt'], span), span),
  ),
  fnDef('value_and_grad', ['y', 'wrt'], '(y, grad(y, wrt)): the value and its gradient from one forward computation', (lw, a, span) => {
    const ya = req(lw, a, 0, 'value_and_grad', ['y', 'wrt'], span);
    const g = gradient(lw, ya, req(lw, a, 1, 'value_and_grad', ['y', 'wrt'], span), span, 'value_and_grad');
    return { k: 'tuple', items: [ya.value, g] };
  }),
  fnDef('stop_gradient', ['x'], 'x, treated as a constant by differentiation', (lw, a, span) => {
    const x = lw.toTensor(req(lw, a, 0, 'stop_gradient', ['x'], span).value, a[0]!.span);
    return tensor(x.type.dtype === 'f32' ? lw.b.add('stop_gradient', [x]) : x);
  }),
  fnDef('jvp', ['f', 'x', 'v'], 'forward mode: (f(x), J_f(x)·v) for a function f of one tensor (or a tuple of tensors)', (lw, a, span) => {
    const names = ['f', 'x', 'v'];
    const fa = req(lw, a, 0, 'jvp', names, span);
    const xa = req(lw, a, 1, 'jvp', names, span);
    const va = req(lw, a, 2, 'jvp', names, span);
    const xs: Node[] = [];
    const vs: Node[] = [];
    const collect = (x: Value, v: Value) => {
      if (x.k === 'tuple' || x.k === 'list') {
        if ((v.k !== 'tuple' && v.k !== 'list') || v.items.length !== x.items.length) {
          lw.fail('DL0403', `the tangent of \`jvp\` must have the structure of x (${describe(x)}), got ${describe(v)}`, va.span);
        }
        x.items.forEach((it, i) => collect(it, (v as Value & { k: 'tuple' }).items[i]!));
        return;
      }
      const xn = lw.toTensor(x, xa.span);
      const vn = lw.toTensor(v, va.span, 'f32');
      if (xn.type.dtype !== 'f32') lw.fail('DL0403', `\`jvp\` needs float inputs, got ${formatType(xn.type)}`, xa.span);
      xs.push(xn);
      vs.push(C.broadcastTo(lw.b, vn, xn.type.shape));
    };
    collect(xa.value, va.value);
    const y = lw.callValue(fa.value, [{ value: xa.value, span: xa.span }], span, fa.span);
    if (y.k === 'poison') return y;
    const yn = lw.toTensor(y, span);
    if (yn.type.dtype !== 'f32') lw.fail('DL0403', `\`jvp\` needs a function with a float result, got ${formatType(yn.type)}`, span);
    // J·v by transposing reverse mode: u ↦ uᵀJ is linear in u, so d/du ⟨uᵀJ, v⟩ = J·v.
    const u = C.fullLike(lw.b, 0, yn);
    const pulled = vjp(lw.b, yn, xs, u);
    let inner: Node = C.scalarConst(lw.b, 0, 'f32');
    pulled.forEach((p, i) => {
      if (p) inner = C.binary(lw.b, 'add', inner, C.reduce(lw.b, 'reduce_sum', C.binary(lw.b, 'mul', p, vs[i]!)));
    });
    const [t] = vjp(lw.b, inner, [u], C.scalarConst(lw.b, 1, 'f32'));
    return { k: 'tuple', items: [tensor(yn), tensor(t ?? C.fullLike(lw.b, 0, yn))] };
  }),
];
