/**
 * Every primitive's gradient, driven by the op registry: for each op, random valid cases (from
 * the op's own `test.sample`) are checked with the dot-product test
 *   ⟨c, (f(x+εt) − f(x−εt)) / 2ε⟩ ≈ ⟨VJP(c), t⟩
 * in float64, and again one order up (the gradient of ⟨VJP(c), d⟩) for second derivatives.
 * A new op is covered by adding its definition; there is no per-op test to write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGraph, GraphBuilder } from '../../src/ir/builder.js';
import * as C from '../../src/ir/compose.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import type { OpCase, OpDef } from '../../src/ir/op.js';
import { OPS } from '../../src/ir/ops/index.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { directionalCheck, gradientGraph, randomArray } from '../../src/gradcheck/check.js';
import { vjp } from '../../src/passes/autodiff.js';
import { drawFrom, RUNS } from '../helpers/draw.js';

/** L(x) = Σ op(x) · c with c a fixed random input: its gradient is VJP(c). */
function firstOrder(def: OpDef, c: OpCase): { graph: Graph; vars: Node[] } | undefined {
  const b = new GraphBuilder();
  const ins = c.inputs.map((t, i) => b.add('input', [], { name: `x${i}`, dtype: t.dtype, shape: [...t.shape] }));
  const y = b.add(def.name, ins, c.attrs, c.body);
  if (y.type.dtype !== 'f32') return undefined;
  const cot = b.add('input', [], { name: 'c', dtype: 'f32', shape: [...y.type.shape] });
  const L = C.reduce(b, 'reduce_sum', b.add('mul', [y, cot]));
  const graph = buildGraph(`${def.name}.L`, [...ins, cot], [{ name: 'L', node: L }]);
  return { graph, vars: graph.inputs.filter((n) => n.type.dtype === 'f32' && n.attrs['name'] !== 'c') };
}

/** L2(x) = Σᵢ ⟨∂L/∂xᵢ, dᵢ⟩: its gradient holds the second derivatives of the op. */
function secondOrder(first: Graph, vars: readonly Node[]): { graph: Graph; vars: Node[] } {
  const b = new GraphBuilder();
  const map = b.import(first);
  const xs = vars.map((v) => map.get(v)!);
  const gs = vjp(b, map.get(first.outputs[0]!.node)!, xs, C.scalarConst(b, 1, 'f32'));
  const ds = xs.map((x, i) => b.add('input', [], { name: `d${i}`, dtype: 'f32', shape: [...x.type.shape] }));
  let L2 = C.scalarConst(b, 0, 'f32');
  gs.forEach((g, i) => {
    if (g) L2 = b.add('add', [L2, C.reduce(b, 'reduce_sum', b.add('mul', [g, ds[i]!]))]);
  });
  const graph = buildGraph('L2', [...first.inputs.map((i) => map.get(i)!), ...ds], [{ name: 'L2', node: L2 }]);
  const names = new Set(vars.map((v) => String(v.attrs['name'])));
  return { graph, vars: graph.inputs.filter((n) => names.has(String(n.attrs['name']))) };
}

function valuesFor(g: Graph, c: OpCase, seed: number): Map<string, NDArray> {
  const m = new Map<string, NDArray>();
  for (const inp of g.inputs) {
    const name = String(inp.attrs['name']);
    const k = /^x(\d+)$/.exec(name);
    const domain = k ? c.inputs[Number(k[1])]!.domain : 'any';
    m.set(name, randomArray(inp.type.dtype, inp.type.shape, seed, name, domain));
  }
  return m;
}

function check(graph: Graph, vars: Node[], c: OpCase, seed: number): string | undefined {
  const problems = verifyGraph(graph);
  if (problems.length) return problems.join('\n');
  const grad = gradientGraph(graph, vars);
  const gp = verifyGraph(grad);
  if (gp.length) return gp.join('\n');
  const res = directionalCheck(graph, grad, vars, valuesFor(graph, c, seed), new Map(), seed);
  const bad = res.filter((r) => !r.ok);
  return bad.length ? bad.map((r) => `${r.variable.name}: AD ${r.ad} vs FD ${r.fd}`).join('; ') : undefined;
}

const ops = [...OPS.values()];

describe('the registry', () => {
  it('gives every op with inputs a test spec, and every differentiable op a gradient order', () => {
    for (const def of ops) {
      if (def.kind === 'source') continue;
      expect(def.test, `${def.name} has no test spec`).toBeDefined();
      if (def.vjp === null) expect(def.test!.order ?? 0, `${def.name} is not differentiable`).toBe(0);
    }
  });

  it('declares sign, floor and ceil not differentiable and everything else a rule', () => {
    const nondiff = ops.filter((d) => d.vjp === null).map((d) => d.name).sort();
    expect(nondiff).toEqual(['ceil', 'floor', 'not', 'sign']);
  });
});

describe.each(ops.filter((d) => d.test).map((d) => [d.name, d] as const))('%s', (_name, def) => {
  it('samples valid cases that evaluate to their inferred shapes', () => {
    fc.assert(
      fc.property(fc.gen(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (g, seed) => {
        const c = def.test!.sample(drawFrom(g));
        const b = new GraphBuilder();
        const ins = c.inputs.map((t, i) => b.add('input', [], { name: `x${i}`, dtype: t.dtype, shape: [...t.shape] }));
        const y = b.add(def.name, ins, c.attrs, c.body);
        const graph = buildGraph('case', ins, [{ name: 'y', node: y }]);
        expect(verifyGraph(graph)).toEqual([]);
        const values = valuesFor(graph, c, seed);
        const out = def.evaluate(
          ins.map((i) => values.get(String(i.attrs['name']))!),
          c.attrs,
          y.type,
          { input: () => values.get('x0')!, param: () => values.get('x0')! },
          c.body,
        );
        expect(out.shape).toEqual(y.type.shape);
      }),
      { numRuns: RUNS, seed: 1 },
    );
  });

  if ((def.test?.order ?? 0) >= 1) {
    it('has a VJP that matches central differences', () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (g, seed) => {
          const c = def.test!.sample(drawFrom(g));
          const f = firstOrder(def, c);
          if (!f || f.vars.length === 0) return true;
          const err = check(f.graph, f.vars, c, seed);
          if (err) throw new Error(err);
          return true;
        }),
        { numRuns: RUNS, seed: 2 },
      );
    });
  }

  if ((def.test?.order ?? 0) >= 2) {
    it('has a differentiable VJP (second derivatives match central differences)', () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (g, seed) => {
          const c = def.test!.sample(drawFrom(g));
          const f = firstOrder(def, c);
          if (!f || f.vars.length === 0) return true;
          const s = secondOrder(f.graph, f.vars);
          const err = check(s.graph, s.vars, c, seed);
          if (err) throw new Error(err);
          return true;
        }),
        { numRuns: Math.ceil(RUNS / 2), seed: 3 },
      );
    });
  }
});
