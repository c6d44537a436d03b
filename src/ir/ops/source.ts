/** @file Source primitives: values that come from outside (inputs, parameters) or from nothing. */
import { forEachIndex, NDArray } from '../ndarray.js';
import { defineOp, opError, type AttrValue } from '../op.js';
import { formatShape, numel, stridesOf, type DType } from '../types.js';
import { toDType } from './elementwise.js';
import { lit, op } from '../../kernel/expr.js';

const noCost = () => ({ flops: 0, bytes: 0 });

export const input = defineOp<{ name: string; dtype: DType; shape: number[] }>({
  name: 'input',
  kind: 'source',
  doc: 'an argument of the function, supplied by the caller',
  arity: 0,
  attrs: { name: 'string', dtype: 'dtype', shape: 'ints' },
  infer: (_i, a) => ({ dtype: a.dtype, shape: [...a.shape] }),
  evaluate: (_i, a, _o, env) => env.input(a.name),
  cost: noCost,
  vjp: () => [],
});

export const param = defineOp<{ name: string; dtype: DType; shape: number[]; init: AttrValue }>({
  name: 'param',
  kind: 'source',
  doc: 'a trainable parameter of a model, with its initializer',
  arity: 0,
  attrs: { name: 'string', dtype: 'dtype', shape: 'ints', init: 'json' },
  infer: (_i, a) => ({ dtype: a.dtype, shape: [...a.shape] }),
  evaluate: (_i, a, _o, env) => env.param(a.name),
  cost: noCost,
  vjp: () => [],
});

export const constant = defineOp<{ dtype: DType; shape: number[]; value: number | number[] }>({
  name: 'constant',
  kind: 'source',
  doc: 'a literal tensor: one value repeated, or all values in row-major order',
  arity: 0,
  attrs: { dtype: 'dtype', shape: 'ints', value: 'json' },
  infer(_i, a) {
    if (Array.isArray(a.value) && a.value.length !== numel(a.shape)) {
      opError('DL0308', (w) => `a literal with ${(a.value as number[]).length} values cannot have shape ${formatShape(a.shape)}${w}`);
    }
    return { dtype: a.dtype, shape: [...a.shape] };
  },
  evaluate(_i, a, out) {
    const n = numel(out.shape);
    const data = Array.isArray(a.value)
      ? Float64Array.from(a.value, (v) => toDType(v, a.dtype))
      : new Float64Array(n).fill(toDType(a.value as number, a.dtype));
    return new NDArray(out.shape, data);
  },
  cost: noCost,
  vjp: () => [],
  // A one-value constant is a literal; an array of values lives in a buffer (no expr).
  expr: ({ attrs }) => lit(toDType(Array.isArray(attrs.value) ? attrs.value[0]! : attrs.value, attrs.dtype), attrs.dtype),
});

export const iota = defineOp<{ dtype: DType; shape: number[]; axis: number }>({
  name: 'iota',
  kind: 'source',
  doc: 'the index along `axis`: iota[…, i, …] = i',
  arity: 0,
  attrs: { dtype: 'dtype', shape: 'ints', axis: 'int' },
  infer(_i, a) {
    if (!(a.axis >= 0 && a.axis < a.shape.length)) opError('DL0307', (w) => `iota axis ${a.axis} is out of range for shape ${formatShape(a.shape)}${w}`);
    return { dtype: a.dtype, shape: [...a.shape] };
  },
  evaluate(_i, a, out) {
    const data = new Float64Array(numel(out.shape));
    const st = stridesOf(out.shape)[a.axis]!;
    const len = out.shape[a.axis]!;
    forEachIndex(out.shape, (f) => {
      data[f] = Math.floor(f / st) % len;
    });
    return new NDArray(out.shape, data);
  },
  cost: noCost,
  vjp: () => [],
  expr: ({ attrs, idx }) => (attrs.dtype === 'i32' ? idx[attrs.axis]! : op('cast', [idx[attrs.axis]!], attrs.dtype)),
});
