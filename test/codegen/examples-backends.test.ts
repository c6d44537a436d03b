/**
 * Every example, forward and gradient programs, on the interpreter, the JS backend (f64, f32)
 * and WebGPU, with the same inputs and parameters: `dlc verify`'s comparison, in the test suite.
 * The number of kernels each example compiles to is recorded in test/golden/kernel-counts.json
 * and may not grow (fusion, in the next issue, only removes kernels).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Graph } from '../../src/ir/graph.js';
import { describe, expect, it } from 'vitest';
import { verifySource } from '../../src/cli/commands/verify.js';
import { compileGraph } from '../../src/codegen/compile.js';
import { listEntries, lowerEntry } from '../../src/frontend/lower/entry.js';
import { parseSource } from '../../src/frontend/parse.js';
import { loadStdlib } from '../../src/frontend/stdlib.js';
import { floatVariables, gradientGraph } from '../../src/gradcheck/check.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden, ROOT } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

const dir = new URL('../../examples/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.dl')).sort();

describe('examples agree across executors', () => {
  it.each(files)('%s', async (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const r = await verifySource(`examples/${file}`, text, { seed: 3 });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.webgpu).toBe(WEBGPU);
    const bad = r.comparisons.filter((c) => !c.ok);
    expect(bad).toEqual([]);
    const backends = new Set(r.comparisons.map((c) => c.backend));
    expect([...backends].sort()).toEqual(WEBGPU ? ['js f32', 'js f64', 'webgpu f32'] : ['js f32', 'js f64']);
  });
});

describe('kernel counts', () => {
  it('are recorded per example and entry point, unfused and fused, and fusion never adds kernels', () => {
    const std = loadStdlib();
    const counts: Record<string, { unfused: number; fused: number }> = {};
    const count = (g: Graph) => {
      const p = runPipeline(g).graph;
      return { unfused: compileGraph(p, { backend: 'js', fuse: false }).program.kernels.length, fused: compileGraph(p, { backend: 'js' }).program.kernels.length };
    };
    for (const file of files) {
      const user = parseSource(`examples/${file}`, readFileSync(new URL(file, dir), 'utf8'));
      for (const e of listEntries(user).filter((x) => x.standalone)) {
        const g = lowerEntry(std, user, e.name).graph!;
        counts[`${file} ${e.name}`] = count(g);
        const o = g.outputs;
        if (o.length === 1 && o[0]!.node.type.shape.length === 0 && o[0]!.node.type.dtype === 'f32') {
          counts[`${file} ${e.name} (gradient)`] = count(gradientGraph(g, floatVariables(g)));
        }
      }
    }
    // Fused programs never have more kernels than unfused ones, nor than the checked-in counts.
    const file = `${ROOT}test/golden/kernel-counts.json`;
    const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { fused?: number }>) : {};
    const grew = Object.entries(counts).filter(([k, c]) => c.fused > c.unfused || (recorded[k]?.fused !== undefined && c.fused > recorded[k]!.fused!));
    expect(grew.map(([k, c]) => `${k}: ${c.fused} kernels (recorded ${recorded[k]?.fused}, unfused ${c.unfused})`)).toEqual([]);
    const lines = Object.entries(counts).map(([k, c]) => `  ${JSON.stringify(k)}: { "unfused": ${c.unfused}, "fused": ${c.fused} }`);
    expectGolden(`{\n${lines.join(',\n')}\n}\n`, file);
  });
});
