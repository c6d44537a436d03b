/**
 * Compile time grows linearly with the program (issue 8), checked by counting work, not by
 * timing: the nodes differentiation walks for N and 2N unrolled gradient steps, and how often
 * `check` reads the list of declarations for N and 2N functions. Doubling the program may at most
 * about double the work (a quadratic walk would quadruple it).
 */
import { describe, expect, it } from 'vitest';
import { check, evaluate, lower } from '../../src/index.js';
import type { Decl } from '../../src/frontend/ast.js';
import { checkModule } from '../../src/frontend/lower/entry.js';
import { parseSource, type ParseResult } from '../../src/frontend/parse.js';
import { loadStdlib } from '../../src/frontend/stdlib.js';
import { autodiffWork } from '../../src/passes/autodiff.js';
import { gradLoopSource, manyFnsSource, pgdSource } from '../../bench/workloads/scaling-programs.mjs';

/** What doubling the program may multiply the work by. */
const LINEAR = 2.5;

/** Nodes the autodiff walk visits while lowering `entry`; also checks the program lowers. */
function visits(src: string, entry: string, dims: Record<string, number>): { visited: number; nodes: number } {
  const before = autodiffWork.visited;
  const r = lower(src, entry, { dims });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { visited: autodiffWork.visited - before, nodes: r.graph!.nodes.length };
}

function expectLinear(small: number, large: number): void {
  expect(small).toBeGreaterThan(0);
  expect(large / small).toBeLessThanOrEqual(LINEAR);
}

describe('differentiation inside unrolled loops is linear in the steps', () => {
  it('N gradient-descent steps `w = w - lr * grad(loss(w), w)`: the walk grows like N', () => {
    const a = visits(gradLoopSource(40), 'train', { D: 3, M: 4 });
    const b = visits(gradLoopSource(80), 'train', { D: 3, M: 4 });
    expectLinear(a.visited, b.visited);
    // Each step's gradient walks about that step's own nodes, not the whole history.
    expect(b.visited).toBeLessThan(2 * b.nodes);
  });

  it('an N-step PGD attack on the input: the walk grows like N', () => {
    const a = visits(pgdSource(30), 'Classifier.pgd', { B: 2 });
    const b = visits(pgdSource(60), 'Classifier.pgd', { B: 2 });
    expectLinear(a.visited, b.visited);
    expect(b.visited).toBeLessThan(2 * b.nodes);
  });

  it('a gradient with respect to an early variable still sees every step (the walk is not cut short)', () => {
    // d/dw0 of w after N steps of w ← w − lr·2(w − 1) is (1 − 2·lr)^N: every step is on the path.
    const src = `fn f(w0: f32[1]) -> f32[1] {
  let w = w0
  for i in 0..8 {
    w = w - 0.1 * grad(sum((w - 1.0) * (w - 1.0)), w)
  }
  return grad(sum(w), w0)
}
`;
    const r = check(src);
    expect(r.diagnostics).toEqual([]);
    const g = lower(src, 'f').graph!;
    const out = [...evaluate(g, { w0: { shape: [1], data: [3] } }).values()][0]!;
    expect(out.data[0]).toBeCloseTo(0.8 ** 8, 10);
  });
});

/** The user file with its declaration list wrapped to count element reads. */
function counted(p: ParseResult): { parsed: ParseResult; reads: () => number } {
  let reads = 0;
  const decls = new Proxy(p.program.decls as Decl[], {
    get(target, key, recv) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, recv);
    },
  });
  return { parsed: { ...p, program: { ...p.program, decls } }, reads: () => reads };
}

describe('`check` is linear in the number of functions', () => {
  const readsFor = (n: number) => {
    const { parsed, reads } = counted(parseSource('many.dl', manyFnsSource(n, 8)));
    const r = checkModule(loadStdlib(), parsed, { dims: { N: 4 } });
    expect(r.diagnostics).toEqual([]);
    expect(r.checked.length).toBe(n);
    return reads();
  };

  it('checking every one of N functions reads the declarations O(N) times, not O(N²)', () => {
    expectLinear(readsFor(150), readsFor(300));
  });
});
