/** @file The stable text form of a graph, used by `dlc ir` and golden tests. */
import { spanLocation } from '../diagnostics/source.js';
import type { Graph, Node } from './graph.js';
import type { AttrValue } from './op.js';
import { OPS } from './ops/index.js';
import { formatType } from './types.js';

export interface PrintOptions {
  /** Append `# file:line:col` of each node's source. */
  spans?: boolean;
}

export function formatAttr(v: AttrValue): string {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatAttr).join(', ')}]`;
  const o = v as { readonly [k: string]: AttrValue };
  return `{${Object.keys(o)
    .map((k) => `${k}: ${formatAttr(o[k]!)}`)
    .join(', ')}}`;
}

export function printNode(n: Node, opts: PrintOptions = {}): string {
  const def = OPS.get(n.op);
  const parts: string[] = [];
  // An unknown op (only in a broken graph given to the verifier) prints all its attributes.
  for (const key of def ? Object.keys(def.attrs) : Object.keys(n.attrs)) {
    const v = n.attrs[key];
    if (v === undefined) continue;
    // The output type already shows these.
    if (key === 'dtype' && v === n.type.dtype) continue;
    if (key === 'shape' && formatAttr(v) === formatAttr([...n.type.shape])) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    parts.push(`${key}=${formatAttr(v)}`);
  }
  const args = n.inputs.length ? `(${n.inputs.map((i) => `%${i.id}`).join(', ')})` : '';
  const attrs = parts.length ? ` {${parts.join(', ')}}` : '';
  const loc = opts.spans && n.span ? `  # ${spanLocation(n.span)}` : '';
  return `%${n.id}: ${formatType(n.type)} = ${n.op}${args}${attrs}${loc}`;
}

function graphLines(g: Graph, opts: PrintOptions, head: string, indent: string): string[] {
  const sig = g.inputs.map((i) => `${String(i.attrs['name'])}: ${formatType(i.type)}`).join(', ');
  const lines = [`${indent}${head} ${g.name}(${sig}) {`];
  for (const n of g.nodes) {
    lines.push(`${indent}  ${printNode(n, opts)}`);
    // A loop's body follows its node, indented (its node ids are its own).
    if (n.body) lines.push(...graphLines(n.body, opts, 'body', `${indent}    `));
  }
  lines.push(`${indent}  return ${g.outputs.map((o) => `${o.name}=%${o.node.id}`).join(', ')}`);
  if (g.updates.length) lines.push(`${indent}  update ${g.updates.map((u) => `${u.name}=%${u.node.id}`).join(', ')}`);
  lines.push(`${indent}}`);
  return lines;
}

export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  return graphLines(g, opts, 'graph', '').join('\n') + '\n';
}
