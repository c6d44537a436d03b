/**
 * @file The language's built-in functions. Each lowers its arguments through ir/compose.ts to
 * primitives. Elementwise math functions are derived from the op registry; the rest are listed
 * here with their parameter names (for keyword arguments) and a one-line doc.
 */
import type { Span } from '../../diagnostics/source.js';
import * as C from '../../ir/compose.js';
import { NDArray } from '../../ir/ndarray.js';
import { OPS } from '../../ir/ops/index.js';
import { formatType, normAxis, type DType } from '../../ir/types.js';
import { GRAD_BUILTINS } from './grad-builtins.js';
import { MODE_BUILTINS } from './mode-builtins.js';
import { RANDOM_BUILTINS } from './random-builtins.js';
import { LINALG_BUILTINS } from './linalg-builtins.js';
import type { ArgValue, Lowerer } from './lowerer.js';
import { describe, float, int, isNumber, tensor, type Value } from './values.js';

export interface Builtin {
  readonly name: string;
  readonly params: readonly string[];
  readonly doc: string;
  call(lw: Lowerer, args: ArgValue[], span: Span): Value;
}

type Bound = (ArgValue | undefined)[];

function def(name: string, params: string[], doc: string, body: (lw: Lowerer, a: Bound, span: Span) => Value): Builtin {
  return {
    name,
    params,
    doc,
    call(lw, args, span) {
      return body(lw, lw.bindArgs(params, args, name, span), span);
    },
  };
}

/** A required argument. */
function req(lw: Lowerer, a: Bound, i: number, fn: string, params: readonly string[], span: Span): ArgValue {
  const v = a[i];
  if (!v) lw.fail('DL0203', `missing argument \`${params[i]}\` in the call to \`${fn}\``, span);
  return v!;
}

const T = (lw: Lowerer, a: ArgValue, dtype?: DType) => lw.toTensor(a.value, a.span, dtype);

function dtypeArg(lw: Lowerer, a: ArgValue | undefined, dflt: DType): DType {
  if (!a) return dflt;
  if (a.value.k !== 'dtype') lw.fail('DL0311', `expected a dtype (f32, i32 or bool), got ${describe(a.value)}`, a.span);
  return (a.value as { v: DType }).v;
}

function axesArg(lw: Lowerer, a: ArgValue | undefined): number[] | undefined {
  if (!a) return undefined;
  return lw.staticInts(a.value, a.span, 'an axis');
}

/** A per-spatial-axis setting: one int for all, or one per axis. */
function perAxis(lw: Lowerer, a: ArgValue | undefined, n: number, dflt: number, what: string): number[] {
  if (!a) return new Array(n).fill(dflt);
  const v = lw.staticInts(a.value, a.span, what);
  if (v.length === 1) return new Array(n).fill(v[0]);
  if (v.length !== n) lw.fail('DL0311', `${what} needs 1 or ${n} values, got ${v.length}`, a.span);
  return v;
}

/** Padding: an int, one int per axis, or one [before, after] pair per axis. */
function paddingArg(lw: Lowerer, a: ArgValue | undefined, n: number): [number[], number[]] {
  if (!a) return [new Array(n).fill(0), new Array(n).fill(0)];
  const v = a.value;
  if ((v.k === 'list' || v.k === 'tuple') && v.items.some((i) => i.k === 'list' || i.k === 'tuple')) {
    if (v.items.length !== n) lw.fail('DL0311', `padding needs ${n} [before, after] pairs, got ${v.items.length}`, a.span);
    const pairs = v.items.map((p) => lw.staticInts(p, a.span, 'a padding pair'));
    if (pairs.some((p) => p.length !== 2)) lw.fail('DL0311', 'each padding pair is [before, after]', a.span);
    return [pairs.map((p) => p[0]!), pairs.map((p) => p[1]!)];
  }
  const each = perAxis(lw, a, n, 0, 'padding');
  return [each, each];
}

/** Applies a unary op to a compile-time number with the op's own reference evaluation. */
function foldUnary(op: string, v: number): number {
  const d = OPS.get(op)!;
  const env = { input: () => NDArray.scalar(0), param: () => NDArray.scalar(0) };
  return d.evaluate([NDArray.scalar(v)], {}, { dtype: 'f32', shape: [] }, env).data[0]!;
}

const OPERATOR_OPS = new Set(['neg', 'not']);

function unaryBuiltins(): Builtin[] {
  const out: Builtin[] = [];
  for (const d of OPS.values()) {
    if (d.kind !== 'elementwise' || d.arity !== 1 || OPERATOR_OPS.has(d.name) || d.name === 'cast') continue;
    const op = d.name;
    out.push(
      def(op, ['x'], d.doc, (lw, a, span) => {
        const x = req(lw, a, 0, op, ['x'], span);
        if (isNumber(x.value)) {
          const r = foldUnary(op, x.value.v);
          return x.value.k === 'int' && Number.isInteger(r) && ['abs', 'sign', 'floor', 'ceil'].includes(op) ? int(r) : float(r);
        }
        return tensor(lw.b.add(op, [T(lw, x, 'f32')]));
      }),
    );
  }
  return out;
}

/** Elementwise max/min of two values, with the same dtype rules as arithmetic. */
function elementwise2(lw: Lowerer, op: 'max' | 'min', x: ArgValue, y: ArgValue, span: Span): Value {
  if (isNumber(x.value) && isNumber(y.value)) {
    const r = op === 'max' ? Math.max(x.value.v, y.value.v) : Math.min(x.value.v, y.value.v);
    return x.value.k === 'int' && y.value.k === 'int' ? int(r) : float(r);
  }
  const a = lw.toTensor(x.value, x.span, y.value.k === 'tensor' ? y.value.node.type.dtype : undefined);
  const b = lw.toTensor(y.value, y.span, a.type.dtype);
  if (a.type.dtype !== b.type.dtype) {
    lw.fail('DL0303', `\`${op}\` mixes ${a.type.dtype} and ${b.type.dtype}${lw.where(span)}`, span, 'convert one side with `cast`');
  }
  return tensor(C.binary(lw.b, op, a, b));
}

function reduceBuiltin(name: string, op: 'reduce_sum' | 'reduce_max' | 'reduce_min' | 'mean', doc: string): Builtin {
  const params = ['x', 'axis', 'keepdims'];
  return def(name, params, doc, (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, name, params, span));
    const axes = axesArg(lw, a[1]);
    const keep = a[2] ? lw.staticBool(a[2].value, a[2].span, '`keepdims`') : false;
    if (op === 'mean') {
      if (x.type.dtype !== 'f32') lw.fail('DL0303', `\`mean\` needs an f32 tensor, got ${formatType(x.type)}`, span, 'convert with `cast(x, f32)`');
      return tensor(C.mean(lw.b, x, axes, keep));
    }
    return tensor(C.reduce(lw.b, op, x, axes, keep));
  });
}

function minMax(name: 'max' | 'min'): Builtin {
  const params = ['x', 'y', 'axis', 'keepdims'];
  return def(
    name,
    params,
    `${name}(x, y): elementwise ${name}imum; ${name}(x, axis=…, keepdims=false): reduction (the axis must be named)`,
    (lw, a, span) => {
      const x = req(lw, a, 0, name, params, span);
      if (a[1]) {
        if (a[2] || a[3]) lw.fail('DL0204', `\`${name}(x, y)\` is elementwise and takes no axis`, span, `for a reduction write \`${name}(x, axis=…)\``);
        return elementwise2(lw, name, x, a[1], span);
      }
      const xt = T(lw, x);
      const keep = a[3] ? lw.staticBool(a[3].value, a[3].span, '`keepdims`') : false;
      return tensor(C.reduce(lw.b, name === 'max' ? 'reduce_max' : 'reduce_min', xt, axesArg(lw, a[2]), keep));
    },
  );
}

function argBuiltin(name: 'argmax' | 'argmin'): Builtin {
  const params = ['x', 'axis', 'keepdims'];
  return def(name, params, `index of the ${name === 'argmax' ? 'largest' : 'smallest'} element (along \`axis\`, else of the flattened tensor), i32`, (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, name, params, span));
    const axis = a[1] ? lw.staticInt(a[1].value, a[1].span, 'the axis') : undefined;
    const keep = a[2] ? lw.staticBool(a[2].value, a[2].span, '`keepdims`') : false;
    return tensor(C.argReduce(lw.b, name, x, axis, keep));
  });
}

function tensorList(lw: Lowerer, a: ArgValue, what: string): ReturnType<typeof T>[] {
  const v = a.value;
  if (v.k !== 'list' && v.k !== 'tuple') lw.fail('DL0311', `${what} takes a list of tensors, e.g. \`[a, b]\`, got ${describe(v)}`, a.span);
  return (v as Value & { k: 'list' }).items.map((it) => lw.toTensor(it, a.span));
}

function convBuiltin(name: string, n: number | undefined): Builtin {
  const params = ['x', 'w', 'stride', 'padding', 'dilation', 'groups'];
  const dims = n === undefined ? 'N-d' : `${n}-d`;
  return def(name, params, `${dims} cross-correlation: x [N, C, …], w [O, C/groups, k…] → [N, O, …]`, (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, name, params, span), 'f32');
    const w = T(lw, req(lw, a, 1, name, params, span), 'f32');
    const nd = n ?? w.type.shape.length - 2;
    if (w.type.shape.length !== nd + 2 || nd < 1) {
      lw.fail('DL0311', `\`${name}\` needs a weight with ${nd + 2} axes [out, in/groups, ${'k, '.repeat(Math.max(nd, 1)).slice(0, -2)}], got ${formatType(w.type)}`, a[1]!.span);
    }
    const [padLo, padHi] = paddingArg(lw, a[3], nd);
    return tensor(
      C.conv(
        lw.b,
        x,
        w,
        {
          stride: perAxis(lw, a[2], nd, 1, 'stride'),
          dilation: perAxis(lw, a[4], nd, 1, 'dilation'),
          padLo,
          padHi,
          groups: a[5] ? lw.staticInt(a[5].value, a[5].span, '`groups`') : 1,
        },
        name,
      ),
    );
  });
}

function poolBuiltin(name: string, kind: 'max' | 'avg', n: number): Builtin {
  const params = ['x', 'window', 'stride', 'padding'];
  return def(name, params, `${kind} pooling over the last ${n} axes (stride defaults to the window${kind === 'avg' ? '; padding counts as 0' : ''})`, (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, name, params, span), 'f32');
    const window = perAxis(lw, req(lw, a, 1, name, params, span), n, 1, 'window');
    const stride = a[2] ? perAxis(lw, a[2], n, 1, 'stride') : window;
    const [lo, hi] = paddingArg(lw, a[3], n);
    return tensor(C.pool(lw.b, kind, x, window, stride, lo, hi));
  });
}

function fullBuiltin(name: string, value: number | undefined): Builtin {
  const params = value === undefined ? ['shape', 'value', 'dtype'] : ['shape', 'dtype'];
  return def(name, params, value === undefined ? 'a tensor of `shape` filled with `value`' : `a tensor of \`shape\` filled with ${value}`, (lw, a, span) => {
    const shape = lw.staticInts(req(lw, a, 0, name, params, span).value, a[0]!.span, 'a shape');
    let v = value;
    let dflt: DType = 'f32';
    let vspan = span;
    if (v === undefined) {
      const va = req(lw, a, 1, name, params, span);
      vspan = va.span;
      if (va.value.k === 'bool') {
        v = va.value.v ? 1 : 0;
        dflt = 'bool';
      } else {
        v = lw.staticNumber(va.value, va.span, 'the fill value');
        if (va.value.k === 'int') dflt = 'i32';
      }
    }
    const dtype = dtypeArg(lw, a[params.length - 1], dflt);
    if (dtype === 'i32') lw.checkI32(v, vspan);
    return tensor(C.broadcastTo(lw.b, C.scalarConst(lw.b, v, dtype), shape));
  });
}

function likeBuiltin(name: string, value: number): Builtin {
  return def(name, ['x'], `a tensor of the shape and dtype of \`x\` filled with ${value}`, (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, name, ['x'], span));
    return tensor(C.fullLike(lw.b, value, x));
  });
}

export const BUILTIN_LIST: Builtin[] = [
  ...unaryBuiltins(),
  def('logistic', ['x'], 'the logistic function, same as `sigmoid`', (lw, a, span) => {
    const x = req(lw, a, 0, 'logistic', ['x'], span);
    if (isNumber(x.value)) return float(foldUnary('sigmoid', x.value.v));
    return tensor(lw.b.add('sigmoid', [T(lw, x, 'f32')]));
  }),
  minMax('max'),
  minMax('min'),
  def('maximum', ['x', 'y'], 'elementwise maximum', (lw, a, span) => elementwise2(lw, 'max', req(lw, a, 0, 'maximum', ['x', 'y'], span), req(lw, a, 1, 'maximum', ['x', 'y'], span), span)),
  def('minimum', ['x', 'y'], 'elementwise minimum', (lw, a, span) => elementwise2(lw, 'min', req(lw, a, 0, 'minimum', ['x', 'y'], span), req(lw, a, 1, 'minimum', ['x', 'y'], span), span)),
  def('pow', ['x', 'y'], 'x ** y', (lw, a, span) => {
    const x = req(lw, a, 0, 'pow', ['x', 'y'], span);
    const y = req(lw, a, 1, 'pow', ['x', 'y'], span);
    return tensor(lw.tensorBinary('**', x.value, y.value, x.span, y.span, span));
  }),
  reduceBuiltin('sum', 'reduce_sum', 'sum over `axis` (an int or a list; all axes if omitted)'),
  reduceBuiltin('mean', 'mean', 'mean over `axis` (an int or a list; all axes if omitted)'),
  argBuiltin('argmax'),
  argBuiltin('argmin'),
  def('where', ['cond', 'x', 'y'], 'elementwise choice: x where cond is true, else y (broadcasting)', (lw, a, span) => {
    const ps = ['cond', 'x', 'y'];
    const c = T(lw, req(lw, a, 0, 'where', ps, span), 'bool');
    if (c.type.dtype !== 'bool') lw.fail('DL0303', `the condition of \`where\` must be bool, got ${formatType(c.type)}`, a[0]!.span, 'compare to get a bool, e.g. `x > 0`');
    const xa = req(lw, a, 1, 'where', ps, span);
    const ya = req(lw, a, 2, 'where', ps, span);
    const hint = xa.value.k === 'tensor' ? xa.value.node.type.dtype : ya.value.k === 'tensor' ? ya.value.node.type.dtype : undefined;
    const x = T(lw, xa, hint);
    const y = T(lw, ya, x.type.dtype);
    if (x.type.dtype !== y.type.dtype) lw.fail('DL0303', `the branches of \`where\` are ${x.type.dtype} and ${y.type.dtype}`, span, 'convert one with `cast`');
    return tensor(C.select(lw.b, c, x, y));
  }),
  def('cast', ['x', 'dtype'], 'convert to a dtype: `cast(x, f32)`', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'cast', ['x', 'dtype'], span));
    return tensor(C.cast(lw.b, x, dtypeArg(lw, req(lw, a, 1, 'cast', ['x', 'dtype'], span), 'f32')));
  }),
  def('reshape', ['x', 'shape'], 'same elements, new shape (one size may be -1)', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'reshape', ['x', 'shape'], span));
    const s = req(lw, a, 1, 'reshape', ['x', 'shape'], span);
    return tensor(C.reshapeInfer(lw.b, x, lw.staticInts(s.value, s.span, 'a shape')));
  }),
  def('flatten', ['x', 'start', 'end'], 'merge axes start..end (inclusive; default all) into one', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'flatten', ['x', 'start', 'end'], span));
    const r = x.type.shape.length;
    const s = normAxis(a[1] ? lw.staticInt(a[1].value, a[1].span, 'the start axis') : 0, r);
    const e = normAxis(a[2] ? lw.staticInt(a[2].value, a[2].span, 'the end axis') : -1, r);
    if (r === 0) return tensor(C.reshape(lw.b, x, [1]));
    if (s === undefined || e === undefined || e < s) lw.fail('DL0307', `cannot flatten axes ${a[1] ? 'from the given start' : ''} of ${formatType(x.type)}`, span);
    const sh = x.type.shape;
    return tensor(C.reshape(lw.b, x, [...sh.slice(0, s), sh.slice(s!, e! + 1).reduce((p, q) => p * q, 1), ...sh.slice(e! + 1)]));
  }),
  def('squeeze', ['x', 'axis'], 'remove size-1 axes (all of them, or those in `axis`)', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'squeeze', ['x', 'axis'], span));
    const axes = a[1] ? C.normAxes(x, axesArg(lw, a[1])) : x.type.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const ax of axes) if (x.type.shape[ax] !== 1) lw.fail('DL0307', `cannot squeeze axis ${ax} of ${formatType(x.type)}: its size is ${x.type.shape[ax]}, not 1`, span);
    return tensor(C.reshape(lw.b, x, x.type.shape.filter((_, i) => !axes.includes(i))));
  }),
  ...['unsqueeze', 'expand_dims'].map((nm) =>
    def(nm, ['x', 'axis'], 'insert a size-1 axis at `axis`', (lw, a, span) => {
      const x = T(lw, req(lw, a, 0, nm, ['x', 'axis'], span));
      const r = x.type.shape.length;
      const ax = normAxis(lw.staticInt(req(lw, a, 1, nm, ['x', 'axis'], span).value, a[1]!.span, 'the axis'), r + 1);
      if (ax === undefined) lw.fail('DL0307', `axis is out of range for inserting into ${formatType(x.type)}`, a[1]!.span);
      return tensor(C.reshape(lw.b, x, [...x.type.shape.slice(0, ax), 1, ...x.type.shape.slice(ax)]));
    }),
  ),
  ...['transpose', 'permute'].map((nm) =>
    def(nm, ['x', 'perm'], 'reorder axes by `perm` (transpose without `perm` reverses them)', (lw, a, span) => {
      const x = T(lw, req(lw, a, 0, nm, ['x', 'perm'], span));
      const r = x.type.shape.length;
      const permArg = nm === 'permute' ? req(lw, a, 1, nm, ['x', 'perm'], span) : a[1];
      const perm = permArg ? lw.staticInts(permArg.value, permArg.span, 'a permutation') : [...Array(r).keys()].reverse();
      return tensor(r === 0 ? x : lw.b.add('permute', [x], { perm: perm.map((p) => normAxis(p, r) ?? p) }));
    }),
  ),
  def('broadcast_to', ['x', 'shape'], 'broadcast to a shape (NumPy rules)', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'broadcast_to', ['x', 'shape'], span));
    const s = req(lw, a, 1, 'broadcast_to', ['x', 'shape'], span);
    return tensor(C.broadcastTo(lw.b, x, lw.staticInts(s.value, s.span, 'a shape')));
  }),
  def('concat', ['xs', 'axis'], 'join a list of tensors along an existing axis (default 0)', (lw, a, span) => {
    const xs = tensorList(lw, req(lw, a, 0, 'concat', ['xs', 'axis'], span), '`concat`');
    return tensor(C.concat(lw.b, xs, a[1] ? lw.staticInt(a[1].value, a[1].span, 'the axis') : 0));
  }),
  def('stack', ['xs', 'axis'], 'join a list of equal-shaped tensors along a new axis (default 0)', (lw, a, span) => {
    const xs = tensorList(lw, req(lw, a, 0, 'stack', ['xs', 'axis'], span), '`stack`');
    return tensor(C.stack(lw.b, xs, a[1] ? lw.staticInt(a[1].value, a[1].span, 'the axis') : 0));
  }),
  def('split', ['x', 'parts', 'axis'], 'split into `parts` equal pieces along `axis` (default -1); returns a tuple', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'split', ['x', 'parts', 'axis'], span));
    const n = lw.staticInt(req(lw, a, 1, 'split', ['x', 'parts', 'axis'], span).value, a[1]!.span, 'the number of parts');
    const r = x.type.shape.length;
    const ax = normAxis(a[2] ? lw.staticInt(a[2].value, a[2].span, 'the axis') : -1, r);
    if (ax === undefined) lw.fail('DL0307', `axis is out of range for ${formatType(x.type)}`, span);
    const len = x.type.shape[ax!]!;
    if (n < 1 || len % n !== 0) lw.fail('DL0311', `cannot split an axis of size ${len} into ${n} equal parts`, span);
    const items: Value[] = [];
    const size = len / n;
    for (let i = 0; i < n; i++) {
      const start = x.type.shape.map((_, d) => (d === ax ? i * size : 0));
      const stop = x.type.shape.map((dd, d) => (d === ax ? (i + 1) * size : dd));
      items.push(tensor(n === 1 ? x : lw.b.add('slice', [x], { start, stop, step: x.type.shape.map(() => 1) })));
    }
    return { k: 'tuple', items };
  }),
  def('pad', ['x', 'pads', 'value'], 'pad with [before, after] pairs for the trailing axes (value defaults to 0)', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'pad', ['x', 'pads', 'value'], span));
    const p = req(lw, a, 1, 'pad', ['x', 'pads', 'value'], span);
    const pairs = p.value.k === 'list' || p.value.k === 'tuple' ? p.value.items.map((it) => lw.staticInts(it, p.span, 'a padding pair')) : [];
    const r = x.type.shape.length;
    if (pairs.length === 0 || pairs.length > r || pairs.some((q) => q.length !== 2)) {
      lw.fail('DL0311', `\`pad\` takes a list of [before, after] pairs, at most one per axis of ${formatType(x.type)}`, p.span);
    }
    const lo = new Array<number>(r - pairs.length).fill(0).concat(pairs.map((q) => q[0]!));
    const hi = new Array<number>(r - pairs.length).fill(0).concat(pairs.map((q) => q[1]!));
    const value = a[2] ? lw.staticNumber(a[2].value, a[2].span, 'the padding value') : 0;
    return tensor(lw.b.add('pad', [x], { lo, hi, value }));
  }),
  def('reverse', ['x', 'axis'], 'reverse the order of elements along `axis` (an int or a list)', (lw, a, span) => {
    const x = T(lw, req(lw, a, 0, 'reverse', ['x', 'axis'], span));
    const axes = C.normAxes(x, axesArg(lw, req(lw, a, 1, 'reverse', ['x', 'axis'], span)));
    return tensor(lw.b.add('reverse', [x], { axes }));
  }),
  ...['take', 'gather'].map((nm) =>
    def(nm, ['x', 'indices', 'axis'], 'take slices of x at i32 `indices` along `axis` (default 0): an embedding lookup', (lw, a, span) => {
      const x = T(lw, req(lw, a, 0, nm, ['x', 'indices', 'axis'], span));
      const idx = T(lw, req(lw, a, 1, nm, ['x', 'indices', 'axis'], span), 'i32');
      const ax = normAxis(a[2] ? lw.staticInt(a[2].value, a[2].span, 'the axis') : 0, x.type.shape.length);
      if (ax === undefined) lw.fail('DL0307', `axis is out of range for ${formatType(x.type)}`, span);
      return tensor(lw.b.add('gather', [x, idx], { axis: ax! }));
    }),
  ),
  def('one_hot', ['labels', 'n', 'dtype'], 'one_hot(labels, n): i32[…] → f32[…, n] (dtype selectable)', (lw, a, span) => {
    const lab = T(lw, req(lw, a, 0, 'one_hot', ['labels', 'n', 'dtype'], span), 'i32');
    const n = lw.staticInt(req(lw, a, 1, 'one_hot', ['labels', 'n', 'dtype'], span).value, a[1]!.span, 'the number of classes');
    if (n < 1) lw.fail('DL0311', `one_hot needs at least one class, got ${n}`, a[1]!.span);
    return tensor(C.oneHot(lw.b, lab, n, dtypeArg(lw, a[2], 'f32')));
  }),
  def('iota', ['shape', 'axis', 'dtype'], 'a tensor whose value is its index along `axis` (default 0; dtype default i32)', (lw, a, span) => {
    const shape = lw.staticInts(req(lw, a, 0, 'iota', ['shape', 'axis', 'dtype'], span).value, a[0]!.span, 'a shape');
    const ax = normAxis(a[1] ? lw.staticInt(a[1].value, a[1].span, 'the axis') : 0, shape.length);
    if (ax === undefined) lw.fail('DL0307', 'the axis is out of range for the shape', span);
    return tensor(lw.b.add('iota', [], { dtype: dtypeArg(lw, a[2], 'i32'), shape, axis: ax! }));
  }),
  def('arange', ['start', 'stop', 'dtype'], 'arange(n) = [0, 1, …, n-1]; arange(a, b) = [a, …, b-1] (i32 unless dtype says)', (lw, a, span) => {
    const first = lw.staticInt(req(lw, a, 0, 'arange', ['start', 'stop', 'dtype'], span).value, a[0]!.span, 'the range');
    const [lo, hi] = a[1] ? [first, lw.staticInt(a[1].value, a[1].span, 'the range end')] : [0, first];
    if (hi <= lo) lw.fail('DL0311', `arange(${lo}, ${hi}) is empty`, span);
    const dtype = dtypeArg(lw, a[2], 'i32');
    const io = lw.b.add('iota', [], { dtype, shape: [hi - lo], axis: 0 });
    return tensor(lo === 0 ? io : C.binary(lw.b, 'add', io, C.scalarConst(lw.b, lo, dtype)));
  }),
  def('eye', ['n', 'dtype'], 'the n×n identity matrix (f32 unless dtype says)', (lw, a, span) => {
    const n = lw.staticInt(req(lw, a, 0, 'eye', ['n', 'dtype'], span).value, a[0]!.span, 'the size');
    if (n < 1) lw.fail('DL0311', `eye(${n}) is empty`, span);
    const rows = lw.b.add('iota', [], { dtype: 'i32', shape: [n, n], axis: 0 });
    const cols = lw.b.add('iota', [], { dtype: 'i32', shape: [n, n], axis: 1 });
    return tensor(C.cast(lw.b, lw.b.add('eq', [rows, cols]), dtypeArg(lw, a[1], 'f32')));
  }),
  fullBuiltin('zeros', 0),
  fullBuiltin('ones', 1),
  fullBuiltin('full', undefined),
  likeBuiltin('zeros_like', 0),
  likeBuiltin('ones_like', 1),
  def('matmul', ['x', 'y'], 'matrix product, same as `x @ y`', (lw, a, span) => {
    const x = req(lw, a, 0, 'matmul', ['x', 'y'], span);
    const y = req(lw, a, 1, 'matmul', ['x', 'y'], span);
    return tensor(C.matmul(lw.b, T(lw, x), T(lw, y)));
  }),
  convBuiltin('conv', undefined),
  convBuiltin('conv1d', 1),
  convBuiltin('conv2d', 2),
  convBuiltin('conv3d', 3),
  poolBuiltin('max_pool1d', 'max', 1),
  poolBuiltin('max_pool2d', 'max', 2),
  poolBuiltin('avg_pool1d', 'avg', 1),
  poolBuiltin('avg_pool2d', 'avg', 2),
  def('float', ['x'], 'a compile-time number as a float (or an i32 scalar, such as the variable of a loop that stays a loop, cast to f32)', (lw, a, span) => {
    const v = req(lw, a, 0, 'float', ['x'], span).value;
    if (v.k === 'tensor' && v.node.type.dtype === 'i32' && v.node.type.shape.length === 0) return tensor(lw.at(span, () => lw.b.add('cast', [v.node], { dtype: 'f32' })));
    return float(lw.staticNumber(v, a[0]!.span, 'the argument of `float`'));
  }),
  def('int', ['x'], 'a compile-time number truncated to an integer', (lw, a, span) => int(Math.trunc(lw.staticNumber(req(lw, a, 0, 'int', ['x'], span).value, a[0]!.span, 'the argument of `int`')))),
  def('len', ['xs'], 'the number of items of a list or tuple (or the size of the first axis of a tensor)', (lw, a, span) => {
    const v = req(lw, a, 0, 'len', ['xs'], span).value;
    if (v.k === 'list' || v.k === 'tuple') return int(v.items.length);
    if (v.k === 'tensor' && v.node.type.shape.length > 0) return int(v.node.type.shape[0]!);
    return lw.fail('DL0311', `\`len\` of ${describe(v)}`, span);
  }),
];

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map([...BUILTIN_LIST, ...GRAD_BUILTINS, ...RANDOM_BUILTINS, ...LINALG_BUILTINS, ...MODE_BUILTINS].map((b) => [b.name, b]));
