/**
 * Tensors with no elements are refused (DL0315) at the expression that would make one: an empty
 * slice, a shape with a 0, a parameter or an entry input with a size of 0. They used to lower to
 * graphs whose kernels divide by zero.
 */
import { describe, expect, it } from 'vitest';
import { check, lower } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../helpers/golden.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const diags = (src: string) => check(src, 'empty.dl').diagnostics;
const at = (d: { span?: { file: { position(n: number): { line: number; col: number } }; start: number } }) => {
  const p = d.span!.file.position(d.span!.start);
  return [p.line, p.col];
};

describe('zero-size tensors are an error with a span', () => {
  it('`x[:, 2:4]` on a 2-wide axis names the slice, the axis and the resulting shape', () => {
    const ds = diags('fn f(x: f32[3, 2]) -> f32 {\n  return sum(x[:, 2:4])\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0315']);
    expect(ds[0]!.message).toBe('the slice `2:4` selects nothing from axis 1 of f32[3, 2] (size 2) in `x[:, 2:4]`: the result would be f32[3, 0]');
    expect(at(ds[0]!)).toEqual([2, 19]);
  });

  it('an empty slice inside an inlined function is reported there, with the call site', () => {
    const ds = diags('fn tail(v: f32[N], k: int) {\n  return v[k:]\n}\nfn f(x: f32[4]) {\n  return tail(x, 4)\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0315']);
    expect(ds[0]!.notes.join('\n')).toContain('while inlining the call to `tail`');
  });

  it('a shape with a 0 (`zeros([3, 0])`) names the expression and the shape', () => {
    const ds = diags('fn f() {\n  return zeros([3, 0])\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0315']);
    expect(ds[0]!.message).toBe('`zeros([3, 0])` gives a tensor with no elements: f32[3, 0] (axis 1 has size 0)');
  });

  it('a parameter whose size is 0 names the size', () => {
    const ds = diags('model M(d: int = 0) {\n  param W: f32[4, d] = zeros\n  fn g(x: f32[2, 4]) {\n    return x @ W\n  }\n}\n');
    expect(ds.map((d) => d.code)).toEqual(['DL0315']);
    expect(ds[0]!.message).toBe('parameter `W` would have no elements: its size `d` is 0');
  });

  it('an entry input with a dimension of 0 (from the API) is an error at the parameter, noting the dimension', () => {
    const r = lower('fn f(x: f32[B, 2]) -> f32 {\n  return sum(x)\n}\n', 'f', { dims: { B: 0 } });
    expect(r.graph).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0315']);
    expect(r.diagnostics[0]!.message).toBe('input `x` would have no elements: f32[0, 2]');
    expect(r.diagnostics[0]!.notes).toEqual(['`B` is 0 (from `--dim B=0`)']);
    const shaped = lower('fn f(x: f32[B, 2]) -> f32 {\n  return sum(x)\n}\n', 'f', { inputShapes: { x: [0, 2] } });
    expect(shaped.diagnostics.map((d) => d.code)).toEqual(['DL0315']);
  });

  it('`--dim B=0` is a usage error naming the dimension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-empty-'));
    const file = join(dir, 'f.dl');
    writeFileSync(file, 'fn f(x: f32[B, 2]) -> f32 {\n  return sum(x)\n}\n');
    const cap = captureIo();
    expect(await main(['check', file, '--dim', 'B=0'], cap.io)).toBe(2);
    expect(cap.err()).toContain('error[DL0601]: --dim B=0: the dimension `B` must be at least 1');
  });

  it('non-empty slices, including a single element, still lower', () => {
    expect(diags('fn f(x: f32[3, 2]) -> f32 {\n  return sum(x[:, 1:2]) + sum(x[2:, :])\n}\n')).toEqual([]);
  });
});
