/**
 * The arena's memory plan (src/kernel/liveness.ts, src/kernel/memory.ts): no two temporaries that
 * hold values at the same kernel share bytes (other than an output written in place over an input
 * dying at its kernel), over random block sets, random programs and every example and workload
 * function and training step, with both planners, in place on and off, in f32 and f64; the
 * planned peak lies between the lower bound and no reuse; planned programs compute bit for bit
 * what unplanned ones do on JS and WebGPU; and one example's report is golden.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, functions, interpret, lower, lowerTrain, makeExecutable, trainNames, type Graph, NDArray } from '../../src/index.js';
import { buildKernels } from '../../src/kernel/build.js';
import { idx, ix, lit, type Expr } from '../../src/kernel/expr.js';
import type { BufferInfo, KernelProgram, MapKernel } from '../../src/kernel/program.js';
import { ALIGN, lowerBound, memoryConflicts, placeBlocks, planMemory, type Block, type MemoryOptions, type Planner, type Precision } from '../../src/kernel/memory.js';
import { liveness, overlapsInTime } from '../../src/kernel/liveness.js';
import { formatMemory, kernelReport, memoryReport } from '../../src/kernel/report.js';
import { memorySvg } from '../../src/kernel/memory-svg.js';
import type { ExecBackend } from '../../src/exec.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { randomInputs } from '../helpers/example-inputs.js';
import { captureIo, expectGolden, ROOT } from '../helpers/golden.js';
import { main } from '../../src/cli/main.js';
import { compileGraph } from '../../src/codegen/compile.js';
import { programArb, renderProgram } from '../helpers/random-program.js';
import { WEBGPU } from '../helpers/webgpu.js';

interface Program {
  readonly label: string;
  readonly graph: Graph;
}

/** Every function of the examples and workloads that lowers with its defaults, and every training step. */
function allPrograms(): Program[] {
  const out: Program[] = [];
  for (const dir of ['examples', 'bench/workloads']) {
    for (const f of readdirSync(`${ROOT}${dir}`).filter((x) => x.endsWith('.dl')).sort()) {
      const path = `${dir}/${f}`;
      const text = readFileSync(`${ROOT}${path}`, 'utf8');
      for (const fn of functions(text, path)) {
        const r = lower(text, fn, { path });
        if (r.graph) out.push({ label: `${path} ${fn}`, graph: runPipeline(r.graph).graph });
      }
      for (const t of trainNames(text, path)) {
        const r = lowerTrain(text, t, { path });
        if (r.graph) out.push({ label: `${path} train ${t}`, graph: runPipeline(r.graph).graph });
      }
    }
  }
  return out;
}

const PROGRAMS = allPrograms();
const CONFIGS: { planner: Planner; inPlace: boolean }[] = [
  { planner: 'greedy-by-size', inPlace: true },
  { planner: 'greedy-by-size', inPlace: false },
  { planner: 'best-fit', inPlace: true },
  { planner: 'best-fit', inPlace: false },
];

/** The plan's invariants: no conflicts, every buffer inside the arena, bound ≤ peak ≤ naive. */
function checkPlan(g: Graph, label: string, opts: MemoryOptions, precision: Precision): number {
  const p = planMemory(buildKernels(g), precision, opts);
  const m = p.memory!;
  expect(memoryConflicts(p, precision), label).toEqual([]);
  for (const b of p.buffers) {
    expect(b.offset % ALIGN, `${label}: ${b.name} aligned`).toBe(0);
    if (b.space === 'arena') expect(b.offset + b.size * (precision === 'f64' && b.dtype === 'f32' ? 8 : 4), `${label}: ${b.name} inside the arena`).toBeLessThanOrEqual(p.arenaBytes);
  }
  expect(m.peak, label).toBeLessThanOrEqual(m.naive);
  expect(m.peak, label).toBeGreaterThanOrEqual(m.lowerBound);
  expect(m.buffers, label).toBe(p.buffers.filter((b) => b.space === 'arena').length);
  return m.inPlace;
}

describe('the memory plan of every example and workload', () => {
  it('finds the programs (functions and training steps)', () => {
    expect(PROGRAMS.length).toBeGreaterThan(60);
    expect(PROGRAMS.filter((p) => p.label.includes(' train ')).length).toBeGreaterThanOrEqual(3);
  });
  for (const c of CONFIGS) {
    it(`${c.planner}, in place ${c.inPlace ? 'on' : 'off'}: no live buffers overlap; lower bound <= peak <= naive (f32 and f64)`, () => {
      let inPlace = 0;
      for (const p of PROGRAMS) for (const precision of ['f32', 'f64'] as const) inPlace += checkPlan(p.graph, `${p.label} (${precision})`, c, precision);
      // Writing in place happens somewhere in the examples (and only when asked for).
      if (c.inPlace) expect(inPlace).toBeGreaterThan(0);
      else expect(inPlace).toBe(0);
    });
  }
  it('no reuse gives every temporary its own range: peak = naive', () => {
    for (const p of PROGRAMS.slice(0, 30)) {
      const m = planMemory(buildKernels(p.graph), 'f32', { planner: 'none' }).memory!;
      expect(m.peak, p.label).toBe(m.naive);
      expect(m.inPlace).toBe(0);
    }
  });
  it('reuse lowers the arena of the workloads’ gradients below no reuse', () => {
    const grads = PROGRAMS.filter((p) => /w[456].* (CNN|LSTM|Block)\.grads/.test(p.label));
    expect(grads.length).toBe(3);
    for (const p of grads) {
      const m = planMemory(buildKernels(p.graph), 'f32').memory!;
      if (!p.graph.nodes.some((n) => n.op === 'scan')) {
        // W4: peak 12.5 MB = the lower bound, no reuse 16.6 MB (since its convolution's patches are
        // copied once for both products that read them, no reuse is 4.5 MB less than it was); W6: 0.5×.
        expect(m.peak, p.label).toBeLessThan(0.8 * m.naive);
        expect(m.peak, p.label).toBeLessThanOrEqual(1.1 * m.lowerBound);
        continue;
      }
      // A loop that stays a loop (W5's LSTM) uses one step's buffers at every step: little is left
      // to reuse, and its arena is well below the unrolled program's, planned (W5: 5.9 MB against
      // 11.3 MB; the backward loop stacks the gates' cotangents, 2 MB, for ∂W after the loop).
      const [path, fn] = p.label.split(' ') as [string, string];
      const unrolled = runPipeline(lower(readFileSync(`${ROOT}${path}`, 'utf8'), fn, { path, loops: 'unroll' }).graph!).graph;
      const u = planMemory(buildKernels(unrolled), 'f32').memory!;
      expect(u.peak, p.label).toBeLessThan(0.7 * u.naive);
      expect(m.peak, p.label).toBeLessThan(0.6 * u.peak);
    }
  });
});

describe('contraction operands', () => {
  it("a convolution's patches are copied once for the two products that read them (the forward product and the weight gradient)", async () => {
    const src = `fn f(x: f32[2, 3, 6, 6], w: f32[4, 3, 3, 3]) -> f32[4, 3, 3, 3] {
  return grad(sum(conv2d(x, w, padding=1) ** 2), w)
}`;
    const g = runPipeline(compile(src, 'f')).graph;
    const p = buildKernels(g);
    const contractions = p.kernels.filter((k) => k.kind === 'contraction');
    expect(contractions.length).toBe(2);
    // Both products read one copied buffer of the patches [2·6·6, 3·3·3].
    const read = contractions.map((k) => (k.kind === 'contraction' ? [k.a.buf, k.b.buf] : []));
    const shared = read[0]!.filter((b) => read[1]!.includes(b));
    expect(shared.length).toBe(1);
    const copies = p.kernels.filter((k) => k.kind === 'map' && k.outputs.some((o) => o.buf === shared[0]));
    expect(copies.length).toBe(1);
    // And the values are right (the interpreter on the unfused graph against JS and WebGPU).
    const ins = new Map([
      ['x', NDArray.from([2, 3, 6, 6], Array.from({ length: 216 }, (_, i) => Math.sin(i)))],
      ['w', NDArray.from([4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.cos(i)))],
    ]);
    const want = interpret(compile(src, 'f'), ins, new Map()).values().next().value!.data;
    for (const backend of ['js', ...(WEBGPU ? (['webgpu'] as const) : [])] as const) {
      const got = (await (await makeExecutable(g, { backend })).run(ins)).values().next().value!.data;
      got.forEach((v, i) => expect(Math.abs(v - want[i]!), `${backend} element ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i]!))));
    }
  });
});

describe('liveness', () => {
  it('a chain of temporaries: each lives from its writer to its last reader', () => {
    const g = runPipeline(compile('fn f(x: f32[64, 64]) -> f32[64, 64] {\n  let a = x @ x\n  let b = a @ a\n  let c = b @ b\n  return c @ a\n}\n', 'f')).graph;
    const p = planMemory(buildKernels(g), 'f32');
    const r = liveness(p);
    // a (written by kernel 0, read by 1 and 3), b (1..2), c (2..3).
    expect(r.map((x) => [x.first, x.last])).toEqual([
      [0, 3],
      [1, 2],
      [2, 3],
    ]);
    // b and c's 16 KiB fit where one of them was: a, then b and c on top, no more.
    expect(p.memory!.lowerBound).toBe(3 * 16384);
    expect(p.memory!.naive).toBe(3 * 16384);
    const q = planMemory(buildKernels(runPipeline(compile('fn f(x: f32[64, 64]) -> f32[64, 64] {\n  let a = x @ x\n  let b = a @ a\n  let c = b @ b\n  let d = c @ c\n  return d @ d\n}\n', 'f')).graph), 'f32');
    // a..d each live for two kernels: two 16 KiB ranges suffice for four temporaries.
    expect(q.memory!.naive).toBe(4 * 16384);
    expect(q.memory!.peak).toBe(2 * 16384);
    expect(q.memory!.lowerBound).toBe(2 * 16384);
  });
});

/** x → t1 = x·2 → t2 = f(t1) → out = t2·3, each a map kernel over 1000 elements; f's load of t1 at `at(i)`. */
function chain(at: (i: Expr) => Expr, wrap: (e: Expr) => Expr = (e) => e): KernelProgram {
  const buf = (id: number, name: string, space: 'state' | 'arena', role: BufferInfo['role']): BufferInfo => ({ id, name, dtype: 'f32', shape: [1000], size: 1000, space, role, offset: 0 });
  const load = (b: number, i: Expr = idx('i0')): Expr => ({ k: 'load', buf: b, i, t: 'f32' });
  const map = (name: string, out: number, value: Expr): MapKernel => ({ kind: 'map', name, domain: [1000], vars: ['i0'], outputs: [{ buf: out, value }], source: { ops: [], spans: [] } });
  const mul = (a: Expr, v: number): Expr => ({ k: 'op', op: 'mul', a: [a, lit(v, 'f32')], t: 'f32' });
  return {
    name: 'chain',
    buffers: [buf(0, 'x', 'state', 'input'), buf(1, 't1', 'arena', 'temp'), buf(2, 't2', 'arena', 'temp'), buf(3, 'out', 'state', 'output')],
    kernels: [map('k0', 1, mul(load(0), 2)), map('k1', 2, wrap(mul(load(1, at(idx('i0'))), 5))), map('k2', 3, mul(load(2), 3))],
    inputs: [{ name: 'x', buf: 0 }],
    params: [],
    outputs: [{ name: 'out', buf: 3 }],
    updates: [],
    stateBytes: 0,
    arenaBytes: 0,
  };
}

describe('in place', () => {
  it('a map kernel reading its dying input at the element it writes writes over it', () => {
    const p = planMemory(chain((i) => i), 'f32');
    expect(p.memory!.inPlace).toBe(1);
    expect(p.buffers[2]!.offset).toBe(p.buffers[1]!.offset);
    expect(p.memory!.peak).toBe(4096);
    expect(p.memory!.lowerBound).toBe(4096);
    expect(memoryConflicts(p, 'f32')).toEqual([]);
    // Off: the two are live together at k1 and need 8 KiB.
    const q = planMemory(chain((i) => i), 'f32', { inPlace: false });
    expect([q.memory!.inPlace, q.memory!.peak, q.memory!.lowerBound]).toEqual([0, 8192, 8192]);
  });
  it('not when it reads another element, or inside a reduction', () => {
    const reversed = planMemory(chain((i) => ix('-', lit(999), i)), 'f32');
    expect([reversed.memory!.inPlace, reversed.memory!.peak]).toEqual([0, 8192]);
    expect(memoryConflicts(reversed, 'f32')).toEqual([]);
    const reduced = planMemory(chain((i) => i, (e) => ({ k: 'op', op: 'add', a: [e, { k: 'red', op: 'reduce_sum', vars: [{ v: 'r', n: 1000 }], body: { k: 'load', buf: 0, i: idx('r'), t: 'f32' }, t: 'f32' }], t: 'f32' })), 'f32');
    expect(reduced.memory!.inPlace).toBe(0);
  });
  it('the checker finds temporaries live at once that share bytes', () => {
    const p = planMemory(chain((i) => ix('-', lit(999), i)), 'f32');
    p.buffers[2]!.offset = p.buffers[1]!.offset;
    expect(memoryConflicts(p, 'f32')).toHaveLength(1);
    // …and a partial overlap.
    p.buffers[2]!.offset = p.buffers[1]!.offset + 2048;
    expect(memoryConflicts(p, 'f32')).toHaveLength(1);
  });
});

/** Random live ranges and sizes. */
const blocksArb = fc.array(fc.record({ first: fc.nat({ max: 30 }), len: fc.nat({ max: 12 }), bytes: fc.integer({ min: 1, max: 64 }) }), { minLength: 1, maxLength: 40 });

describe('the planners on random live ranges', () => {
  for (const planner of ['greedy-by-size', 'best-fit', 'none'] as const) {
    it(`${planner}: blocks live at once never share bytes; lower bound <= peak <= sum`, () => {
      fc.assert(
        fc.property(blocksArb, (spec) => {
          const blocks: Block[] = spec.map((s, i) => ({ bufs: [i], first: s.first, last: s.first + s.len, bytes: s.bytes * ALIGN, offset: -1 }));
          const peak = placeBlocks(blocks, planner, 43);
          for (const a of blocks) {
            expect(a.offset).toBeGreaterThanOrEqual(0);
            expect(a.offset + a.bytes).toBeLessThanOrEqual(peak);
            for (const b of blocks) {
              if (a === b || !overlapsInTime(a, b)) continue;
              expect(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset, `${JSON.stringify(a)} ${JSON.stringify(b)}`).toBe(true);
            }
          }
          expect(peak).toBeGreaterThanOrEqual(lowerBound(blocks));
          expect(peak).toBeLessThanOrEqual(blocks.reduce((s, b) => s + b.bytes, 0));
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('the memory plan of random programs', () => {
  it('no live buffers overlap, with both planners', () => {
    let planned = 0;
    fc.assert(
      fc.property(programArb({ maxSteps: 12 }), (spec) => {
        const r = lower(renderProgram(spec, { maxSteps: 12 }), 'f');
        if (!r.graph) return;
        const g = runPipeline(r.graph).graph;
        for (const c of CONFIGS) checkPlan(g, renderProgram(spec, { maxSteps: 12 }), c, 'f32');
        planned++;
      }),
      { numRuns: 150 },
    );
    expect(planned).toBeGreaterThan(100);
  });
});


/** Outputs of two calls (and the state after them) with the given plan. */
async function twoCalls(g: Graph, backend: ExecBackend, memory: MemoryOptions): Promise<number[][]> {
  const ex = await makeExecutable(g, { backend, seed: 3, memory });
  const got: number[][] = [];
  for (const seed of [1, 2]) {
    const outs = await ex.run(new Map(Object.entries(randomInputs(g, seed)).map(([k, v]) => [k, v as NDArray] as const)));
    for (const [, v] of outs) got.push(Array.from(v.data));
  }
  for (const [, t] of await ex.getState()) got.push(Array.from(t.data));
  return got;
}

describe('planning changes no result', () => {
  // The programs where reuse or writing in place happens, and the training steps; small enough to run.
  const chosen = PROGRAMS.filter((p) => {
    if (/bench\/workloads\/w[2456]/.test(p.label) && !p.label.includes('forward') && !p.label.includes('last_hidden')) return false;
    const m = planMemory(buildKernels(p.graph), 'f32').memory!;
    return m.peak < m.naive || m.inPlace > 0 || p.label.includes(' train ');
  });
  it('has programs to compare', () => {
    expect(chosen.length).toBeGreaterThan(30);
    expect(chosen.some((p) => planMemory(buildKernels(p.graph), 'f32').memory!.inPlace > 0)).toBe(true);
  });
  it(`bit-identical outputs and state with and without reuse on js (${chosen.length} programs, both planners)`, { timeout: 240_000 }, async () => {
    for (const p of chosen) {
      const none = await twoCalls(p.graph, 'js', { planner: 'none' });
      for (const memory of [{ planner: 'greedy-by-size' }, { planner: 'best-fit' }] as const) {
        expect(await twoCalls(p.graph, 'js', memory), `${p.label} ${memory.planner} on js`).toEqual(none);
      }
    }
  });
  // WebGPU compiles a pipeline per kernel (slow on a software adapter): the examples written in
  // place and two training steps, with the default planner.
  const gpu = chosen.filter(
    (p) => p.label.startsWith('examples/') && (planMemory(buildKernels(p.graph), 'f32').memory!.inPlace > 0 || /digits-(mlp|logreg)\.dl train/.test(p.label)),
  );
  it.skipIf(!WEBGPU)(`bit-identical outputs and state with and without reuse on webgpu (${gpu.length} programs)`, { timeout: 400_000 }, async () => {
    for (const p of gpu) {
      const none = await twoCalls(p.graph, 'webgpu', { planner: 'none' });
      expect(await twoCalls(p.graph, 'webgpu', {}), `${p.label} on webgpu`).toEqual(none);
    }
  });
});

describe('the memory report', () => {
  it('golden: examples/wgan-gp.dl Critic.critic_grads', () => {
    const text = readFileSync(`${ROOT}examples/wgan-gp.dl`, 'utf8');
    const g = runPipeline(compile(text, 'Critic.critic_grads', { path: 'examples/wgan-gp.dl' })).graph;
    const r = kernelReport(g);
    expect(r.memory.peak).toBeLessThanOrEqual(r.memory.naive);
    expectGolden(formatMemory(r.memory).join('\n') + '\n', `${ROOT}test/golden/memory/wgan-gp-critic_grads.txt`);
  });
  it('the SVG timeline draws every arena buffer where the plan put it', () => {
    const text = readFileSync(`${ROOT}examples/transformer.dl`, 'utf8');
    const g = runPipeline(compile(text, 'Transformer.loss', { path: 'examples/transformer.dl' })).graph;
    const p = planMemory(buildKernels(g), 'f32');
    const m = memoryReport(p);
    const svg = memorySvg(m, 'Transformer.loss', p.kernels.length);
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/<rect /g) ?? []).length).toBe(1 + m.arena.length);
    for (const b of m.arena) expect(svg).toContain(`<title>${b.name}: `);
  });
});

describe('dlc kernels and the manifest carry the plan', () => {
  it('dlc kernels --train NAME --json --memory-svg: the plan of a training step, and its timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlc-memory-'));
    try {
      const svg = join(dir, 'plan.svg');
      const c = captureIo();
      const code = await main(['kernels', `${ROOT}examples/digits-mlp.dl`, '--train', 'digits', '--json', '--memory-svg', svg], c.io);
      expect(c.err()).toBe('');
      expect(code).toBe(0);
      const doc = JSON.parse(c.out()) as { memory: { peak: number; lowerBound: number; naive: number; arena: { name: string }[] } };
      const text = readFileSync(`${ROOT}examples/digits-mlp.dl`, 'utf8');
      const p = planMemory(buildKernels(runPipeline(lowerTrain(text, 'digits').graph!).graph), 'f32');
      expect(doc.memory.peak).toBe(p.memory!.peak);
      expect(doc.memory.lowerBound).toBe(p.memory!.lowerBound);
      expect(doc.memory.arena.length).toBe(p.memory!.buffers);
      expect(doc.memory.peak).toBeLessThan(doc.memory.naive);
      const picture = readFileSync(svg, 'utf8');
      expect((picture.match(/<rect /g) ?? []).length).toBe(1 + doc.memory.arena.length);
      // Text: the memory lines end the report.
      const t = captureIo();
      expect(await main(['kernels', `${ROOT}examples/digits-mlp.dl`, '--train', 'digits'], t.io)).toBe(0);
      expect(t.out()).toMatch(/memory \(arena, f32\): planned peak .* lower bound .* no reuse /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('--fn and --train together are a usage error', async () => {
    const c = captureIo();
    expect(await main(['kernels', `${ROOT}examples/digits-mlp.dl`, '--train', 'digits', '--fn', 'DigitsMLP.loss'], c.io)).not.toBe(0);
    expect(c.err()).toContain('--fn NAME or --train NAME');
  });
  it('the manifest\'s memory field: the arena is the planned peak, no reuse is the sum of the temporaries', () => {
    const text = readFileSync(`${ROOT}examples/transformer.dl`, 'utf8');
    const g = runPipeline(compile(text, 'Transformer.loss', { path: 'examples/transformer.dl' })).graph;
    for (const backend of ['js', 'webgpu'] as const) {
      const m = compileGraph(g, { backend }).manifest;
      expect(m.memory!.planner).toBe('greedy-by-size');
      expect(m.arena.bytes).toBe(Math.max(m.memory!.peak, ALIGN));
      expect(m.memory!.naive).toBe(m.buffers.filter((b) => b.space === 'arena').reduce((s, b) => s + Math.ceil((b.shape.reduce((x, y) => x * y, 1) * 4) / ALIGN) * ALIGN, 0));
      expect(m.memory!.peak).toBeLessThan(m.memory!.naive);
      const none = compileGraph(g, { backend, memory: { planner: 'none' } }).manifest;
      expect(none.arena.bytes).toBe(m.memory!.naive);
    }
  });
});
