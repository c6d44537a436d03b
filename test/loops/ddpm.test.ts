/**
 * DDPM ancestral sampling (examples/ddpm.dl) with its sampling loop kept as a loop: the body
 * (the noise network and the update, with a fresh normal draw per step) is compiled once. The
 * compiled programs agree with the reference interpreter (random draws included: the counters are
 * the same on every backend), at the example's T = 40 and at T = 1000.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, type Graph } from '../../src/index.js';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import { initParams, interpret } from '../../src/interp/interpret.js';
import { NDArray } from '../../src/ir/ndarray.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { compareOutput } from '../helpers/differential.js';
import { WEBGPU } from '../helpers/webgpu.js';

const SRC = readFileSync(new URL('../../examples/ddpm.dl', import.meta.url), 'utf8');
// At T = 1000 the usual DDPM schedule (β from 1e-4 to 0.02) keeps the samples of an untrained network finite.
const withT = (T: number) => (T === 40 ? SRC : SRC.replace('T: int = 40', `T: int = ${T}`).replace('beta_min: float = 0.005, beta_max: float = 0.2', 'beta_min: float = 0.0001, beta_max: float = 0.02'));
const N = 8;
const z = NDArray.from([N, 2], Array.from({ length: 2 * N }, (_, i) => Math.sin(3 * i)));

async function sample(g: Graph, backend: ExecBackend): Promise<NDArray> {
  const params = initParams(g, 0);
  if (backend === 'interp') return interpret(g, new Map([['z', z]]), params).values().next().value!;
  const ex = await makeExecutable(runPipeline(g, { verify: true }).graph, { backend });
  // Model parameters as the interpreter drew them; the seed state is the same (0) everywhere.
  for (const [k, v] of params) if (!k.includes('/')) ex.setParam(k, v.data);
  return (await ex.run(new Map([['z', z]]))).values().next().value!;
}

describe('DDPM sampling as a loop', () => {
  const backends: ExecBackend[] = ['js', ...(WEBGPU ? (['webgpu'] as const) : [])];
  for (const T of [40, 1000]) {
    it(`T = ${T}: one scan; JS${WEBGPU ? ' and WebGPU agree' : ' agrees'} with the interpreter`, async () => {
      const g = compile(withT(T), 'DDPM.sample', { dims: { N } });
      expect(g.nodes.filter((n) => n.op === 'scan').length).toBe(1);
      const ref = await sample(g, 'interp');
      expect(Array.from(ref.data).every((v) => Number.isFinite(v) && Math.abs(v) < 1e4)).toBe(true);
      for (const b of backends) expect(compareOutput('f32', ref, await sample(g, b), 2e-3), b).toBeUndefined();
    }, 120_000);
  }
  it('the lowered program is the same size at T = 40 and T = 1000', () => {
    expect(compile(withT(1000), 'DDPM.sample', { dims: { N } }).nodes.length).toBe(compile(SRC, 'DDPM.sample', { dims: { N } }).nodes.length);
  });
});
