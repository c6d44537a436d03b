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

describe('updating variables from a loop body', () => {
  const cell = 'fn cell(x: f32[2], h: f32[2], c: f32[2]) {\n  return h + x, c * 2.0\n}\n';

  it('tuple assignment `(h, c) = cell(…)` updates two existing variables', () => {
    const src = `${cell}fn f(x: f32[2]) -> f32[2] {\n  let h = x\n  let c = x\n  for i in 0..3 {\n    (h, c) = cell(x, h, c)\n  }\n  return h + c\n}\n`;
    expect(codes(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [2], data: [1, 2] } });
    // h = 4x, c = 8x after three steps.
    expect([...out.get('out')!.data]).toEqual([12, 24]);
  });

  it('a statement starting with `(` on a new line is not a call of the line before', () => {
    const src = 'fn f(a: f32[2], b: f32[2]) -> f32[2] {\n  let x = a\n  let y = b\n  (x, y) = (y, x)\n  return x - y\n}\n';
    expect(codes(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { a: { shape: [2], data: [1, 1] }, b: { shape: [2], data: [3, 5] } });
    expect([...out.get('out')!.data]).toEqual([2, 4]);
    // A call whose arguments continue on later lines still parses.
    expect(codes('fn f(a: f32[2]) -> f32 {\n  return sum(\n    a\n  )\n}\n')).toEqual([]);
  });

  it('tuple assignment to an undeclared name, a name twice, a parameter or a non-name is DL0206', () => {
    const pre = `${cell}fn g(x: f32[2]) -> f32[2] {\n  let h = x\n`;
    const post = '  return h\n}\n';
    const one = (line: string) => check(`${pre}  ${line}\n${post}`, 'let.dl').diagnostics;
    expect(one('(h, z) = cell(x, h, h)').map((d) => [d.code, d.message])).toEqual([['DL0206', 'cannot assign to `z`: `z` is not declared']]);
    expect(one('(h, h) = cell(x, h, h)').map((d) => [d.code, d.message])).toEqual([['DL0206', '`h` is assigned twice in one assignment']]);
    expect(one('(h, x) = cell(x, h, h)').map((d) => d.code)).toEqual(['DL0206']);
    expect(one('(h, h[0]) = cell(x, h, h)').map((d) => [d.code, d.message])).toEqual([['DL0206', 'only a name can be assigned to']]);
    expect(one('(h, h) += cell(x, h, h)').map((d) => d.code)).toEqual(['DL0206']);
    expect(one('let c = h\n  (h, c) = h').map((d) => [d.code, d.message])).toEqual([['DL0207', 'cannot unpack a tensor f32[2] into 2 names']]);
  });

  it('`let h = h + x` in a loop body warns (DL0211) and suggests `h = h + x`', () => {
    const src = 'fn f(x: f32[2]) -> f32[2] {\n  let h = x\n  for i in 0..3 {\n    let h = h + x\n  }\n  return h\n}\n';
    const ds = check(src, 'let.dl').diagnostics;
    expect(ds.map((d) => [d.severity, d.code])).toEqual([['warning', 'DL0211']]);
    expect(ds[0]!.message).toBe('this `let` makes a new `h` that exists only inside the loop body, so the `h` outside it is never updated');
    expect(ds[0]!.help).toBe('to update the outer `h`, assign instead of declaring: `h = h + x`');
  });

  it('a destructuring `let` in a loop suggests the tuple assignment; an `if` branch warns too', () => {
    const src = `${cell}fn f(x: f32[2]) -> f32[2] {\n  let h = x\n  let c = x\n  for i in 0..2 {\n    let (h, c) = cell(x, h, c)\n  }\n  if true {\n    let c = c * 2.0\n  }\n  return h + c\n}\n`;
    const ds = check(src, 'let.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0211', 'DL0211']);
    expect(ds[0]!.help).toBe('to update the outer `h`, assign instead of declaring: `(h, c) = cell(x, h, c)`');
    expect(ds[1]!.message).toContain('inside this branch');
  });

  it('no warning for a new name, a shadowed parameter, a loop-local re-`let`, or a `let` at the top of the function', () => {
    const src = 'fn f(x: f32[2]) -> f32[2] {\n  let h = x\n  let h = h + x\n  for i in 0..2 {\n    let t = h * 2.0\n    let x = x + 1.0\n    let t = t + x\n    h = h + t\n  }\n  return h\n}\n';
    expect(codes(src)).toEqual([]);
  });
});
