/**
 * `let` scoping: an initializer sees the outer binding of the name it defines (`let sum = sum(x)`),
 * and a `let` that reads its own undeclared name reports DL0201 once, with no internal error after it.
 */
import { describe, expect, it } from 'vitest';
import { check, compile, evaluate } from '../../src/index.js';

const codes = (src: string) => check(src, 'let.dl').diagnostics.map((d) => d.code);

describe('let sees the outer binding in its own initializer', () => {
  it('`let sum = sum(x)` calls the built-in `sum`, then shadows it', () => {
    const src = 'fn f(x: f32[3]) -> f32 {\n  let sum = sum(x)\n  return sum * 2.0\n}\n';
    expect(codes(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [3], data: [1, 2, 4] } });
    expect([...out.get('out')!.data]).toEqual([14]);
  });

  it('`let grad = grad(…)` differentiates, then shadows `grad`', () => {
    const src = 'fn f(x: f32[3]) -> f32[3] {\n  let grad = grad(sum(x * x), x)\n  return grad\n}\n';
    expect(codes(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [3], data: [1, -2, 3] } });
    expect([...out.get('grad')!.data]).toEqual([2, -4, 6]);
  });

  it('a `let` in a loop body initialized from the enclosing `h` reads the outer value', () => {
    const src = 'fn f(x: f32[2]) -> f32[2] {\n  let h = x\n  for i in 0..1 {\n    let h = h + x\n    return h\n  }\n  return h\n}\n';
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [1, 3] } });
    expect([...out.get('h')!.data]).toEqual([2, 6]);
  });

  it('a destructuring `let` sees the outer names too', () => {
    const src = 'fn f(a: f32[2], b: f32[2]) -> f32[2] {\n  let (a, b) = (b, a)\n  return a - b\n}\n';
    const out = evaluate(compile(src, 'f'), { a: { shape: [2], data: [1, 1] }, b: { shape: [2], data: [5, 7] } });
    expect([...out.get('out')!.data]).toEqual([4, 6]);
  });

  it('`let y = y + x` with no outer `y` is one DL0201, not DL0201 followed by DL9001', () => {
    const ds = check('fn f(x: f32[3]) -> f32 {\n  let y = y + x\n  return sum(y)\n}\n', 'let.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0201']);
    expect(ds[0]!.message).toBe('unknown name `y`');
  });
});
