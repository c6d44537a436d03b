/**
 * Fusion never changes results: random well-typed programs (several outputs, and their
 * gradients) agree fused, unfused and on the interpreter, on the JS backend (f64, to 1e-9) and
 * on WebGPU (f32). Golden kernel lists for softmax, layer_norm and an MLP training step; the
 * row-wise patterns (softmax, layer_norm, cross-entropy) are one kernel each on both backends;
 * strided views and sibling kernels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/codegen/compile.js';
import { makeExecutable } from '../../src/exec.js';
import { floatVariables, gradientGraph, randomArray } from '../../src/gradcheck/check.js';
import { compile } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import type { NDArray } from '../../src/ir/ndarray.js';
import { affineOf, levelsOfIndex } from '../../src/kernel/affine.js';
import { buildKernels } from '../../src/kernel/build.js';
import { idx, ix, lit, type Expr } from '../../src/kernel/expr.js';
import { verifyKernelProgram } from '../../src/kernel/verify.js';
import { formatKernelReport, kernelReport } from '../../src/kernel/report.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden, ROOT } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

const B = 2;
const H = 2;
const T = 3;
const D = 4;

/** One step over earlier variables, all f32[B, T, H*D] (attention-shaped, so heads split and merge). */
type Step = (p: (k: number) => string) => string;

const STEPS: Step[] = [
  (p) => `tanh(${p(0)}) * ${p(1)}`,
  (p) => `${p(0)} + 0.5 * ${p(1)}`,
  (p) => `relu(${p(0)} - ${p(1)})`,
  (p) => `softmax(${p(0)}, axis=-1)`,
  (p) => `log_softmax(${p(0)}, axis=1)`,
  (p) => `layer_norm(${p(0)}, g, beta)`,
  (p) => `${p(0)} - mean(${p(1)}, axis=-1, keepdims=true)`,
  (p) => `${p(0)} * sum(${p(1)}, axis=0, keepdims=true)`,
  (p) => `${p(0)} @ W + bias`,
  (p) => `gelu(${p(0)} @ W)`,
  (p) => `merge_heads(attention(split_heads(${p(0)}, ${H}), split_heads(${p(1)}, ${H}), split_heads(${p(0)}, ${H}), true))`,
  (p) => `(${p(0)} @ transpose(${p(1)}, [0, 2, 1])) @ ${p(0)} / 8.0`,
  (p) => `where(${p(0)} > ${p(1)}, ${p(0)}, sigmoid(${p(1)}))`,
  (p) => `concat([${p(0)}[:, :, 0:2], ${p(1)}[:, :, 2:${H * D}]], axis=-1)`,
  (p) => `reshape(transpose(reshape(${p(0)}, [${B}, ${T}, ${H}, ${D}]), [0, 1, 3, 2]), [${B}, ${T}, ${H * D}])`,
];

interface Program {
  readonly steps: readonly { readonly op: number; readonly args: readonly number[] }[];
  readonly outs: readonly number[];
}

const programArb: fc.Arbitrary<Program> = fc.record({
  steps: fc.array(fc.record({ op: fc.integer({ min: 0, max: STEPS.length - 1 }), args: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }) }), { minLength: 1, maxLength: 6 }),
  outs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
});

const M = H * D;
const SIGNATURE = `x: f32[${B}, ${T}, ${M}], y: f32[${B}, ${T}, ${M}], W: f32[${M}, ${M}], bias: f32[${M}], g: f32[${M}], beta: f32[${M}]`;

/** The program as `f` (its outputs) and `loss` (a scalar of its first output, to differentiate). */
function render(p: Program): string {
  const vars = ['x', 'y'];
  const lines: string[] = [];
  p.steps.forEach((s, i) => {
    const pick = (k: number) => vars[s.args[k]! % vars.length]!;
    lines.push(`  let v${i} = ${STEPS[s.op]!(pick)}`);
    vars.push(`v${i}`);
  });
  const outs = [...new Set(p.outs.map((o) => vars[o % vars.length]!))];
  return [`fn f(${SIGNATURE}) {`, ...lines, `  return ${outs.join(', ')}`, '}', `fn loss(${SIGNATURE}) -> f32 {`, ...lines, `  return sum(tanh(${outs[0]}))`, '}', ''].join('\n');
}

/** The program's outputs, and the gradient of its loss w.r.t. every float input. */
function programs(p: Program): Graph[] {
  const src = render(p);
  const g = compile(src, 'f', { path: 'random.dl' });
  const l = compile(src, 'loss', { path: 'random.dl' });
  return [runPipeline(g).graph, runPipeline(gradientGraph(l, floatVariables(l))).graph];
}

function inputsOf(g: Graph, seed: number): Map<string, NDArray> {
  return new Map(g.inputs.map((i) => [String(i.attrs['name']), randomArray(i.type.dtype, i.type.shape, seed, String(i.attrs['name']))]));
}

function maxRelDiff(ref: Map<string, NDArray>, got: Map<string, NDArray>): number {
  let worst = 0;
  for (const [k, v] of ref) {
    const o = got.get(k)!;
    let scale = 0;
    v.data.forEach((x) => (scale = Math.max(scale, Math.abs(x))));
    v.data.forEach((x, i) => {
      const d = Math.abs(x - o.data[i]!) / Math.max(scale, 1e-6);
      if (!(d <= worst)) worst = d;
    });
  }
  return worst;
}

describe('fusion never changes results', () => {
  it('random programs and their gradients: fused = unfused = interpreter on JS f64', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, fc.integer({ min: 1, max: 1000 }), async (p, seed) => {
        for (const g of programs(p)) {
          const inputs = inputsOf(g, seed);
          for (const fuse of [true, false]) expect(verifyKernelProgram(buildKernels(g, { fuse }))).toEqual([]);
          const ref = await (await makeExecutable(g, { backend: 'interp' })).run(inputs);
          const fused = await makeExecutable(g, { backend: 'js', precision: 'f64' });
          const unfused = await makeExecutable(g, { backend: 'js', precision: 'f64', fuse: false });
          expect(fused.kernelCount).toBeLessThanOrEqual(unfused.kernelCount);
          expect(maxRelDiff(ref, await fused.run(inputs))).toBeLessThan(1e-9);
          expect(maxRelDiff(ref, await unfused.run(inputs))).toBeLessThan(1e-9);
        }
      }),
      { numRuns: process.env['CI'] ? 100 : 40, seed: 11 },
    );
  }, 300_000);

  it.runIf(WEBGPU)('random programs and their gradients: fused and unfused WebGPU agree with the interpreter', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, fc.integer({ min: 1, max: 1000 }), async (p, seed) => {
        for (const g of programs(p)) {
          const inputs = inputsOf(g, seed);
          const ref = await (await makeExecutable(g, { backend: 'interp' })).run(inputs);
          for (const fuse of [true, false]) {
            const ex = await makeExecutable(g, { backend: 'webgpu', fuse });
            expect(maxRelDiff(ref, await ex.run(inputs))).toBeLessThan(1e-3);
          }
        }
      }),
      { numRuns: process.env['CI'] ? 10 : 4, seed: 12 },
    );
  }, 600_000);
});

const ROWS = `
fn softmax_rows(x: f32[4, 10]) -> f32[4, 10] { return softmax(x, axis=-1) }
fn log_softmax_rows(x: f32[4, 10]) -> f32[4, 10] { return log_softmax(x, axis=-1) }
fn layer_norm_rows(x: f32[4, 16], g: f32[16], b: f32[16]) -> f32[4, 16] { return layer_norm(x, g, b) }
fn ce(z: f32[4, 10], y: i32[4]) -> f32 { return cross_entropy(z, y) }
fn lse(x: f32[4, 10]) -> f32[4] { return logsumexp(x, axis=-1) }
model MLP(d: int = 8, h: int = 16, c: int = 4) {
  layer l1 = Linear(d, h)
  layer l2 = Linear(h, c)
  fn loss(x: f32[B, d], y: i32[B]) -> f32 { return cross_entropy(l2(relu(l1(x))), y) }
  fn step(x: f32[B, d], y: i32[B], lr: float = 0.1) {
    let (l, g) = value_and_grad(loss(x, y), self)
    return l, l1.W - lr * g.l1.W, l1.b - lr * g.l1.b, l2.W - lr * g.l2.W, l2.b - lr * g.l2.b
  }
}
`;

const graphOf = (entry: string) => runPipeline(compile(ROWS, entry, { path: 'rows.dl', dims: { B: 4 } })).graph;

describe('row-wise patterns are one kernel on both backends', () => {
  for (const entry of ['softmax_rows', 'log_softmax_rows', 'layer_norm_rows', 'ce', 'lse']) {
    it(entry, () => {
      const js = compileGraph(graphOf(entry), { backend: 'js' });
      const wgsl = compileGraph(graphOf(entry), { backend: 'webgpu' });
      expect(js.program.kernels.length).toBe(1);
      expect(wgsl.wgsl!.size).toBe(1);
    });
  }

  it('the gradient of softmax cross-entropy w.r.t. the logits is one kernel too', () => {
    const g = compile(ROWS, 'ce', { path: 'rows.dl' });
    const dz = runPipeline(gradientGraph(g, g.inputs.filter((i) => i.type.dtype === 'f32'))).graph;
    expect(buildKernels(dz).kernels.length).toBeLessThanOrEqual(2);
  });
});

describe('golden kernel lists', () => {
  for (const entry of ['softmax_rows', 'layer_norm_rows', 'MLP.step']) {
    it(entry, () => {
      expectGolden(formatKernelReport(kernelReport(graphOf(entry))), `${ROOT}test/golden/kernels/${entry}.txt`);
    });
  }
});

describe('strided views', () => {
  const v = (name: string) => idx(name);
  it('a merged axis split by digits is read in place (the heads of an attention)', () => {
    // Element (t, m) of a [T, H·D] view of a [H, T, D] buffer: (m / D)·T·D + t·D + m % D.
    const i: Expr = ix('+', ix('+', ix('*', ix('/', v('m'), lit(D)), lit(T * D)), ix('*', v('t'), lit(D))), ix('%', v('m'), lit(D)));
    const a = affineOf({ k: 'load', buf: 0, i, t: 'f32' }, new Map([['t', T], ['m', H * D]]))!;
    expect(levelsOfIndex(a, 'm', H * D)).toEqual([{ n: H, stride: T * D }, { n: D, stride: 1 }]);
    expect(levelsOfIndex(a, 't', T)).toEqual([{ n: T, stride: D }]);
  });

  it('a flat index through div and mod of a sum is recognized digit by digit', () => {
    const flat = ix('+', ix('*', v('r'), lit(8)), v('c'));
    const i = ix('+', ix('*', ix('%', flat, lit(4)), lit(10)), ix('/', flat, lit(4)));
    const a = affineOf({ k: 'load', buf: 0, i, t: 'f32' }, new Map([['r', 3], ['c', 8]]))!;
    expect(levelsOfIndex(a, 'c', 8)).toEqual([{ n: 2, stride: 1 }, { n: 4, stride: 10 }]);
    expect(levelsOfIndex(a, 'r', 3)).toEqual([{ n: 3, stride: 2 }]);
  });

  it('an index that is not affine in digits is refused', () => {
    const i = ix('%', ix('+', v('a'), v('b')), lit(3));
    expect(affineOf({ k: 'load', buf: 0, i, t: 'f32' }, new Map([['a', 4], ['b', 4]]))).toBeUndefined();
  });

  it('multi-head attention reads its heads without copies', () => {
    const src = `fn f(x: f32[2, 5, 8], Wq: f32[8, 8], Wk: f32[8, 8], Wv: f32[8, 8], Wo: f32[8, 8]) -> f32[2, 5, 8] { return multi_head_attention(x, Wq, Wk, Wv, Wo, 2, true) }`;
    const p = buildKernels(runPipeline(compile(src, 'f')).graph);
    expect(p.kernels.filter((k) => k.name.includes('copy'))).toEqual([]);
  });
});

describe('sibling kernels', () => {
  it('independent values over the same index space are one kernel with several outputs', () => {
    const src = `fn f(a: f32[16, 16], b: f32[16, 16]) { return tanh(a) + 1.0, sigmoid(b) * a }`;
    const p = buildKernels(runPipeline(compile(src, 'f')).graph);
    expect(p.kernels.length).toBe(1);
    expect(p.kernels[0]!.kind === 'map' && p.kernels[0]!.outputs.length).toBe(2);
  });

  it('a kernel that reads another kernel elementwise at the same index joins it', () => {
    const src = `fn f(a: f32[8, 8]) { let s = softmax(a, axis=-1)\n return s, s * 2.0 + a }`;
    const p = buildKernels(runPipeline(compile(src, 'f')).graph);
    expect(p.kernels.length).toBe(1);
  });
});
