/**
 * @file The WGSL backend: one compute shader per kernel. Every shader binds the two memory
 * spaces as `array<u32>` (values are bit-cast), so any number of tensors costs two bindings.
 * Elementwise kernels use one thread per element; a kernel whose value is a reduction uses one
 * workgroup per output element with a shared-memory tree; contractions use 16×16 tiles staged
 * in workgroup memory.
 */
import { getOp } from '../../ir/ops/index.js';
import type { DType } from '../../ir/types.js';
import { typeOf, type Expr } from '../../kernel/expr.js';
import { levelOffset, type BufferInfo, type ContractionKernel, type Kernel, type KernelProgram, type MapKernel, type RoutineKernel, type Strided } from '../../kernel/program.js';
import { ROUTINE_THREADS } from '../../ir/routine.js';
import { ExprRenderer, Helpers, kernelHeader, type Dialect } from '../render-expr.js';
import { contractionTiling, grid, MAP_WORKGROUP, TILE, TILE_K, type DeviceLimits } from './limits.js';
import { WGSL_HELPERS } from './prelude.js';
import { PARAM_DECL, ParamTable, SMALL_LOOP } from './params.js';

const INDENT = '  ';

const WGSL_TYPE: Record<DType, string> = { f32: 'f32', i32: 'i32', bool: 'bool' };

/**
 * f32 bit patterns for the values WGSL has no literal for. They go through a function with a
 * `var`, because a constant expression may not evaluate to an infinity or NaN.
 */
const SPECIAL: Record<string, string> = { Infinity: '0x7f800000u', '-Infinity': '0xff800000u', NaN: '0x7fc00000u' };

export function wgslLiteral(v: number, t: DType, helpers?: Helpers): string {
  if (t === 'bool') return v ? 'true' : 'false';
  if (t === 'i32') {
    // ±∞ (a max/min reduction's identity) is the i32 extreme; −2³¹ has no literal of its own.
    if (v <= -2147483648) return '(-2147483647i - 1i)';
    if (v >= 2147483647) return '2147483647i';
    return v < 0 ? `(${v}i)` : `${v}i`;
  }
  const f = Math.fround(v);
  if (!Number.isFinite(f)) {
    helpers?.use('dlc_f32_bits');
    return `dlc_f32_bits(${SPECIAL[String(f)]})`;
  }
  if (Math.abs(f) < 1.1754943508222875e-38) return '0.0f';
  let s = String(f);
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  return f < 0 ? `(${s}f)` : `${s}f`;
}

function spaceVar(b: BufferInfo): string {
  return b.space === 'state' ? 'S' : 'A';
}

/**
 * The parameters of the kernel being rendered (renderWgsl sets it; rendering is synchronous).
 * Buffer offsets, loop bounds and the constant terms of indices are read from it.
 */
let params = new ParamTable();

function at(b: BufferInfo, index: string): string {
  return `${spaceVar(b)}[${params.get(`buf${b.id}`, b.offset / 4)} + ${index}]`;
}

/** A loop bound the driver does not see (so it keeps the loop a loop). */
function bound(key: string, n: number): string {
  return params.get(key, n);
}

const INT_LITERAL = /^\d+i?$/;

function load(b: BufferInfo, index: string): string {
  const x = at(b, index);
  if (b.dtype === 'bool') return `(${x} != 0u)`;
  return `bitcast<${WGSL_TYPE[b.dtype]}>(${x})`;
}

function store(b: BufferInfo, index: string, value: string): string {
  const v = b.dtype === 'bool' ? `select(0u, 1u, ${value})` : `bitcast<u32>(${value})`;
  return `${at(b, index)} = ${v};`;
}

const dialect: Dialect = {
  backend: 'wgsl',
  lit: wgslLiteral,
  load,
  ix(op, a, b) {
    if (op === 'min' || op === 'max') return `${op}(${a}, ${b})`;
    // Constant terms of an index (a slice's start, a time step) differ between otherwise equal kernels.
    if (op === '+' && INT_LITERAL.test(b)) return `(${a} + ${params.fresh(parseInt(b, 10))})`;
    if (op === '+' && INT_LITERAL.test(a)) return `(${params.fresh(parseInt(a, 10))} + ${b})`;
    return `(${a} ${op} ${b})`;
  },
  let: (name, t, value) => `let ${name}: ${WGSL_TYPE[t]} = ${value};`,
  var: (name, t, value) => `var ${name}: ${WGSL_TYPE[t]} = ${value};`,
  assign: (name, value) => `${name} = ${value};`,
  loop: (v, n, body) => [`for (var ${v}: i32 = 0; ${v} < ${n < SMALL_LOOP ? n : bound(`n${n}`, n)}; ${v}++) {`, ...body.map((l) => INDENT + l), '}'],
  if: (cond, body) => [`if (${cond}) {`, ...body.map((l) => INDENT + l), '}'],
};

const HEADER = ['@group(0) @binding(0) var<storage, read_write> S: array<u32>;', '@group(0) @binding(1) var<storage, read_write> A: array<u32>;', PARAM_DECL, ''];

function withHelpers(helpers: Helpers, body: string[]): string {
  const pre = [...helpers.used].sort().map((h) => WGSL_HELPERS[h]!);
  return [...HEADER, ...(pre.length ? [...pre, ''] : []), ...body, ''].join('\n');
}

/** `let` bindings of the multi-index of a flat index over `shape`. */
function unflattenLets(flat: string, vars: readonly string[], shape: readonly number[]): string[] {
  const out: string[] = [];
  let stride = shape.reduce((a, b) => a * b, 1);
  shape.forEach((n, d) => {
    stride /= n;
    const q = stride === 1 ? flat : `(${flat} / ${stride})`;
    out.push(`let ${vars[d]}: i32 = ${d === 0 ? q : n === 1 ? '0' : `${q} % ${n}`};`);
  });
  return out;
}

export interface WgslShader {
  /** The shader; the same text for kernels that differ only in their parameters. */
  readonly code: string;
  readonly workgroups: readonly [number, number, number];
  /** The kernel's parameter block (u32 values: offsets, loop bounds), see params.ts. */
  readonly params: readonly number[];
}

type Rendered = Omit<WgslShader, 'params'>;

function mapShader(k: MapKernel, p: KernelProgram, limits: DeviceLimits): Rendered {
  if (k.lets?.length) return rowShader(k, p, limits);
  const total = k.domain.reduce((a, b) => a * b, 1);
  const only = k.outputs.length === 1 ? k.outputs[0]! : undefined;
  if (only && only.value.k === 'red' && reductionSize(only.value) >= MAP_WORKGROUP) return reductionShader(k, only.buf, only.value, p, limits);
  const helpers = new Helpers();
  const body: string[] = [];
  const r = new ExprRenderer(dialect, p.buffers, helpers, body).share(k.outputs.map((o) => o.value));
  const code = r.renderOutputs(k.outputs.map((o) => o.value));
  const values = k.outputs.map((o, j) => ({ b: p.buffers[o.buf]!, v: code[j]! }));
  const [x, y] = grid(Math.ceil(total / MAP_WORKGROUP), limits);
  const lines = [
    `@compute @workgroup_size(${MAP_WORKGROUP})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    `  let flat: i32 = i32((wg.y * nwg.x + wg.x) * ${MAP_WORKGROUP}u + li);`,
    `  if (flat >= ${total}) { return; }`,
    ...unflattenLets('flat', k.vars, k.domain).map((l) => INDENT + l),
    ...body.map((l) => INDENT + l),
    ...values.map((o) => INDENT + store(o.b, 'flat', o.v)),
    '}',
  ];
  return { code: withHelpers(helpers, lines), workgroups: [x, y, 1] };
}

/** `acc = combine(acc, v)` for a reduction's monoid (not arg-reductions). */
function combineCode(red: Expr & { k: 'red' }, helpers: Helpers, a: string, b: string): string {
  const m = getOp(red.op).monoid!;
  if (!('combine' in m)) throw new Error('internal: arg-reduction in a row');
  return getOp(m.combine).emit!.wgsl({ args: [a, b], types: [red.t, red.t], out: red.t, helper: (h) => helpers.use(h) });
}

/**
 * A row kernel: one workgroup per outer index. Each per-row value (`let`) that is a reduction is
 * computed by the whole workgroup (strided shares, then a tree in workgroup memory) and shared;
 * then the threads split the row's elements.
 */
function rowShader(k: MapKernel, p: KernelProgram, limits: DeviceLimits): Rendered {
  const W = MAP_WORKGROUP;
  const inner = k.inner ?? [];
  const outerAxes = k.domain.map((_, i) => i).filter((i) => !inner.includes(i));
  const outerShape = outerAxes.map((i) => k.domain[i]!);
  const innerShape = inner.map((i) => k.domain[i]!);
  const outerTotal = outerShape.reduce((a, b) => a * b, 1);
  const innerTotal = innerShape.reduce((a, b) => a * b, 1);
  const helpers = new Helpers();
  const lines: string[] = [];
  const types = new Set<DType>();
  const r = new ExprRenderer(dialect, p.buffers, helpers, lines);
  for (const l of k.lets!) {
    const v = l.value;
    if (v.k === 'red') {
      types.add(v.t);
      const inner: string[] = [];
      const value = r.into(inner).render(v.body);
      const T = WGSL_TYPE[v.t];
      const m = getOp(v.op).monoid! as { identity: number };
      const R = reductionSize(v);
      lines.push(
        `{`,
        `  var acc: ${T} = ${dialect.lit(m.identity, v.t, helpers)};`,
        `  for (var rr: i32 = i32(li); rr < ${bound(`r${R}`, R)}; rr += ${W}) {`,
        ...[...unflattenLets('rr', v.vars.map((x) => x.v), v.vars.map((x) => x.n)), ...inner, `let v: ${T} = ${value};`, `acc = ${combineCode(v, helpers, 'acc', 'v')};`].map((x) => `    ${x}`),
        '  }',
        `  sh_${T}[li] = acc;`,
        '}',
        'workgroupBarrier();',
        `for (var s: u32 = ${W / 2}u; s > 0u; s = s >> 1u) {`,
        `  if (li < s) { sh_${T}[li] = ${combineCode(v, helpers, `sh_${T}[li]`, `sh_${T}[li + s]`)}; }`,
        '  workgroupBarrier();',
        '}',
        `let ${l.name}: ${T} = sh_${T}[0];`,
        'workgroupBarrier();',
      );
    } else {
      const value = r.into(lines).render(v);
      lines.push(`let ${l.name}: ${WGSL_TYPE[typeOf(v)]} = ${value};`);
    }
  }
  const body: string[] = [];
  r.into(body).share(k.outputs.map((o) => o.value));
  const rendered = r.renderOutputs(k.outputs.map((o) => o.value));
  const values = k.outputs.map((o, j) => ({ b: p.buffers[o.buf]!, v: rendered[j]! }));
  const flat = k.vars.length ? k.vars.map((v, i) => `${v} * ${k.domain.slice(i + 1).reduce((a, b) => a * b, 1)}`).join(' + ') : '0';
  const element = [
    ...unflattenLets('e', inner.map((i) => k.vars[i]!), innerShape),
    ...body,
    ...values.map((o) => store(o.b, flat, o.v)),
  ];
  const [x, y] = grid(outerTotal, limits);
  const code = [
    ...[...types].map((t) => `var<workgroup> sh_${WGSL_TYPE[t]}: array<${WGSL_TYPE[t]}, ${W}>;`),
    '',
    `@compute @workgroup_size(${W})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    `  let row: i32 = i32(wg.y * nwg.x + wg.x);`,
    `  let o: i32 = min(row, ${outerTotal - 1});`,
    ...unflattenLets('o', outerAxes.map((i) => k.vars[i]!), outerShape).map((l) => INDENT + l),
    ...lines.map((l) => INDENT + l),
    `  if (row < ${outerTotal}) {`,
    `    for (var e: i32 = i32(li); e < ${bound(`r${innerTotal}`, innerTotal)}; e += ${W}) {`,
    ...element.map((l) => INDENT + INDENT + INDENT + l),
    '    }',
    '  }',
    '}',
  ];
  return { code: withHelpers(helpers, code), workgroups: [x, y, 1] };
}

function reductionSize(e: Expr & { k: 'red' }): number {
  return e.vars.reduce((a, v) => a * v.n, 1);
}

/**
 * One workgroup per output element: each thread folds a strided share of the reduction, then a
 * tree in workgroup memory combines the shares (ties of arg-reductions go to the lower index).
 */
function reductionShader(k: MapKernel, buf: number, red: Expr & { k: 'red' }, p: KernelProgram, limits: DeviceLimits): Rendered {
  const total = k.domain.reduce((a, b) => a * b, 1);
  const out = p.buffers[buf]!;
  const monoid = getOp(red.op).monoid!;
  const helpers = new Helpers();
  const bodyT = typeOf(red.body);
  const T = WGSL_TYPE[bodyT];
  const W = MAP_WORKGROUP;
  const R = reductionSize(red);
  const inner: string[] = [];
  const r = new ExprRenderer(dialect, p.buffers, helpers, inner);
  const value = r.render(red.body);
  const combine = (a: string, b: string) =>
    'combine' in monoid ? getOp(monoid.combine).emit!.wgsl({ args: [a, b], types: [red.t, red.t], out: red.t, helper: (h) => helpers.use(h) }) : '';
  const isArg = 'arg' in monoid;
  // "a beats b" for an arg-reduction (NaN beats numbers); ties go to the lower index.
  const beats = (a: string, b: string) => (isArg ? monoid.beats.wgsl({ args: [a, b], types: [bodyT, bodyT], out: 'bool', helper: (h) => helpers.use(h) }) : '');
  const identity = dialect.lit(isArg ? (monoid.arg === 'max' ? -Infinity : Infinity) : monoid.identity, bodyT, helpers);
  const loopBody = [
    ...unflattenLets('rr', red.vars.map((v) => v.v), red.vars.map((v) => v.n)),
    ...inner,
    `let v: ${T} = ${value};`,
    ...(isArg ? [`if (${beats('v', 'best')}) { best = v; bi = rr; }`] : [`acc = ${combine('acc', 'v')};`]),
  ];
  const tree = isArg
    ? [
        `if (li < s) {`,
        `  let ov = shv[li + s]; let oi = shi[li + s];`,
        `  if (${beats('ov', 'shv[li]')} || (!${beats('shv[li]', 'ov')} && oi < shi[li])) { shv[li] = ov; shi[li] = oi; }`,
        `}`,
      ]
    : [`if (li < s) { shv[li] = ${combine('shv[li]', 'shv[li + s]')}; }`];
  const [x, y] = grid(total, limits);
  const lines = [
    `var<workgroup> shv: array<${T}, ${W}>;`,
    ...(isArg ? [`var<workgroup> shi: array<i32, ${W}>;`] : []),
    '',
    `@compute @workgroup_size(${W})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    `  let flat: i32 = min(i32(wg.y * nwg.x + wg.x), ${total - 1});`,
    ...unflattenLets('flat', k.vars, k.domain).map((l) => INDENT + l),
    ...(isArg ? [`  var best: ${T} = ${identity};`, '  var bi: i32 = 0;'] : [`  var acc: ${T} = ${dialect.lit(isArg ? 0 : (monoid as { identity: number }).identity, red.t, helpers)};`]),
    `  for (var rr: i32 = i32(li); rr < ${bound(`r${R}`, R)}; rr += ${W}) {`,
    ...loopBody.map((l) => INDENT + INDENT + l),
    '  }',
    ...(isArg ? ['  shv[li] = best;', '  shi[li] = bi;'] : ['  shv[li] = acc;']),
    '  workgroupBarrier();',
    `  for (var s: u32 = ${W / 2}u; s > 0u; s = s >> 1u) {`,
    ...tree.map((l) => INDENT + INDENT + l),
    '    workgroupBarrier();',
    '  }',
    `  if (li == 0u && i32(wg.y * nwg.x + wg.x) < ${total}) {`,
    `    ${store(out, 'flat', isArg ? 'shi[0]' : 'shv[0]')}`,
    '  }',
    '}',
  ];
  return { code: withHelpers(helpers, lines), workgroups: [x, y, 1] };
}

/** The element (b, r, c) of a strided operand, as a WGSL index expression. */
function operandIndex(key: string, s: Strided, b: string, r: string, c: string): string {
  const offset = params.get(key, s.offset);
  // Strides are parameters too (with the sizes, see contractionShader), so products that differ
  // only in them share a shader; reshaped operands (levels) keep their literal divisors.
  if (!s.levels) return `${offset} + ${b} * ${params.get(`${key}sb`, s.sb)} + ${r} * ${params.get(`${key}sr`, s.sr)} + ${c} * ${params.get(`${key}sc`, s.sc)}`;
  const div = (a: string, n: number) => `(${a}) / ${n}`;
  const mod = (a: string, n: number) => `(${a}) % ${n}`;
  return [offset, levelOffset(s.levels.b, b, div, mod), levelOffset(s.levels.r, r, div, mod), levelOffset(s.levels.c, c, div, mod)].join(' + ');
}

/**
 * C = A·B: a 16×16 workgroup computes a block of up to 64×64 results, each thread up to 4×4 of
 * them in registers (a row of adjacent results as one vector), over tiles of A and B (16 deep)
 * staged in workgroup memory.
 */
function contractionShader(k: ContractionKernel, p: KernelProgram, limits: DeviceLimits): Rendered {
  const A = p.buffers[k.a.buf]!;
  const B = p.buffers[k.b.buf]!;
  const C = p.buffers[k.out]!;
  const T = WGSL_TYPE[k.dtype];
  const zero = k.dtype === 'f32' ? '0.0f' : '0i';
  const { m: M, n: N, k: K } = k;
  const { rm, rn, tm, tn, tiles } = contractionTiling(M, N, 2 * k.batch * M * N * K);
  const tk = TILE_K;
  // Bounds checks (a clamped index and a zero past the edge) only along dimensions the tiles do
  // not divide: elsewhere every staged element and every result is in range.
  const edgeM = M % tm !== 0;
  const edgeN = N % tn !== 0;
  const edgeK = K % tk !== 0;
  // (An unclamped index is parenthesized: it is multiplied by a stride.)
  const clamp = (edge: boolean, i: string, dim: string, n: number) => (edge ? `min(${i}, ${params.get(`last${dim}`, Math.max(n - 1, 0))})` : /^\w+$/.test(i) ? i : `(${i})`);
  const conds = (cs: (string | false)[]) => cs.filter((x): x is string => !!x).join(' && ');
  const guard = (value: string, cs: (string | false)[]) => (conds(cs) ? `select(${zero}, ${value}, ${conds(cs)})` : value);
  const inside = (cs: (string | false)[], body: string) => (conds(cs) ? `if (${conds(cs)}) { ${body} }` : body);
  const aIndex = operandIndex('a', k.a, 'bt', clamp(edgeM, 'row', 'm', M), clamp(edgeK, 'ak', 'k', K));
  const bIndex = (col: string) => operandIndex('b', k.b, 'bt', clamp(edgeK, 'bk', 'k', K), clamp(edgeN, col, 'n', N));
  const cols = Math.ceil(N / tn);
  // Sizes from the parameter block: products that differ only in their sizes (and strides, and
  // not in which dimensions have edges) share one shader.
  const pM = params.get('m', M);
  const pN = params.get('n', N);
  const pK = params.get('kk', K);
  const pMN = params.get('mn', M * N);
  const pTiles = params.get('tiles', tiles);
  const pCols = params.get('cols', cols);
  const [x, y] = grid(tiles, limits);
  const helpers = new Helpers();
  const ep: string[] = [];
  let result = (acc: string) => acc;
  if (k.epilogue) {
    const e = k.epilogue;
    const body: string[] = [];
    const r = new ExprRenderer(dialect, p.buffers, helpers, body);
    const value = r.render(e.value);
    ep.push(
      `fn epilogue(acc: ${T}, f: i32) -> ${WGSL_TYPE[e.t]} {`,
      ...[...unflattenLets('f', e.vars, e.shape), ...body, `return ${value};`].map((l) => INDENT + l),
      '}',
      '',
    );
    result = (acc) => `epilogue(${acc}, bt * ${pMN} + row * ${pN} + col)`;
  }
  const I = Array.from({ length: rm }, (_, i) => i);
  const J = Array.from({ length: rn }, (_, j) => j);
  const threads = TILE * TILE;
  // Thread (ty, tx) owns rows ty·rm + i and columns tx·rn + j of the workgroup's block; its rn
  // columns are adjacent, so B's tile is read as one vector per step over k.
  const V = rn === 1 ? T : `vec${rn}<${T}>`;
  const vzero = rn === 1 ? zero : `${V}(${zero})`;
  const lane = (j: number) => (rn === 1 ? '' : `[${j}]`);
  const bLoad = (j: number) => guard(load(B, bIndex(j ? `col + ${j}` : 'col')), [edgeK && `bk < ${pK}`, edgeN && `col + ${j} < ${pN}`]);
  const lines = [
    ...ep,
    `var<workgroup> ta: array<${T}, ${tm * tk}>;`,
    `var<workgroup> tb: array<${V}, ${(tk * tn) / rn}>;`,
    '',
    `@compute @workgroup_size(${TILE}, ${TILE})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    `  let tile: i32 = i32(wg.y * nwg.x + wg.x);`,
    `  if (tile >= ${pTiles}) { return; }`,
    `  let bt: i32 = i32(wg.z);`,
    `  let row0: i32 = (tile / ${pCols}) * ${tm};`,
    `  let col0: i32 = (tile % ${pCols}) * ${tn};`,
    ...I.map((i) => `  var c${i}: ${V} = ${vzero};`),
    `  for (var t: i32 = 0; t < ${bound(`k${K}`, K)}; t += ${tk}) {`,
    `    for (var e: i32 = i32(li); e < ${bound(`s${tm * tk}`, tm * tk)}; e += ${threads}) {`,
    `      let row: i32 = row0 + e / ${tk};`,
    `      let ak: i32 = t + e % ${tk};`,
    `      ta[e] = ${guard(load(A, aIndex), [edgeM && `row < ${pM}`, edgeK && `ak < ${pK}`])};`,
    '    }',
    `    for (var e: i32 = i32(li); e < ${bound(`s${(tk * tn) / rn}`, (tk * tn) / rn)}; e += ${threads}) {`,
    `      let bk: i32 = t + e / ${tn / rn};`,
    `      let col: i32 = col0 + (e % ${tn / rn}) * ${rn};`,
    rn === 1 ? `      tb[e] = ${bLoad(0)};` : `      tb[e] = ${V}(${J.map(bLoad).join(', ')});`,
    '    }',
    '    workgroupBarrier();',
    `    for (var kk: u32 = 0u; kk < u32(${bound(`t${tk}`, tk)}); kk++) {`,
    `      let b: ${V} = tb[kk * ${tn / rn}u + lid.x];`,
    ...I.map((i) => `      c${i} = c${i} + ta[(lid.y * ${rm}u + ${i}u) * ${tk}u + kk] * b;`),
    '    }',
    '    workgroupBarrier();',
    '  }',
    ...I.flatMap((i) => [
      '  {',
      `    let row: i32 = row0 + i32(lid.y) * ${rm} + ${i};`,
      // A row's rn results in a loop (not unrolled: each result inlines the epilogue).
      ...(rn === 1
        ? J.map((j) => `    { let col: i32 = col0 + i32(lid.x) * ${rn} + ${j}; ${inside([edgeM && `row < ${pM}`, edgeN && `col < ${pN}`], store(C, `bt * ${pMN} + row * ${pN} + col`, result(`c${i}${lane(j)}`)))} }`)
        : [
            `    for (var j: i32 = 0; j < ${bound(`n${rn}`, rn)}; j++) {`,
            `      let col: i32 = col0 + i32(lid.x) * ${rn} + j;`,
            `      ${inside([edgeM && `row < ${pM}`, edgeN && `col < ${pN}`], store(C, `bt * ${pMN} + row * ${pN} + col`, result(`c${i}[j]`)))}`,
            '    }',
          ]),
      '  }',
    ]),
    '}',
  ];
  return { code: withHelpers(helpers, lines), workgroups: [x, y, k.batch] };
}

/**
 * A routine's shader (src/ir/routine.ts): one workgroup of ROUTINE_THREADS invocations per matrix,
 * running the op's WGSL body with the matrix's offsets and sizes from the parameter block.
 */
function routineShader(k: RoutineKernel, p: KernelProgram, limits: DeviceLimits): Rendered {
  const r = getOp(k.op).routine!;
  const helpers = new Helpers();
  const base = (buf: number, size: number, name: string) => `  let ${name}: i32 = ${params.get(`buf${buf}`, p.buffers[buf]!.offset / 4)} + bt * ${params.get(`size_${name}`, size)};`;
  const space = (buf: number) => spaceVar(p.buffers[buf]!);
  const ld = (buf: number, o: string, i: string) => `bitcast<f32>(${space(buf)}[${o} + (${i})])`;
  const st = (buf: number, o: string, i: string, v: string) => `${space(buf)}[${o} + (${i})] = bitcast<u32>(${v});`;
  const dims = k.dims.map((d, j) => params.get(`dim${j}`, d));
  const body = r.wgsl({
    attrs: k.attrs,
    dim: (j) => dims[j]!,
    load: (j, i) => ld(k.inputs[j]!.buf, `x${j}`, i),
    loadOut: (i) => ld(k.out, 'xo', i),
    storeOut: (i, v) => st(k.out, 'xo', i, v),
    loadScratch: (i) => ld(k.scratch!.buf, 'xw', i),
    storeScratch: (i, v) => st(k.scratch!.buf, 'xw', i, v),
    nan: `dlc_f32_bits(${SPECIAL['NaN']})`,
  });
  helpers.use('dlc_f32_bits');
  const [x, y] = grid(k.batch, limits);
  const lines = [
    `const NT: i32 = ${ROUTINE_THREADS};`,
    '',
    `@compute @workgroup_size(${ROUTINE_THREADS})`,
    'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    `  let bt: i32 = i32(wg.y * nwg.x + wg.x);`,
    `  if (bt >= ${params.get('batch', k.batch)}) { return; }`,
    '  let tid: i32 = i32(li);',
    ...k.inputs.map((i, j) => base(i.buf, i.size, `x${j}`)),
    base(k.out, k.outSize, 'xo'),
    ...(k.scratch ? [base(k.scratch.buf, k.scratch.size, 'xw')] : []),
    ...body.map((l) => INDENT + l),
    '}',
  ];
  return { code: withHelpers(helpers, lines), workgroups: [x, y, 1] };
}

/** A kernel's shader (without a header naming the kernel: kernels share shaders) and its parameters. */
export function renderWgsl(k: Kernel, p: KernelProgram, limits: DeviceLimits): WgslShader {
  params = new ParamTable();
  try {
    const s = k.kind === 'map' ? mapShader(k, p, limits) : k.kind === 'contraction' ? contractionShader(k, p, limits) : routineShader(k, p, limits);
    return { ...s, params: params.values };
  } finally {
    params = new ParamTable();
  }
}

/** The comment that opens a shader file: the kernels using it, and the first one's ops and lines. */
export function shaderHeader(kernels: readonly Kernel[]): string {
  const others = kernels.slice(1, 9).map((k) => k.name).join(' ') + (kernels.length > 9 ? ' …' : '');
  const more = kernels.length > 1 ? ` (and ${kernels.length - 1} more kernel${kernels.length > 2 ? 's' : ''}: ${others})` : '';
  return `${kernelHeader(kernels[0]!).replace(/^\/\/ [^:]*:/, `// ${kernels[0]!.name}${more}:`)}`;
}
