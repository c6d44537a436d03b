/**
 * Runs a small program on every backend — the reference interpreter (on the graph as lowered and
 * as simplified, so constant folding is covered), JS f64, JS f32 and WebGPU when present — and
 * returns each output as plain numbers, for exact (Object.is) comparisons.
 */
import { expect } from 'vitest';
import { makeExecutable, type ExecBackend } from '../../src/exec.js';
import { compile } from '../../src/index.js';
import { NDArray } from '../../src/ir/ndarray.js';
import type { Precision } from '../../src/kernel/memory.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { WEBGPU } from '../helpers/webgpu.js';

export interface Target {
  readonly name: string;
  readonly backend: ExecBackend;
  readonly precision?: Precision;
  /** Whether the graph runs as lowered (before simplify). */
  readonly raw?: boolean;
}

export const TARGETS: readonly Target[] = [
  { name: 'interp (lowered)', backend: 'interp', raw: true },
  { name: 'interp (simplified)', backend: 'interp' },
  { name: 'js f64', backend: 'js', precision: 'f64' },
  { name: 'js f32', backend: 'js', precision: 'f32' },
  ...(WEBGPU ? [{ name: 'webgpu', backend: 'webgpu' as const, precision: 'f32' as const }] : []),
];

export type Inputs = Record<string, { shape: number[]; data: number[] }>;

/** The outputs of `f` in `src` on one target, by output name. */
export async function runOn(t: Target, src: string, inputs: Inputs = {}): Promise<Map<string, number[]>> {
  const lowered = compile(src, 'f', { path: 'numerics.dl' });
  const g = t.raw ? lowered : runPipeline(lowered).graph;
  const ex = await makeExecutable(g, { backend: t.backend, ...(t.precision ? { precision: t.precision } : {}) });
  const ins = new Map(Object.entries(inputs).map(([k, v]) => [k, NDArray.from(v.shape, v.data)]));
  const out = await ex.run(ins);
  return new Map([...out].map(([k, v]) => [k, Array.from(v.data)]));
}

/** Elements that differ from `want` (Object.is: NaN equals NaN, 0 and −0 differ), as messages. */
export function mismatches(got: readonly number[], want: readonly number[]): string[] {
  if (got.length !== want.length) return [`${got.length} elements, expected ${want.length}`];
  const bad: string[] = [];
  want.forEach((w, i) => {
    if (!Object.is(got[i], w)) bad.push(`[${i}] = ${Object.is(got[i], -0) ? '-0' : got[i]}, expected ${Object.is(w, -0) ? '-0' : w}`);
  });
  return bad;
}

/** Runs the program on every target; every output must equal `want` exactly. */
export async function expectEverywhere(src: string, inputs: Inputs, want: Record<string, number[]>): Promise<void> {
  const bad: string[] = [];
  for (const t of TARGETS) {
    const out = await runOn(t, src, inputs);
    for (const [name, w] of Object.entries(want)) {
      for (const m of mismatches(out.get(name) ?? [], w)) bad.push(`${t.name} ${name}${m}`);
    }
  }
  expect(bad).toEqual([]);
}
