/**
 * Dimension equations in types: `f32[4 * H, H]` binds `H` from either axis, and a dimension
 * expression with one new name that is linear in it (`k * H`, `H + k`, `H - k`, `H / k`) is solved
 * for it from the size found there. A solution that is not a whole size is DL0305; an expression
 * that cannot be solved (`H * H`) is DL0201 with a help line.
 */
import { describe, expect, it } from 'vitest';
import { check, compile, evaluate, lower } from '../../src/index.js';

const diags = (src: string) => check(src, 'dims.dl').diagnostics;

describe('solving dimension equations', () => {
  it('`f32[4 * H, H]` binds `H` from the second axis (was DL0201 "unknown name H")', () => {
    const src = 'fn gates(W: f32[4 * H, H]) -> f32 {\n  return sum(W) * float(H)\n}\nfn f(x: f32[8, 2]) -> f32 {\n  return gates(x)\n}\n';
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape: [8, 2], data: new Array(16).fill(1) } });
    expect([...out.get('out')!.data]).toEqual([32]);
  });

  it('the second axis of `f32[4 * H, H]` must still agree with the first', () => {
    const src = 'fn gates(W: f32[4 * H, H]) -> f32 {\n  return sum(W)\n}\nfn f(x: f32[8, 3]) -> f32 {\n  return gates(x)\n}\n';
    const ds = diags(src);
    expect(ds.map((d) => d.code)).toEqual(['DL0304']);
    expect(ds[0]!.notes).toEqual(['axis 0 should be 12 (`4 * H`), but it is 8']);
  });

  it.each([
    ['k * H', '3 * H', [12], 4],
    ['H * k', 'H * 3', [12], 4],
    ['H + k', 'H + 2', [5], 3],
    ['H - k', 'H - 1', [5], 6],
    ['H / k', 'H / 2', [5], 10],
    ['k + k * H', '1 + 2 * H', [7], 3],
  ])('a lone `%s` axis is solved: `f32[%s]` with %j gives H = %d', (_form, type, shape, h) => {
    const src = `fn g(v: f32[${type}]) -> f32 {\n  return float(H)\n}\nfn f(x: f32[${shape.join(', ')}]) -> f32 {\n  return g(x)\n}\n`;
    expect(diags(src)).toEqual([]);
    const out = evaluate(compile(src, 'f'), { x: { shape, data: new Array(shape[0]!).fill(0) } });
    expect([...out.get('out')!.data]).toEqual([h]);
  });

  it('the bound name carries over to later parameters of the same call', () => {
    const src = 'fn g(W: f32[2 * H], h: f32[H]) -> f32 {\n  return sum(W) + sum(h)\n}\nfn f(a: f32[6], b: f32[4]) -> f32 {\n  return g(a, b)\n}\n';
    const ds = diags(src);
    expect(ds.map((d) => d.code)).toEqual(['DL0305']);
    expect(ds[0]!.message).toBe('argument `h` of `g` has 4 at axis 0 where the type says `H`, but `H` is already 3');
  });

  it('a solution that is not a whole size is DL0305', () => {
    const ds = diags('fn g(W: f32[4 * H]) -> f32 {\n  return sum(W)\n}\nfn f(x: f32[10]) -> f32 {\n  return g(x)\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0305']);
    expect(ds[0]!.message).toBe('argument `W` of `g` has 10 at axis 0 where the type says `4 * H`, so `H` would be 2.5, which is not a size');
    const neg = diags('fn g(W: f32[H + 5]) -> f32 {\n  return sum(W)\n}\nfn f(x: f32[3]) -> f32 {\n  return g(x)\n}\n');
    expect(neg.map((d) => d.code)).toEqual(['DL0305']);
    expect(neg[0]!.message).toContain('`H` would be -2');
  });

  it('a non-linear expression (`H * H`) is DL0201 with a help line saying what can be solved', () => {
    const ds = diags('fn g(W: f32[H * H]) -> f32 {\n  return sum(W)\n}\nfn f(x: f32[9]) -> f32 {\n  return g(x)\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0201']);
    expect(ds[0]!.help).toContain('cannot be solved for `H`');
  });

  it('an entry point with `f32[4 * H, H]` gets a free size for `H` (from --dim too)', () => {
    const src = 'fn f(W: f32[4 * H, H]) -> f32 {\n  return sum(W)\n}\n';
    expect(diags(src)).toEqual([]);
    const r = lower(src, 'f', { dims: { H: 3 } });
    expect(r.graph!.inputs[0]!.type.shape).toEqual([12, 3]);
    const alone = lower('fn f(W: f32[2 * K]) -> f32 {\n  return sum(W)\n}\n', 'f', { dims: { K: 5 } });
    expect(alone.graph!.inputs[0]!.type.shape).toEqual([10]);
  });

  it('an expression with two new names waits for the rest of the type and the signature', () => {
    const within = 'fn g(W: f32[I + H, 4 * H]) -> f32 {\n  return float(I * 100 + H)\n}\nfn f(w: f32[7, 8]) -> f32 {\n  return g(w)\n}\n';
    expect(diags(within)).toEqual([]);
    expect([...evaluate(compile(within, 'f'), { w: { shape: [7, 8], data: new Array(56).fill(0) } }).get('out')!.data]).toEqual([502]);
    const later = 'fn g(W: f32[I + H], x: f32[I], h: f32[H]) -> f32 {\n  return float(I * 100 + H)\n}\n';
    const call = (n: number) => `${later}fn f(w: f32[${n}], x: f32[3], h: f32[4]) -> f32 {\n  return g(w, x, h)\n}\n`;
    expect(diags(call(7))).toEqual([]);
    const z = { shape: [1], data: [0] };
    const out = evaluate(compile(call(7), 'f'), { w: { shape: [7], data: new Array(7).fill(0) }, x: { ...z, shape: [3], data: [0, 0, 0] }, h: { shape: [4], data: [0, 0, 0, 0] } });
    expect([...out.get('out')!.data]).toEqual([304]);
    const bad = diags(call(8));
    expect(bad.map((d) => d.code)).toEqual(['DL0304']);
    expect(bad[0]!.notes).toEqual(['axis 0 should be 7 (`I + H`), but it is 8']);
    // As an entry point, every new name is a free dimension.
    expect(lower(later, 'g', { dims: { I: 2, H: 5 } }).graph!.inputs.map((i) => i.type.shape)).toEqual([[7], [2], [5]]);
  });

  it('an unknown name in an expression with two new names is still reported', () => {
    const ds = diags('fn g(W: f32[I + J]) -> f32 {\n  return sum(W)\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0201', 'DL0201']);
  });
});
