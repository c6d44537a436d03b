/**
 * @file The IR verifier: structural invariants and types. Run after every pass in tests; a
 * failure is a compiler bug, reported with the offending node and its neighbours.
 */
import type { Graph } from './graph.js';
import type { AttrKind, AttrValue } from './op.js';
import { OPS } from './ops/index.js';
import { printNode } from './print.js';
import { formatType, isDType, sameType } from './types.js';

function attrOk(kind: AttrKind, v: AttrValue | undefined): boolean {
  switch (kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'ints':
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
    case 'float':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'dtype':
      return typeof v === 'string' && isDType(v);
    case 'string':
      return typeof v === 'string';
    case 'json':
      return v !== undefined;
  }
}

/** Returns a list of problems; empty when the graph is well formed. */
export function verifyGraph(g: Graph): string[] {
  const problems: string[] = [];
  const context = (i: number) =>
    g.nodes
      .slice(Math.max(0, i - 2), i + 3)
      .map((n) => `    ${n.id === i ? '>' : ' '} ${printNode(n)}`)
      .join('\n');
  g.nodes.forEach((n, i) => {
    const fail = (msg: string) => problems.push(`node %${n.id} (${n.op}): ${msg}\n${context(i)}`);
    if (n.id !== i) return fail(`id ${n.id} at position ${i}`);
    const def = OPS.get(n.op);
    if (!def) return fail('unknown op');
    for (const inp of n.inputs) {
      if (inp.id >= i || g.nodes[inp.id] !== inp) return fail(`input %${inp.id} is not an earlier node of this graph`);
    }
    const arityOk = def.arity === 'variadic' ? n.inputs.length > 0 : n.inputs.length === def.arity;
    if (!arityOk) return fail(`${n.inputs.length} inputs, expected ${def.arity}`);
    for (const [k, kind] of Object.entries(def.attrs)) {
      if (!attrOk(kind, n.attrs[k])) return fail(`attribute ${k} should be ${kind}`);
    }
    for (const k of Object.keys(n.attrs)) if (!(k in def.attrs)) return fail(`unexpected attribute ${k}`);
    if (Boolean(def.body) !== Boolean(n.body)) return fail(def.body ? 'a loop without a body graph' : 'a body graph on an op that takes none');
    if (n.body) {
      const inner = verifyGraph(n.body);
      if (inner.length) return fail(`its body is invalid:\n${inner.map((p) => `  ${p.replace(/\n/g, '\n  ')}`).join('\n')}`);
      if (n.body.params.length || n.body.updates.length) return fail('its body reads parameters or writes state (it reads them as inputs)');
    }
    try {
      const t = def.infer(
        n.inputs.map((x) => x.type),
        n.attrs,
        n.body,
      );
      if (!sameType(t, n.type)) fail(`type ${formatType(n.type)} but the shape rule gives ${formatType(t)}`);
    } catch (e) {
      fail(`shape rule fails: ${(e as Error).message}`);
    }
  });
  for (const inp of g.inputs) if (inp.op !== 'input' || g.nodes[inp.id] !== inp) problems.push(`graph input %${inp.id} is not an input node of the graph`);
  for (const o of g.outputs) if (g.nodes[o.node.id] !== o.node) problems.push(`output ${o.name} is not a node of the graph`);
  const names = new Set<string>();
  for (const p of g.params) {
    const name = String(p.attrs['name']);
    if (names.has(name)) problems.push(`parameter ${name} appears twice`);
    names.add(name);
  }
  const written = new Set<string>();
  for (const u of g.updates) {
    if (g.nodes[u.node.id] !== u.node) problems.push(`update ${u.name} is not a node of the graph`);
    if (written.has(u.name)) problems.push(`state ${u.name} is updated twice`);
    written.add(u.name);
    const p = g.params.find((x) => String(x.attrs['name']) === u.name);
    if (!p) problems.push(`update ${u.name} names no parameter of the graph`);
    else if (!sameType(p.type, u.node.type)) problems.push(`update ${u.name} is ${formatType(u.node.type)} but the state is ${formatType(p.type)}`);
  }
  return problems;
}
