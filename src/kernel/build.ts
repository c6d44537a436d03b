/**
 * @file From an IR graph to a kernel program, one kernel per computing primitive. Movement ops
 * (reshape, permute, broadcast, slice, pad, concat, reverse, unfold), iota and one-value
 * constants are never materialized: they become index arithmetic inside the kernels that read
 * them. Each op says how one output element is computed (`OpDef.expr`); this module only
 * decides which values live in buffers. Contractions become tiled kernels over strided
 * operands (an operand that is not a strided view of a buffer is first copied into one).
 */
import type { Graph, Node } from '../ir/graph.js';
import { getOp } from '../ir/ops/index.js';
import { numel } from '../ir/types.js';
import type { InitSpec } from '../runtime/init.js';
import { flatIndex, idx as loopIdx, unflatten, type Expr } from './expr.js';
import { affineOf } from './affine.js';
import type { BufferInfo, BufferRole, ContractionKernel, Kernel, KernelProgram, MapKernel, Space, Strided } from './program.js';
import { freeAxes, type DotAttrs } from '../ir/ops/contraction.js';

/** Nodes whose value is index arithmetic or a literal, never a buffer of its own. */
export function isInline(n: Node): boolean {
  const def = getOp(n.op);
  if (n.op === 'constant') return !Array.isArray(n.attrs['value']);
  return def.kind === 'movement' || n.op === 'iota';
}

class Builder {
  readonly buffers: BufferInfo[] = [];
  readonly kernels: Kernel[] = [];
  private readonly bufOf = new Map<Node, number>();
  private fresh = 0;

  constructor(readonly g: Graph) {}

  addBuffer(name: string, n: Node, space: Space, role: BufferRole, extra: { values?: readonly number[]; init?: InitSpec } = {}): number {
    const id = this.buffers.length;
    this.buffers.push({
      id,
      name,
      dtype: n.type.dtype,
      shape: [...n.type.shape],
      size: numel(n.type.shape),
      space,
      role,
      offset: 0,
      ...(n.span ? { span: n.span } : {}),
      ...extra,
    });
    return id;
  }

  bind(n: Node, buf: number): void {
    this.bufOf.set(n, buf);
  }

  bufferOf(n: Node): number | undefined {
    return this.bufOf.get(n);
  }

  /** Element `idx` of node n: a load from its buffer, or its expression inlined. */
  read(n: Node, idx: readonly Expr[]): Expr {
    const buf = this.bufOf.get(n);
    if (buf !== undefined) return { k: 'load', buf, i: flatIndex(idx, n.type.shape), t: n.type.dtype };
    return this.inline(n, idx);
  }

  readFlat(n: Node, flat: Expr): Expr {
    const buf = this.bufOf.get(n);
    if (buf !== undefined) return { k: 'load', buf, i: flat, t: n.type.dtype };
    return this.inline(n, unflatten(flat, n.type.shape));
  }

  /** The op's own expression for one element, reading its inputs through `read`. */
  inline(n: Node, idx: readonly Expr[]): Expr {
    const def = getOp(n.op);
    if (!def.expr) throw new Error(`internal: ${n.op} has no kernel expression`);
    return def.expr({
      attrs: n.attrs,
      idx,
      inputs: n.inputs.map((i) => i.type),
      out: n.type,
      read: (i, ix) => this.read(n.inputs[i]!, ix),
      readFlat: (i, f) => this.readFlat(n.inputs[i]!, f),
      fresh: () => `r${this.fresh++}`,
    });
  }

  source(nodes: readonly Node[]) {
    return { ops: nodes.map((n) => n.op), spans: nodes.flatMap((n) => (n.span ? [n.span] : [])) };
  }

  /** A map kernel writing node n's elements into `buf`. */
  mapKernel(n: Node, buf: number, value?: (idx: Expr[]) => Expr): MapKernel {
    this.fresh = 0;
    const vars = n.type.shape.map((_, i) => `i${i}`);
    const idx = vars.map(loopIdx);
    const k: MapKernel = {
      kind: 'map',
      name: `k${this.kernels.length}_${n.op}`,
      domain: [...n.type.shape],
      vars,
      outputs: [{ buf, value: value ? value(idx) : this.inline(n, idx) }],
      source: this.source([n]),
    };
    this.kernels.push(k);
    return k;
  }

  /**
   * A contraction operand as a strided [batch, rows, cols] view, copying it into a fresh
   * contiguous buffer when it is not one already.
   */
  operand(n: Node, batch: readonly number[], rows: readonly number[], cols: readonly number[], tag: string): Strided {
    const rank = n.type.shape.length;
    const vars = Array.from({ length: rank }, (_, i) => `a${i}`);
    this.fresh = 0;
    const e = this.read(
      n,
      vars.map((v) => loopIdx(v)),
    );
    const aff = affineOf(e);
    const merge = (axes: readonly number[]): number | undefined => {
      // Axes merge into one stride when they are row-major contiguous among themselves.
      const live = axes.filter((a) => n.type.shape[a]! > 1);
      if (live.length === 0) return 0;
      let expect: number | undefined;
      for (let j = live.length - 1; j >= 0; j--) {
        const a = live[j]!;
        const c = aff?.coef.get(vars[a]!) ?? 0;
        if (expect !== undefined && c !== expect) return undefined;
        expect = c * n.type.shape[a]!;
      }
      return aff?.coef.get(vars[live[live.length - 1]!]!) ?? 0;
    };
    if (aff) {
      const sb = merge(batch);
      const sr = merge(rows);
      const sc = merge(cols);
      if (sb !== undefined && sr !== undefined && sc !== undefined) return { buf: aff.buf, offset: aff.c, sb, sr, sc };
    }
    // Copy into [batch…, rows…, cols…] order.
    const order = [...batch, ...rows, ...cols];
    const shape = order.map((a) => n.type.shape[a]!);
    const fake: Node = { ...n, type: { dtype: n.type.dtype, shape }, op: 'reshape' };
    const buf = this.addBuffer(`${tag}`, fake, 'arena', 'temp');
    const nr = numel(rows.map((a) => n.type.shape[a]!));
    const nc = numel(cols.map((a) => n.type.shape[a]!));
    this.fresh = 0;
    const cvars = shape.map((_, i) => `i${i}`);
    const cidx = cvars.map(loopIdx);
    const src = new Array<Expr>(rank);
    order.forEach((a, i) => (src[a] = cidx[i]!));
    this.kernels.push({
      kind: 'map',
      name: `k${this.kernels.length}_copy`,
      domain: shape,
      vars: cvars,
      outputs: [{ buf, value: this.read(n, src) }],
      source: this.source([n]),
    });
    return { buf, offset: 0, sb: nr * nc, sr: nc, sc: 1 };
  }

  contraction(n: Node, buf: number): void {
    const a = n.attrs as DotAttrs;
    const [l, r] = n.inputs as [Node, Node];
    const lf = freeAxes(l.type.shape.length, a.lhs_batch, a.lhs_contract);
    const rf = freeAxes(r.type.shape.length, a.rhs_batch, a.rhs_contract);
    const size = (x: Node, axes: readonly number[]) => numel(axes.map((d) => x.type.shape[d]!));
    const A = this.operand(l, a.lhs_batch, lf, a.lhs_contract, `${n.op}_lhs`);
    const B = this.operand(r, a.rhs_batch, a.rhs_contract, rf, `${n.op}_rhs`);
    const k: ContractionKernel = {
      kind: 'contraction',
      name: `k${this.kernels.length}_matmul`,
      out: buf,
      batch: size(l, a.lhs_batch),
      m: size(l, lf),
      n: size(r, rf),
      k: size(l, a.lhs_contract),
      a: A,
      b: B,
      dtype: n.type.dtype,
      source: this.source([n]),
    };
    this.kernels.push(k);
  }
}

/** One kernel per computing node; views and literals inlined into their readers. */
export function buildKernels(g: Graph): KernelProgram {
  const b = new Builder(g);
  const outputOf = new Map<Node, string>();
  for (const o of g.outputs) if (!outputOf.has(o.node)) outputOf.set(o.node, o.name);
  const inputs = g.inputs.map((n) => ({ name: String(n.attrs['name']), buf: b.addBuffer(String(n.attrs['name']), n, 'state', 'input') }));
  g.inputs.forEach((n, i) => b.bind(n, inputs[i]!.buf));
  const params: { name: string; buf: number }[] = [];
  for (const n of g.nodes) {
    if (n.op === 'param') {
      const name = String(n.attrs['name']);
      const buf = b.addBuffer(name, n, 'state', 'param', { init: n.attrs['init'] as unknown as InitSpec });
      b.bind(n, buf);
      params.push({ name, buf });
    } else if (n.op === 'constant' && !isInline(n)) {
      b.bind(n, b.addBuffer(`const${n.id}`, n, 'state', 'const', { values: n.attrs['value'] as number[] }));
    }
  }
  for (const n of g.nodes) {
    const def = getOp(n.op);
    if (def.kind === 'source' || isInline(n)) continue;
    const out = outputOf.get(n);
    const buf = b.addBuffer(out ?? `t${n.id}_${n.op}`, n, out ? 'state' : 'arena', out ? 'output' : 'temp');
    b.bind(n, buf);
    if (n.op === 'dot_general') b.contraction(n, buf);
    else b.mapKernel(n, buf);
  }
  // Outputs that are views, inputs, parameters or constants are copied into output buffers.
  const outputs = g.outputs.map((o) => {
    const have = b.bufferOf(o.node);
    if (have !== undefined && b.buffers[have]!.role === 'output') return { name: o.name, buf: have };
    const buf = b.addBuffer(o.name, o.node, 'state', 'output');
    b.mapKernel(o.node, buf, (idx) => b.read(o.node, idx));
    return { name: o.name, buf };
  });
  return { name: g.name, buffers: b.buffers, kernels: b.kernels, inputs, params, outputs, stateBytes: 0, arenaBytes: 0 };
}
