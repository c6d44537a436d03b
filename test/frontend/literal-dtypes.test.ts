/**
 * The dtype of compile-time operands in elementwise ops: lists take the dtype of their elements
 * (so a bool mask times a float list is f32), two compile-time operands get a real dtype (never
 * `undefined` in a message), and an integer that becomes an i32 element must fit in 32 bits.
 */
import { describe, expect, it } from 'vitest';
import { check, compile, evaluate, renderDiagnostics } from '../../src/index.js';

const diags = (src: string) => check(src, 'dt.dl').diagnostics;

describe('dtypes of lists and numbers in elementwise ops', () => {
  it('a bool mask times a float list takes the list’s f32', () => {
    const src = 'fn f(x: f32[2]) -> f32[2] {\n  let m = x > 0.0\n  return m * [1.5, 2.5]\n}\n';
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [-1, 1] } });
    expect([...out.get('out')!.data]).toEqual([0, 2.5]);
  });

  it('a bool mask times an integer list is i32', () => {
    const g = compile('fn f(x: f32[2]) {\n  return (x > 0.0) * [3, 4]\n}\n', 'f');
    expect(g.outputs[0]!.node.type.dtype).toBe('i32');
  });

  it('a list compared with a number (`[1.7, 0.2] > 0.0`) is a bool tensor, with no `undefined` dtype anywhere', () => {
    const src = 'fn f(x: f32[2]) -> f32[2] {\n  let m = [1.7, -0.2] > 0.0\n  return m * x\n}\n';
    expect(renderDiagnostics(diags(src))).not.toContain('undefined');
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [3, 4] } });
    expect([...out.get('out')!.data]).toEqual([3, 0]);
  });

  it('mixing compile-time lists promotes integers to f32 and keeps bool lists for `and`', () => {
    const src = 'fn f(x: i32[2]) -> f32[2] {\n  let a = [1, 2] + 0.5\n  let m = [true, false] and x > 0\n  return where(m, a, [0.0, 0.0])\n}\n';
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [1, 1] } });
    expect([...out.get('out')!.data]).toEqual([1.5, 0]);
  });

  it('an i32 tensor with a float list names both dtypes', () => {
    const ds = diags('fn f(x: i32[2]) {\n  return x + [0.5, 1.5]\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0303']);
    expect(ds[0]!.message).not.toContain('undefined');
  });
});

describe('integers out of range for i32', () => {
  it('an integer literal of 3·10⁹ in an i32 expression is DL0103 at the literal, not a silent wrap', () => {
    const ds = diags('fn f(x: i32[2]) -> i32[2] {\n  return x + 3000000000\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0103']);
    expect(ds[0]!.message).toBe('the integer literal 3000000000 is out of range for i32 (−2147483648 to 2147483647)');
    const pos = ds[0]!.span!.file.position(ds[0]!.span!.start);
    expect([pos.line, pos.col]).toEqual([2, 14]);
  });

  it('the bounds of i32 itself are accepted and keep their values', () => {
    const src = 'fn f(x: i32[2]) -> i32[2] {\n  return x * 0 + [2147483647, -2147483648]\n}\n';
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [5, 5] } });
    expect([...out.get('out')!.data]).toEqual([2147483647, -2147483648]);
  });

  it('list elements, `full` values and computed compile-time integers are checked too', () => {
    expect(diags('fn f(x: i32[2]) {\n  return x + [1, 2147483648]\n}\n').map((d) => d.code)).toEqual(['DL0313']);
    expect(diags('fn f() {\n  return full([2], -2147483649, i32)\n}\n').map((d) => d.code)).toEqual(['DL0103']);
    const ds = diags('fn f(x: i32[2]) {\n  let n = 100000 * 100000\n  return x + n\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0313']);
    expect(ds[0]!.message).toContain('10000000000');
  });

  it('a large integer used as an f32 value is fine (it is not an i32 element)', () => {
    const src = 'fn f(x: f32[1]) -> f32[1] {\n  return x * 3000000000\n}\n';
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [1], data: [2] } });
    expect([...out.get('out')!.data]).toEqual([6e9]);
  });
});
