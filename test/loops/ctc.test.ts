/**
 * examples/ctc.dl: the CTC loss by the forward algorithm in log space, a loop over frames that
 * stays a loop. On tiny sizes every alignment (a class per frame) is enumerated here, collapsed
 * (repeats merged, blanks dropped) and the probabilities of those that give the labels summed;
 * the example (kept as a loop, on the interpreter) must give -mean log of that. On T = 16 the loop
 * agrees with the unrolled program on every backend, and its gradient with finite differences.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compile, type Graph } from '../../src/index.js';
import { makeExecutable, type ExecOptions } from '../../src/exec.js';
import { gradcheck } from '../../src/gradcheck/gradcheck.js';
import { initParams, interpret } from '../../src/interp/interpret.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { compareOutput } from '../helpers/differential.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = readFileSync(new URL('../../examples/ctc.dl', import.meta.url), 'utf8');
const scans = (g: Graph) => g.nodes.filter((n) => n.op === 'scan').length;

/** A deterministic pseudo-random stream in [-1, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** -mean over the batch of log Σ over alignments collapsing to the labels of Π_t softmax(logits_t)[a_t]. */
function bruteForce(logits: Float64Array, labels: readonly number[][], B: number, T: number, C: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    const probs = Array.from({ length: T }, (_, t) => {
      const row = Array.from(logits.subarray((b * T + t) * C, (b * T + t + 1) * C));
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      return row.map((v) => Math.exp(v) / z);
    });
    let p = 0;
    for (let code = 0; code < C ** T; code++) {
      const path = Array.from({ length: T }, (_, t) => Math.floor(code / C ** t) % C);
      const collapsed = path.filter((c, t) => c !== 0 && (t === 0 || c !== path[t - 1]));
      if (collapsed.length !== labels[b]!.length || collapsed.some((c, i) => c !== labels[b]![i])) continue;
      p += path.reduce((q, c, t) => q * probs[t]![c]!, 1);
    }
    // A sequence no alignment fits adds nothing (the example's zero_infinity).
    if (p > 0) total -= Math.log(p);
  }
  return total / B;
}

function inputs(B: number, T: number, C: number, labels: number[][], seed: number): Map<string, NDArray> {
  const r = stream(seed);
  const logits = new NDArray([B, T, C], Float64Array.from({ length: B * T * C }, () => 2 * r()));
  return new Map([
    ['logits', logits],
    ['labels', new NDArray([B, labels[0]!.length], Float64Array.from(labels.flat()))],
  ]);
}

const STAGES: { name: string; opts: ExecOptions; tol: number }[] = [
  { name: 'js-f64', opts: { backend: 'js', precision: 'f64' }, tol: 1e-9 },
  { name: 'js-f32', opts: { backend: 'js', precision: 'f32' }, tol: 2e-3 },
  ...(WEBGPU ? [{ name: 'webgpu', opts: { backend: 'webgpu' as const }, tol: 2e-3 }] : []),
];

describe('examples/ctc.dl', () => {
  it('equals the sum over every alignment (brute force, T = 2, 4 and 5, repeated labels, one sequence no alignment fits; kept as a loop)', () => {
    const cases = [
      { T: 4, C: 3, labels: [[1, 2], [2, 2]] },
      { T: 5, C: 3, labels: [[1, 1], [2, 1]] },
      { T: 5, C: 4, labels: [[3], [1]] },
      { T: 2, C: 3, labels: [[1, 1], [2, 1]] },
    ];
    for (const c of cases) {
      const dims = { B: 2, T: c.T, C: c.C, L: c.labels[0]!.length };
      const g = compile(SRC, 'ctc_loss', { path: 'ctc.dl', dims, loops: 'keep' });
      expect(scans(g)).toBe(1);
      const ins = inputs(2, c.T, c.C, c.labels, 7 + c.T);
      const want = bruteForce(ins.get('logits')!.data as Float64Array, c.labels, 2, c.T, c.C);
      const got = interpret(runPipeline(g, { verify: true }).graph, ins, new Map()).values().next().value!;
      expect(Math.abs(got.data[0]! - want), `T=${c.T} labels=${JSON.stringify(c.labels)}: ${got.data[0]} vs ${want}`).toBeLessThan(1e-9);
    }
  });

  it('stays a loop at T = 16 and agrees with the unrolled program on every backend', async () => {
    const dims = { B: 2, T: 16, C: 4, L: 3 };
    const loop = compile(SRC, 'ctc_loss', { path: 'ctc.dl', dims });
    const unrolled = compile(SRC, 'ctc_loss', { path: 'ctc.dl', dims, loops: 'unroll' });
    expect(scans(loop)).toBe(1);
    expect(scans(unrolled)).toBe(0);
    const ins = inputs(2, 16, 4, [[1, 3, 3], [2, 1, 2]], 3);
    const ref = interpret(unrolled, ins, new Map());
    const simplified = runPipeline(loop, { verify: true }).graph;
    const name = unrolled.outputs[0]!.name;
    expect(compareOutput('f32', ref.get(name)!, interpret(simplified, ins, new Map()).get(name), 1e-9)).toBeUndefined();
    for (const s of STAGES) {
      const exe = await makeExecutable(simplified, s.opts);
      const got = await exe.run(ins);
      expect(compareOutput('f32', ref.get(name)!, got.get(name), s.tol), s.name).toBeUndefined();
    }
  }, 120_000);

  it('has gradients that agree with finite differences (the loss w.r.t. the logits, and the model head)', async () => {
    const r = await gradcheck(SRC, 'ctc.dl', { fn: 'ctc_loss', runs: 1, seed: 3, backend: 'js', dims: { B: 2, T: 16, C: 4, L: 2 } });
    expect(r.ok, JSON.stringify(r.functions[0]?.counterexample ?? r.diagnostics)).toBe(true);
    const m = await gradcheck(SRC, 'ctc.dl', { fn: 'CTC.loss', runs: 1, seed: 4, backend: 'js', dims: { B: 2, T: 16, L: 2 } });
    expect(m.ok, JSON.stringify(m.functions[0]?.counterexample ?? m.diagnostics)).toBe(true);
    expect(initParams(compile(SRC, 'CTC.loss', { path: 'ctc.dl', dims: { B: 2, T: 16, L: 2 } }), 1).size).toBeGreaterThan(0);
  }, 120_000);
});
