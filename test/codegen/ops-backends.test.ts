/**
 * Every primitive on every backend, driven by the op registry: random valid cases from each
 * op's `test.sample`, random values, and the result of the JS backend (f64 and f32) and of
 * WebGPU (f32) compared with the reference interpreter.
 *   JS f64: within 1e-12 (relative to the output's largest magnitude)
 *   JS f32, WebGPU f32: within 1e-4 (the documented f32 tolerance for well-conditioned ops)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGraph, GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import type { OpCase } from '../../src/ir/op.js';
import { OPS } from '../../src/ir/ops/index.js';
import { randomArray } from '../../src/gradcheck/check.js';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import type { Precision } from '../../src/kernel/memory.js';
import { compare } from '../../src/cli/commands/verify.js';
import { drawFrom, RUNS } from '../helpers/draw.js';
import { WEBGPU } from '../helpers/webgpu.js';

function caseGraph(op: string, c: OpCase): Graph {
  const b = new GraphBuilder();
  const ins = c.inputs.map((t, i) => b.add('input', [], { name: `x${i}`, dtype: t.dtype, shape: [...t.shape] }));
  const y = b.add(op, ins, c.attrs, c.body);
  return buildGraph(op, ins, [{ name: 'y', node: y }]);
}

async function agree(op: string, c: OpCase, seed: number, backend: ExecBackend, precision: Precision, tol: number): Promise<void> {
  const g = caseGraph(op, c);
  const inputs = new Map(g.inputs.map((n, i) => [String(n.attrs['name']), randomArray(n.type.dtype, n.type.shape, seed, `x${i}`, c.inputs[i]!.domain)]));
  const ref = (await (await makeExecutable(g, { backend: 'interp' })).run(inputs)).get('y')!;
  const got = (await (await makeExecutable(g, { backend, precision })).run(inputs)).get('y')!;
  const { maxRel } = compare(ref, got);
  if (!(maxRel <= tol)) {
    throw new Error(`${op} on ${backend} ${precision}: max rel error ${maxRel} > ${tol}\ncase ${JSON.stringify(c)}\nref ${Array.from(ref.data).slice(0, 8)}\ngot ${Array.from(got.data).slice(0, 8)}`);
  }
}

const ops = [...OPS.values()].filter((d) => d.test);

describe.each(ops.map((d) => [d.name] as const))('%s', (name) => {
  const def = OPS.get(name)!;
  const targets: [ExecBackend, Precision, number, number][] = [
    ['js', 'f64', 1e-12, RUNS],
    ['js', 'f32', 1e-4, Math.ceil(RUNS / 2)],
    ...(WEBGPU ? ([['webgpu', 'f32', 1e-4, process.env['CI'] ? 8 : 4]] as [ExecBackend, Precision, number, number][]) : []),
  ];
  for (const [backend, precision, tol, runs] of targets) {
    it(`${backend} ${precision} agrees with the interpreter`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.gen(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (g, seed) => {
          await agree(name, def.test!.sample(drawFrom(g)), seed, backend, precision, tol);
        }),
        { numRuns: runs, seed: 21 },
      );
    });
  }
});

describe('the op registry and codegen', () => {
  it('gives every op a kernel expression (sources read from buffers) or a routine, and every elementwise op templates for both backends', () => {
    for (const d of OPS.values()) {
      // A loop (scan) is no expression: its body's kernels run once per step (src/kernel/loop.ts).
      // A routine is an algorithm per matrix, with its own JS and WGSL (src/ir/routine.ts).
      if (d.kind === 'routine') {
        expect(d.routine?.js.source, d.name).toContain(`function ${d.routine?.js.name}(`);
        expect(d.routine?.wgsl, d.name).toBeDefined();
        expect(d.expr, `${d.name} is a routine and an expression`).toBeUndefined();
      } else if (d.name !== 'input' && d.name !== 'param' && d.kind !== 'loop') expect(d.expr, d.name).toBeDefined();
      if (d.kind === 'elementwise') {
        expect(d.emit?.js, d.name).toBeDefined();
        expect(d.emit?.wgsl, d.name).toBeDefined();
      }
      if (d.kind === 'reduce') expect(d.monoid, d.name).toBeDefined();
    }
  });
});
