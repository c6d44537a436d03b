/**
 * Differentiation diagnostics (DL0401–DL0403) at the user's source line, gradient provenance,
 * and golden IR for the gradient of a small MLP before and after simplification.
 */
import { describe, expect, it } from 'vitest';
import { check, compile, printGraph, renderDiagnostics } from '../../src/index.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

const golden = (name: string) => `${ROOT}test/golden/grad/${name}`;

describe('differentiation diagnostics', () => {
  it('DL0401: differentiating through a non-differentiable op points at the user line', () => {
    const src = ['fn f(x: f32[3]) -> f32[3] {', '  let s = sign(x * 2.0)', '  return grad(sum(s * x), x)', '}', ''].join('\n');
    const ds = check(src, 'sign.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0401']);
    expectGolden(renderDiagnostics(ds), golden('DL0401-sign.txt'));
  });

  it('DL0401 is avoided by stop_gradient', () => {
    const src = 'fn f(x: f32[3]) -> f32[3] { return grad(sum(stop_gradient(sign(x)) * x), x) }';
    expect(check(src).diagnostics).toEqual([]);
  });

  it('DL0402: a gradient w.r.t. something the value does not depend on is zero, with a warning', () => {
    const src = ['fn f(x: f32[3], w: f32[3]) -> f32[3] {', '  return grad(sum(x * x), w)', '}', ''].join('\n');
    const r = check(src, 'zero.dl');
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['DL0402', 'warning']]);
    expectGolden(renderDiagnostics(r.diagnostics), golden('DL0402-zero.txt'));
    const g = compile(src, 'f');
    const out = g.outputs[0]!.node;
    expect(out.op === 'constant' || out.op === 'broadcast' || out.op === 'reshape').toBe(true);
  });

  it('DL0403: grad needs a scalar float value and float variables', () => {
    const src = [
      'fn a(x: f32[3]) { return grad(x * 2.0, x) }',
      'fn b(x: f32[3], i: i32[3]) { return grad(sum(x), i) }',
      'fn c(x: f32[3]) { return grad(sum(x), 2.0) }',
      '',
    ].join('\n');
    const ds = check(src, 'g.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0403', 'DL0403', 'DL0403']);
    expectGolden(renderDiagnostics(ds), golden('DL0403-targets.txt'));
  });

  it('gradient nodes carry the span of the forward expression they came from', () => {
    const src = ['model M {', '  layer l = Linear(3, 2)', '  fn loss(x: f32[4, 3]) -> f32 {', '    return sum(tanh(l(x)))', '  }', '  fn g(x: f32[4, 3]) {', '    return grad(loss(x), self).l.W', '  }', '}', ''].join('\n');
    const g = compile(src, 'M.g', { path: 'prov.dl' });
    for (const n of g.nodes) {
      if (n.op === 'input' || n.op === 'param') continue;
      expect(n.span?.file.path, `${n.op} %${n.id}`).toBe('prov.dl');
    }
    // The tanh′ nodes point at the user's `tanh(...)` call on line 4.
    const lines = new Set(g.nodes.filter((n) => n.op === 'mul' || n.op === 'sub').map((n) => n.span!.file.position(n.span!.start).line));
    expect(lines.has(4)).toBe(true);
  });
});

describe('golden IR: the gradient of a small MLP', () => {
  const src = [
    'model MLP(d_in: int = 4, h: int = 3, c: int = 2) {',
    '  layer l1 = Linear(d_in, h)',
    '  layer l2 = Linear(h, c)',
    '  fn loss(x: f32[B, d_in], y: i32[B]) -> f32 {',
    '    return cross_entropy(l2(relu(l1(x))), y)',
    '  }',
    '  fn grads(x: f32[B, d_in], y: i32[B]) {',
    '    let g = grad(loss(x, y), self)',
    '    return g.l1.W, g.l1.b, g.l2.W, g.l2.b',
    '  }',
    '}',
    '',
  ].join('\n');

  it('before and after simplify', () => {
    const g = compile(src, 'MLP.grads', { dims: { B: 2 } });
    const r = runPipeline(g, { verify: true });
    expect(r.counts[1]!.nodes).toBeLessThan(r.counts[0]!.nodes);
    expectGolden(printGraph(g), golden('mlp-grad.lower.txt'));
    expectGolden(printGraph(r.graph), golden('mlp-grad.simplify.txt'));
  });
});
