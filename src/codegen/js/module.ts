/**
 * @file The JavaScript backend: a kernel program as an ES module (source text) with one function
 * per kernel over typed-array views of the two memory spaces, in float32 or float64. The module
 * imports nothing, so it runs in Node or a browser without the compiler.
 */
import type { DType } from '../../ir/types.js';
import { elementBytes, type Precision } from '../../kernel/memory.js';
import { getOp } from '../../ir/ops/index.js';
import { levelOffset, type BufferInfo, type ContractionKernel, type KernelProgram, type LoopCopy, type MapKernel, type RoutineKernel, type Strided } from '../../kernel/program.js';
import { ExprRenderer, Helpers, kernelHeader, type Dialect } from '../render-expr.js';
import { typeOf } from '../../kernel/expr.js';
import { JS_HELPERS } from './prelude.js';

const INDENT = '  ';

function jsLiteral(v: number, t: DType): string {
  if (t === 'bool') return v ? 'true' : 'false';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** The typed-array view a buffer lives in, and its element offset there. */
function view(b: BufferInfo, precision: Precision): { name: string; off: number } {
  const name = `${b.space === 'state' ? 's' : 'a'}${b.dtype === 'f32' ? 'f' : 'i'}`;
  return { name, off: b.offset / elementBytes(b.dtype, precision) };
}

function jsDialect(precision: Precision): Dialect {
  return {
    backend: 'js',
    lit: jsLiteral,
    load(b, index) {
      const v = view(b, precision);
      const at = `${v.name}[${v.off ? `${v.off} + ${index}` : index}]`;
      return b.dtype === 'bool' ? `(${at} !== 0)` : at;
    },
    ix(op, a, b) {
      switch (op) {
        case '/':
          return `((${a} / ${b}) | 0)`;
        case 'min':
          return `Math.min(${a}, ${b})`;
        case 'max':
          return `Math.max(${a}, ${b})`;
        case '==':
          return `(${a} === ${b})`;
        default:
          return `(${a} ${op} ${b})`;
      }
    },
    let: (name, _t, value) => `const ${name} = ${value};`,
    var: (name, _t, value) => `let ${name} = ${value};`,
    assign: (name, value) => `${name} = ${value};`,
    loop: (v, n, body) => [`for (let ${v} = 0; ${v} < ${n}; ${v}++) {`, ...body.map((l) => INDENT + l), '}'],
    if: (cond, body) => [`if (${cond}) {`, ...body.map((l) => INDENT + l), '}'],
  };
}

function storeValue(b: BufferInfo, value: string): string {
  return b.dtype === 'bool' ? `(${value} ? 1 : 0)` : value;
}

function mapKernel(k: MapKernel, p: KernelProgram, d: Dialect, helpers: Helpers, precision: Precision): string[] {
  const inner = k.inner ?? [];
  const outer = k.domain.map((_, i) => i).filter((i) => !inner.includes(i));
  const rowBody: string[] = [];
  const r = new ExprRenderer(d, p.buffers, helpers, rowBody);
  for (const l of k.lets ?? []) rowBody.push(d.let(l.name, typeOf(l.value), r.render(l.value)));
  const body: string[] = [];
  const re = r.into(body).share(k.outputs.map((o) => o.value));
  const code = re.renderOutputs(k.outputs.map((o) => o.value));
  const outs = k.outputs.map((o, j) => ({ b: p.buffers[o.buf]!, v: code[j]! }));
  // Without a row the output is written in loop order (a running index); a row kernel computes it.
  const sequential = inner.length === 0;
  const flat = k.vars.length ? k.vars.map((v, i) => `${v} * ${k.domain.slice(i + 1).reduce((a, b) => a * b, 1)}`).join(' + ') : '0';
  for (const o of outs) {
    const v = view(o.b, precision);
    body.push(sequential ? `${v.name}[o${o.b.id}++] = ${storeValue(o.b, o.v)};` : `${v.name}[${v.off} + ${flat}] = ${storeValue(o.b, o.v)};`);
  }
  let loops = body;
  for (let j = inner.length - 1; j >= 0; j--) loops = d.loop(k.vars[inner[j]!]!, k.domain[inner[j]!]!, loops);
  loops = [...rowBody, ...loops];
  for (let j = outer.length - 1; j >= 0; j--) loops = d.loop(k.vars[outer[j]!]!, k.domain[outer[j]!]!, loops);
  const init = sequential ? outs.map((o) => `let o${o.b.id} = ${view(o.b, precision).off};`) : [];
  return [`function ${k.name}(sf, si, af, ai) {`, ...[...init, ...loops].map((l) => INDENT + l), '}'];
}

/** The epilogue of a contraction as a function of the result and its flat index. */
function epilogueFn(k: ContractionKernel, p: KernelProgram, d: Dialect, helpers: Helpers): string[] {
  const e = k.epilogue!;
  const body: string[] = [];
  const r = new ExprRenderer(d, p.buffers, helpers, body);
  const value = r.render(e.value);
  let stride = e.shape.reduce((a, b) => a * b, 1);
  const idx = e.vars.map((v, i) => {
    stride /= e.shape[i]!;
    return `const ${v} = ${i === 0 ? `(f / ${stride}) | 0` : `((f / ${stride}) | 0) % ${e.shape[i]}`};`;
  });
  return [`const ep = (acc, f) => {`, ...[...idx, ...body, `return ${storeValue(p.buffers[k.out]!, value)};`].map((l) => INDENT + l), '};'];
}

/**
 * A 4×4 register-blocked contraction. For each 4-column panel of B (packed contiguously once,
 * so the inner loop reads it sequentially), every 4-row block of A accumulates 16 sums over k
 * in locals; edges fall back to one element at a time.
 */
function contractionKernel(k: ContractionKernel, p: KernelProgram, precision: Precision, ep: string[]): string[] {
  const C = view(p.buffers[k.out]!, precision);
  const { m: M, n: N, k: K } = k;
  const L: string[] = [];
  const R = [0, 1, 2, 3];
  // i32 products wrap (Math.imul, | 0) and are packed in Int32Array (a Float32Array would round
  // them). The operands' dtype decides: an epilogue may store another (cast(a @ b > 0, i32)).
  const int = p.buffers[k.a.buf]!.dtype === 'i32';
  const packType = int ? 'Int32Array' : precision === 'f64' ? 'Float64Array' : 'Float32Array';
  const mac = (acc: string, x: string, y: string) => (int ? `${acc} = (${acc} + Math.imul(${x}, ${y})) | 0;` : `${acc} += ${x} * ${y};`);
  const pre: string[] = [];
  const body: string[] = [];
  // An operand whose axes do not merge into single strides is first gathered into a contiguous
  // scratch array (kept between calls), then read like any other.
  const operand = (s: Strided, name: 'A' | 'B', rows: number, cols: number): { name: string; off: number; s: Strided } => {
    const v = view(p.buffers[s.buf]!, precision);
    if (!s.levels) return { name: v.name, off: v.off, s };
    const scratch = `${k.name}_${name}`;
    pre.push(`const ${scratch} = new ${packType}(${Math.max(1, k.batch * rows * cols)});`);
    const div = (x: string, n: number) => `((${x}) / ${n}) | 0`;
    const mod = (x: string, n: number) => `(${x}) % ${n}`;
    body.push(
      `  for (let bt = 0, q = 0; bt < ${k.batch}; bt++) {`,
      `    const ob = ${v.off + s.offset} + ${levelOffset(s.levels.b, 'bt', div, mod)};`,
      `    for (let r = 0; r < ${rows}; r++) {`,
      `      const or = ob + ${levelOffset(s.levels.r, 'r', div, mod)};`,
      `      for (let c = 0; c < ${cols}; c++) ${scratch}[q++] = ${v.name}[or + ${levelOffset(s.levels.c, 'c', div, mod)}];`,
      '    }',
      '  }',
    );
    return { name: scratch, off: 0, s: { buf: s.buf, offset: 0, sb: rows * cols, sr: cols, sc: 1 } };
  };
  const opA = operand(k.a, 'A', M, K);
  const opB = operand(k.b, 'B', K, N);
  const A = { name: opA.name, off: opA.off };
  const B = { name: opB.name, off: opB.off };
  const a = opA.s;
  const b = opB.s;
  L.push(...pre);
  L.push(`function ${k.name}(sf, si, af, ai) {`);
  L.push(...body);
  L.push(`  const A = ${A.name}, B = ${B.name}, C = ${C.name};`);
  L.push(...ep.map((l) => INDENT + l));
  L.push(`  const pk = new ${packType}(${4 * Math.max(K, 1)});`);
  L.push(`  for (let bt = 0; bt < ${k.batch}; bt++) {`);
  L.push(`    const ao = ${A.off + a.offset} + bt * ${a.sb}, bo = ${B.off + b.offset} + bt * ${b.sb}, co = ${C.off} + bt * ${M * N};`);
  L.push(`    for (let j = 0; j + 4 <= ${N}; j += 4) {`);
  L.push(`      for (let kk = 0, pb = bo + j * ${b.sc}; kk < ${K}; kk++, pb += ${b.sr}) {`);
  L.push(`        ${R.map((j) => `pk[4 * kk + ${j}] = B[pb + ${j * b.sc}];`).join(' ')}`);
  L.push('      }');
  L.push(`      for (let i = 0; i + 4 <= ${M}; i += 4) {`);
  L.push(`        ${R.map((i) => R.map((j) => `c${i}${j} = 0`).join(', ')).map((s) => `let ${s};`).join(' ')}`);
  L.push(`        let pa = ao + i * ${a.sr};`);
  L.push(`        for (let kk = 0, q = 0; kk < ${K}; kk++, q += 4) {`);
  L.push(`          ${R.map((i) => `const a${i} = A[pa + ${i * a.sr}];`).join(' ')}`);
  L.push(`          ${R.map((j) => `const b${j} = pk[q + ${j}];`).join(' ')}`);
  for (const i of R) L.push(`          ${R.map((j) => mac(`c${i}${j}`, `a${i}`, `b${j}`)).join(' ')}`);
  L.push(`          pa += ${a.sc};`);
  L.push('        }');
  const store = (at: string, v: string) => (k.epilogue ? `C[co + ${at}] = ep(${v}, bt * ${M * N} + ${at});` : `C[co + ${at}] = ${v};`);
  for (const i of R) L.push(`        ${R.map((j) => store(`(i + ${i}) * ${N} + j + ${j}`, `c${i}${j}`)).join(' ')}`);
  L.push('      }');
  L.push('    }');
  // Edges: rows below the last full 4-block, and columns right of the last full 4-block.
  L.push(`    const m4 = ${M - (M % 4)}, n4 = ${N - (N % 4)};`);
  L.push(`    for (let i = 0; i < ${M}; i++) {`);
  L.push(`      for (let j = (i < m4 ? n4 : 0); j < ${N}; j++) {`);
  L.push(`        let s = 0, pa = ao + i * ${a.sr}, pb = bo + j * ${b.sc};`);
  L.push(`        for (let kk = 0; kk < ${K}; kk++) { ${mac('s', 'A[pa]', 'B[pb]')} pa += ${a.sc}; pb += ${b.sr}; }`);
  L.push(`        ${store(`i * ${N} + j`, 's')}`);
  L.push('      }');
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L;
}

/** A loop's copies at step variable `t` (the copy of a row is a typed-array `set` of a subarray). */
function copies(cs: readonly LoopCopy[], p: KernelProgram, precision: Precision, t: string): string[] {
  return cs.map((c) => {
    const s = view(p.buffers[c.src]!, precision);
    const d = view(p.buffers[c.dst]!, precision);
    const at = (base: number, step: number) => (step ? `${base} + ${t} * ${step}` : String(base));
    if (c.fill !== undefined) return `${d.name}.fill(${jsLiteral(c.fill, p.buffers[c.dst]!.dtype)}, ${d.off + c.dstOffset}, ${d.off + c.dstOffset + c.size});`;
    const from = at(s.off + c.srcOffset, c.srcStep);
    return `${d.name}.set(${s.name}.subarray(${from}, ${from} + ${c.size}), ${at(d.off + c.dstOffset, c.dstStep)});`;
  });
}

/** The calls of `run`: every kernel in order, the kernels of a loop inside a JS loop. */
function runBody(p: KernelProgram, precision: Precision): string[] {
  const loops = [...(p.loops ?? [])].sort((a, b) => a.first - b.first || a.depth - b.depth);
  const emit = (from: number, to: number, depth: number): string[] => {
    const out: string[] = [];
    for (let i = from; i < to; ) {
      const l = loops.find((x) => x.first === i && x.depth === depth);
      if (!l) {
        out.push(`${p.kernels[i]!.name}(sf, si, af, ai);`);
        i++;
        continue;
      }
      const s = `s${depth}`;
      const t = `t${depth}`;
      out.push(`// ${l.name}: ${l.trips} steps${l.reverse ? ', last to first' : ''}`);
      out.push(...copies(l.enter, p, precision, t));
      out.push(`for (let ${s} = 0; ${s} < ${l.trips}; ${s}++) {`);
      out.push(`${INDENT}const ${t} = ${l.reverse ? `${l.trips - 1} - ${s}` : s};`);
      const body = [...copies(l.before, p, precision, t), ...emit(l.first, l.first + l.count, depth + 1), ...copies(l.after, p, precision, t)];
      out.push(...body.map((x) => INDENT + x), '}');
      out.push(...copies(l.exit, p, precision, t));
      i = l.first + l.count;
    }
    return out;
  };
  return emit(0, p.kernels.length, 0);
}

/**
 * A routine (src/ir/routine.ts): its op's algorithm, embedded once per module (`routines`), called
 * for each matrix of the batch at its offsets in the memory views.
 */
function routineKernel(k: RoutineKernel, p: KernelProgram, precision: Precision, routines: Map<string, string>): string[] {
  const r = getOp(k.op).routine!;
  routines.set(r.js.name, r.js.source);
  const at = (buf: number, size: number) => {
    const v = view(p.buffers[buf]!, precision);
    return { name: v.name, off: size ? `${v.off} + bt * ${size}` : String(v.off) };
  };
  const ins = k.inputs.map((i) => at(i.buf, i.size));
  const out = at(k.out, k.outSize);
  const w = k.scratch ? at(k.scratch.buf, k.scratch.size) : { name: 'null', off: '0' };
  return [
    `const ${k.name}_d = ${JSON.stringify(k.dims)}, ${k.name}_f = ${JSON.stringify(k.attrs)};`,
    `function ${k.name}(sf, si, af, ai) {`,
    `  for (let bt = 0; bt < ${k.batch}; bt++) {`,
    `    ${r.js.name}([${ins.map((i) => i.name).join(', ')}], [${ins.map((i) => i.off).join(', ')}], ${out.name}, ${out.off}, ${w.name}, ${w.off}, ${k.name}_d, ${k.name}_f);`,
    '  }',
    '}',
  ];
}

/** The ES module for a planned kernel program. */
export function renderJsModule(p: KernelProgram, precision: Precision): string {
  const d = jsDialect(precision);
  const helpers = new Helpers();
  const routines = new Map<string, string>();
  const fns: string[] = [];
  for (const k of p.kernels) {
    fns.push(kernelHeader(k));
    if (k.kind === 'map') fns.push(...mapKernel(k, p, d, helpers, precision));
    else if (k.kind === 'contraction') fns.push(...contractionKernel(k, p, precision, k.epilogue ? epilogueFn(k, p, d, helpers) : []));
    else fns.push(...routineKernel(k, p, precision, routines));
    fns.push('');
  }
  const names = p.kernels.map((k) => k.name);
  const lines = [
    `// Generated by dlc from \`${p.name}\` (${precision}). Kernels: ${p.kernels.length}.`,
    `export const precision = ${JSON.stringify(precision)};`,
    '',
    ...[...helpers.used].sort().map((h) => JS_HELPERS[h]!),
    ...(helpers.used.size ? [''] : []),
    ...[...routines.values()].flatMap((src) => [src, '']),
    ...fns,
    `export const kernels = [${names.join(', ')}];`,
    '',
    '/** Runs every kernel in order over the state and arena memories ({ f, i } typed-array views). */',
    'export function run(state, arena) {',
    '  const sf = state.f, si = state.i, af = arena.f, ai = arena.i;',
    ...runBody(p, precision).map((l) => INDENT + l),
    '}',
    '',
  ];
  return lines.join('\n');
}
