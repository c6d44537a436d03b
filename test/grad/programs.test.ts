/**
 * Whole-program gradients: random well-typed .dl programs (DAGs of primitives and standard
 * library functions, with fan-out and broadcasting) are generated as source text, then checked
 * by `gradcheck` against finite differences. A failure shrinks to the fewest steps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/index.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';

const M = 3;
const N = 4;

/** One step: an expression over earlier variables (all f32[M, N]). */
type Step = (vars: string[], pick: (k: number) => string) => string;

const STEPS: Step[] = [
  (_v, p) => `tanh(${p(0)})`,
  (_v, p) => `sigmoid(${p(0)}) * ${p(1)}`,
  (_v, p) => `${p(0)} + ${p(1)}`,
  (_v, p) => `${p(0)} - 0.5 * ${p(1)}`,
  (_v, p) => `${p(0)} * ${p(1)}`,
  (_v, p) => `${p(0)} / (1.0 + ${p(1)} * ${p(1)})`,
  (_v, p) => `sin(${p(0)}) + cos(${p(1)})`,
  (_v, p) => `exp(tanh(${p(0)}))`,
  (_v, p) => `softplus(${p(0)})`,
  (_v, p) => `gelu(${p(0)})`,
  (_v, p) => `sqrt(1.0 + ${p(0)} ** 2)`,
  (_v, p) => `log(1.0 + exp(${p(0)}))`,
  (_v, p) => `softmax(${p(0)}, axis=-1)`,
  (_v, p) => `log_softmax(${p(0)}, axis=0)`,
  (_v, p) => `${p(0)} - logsumexp(${p(1)}, axis=1, keepdims=true)`,
  (_v, p) => `normalize(${p(0)}, 0.001)`,
  (_v, p) => `${p(0)} * mean(${p(1)}, axis=0, keepdims=true)`,
  (_v, p) => `${p(0)} @ W`,
  (_v, p) => `${p(0)} + row`,
  (_v, p) => `where(${p(0)} > ${p(1)}, ${p(0)}, 2.0 * ${p(1)})`,
  (_v, p) => `concat([${p(0)}[:, 0:2], ${p(1)}[:, 2:4]], axis=1)`,
  (_v, p) => `transpose(${p(0)} @ transpose(${p(1)}) , [1, 0]) @ ${p(0)}`,
  (_v, p) => `reshape(reverse(reshape(${p(0)}, [${M * N}]), 0), [${M}, ${N}])`,
  (_v, p) => `${p(0)} * ${p(0)}`,
  (_v, p) => `pad(${p(0)}, [[1, 0], [0, 1]])[1:, 0:${N}]`,
];

interface Program {
  readonly steps: readonly { readonly op: number; readonly args: readonly number[] }[];
  readonly loss: number;
}

const programArb: fc.Arbitrary<Program> = fc.record({
  steps: fc.array(fc.record({ op: fc.integer({ min: 0, max: STEPS.length - 1 }), args: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }) }), { minLength: 1, maxLength: 6 }),
  loss: fc.nat(),
});

function render(p: Program): string {
  const vars = ['x', 'y'];
  const lines = [`fn f(x: f32[${M}, ${N}], y: f32[${M}, ${N}], W: f32[${N}, ${N}], row: f32[${N}]) -> f32 {`];
  p.steps.forEach((s, i) => {
    const pick = (k: number) => vars[s.args[k]! % vars.length]!;
    lines.push(`  let v${i} = ${STEPS[s.op]!(vars, pick)}`);
    vars.push(`v${i}`);
  });
  const last = vars[vars.length - 1]!;
  const other = vars[p.loss % vars.length]!;
  lines.push(`  return sum(${last} * ${other}) + mean(tanh(${last}))`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

describe('random programs', () => {
  it('are well-typed as generated', () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const src = render(p);
        expect(check(src, 'gen.dl').diagnostics, src).toEqual([]);
      }),
      { numRuns: 50, seed: 11 },
    );
  });

  it('have reverse-mode gradients that agree with finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (p) => {
        const src = render(p);
        const r = await gradcheck(src, 'gen.dl', { runs: 3, seed: 5 });
        const bad = r.functions.filter((f) => !f.ok);
        if (!r.ok) throw new Error(`${src}\n${JSON.stringify(bad[0]?.counterexample ?? r.diagnostics, null, 1)}`);
      }),
      { numRuns: process.env['CI'] ? 60 : 25, seed: 12 },
    );
  });

  it('have second derivatives that agree with finite differences (grad of a gradient norm)', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (p) => {
        const body = render(p).replace('fn f(', 'fn f0(');
        const src = `${body}
fn g(x: f32[${M}, ${N}], y: f32[${M}, ${N}], W: f32[${N}, ${N}], row: f32[${N}]) -> f32 {
  let gx = grad(f0(x, y, W, row), x)
  return sum(gx * gx)
}
`;
        const r = await gradcheck(src, 'gen.dl', { fn: 'g', runs: 2, seed: 6 });
        if (!r.ok) throw new Error(`${src}\n${JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics, null, 1)}`);
      }),
      { numRuns: process.env['CI'] ? 30 : 12, seed: 13 },
    );
  });
});
