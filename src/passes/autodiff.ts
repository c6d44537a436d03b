/**
 * @file Reverse-mode differentiation over the IR. Walks the nodes between the differentiated
 * value and the variables in reverse creation (topological) order, applying each op's VJP rule
 * from its definition. Fan-out is handled by summing cotangents; broadcasting is undone by the
 * `broadcast` op's own rule. The gradient is ordinary IR built into the same graph, so it can be
 * differentiated again (gradients of gradients) and loops, being unrolled, give BPTT.
 */
import { DiagnosticError, error } from '../diagnostics/diagnostic.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { Node } from '../ir/graph.js';
import { getOp } from '../ir/ops/index.js';
import { formatType, sameType } from '../ir/types.js';

const differentiable = (n: Node) => n.type.dtype === 'f32';

/**
 * Work done by differentiation, for tests that check it grows linearly with the graph (never
 * reset by this module): `visited` counts nodes the relevant-node walk looks at.
 */
export const autodiffWork = { visited: 0 };

/**
 * Nodes between `wrt` and `y`: those `y` depends on that depend on some variable. A node's
 * inputs are always older than it (ids grow in creation order), so nothing older than the
 * oldest variable can depend on one: the walk stops there. In an unrolled loop of
 * `w = w - lr * grad(loss(w), w)` each gradient thus walks only its own step, not every step
 * before it (which made N steps cost N² before).
 */
function relevantNodes(ys: readonly Node[], wrt: ReadonlySet<Node>): Set<Node> {
  let oldest = Infinity;
  for (const w of wrt) oldest = Math.min(oldest, w.id);
  const out = new Set<Node>();
  const dep = new Map<Node, boolean>();
  const known = (c: Node) => c.id < oldest || dep.has(c);
  const depends = (c: Node) => c.id >= oldest && dep.get(c) === true;
  // Iterative post-order DFS (programs can be deep: unrolled loops).
  const stack: [Node, number][] = ys.filter((y) => y.id >= oldest).map((y) => [y, 0]);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [n, i] = top;
    if (dep.has(n)) {
      stack.pop();
      continue;
    }
    if (i < n.inputs.length) {
      top[1]++;
      const c = n.inputs[i]!;
      if (!known(c)) stack.push([c, 0]);
      continue;
    }
    stack.pop();
    autodiffWork.visited++;
    const d = wrt.has(n) || n.inputs.some(depends);
    dep.set(n, d);
    if (d) out.add(n);
  }
  return out;
}

/**
 * Cotangents of `wrt` for the value `y` with output cotangent `seed` (same type as y).
 * An entry is undefined when `y` does not depend on that variable.
 */
export function vjp(b: GraphBuilder, y: Node, wrt: readonly Node[], seed: Node): (Node | undefined)[] {
  return vjpMany(b, [{ y, seed }], wrt);
}

/**
 * Cotangents of `wrt` for several values at once, each with its output cotangent (a loop body's
 * outputs: src/ir/ops/scan.ts). Seeds of one value given twice add up.
 */
export function vjpMany(b: GraphBuilder, roots: readonly { readonly y: Node; readonly seed: Node }[], wrt: readonly Node[]): (Node | undefined)[] {
  const vars = new Set(wrt);
  const relevant = relevantNodes(
    roots.map((r) => r.y),
    vars,
  );
  const order = [...relevant].sort((p, q) => q.id - p.id);
  const ct = new Map<Node, Node>();
  for (const { y, seed } of roots) {
    if (!relevant.has(y)) continue;
    const prev = ct.get(y);
    ct.set(y, prev ? b.add('add', [prev, seed]) : seed);
  }
  const savedSpan = b.span;
  try {
    for (const n of order) {
      const g = ct.get(n);
      if (!g) continue;
      const into = n.inputs.filter((i) => relevant.has(i) && differentiable(i));
      if (into.length === 0) continue;
      const def = getOp(n.op);
      if (def.vjp === null) {
        throw new DiagnosticError(
          error('DL0401', `cannot differentiate through \`${n.op}\`, which is not differentiable`, {
            span: n.span,
            notes: [`\`${n.op}\`: ${def.doc}`],
            help: 'if the value should be treated as a constant, wrap it in `stop_gradient(…)`',
          }),
        );
      }
      // Gradient nodes point at the forward expression they came from.
      b.span = n.span;
      const grads = def.vjp({ b, node: n, attrs: n.attrs, g });
      n.inputs.forEach((inp, k) => {
        const gi = grads[k];
        if (!gi || !relevant.has(inp) || !differentiable(inp)) return;
        if (!sameType(gi.type, inp.type)) {
          throw new Error(`internal: the VJP of ${n.op} gave ${formatType(gi.type)} for an input of type ${formatType(inp.type)}`);
        }
        const prev = ct.get(inp);
        ct.set(inp, prev ? b.add('add', [prev, gi]) : gi);
      });
    }
  } finally {
    b.span = savedSpan;
  }
  return wrt.map((w) => ct.get(w));
}
