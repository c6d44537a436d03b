/**
 * @file From an IR graph and a fusion plan to a kernel program. Values the plan stores get a
 * buffer; every other value is inlined, as its op's expression (`OpDef.expr`), into each kernel
 * that reads it. Movement ops, iota and one-value constants are always inlined (views). A
 * reduction the plan marks as per-row is computed once per row of its reader's kernel (a `let`).
 * Contractions become tiled kernels over strided operands (an operand that is not a strided view
 * of a buffer is first written into one), with their elementwise epilogue applied before storing.
 */
import type { Graph, Node } from '../ir/graph.js';
import { getOp } from '../ir/ops/index.js';
import { numel } from '../ir/types.js';
import type { InitSpec } from '../runtime/init.js';
import { freeAxes, type DotAttrs } from '../ir/ops/contraction.js';
import { affineOf, levelsOfIndex, sameIndexValue } from './affine.js';
import { flatIndex, idx as loopIdx, lit, resetStructKeys, sameExpr, structKey, unflatten, type Expr } from './expr.js';
import { isComputing, isView, planFusion, type FusionOptions, type FusionPlan } from './fuse.js';
import { mergeSiblings } from './siblings.js';
import { placeUpdates, type PendingUpdate } from './in-place.js';
import { isOptimizerState } from '../ir/graph.js';
import type { BufferInfo, BufferRole, ContractionKernel, Kernel, KernelLet, KernelProgram, KernelSource, Level, MapKernel, ProgramLoop, Space, Strided } from './program.js';
import { buildLoop, carriesInPlace, mergeSiblingsInLoops } from './loop.js';
import { routineBatch } from '../ir/routine.js';


/** State while one kernel's expressions are built. */
interface KernelScope {
  /** Per-row reductions of a row kernel: their let name and the flat index of the row. */
  readonly rows: Map<Node, { name: string; flat: Expr }>;
  /** The contraction whose accumulator this epilogue reads, and the result's index. */
  readonly acc?: { node: Node; idx: readonly Expr[]; t: Node['type']['dtype']; sizes: ReadonlyMap<string, number> };
  /** Every node computed in this kernel. */
  readonly nodes: Set<Node>;
  /**
   * Each inlined value by node and index: a value read twice at the same index is one object,
   * which the renderers compute once (so a kernel's code grows with its primitives, not with
   * the number of paths through them).
   */
  readonly memo: Map<string, Expr>;
}

export class Builder {
  readonly buffers: BufferInfo[] = [];
  readonly kernels: Kernel[] = [];
  readonly loops: ProgramLoop[] = [];
  /** How many loops the kernels being built are inside. */
  depth = 0;
  private readonly bufOf = new Map<Node, number>();
  /**
   * Contraction operands copied outside loops, by node and axis order: a second product reading
   * the same value in the same order reads the first one's copy (a convolution's patches feed
   * its forward product and its weight gradient's).
   */
  private readonly operandCopies = new Map<string, number>();
  private fresh = 0;
  private scope: KernelScope = { rows: new Map(), nodes: new Set(), memo: new Map() };

  constructor(
    public plan: FusionPlan,
    readonly fusion: FusionOptions = {},
  ) {}

  /** A buffer holding node n's value: its own, or a temporary written by a copy kernel now. */
  ensureBuffer(n: Node, tag: string): number {
    const have = this.bufOf.get(n);
    if (have !== undefined) return have;
    const buf = this.addBuffer(`${tag}${n.id}_${n.op}`, n, 'arena', 'temp');
    this.mapKernel(n, buf, (idx) => this.read(n, idx));
    this.bind(n, buf);
    return buf;
  }

  /** Buffers for a graph's parameters and stored constants. */
  bindSources(g: Graph, params: { name: string; buf: number }[]): void {
    for (const n of g.nodes) {
      if (n.op === 'param') {
        const name = String(n.attrs['name']);
        const buf = this.addBuffer(name, n, 'state', isOptimizerState(name) ? 'state' : 'param', { init: n.attrs['init'] as unknown as InitSpec });
        this.bind(n, buf);
        params.push({ name, buf });
      } else if (n.op === 'constant' && !isView(n)) {
        this.bind(n, this.addBuffer(`const${n.id}`, n, 'state', 'const', { values: n.attrs['value'] as number[] }));
      }
    }
  }

  /** The kernels of every stored value of g, in order (`outputOf`: values that are results, by name). */
  buildNodes(g: Graph, outputOf: ReadonlyMap<Node, string>): void {
    const plan = this.plan;
    const contractionOfSink = new Map([...plan.epilogueOf].map(([d, s]) => [s, d]));
    for (const n of g.nodes) {
      if (!isComputing(n) || !plan.materialized.has(n)) continue;
      const out = outputOf.get(n);
      const buf = this.addBuffer(out ?? `t${n.id}_${n.op}`, n, out ? 'state' : 'arena', out ? 'output' : 'temp');
      this.bind(n, buf);
      const d = contractionOfSink.get(n);
      if (n.body) buildLoop(this, n, buf);
      else if (getOp(n.op).routine) this.routine(n, buf);
      else if (d) this.contraction(d, buf, n);
      else if (n.op === 'dot_general') this.contraction(n, buf);
      else this.mapKernel(n, buf);
    }
  }

  addBuffer(name: string, n: Node, space: Space, role: BufferRole, extra: { values?: readonly number[]; init?: InitSpec } = {}): number {
    const id = this.buffers.length;
    this.buffers.push({ id, name, dtype: n.type.dtype, shape: [...n.type.shape], size: numel(n.type.shape), space, role, offset: 0, ...(n.span ? { span: n.span } : {}), ...extra });
    return id;
  }

  bind(n: Node, buf: number): void {
    this.bufOf.set(n, buf);
  }

  bufferOf(n: Node): number | undefined {
    return this.bufOf.get(n);
  }

  /** Element `idx` of node n: a load from its buffer, a row's `let`, or its expression inlined. */
  read(n: Node, idx: readonly Expr[]): Expr {
    const buf = this.bufOf.get(n);
    if (buf !== undefined) return { k: 'load', buf, i: flatIndex(idx, n.type.shape), t: n.type.dtype };
    return this.readFlat(n, flatIndex(idx, n.type.shape), idx);
  }

  readFlat(n: Node, flat: Expr, idx?: readonly Expr[]): Expr {
    const buf = this.bufOf.get(n);
    if (buf !== undefined) return { k: 'load', buf, i: flat, t: n.type.dtype };
    const acc = this.scope.acc;
    if (acc && acc.node === n) {
      const own = flatIndex(acc.idx, n.type.shape);
      if (sameExpr(flat, own) || sameIndexValue(flat, own, acc.sizes)) return { k: 'ref', v: 'acc', t: acc.t };
      // The fusion plan gives a contraction an epilogue only when every path reads it at its own
      // element (elementwise ops and reshapes), so this is a bug in the plan, not a choice here.
      throw new Error(`internal: the epilogue of ${n.op} %${n.id} reads its result at another element`);
    }
    const row = this.scope.rows.get(n);
    if (row && sameExpr(flat, row.flat)) return { k: 'ref', v: row.name, t: n.type.dtype };
    return this.inline(n, idx ?? unflatten(flat, n.type.shape));
  }

  /** The op's own expression for one element, reading its inputs through `read`. */
  inline(n: Node, idx: readonly Expr[]): Expr {
    const def = getOp(n.op);
    if (!def.expr) throw new Error(`internal: ${n.op} has no kernel expression`);
    this.scope.nodes.add(n);
    const memo = this.scope.memo;
    const key = `${n.id}:${idx.map(structKey).join(',')}`;
    const have = memo.get(key);
    if (have) return have;
    const e = def.expr({
      attrs: n.attrs,
      idx,
      inputs: n.inputs.map((i) => i.type),
      out: n.type,
      read: (i, ix) => this.read(n.inputs[i]!, ix),
      readFlat: (i, f) => this.readFlat(n.inputs[i]!, f),
      fresh: () => `r${this.fresh++}`,
    });
    memo.set(key, e);
    return e;
  }

  source(nodes: Iterable<Node>): KernelSource {
    const list = [...nodes].sort((a, b) => a.id - b.id);
    return { ops: list.map((n) => n.op), spans: list.flatMap((n) => (n.span ? [n.span] : [])), nodes: list.map((n) => n.id) };
  }

  /** Per-row reductions reachable from n through inlined values, producers first. */
  private rowReductionsOf(n: Node): Node[] {
    const found = new Set<Node>();
    const seen = new Set<Node>();
    const walk = (x: Node) => {
      for (const i of x.inputs) {
        if (seen.has(i) || this.bufOf.has(i)) continue;
        seen.add(i);
        if (this.plan.rowReductions.has(i)) found.add(i);
        walk(i);
      }
    };
    walk(n);
    return [...found].sort((a, b) => a.id - b.id);
  }

  /** A map kernel writing node n's elements into `buf` (a row kernel when n reads per-row reductions). */
  mapKernel(n: Node, buf: number, value?: (idx: Expr[]) => Expr): void {
    this.fresh = 0;
    const vars = n.type.shape.map((_, i) => `i${i}`);
    const idx = vars.map(loopIdx);
    const rows = value ? [] : this.rowReductionsOf(n);
    let inner: number[] = [];
    const lets: KernelLet[] = [];
    this.scope = { rows: new Map(), nodes: new Set(), memo: new Map() };
    if (rows.length) {
      // The row: the reduced axes of the first reduction; the kernel's shape must be the
      // reduction's input shape (read over the row) or its output shape (no row loop).
      const first = rows[0]!;
      const axes = first.attrs['axes'] as number[];
      const full = first.inputs[0]!.type.shape;
      const sameRows = rows.every((r) => JSON.stringify(r.attrs['axes']) === JSON.stringify(axes) && JSON.stringify(r.inputs[0]!.type.shape) === JSON.stringify(full));
      const isFull = JSON.stringify(n.type.shape) === JSON.stringify(full);
      const isOuter = JSON.stringify(n.type.shape) === JSON.stringify(first.type.shape);
      if (sameRows && (isFull || isOuter)) {
        inner = isFull ? [...axes] : [];
        const outerIdx = idx.filter((_, d) => !inner.includes(d));
        for (const r of rows) {
          const name = `row${lets.length}`;
          const flat = flatIndex(outerIdx, r.type.shape);
          lets.push({ name, value: this.inline(r, outerIdx) });
          this.scope.rows.set(r, { name, flat });
        }
      }
    }
    const v = value ? value(idx) : this.inline(n, idx);
    const k: MapKernel = {
      kind: 'map',
      name: `k${this.kernels.length}_${n.op}`,
      domain: [...n.type.shape],
      vars,
      outputs: [{ buf, value: v }],
      ...(lets.length ? { lets, inner } : {}),
      source: this.source(this.scope.nodes.size ? this.scope.nodes : [n]),
    };
    this.kernels.push(k);
    this.scope = { rows: new Map(), nodes: new Set(), memo: new Map() };
  }

  /**
   * A contraction operand as a strided [batch, rows, cols] view, copying it into a fresh
   * contiguous buffer when it is not one already (the copy also computes inlined producers).
   */
  private operand(n: Node, batch: readonly number[], rows: readonly number[], cols: readonly number[], tag: string): Strided {
    const rank = n.type.shape.length;
    const vars = Array.from({ length: rank }, (_, i) => `a${i}`);
    this.fresh = 0;
    const saved = this.scope;
    this.scope = { rows: new Map(), nodes: new Set(), memo: new Map() };
    const e = this.read(
      n,
      vars.map((v) => loopIdx(v)),
    );
    this.scope = saved;
    const aff = affineOf(e, new Map(vars.map((v, i) => [v, n.type.shape[i]!])));
    // Each group's axes (size 1 dropped), merged where they are row-major contiguous.
    if (aff) {
      // Each group's axes as levels (size 1 dropped), merged where they are row-major contiguous.
      const levelsOf = (axes: readonly number[]): Level[] | undefined => {
        const out: Level[] = [];
        for (const a of axes) {
          const own = levelsOfIndex(aff, vars[a]!, n.type.shape[a]!);
          if (!own) return undefined;
          for (const l of own) {
            if (l.n === 1) continue;
            const last = out[out.length - 1];
            if (last && last.stride === l.stride * l.n) out[out.length - 1] = { n: last.n * l.n, stride: l.stride };
            else out.push(l);
          }
        }
        return out;
      };
      const b = levelsOf(batch);
      const r = levelsOf(rows);
      const c = levelsOf(cols);
      if (b && r && c) {
        const single = (l: Level[]) => (l.length === 0 ? 0 : l.length === 1 ? l[0]!.stride : undefined);
        const [sb, sr, sc] = [single(b), single(r), single(c)];
        if (sb !== undefined && sr !== undefined && sc !== undefined) return { buf: aff.buf, offset: aff.c, sb, sr, sc };
        return { buf: aff.buf, offset: aff.c, sb: 0, sr: 0, sc: 0, levels: { b, r, c } };
      }
    }
    // Write it in [batch…, rows…, cols…] order.
    const order = [...batch, ...rows, ...cols];
    const shape = order.map((a) => n.type.shape[a]!);
    const nr = numel(rows.map((a) => n.type.shape[a]!));
    const nc = numel(cols.map((a) => n.type.shape[a]!));
    const key = this.depth === 0 ? `${n.id}:${order.join(',')}` : undefined;
    const copied = key === undefined ? undefined : this.operandCopies.get(key);
    if (copied !== undefined) return { buf: copied, offset: 0, sb: nr * nc, sr: nc, sc: 1 };
    const fake: Node = { ...n, type: { dtype: n.type.dtype, shape }, op: 'reshape' };
    const buf = this.addBuffer(tag, fake, 'arena', 'temp');
    if (key !== undefined) this.operandCopies.set(key, buf);
    this.fresh = 0;
    this.scope = { rows: new Map(), nodes: new Set(), memo: new Map() };
    const cvars = shape.map((_, i) => `i${i}`);
    const cidx = cvars.map(loopIdx);
    const src = new Array<Expr>(rank);
    order.forEach((a, i) => (src[a] = cidx[i]!));
    const value = this.read(n, src);
    this.kernels.push({ kind: 'map', name: `k${this.kernels.length}_${isComputing(n) && !this.bufOf.has(n) ? n.op : 'copy'}`, domain: shape, vars: cvars, outputs: [{ buf, value }], source: this.source(this.scope.nodes.size ? this.scope.nodes : [n]) });
    this.scope = saved;
    return { buf, offset: 0, sb: nr * nc, sr: nc, sc: 1 };
  }

  /** The routine of op n (src/ir/routine.ts) over contiguous copies of its operands, into `buf`. */
  routine(n: Node, buf: number): void {
    const def = getOp(n.op);
    const r = def.routine!;
    const batch = routineBatch(n.inputs[0]!.type);
    const dims = r.dims(n.inputs.map((i) => i.type), n.attrs);
    const inputs = n.inputs.map((i) => ({ buf: this.ensureBuffer(i, `${n.op}_in`), size: batch ? numel(i.type.shape) / batch : 0 }));
    const per = r.scratch?.(dims, n.attrs) ?? 0;
    const scratch = per > 0 ? { buf: this.addBuffer(`${n.op}${n.id}_scratch`, { ...n, type: { dtype: 'f32', shape: [batch, per] } }, 'arena', 'temp'), size: per } : undefined;
    this.kernels.push({
      kind: 'routine',
      name: `k${this.kernels.length}_${n.op}`,
      op: n.op,
      attrs: n.attrs,
      batch,
      dims,
      inputs,
      out: buf,
      outSize: batch ? numel(n.type.shape) / batch : 0,
      ...(scratch ? { scratch } : {}),
      source: this.source([n]),
    });
  }

  /** The contraction n, storing `sink`'s value (its epilogue) or its own result into `buf`. */
  contraction(n: Node, buf: number, sink?: Node): void {
    const a = n.attrs as DotAttrs;
    const [l, r] = n.inputs as [Node, Node];
    const lf = freeAxes(l.type.shape.length, a.lhs_batch, a.lhs_contract);
    const rf = freeAxes(r.type.shape.length, a.rhs_batch, a.rhs_contract);
    const size = (x: Node, axes: readonly number[]) => numel(axes.map((d) => x.type.shape[d]!));
    let epilogue: ContractionKernel['epilogue'];
    const nodes = new Set<Node>([n]);
    if (sink) {
      const vars = n.type.shape.map((_, i) => `e${i}`);
      const idx = vars.map(loopIdx);
      this.fresh = 0;
      const sizes = new Map(vars.map((v, i) => [v, n.type.shape[i]!] as const));
      this.scope = { rows: new Map(), nodes: new Set(), memo: new Map(), acc: { node: n, idx, t: n.type.dtype, sizes } };
      const value = this.inline(sink, sinkIndex(idx, n.type.shape, sink.type.shape));
      const used = this.scope.nodes;
      this.scope = { rows: new Map(), nodes: new Set(), memo: new Map() };
      for (const x of used) nodes.add(x);
      epilogue = { vars, shape: [...n.type.shape], value, t: sink.type.dtype };
    }
    const A = this.operand(l, a.lhs_batch, lf, a.lhs_contract, `${n.op}_lhs`);
    const B = this.operand(r, a.rhs_batch, a.rhs_contract, rf, `${n.op}_rhs`);
    this.kernels.push({
      kind: 'contraction',
      name: `k${this.kernels.length}_${sink ? `matmul_${sink.op}` : 'matmul'}`,
      out: buf,
      batch: size(l, a.lhs_batch),
      m: size(l, lf),
      n: size(r, rf),
      k: size(l, a.lhs_contract),
      a: A,
      b: B,
      dtype: n.type.dtype,
      ...(epilogue ? { epilogue } : {}),
      source: this.source(nodes),
    });
  }
}

/**
 * The sink's multi-index of the contraction's element `idx`: an epilogue may reach its sink through
 * reshapes, so the two shapes hold the same elements in row-major order but may differ in rank
 * (a split axis, an added or dropped size-1 axis).
 */
function sinkIndex(idx: readonly Expr[], from: readonly number[], to: readonly number[]): readonly Expr[] {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return idx;
  const a = from.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const b = to.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  if (a.length === b.length && a.every(([d], i) => d === b[i]![0])) {
    const out: Expr[] = to.map(() => lit(0));
    b.forEach(([, j], i) => (out[j] = idx[a[i]![1]]!));
    return out;
  }
  return unflatten(flatIndex(idx, from), to);
}

export interface BuildOptions extends FusionOptions {}

/** The kernel program of a graph under a fusion plan (fused unless `fuse: false`). */
export function buildKernels(g: Graph, opts: BuildOptions = {}): KernelProgram {
  resetStructKeys();
  const { program, pending } = build(g, planFusion(g, opts), opts);
  // Independent kernels over the same index space become one (never across a loop's bounds).
  const merged = carriesInPlace(opts.fuse === false ? program : mergeSiblingsInLoops(program, mergeSiblings));
  const placed = placeUpdates(merged, pending);
  if (opts.fuse === false) return placed;
  // Names follow the order.
  return { ...placed, kernels: placed.kernels.map((k, i) => ({ ...k, name: `k${i}_${k.name.replace(/^k\d+_/, '')}` })) };
}

function build(g: Graph, plan: FusionPlan, opts: FusionOptions): { program: KernelProgram; pending: PendingUpdate[] } {
  const b = new Builder(plan, opts);
  const outputOf = new Map<Node, string>();
  for (const o of g.outputs) if (!outputOf.has(o.node)) outputOf.set(o.node, o.name);
  const inputs = g.inputs.map((n) => ({ name: String(n.attrs['name']), buf: b.addBuffer(String(n.attrs['name']), n, 'state', 'input') }));
  g.inputs.forEach((n, i) => b.bind(n, inputs[i]!.buf));
  const params: { name: string; buf: number }[] = [];
  b.bindSources(g, params);
  b.buildNodes(g, outputOf);
  // Outputs that are views, inputs, parameters or constants are copied into output buffers.
  // A value returned twice gets a buffer per output (the second a copy of the first).
  const claimed = new Set<number>();
  const outputs = g.outputs.map((o) => {
    const have = b.bufferOf(o.node);
    if (have !== undefined && b.buffers[have]!.role === 'output' && !claimed.has(have)) {
      claimed.add(have);
      return { name: o.name, buf: have };
    }
    const buf = b.addBuffer(o.name, o.node, 'state', 'output');
    b.mapKernel(o.node, buf, (idx) => b.read(o.node, idx));
    return { name: o.name, buf };
  });
  // State updates: each new value in a temporary buffer of its own (placeUpdates then writes it
  // into its state, in place where that is safe). A value that is a view, an input, a state or
  // an output, or that two updates share, is first computed into a fresh temporary.
  const stateBuf = new Map(params.map((x) => [x.name, x.buf] as const));
  const taken = new Set<number>();
  const pending: PendingUpdate[] = [];
  for (const u of g.updates) {
    const state = stateBuf.get(u.name);
    if (state === undefined) throw new Error(`internal: update of \`${u.name}\`, which the program does not read`);
    if (u.node.op === 'param' && String(u.node.attrs['name']) === u.name) continue;
    let value = b.bufferOf(u.node);
    if (value === undefined || b.buffers[value]!.role !== 'temp' || taken.has(value)) {
      value = b.addBuffer(`t${u.node.id}_update`, u.node, 'arena', 'temp');
      b.mapKernel(u.node, value, (idx) => b.read(u.node, idx));
    }
    taken.add(value);
    pending.push({ name: u.name, state, value });
  }
  return { program: { name: g.name, buffers: b.buffers, kernels: b.kernels, ...(b.loops.length ? { loops: b.loops } : {}), inputs, params, outputs, updates: [], stateBytes: 0, arenaBytes: 0 }, pending };
}
