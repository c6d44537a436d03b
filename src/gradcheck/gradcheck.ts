/**
 * @file Property-based gradient checking of a user's `.dl` functions (`dlc gradcheck` and the
 * library function `gradcheck`). Each run draws sizes for the free dimension variables and a
 * seed for the inputs, parameters and directions; fast-check shrinks a failure to the smallest
 * sizes and seed, which are reported with the seed to replay it. What is checked is the program
 * that ships, after simplification and fusion, on the backend asked for (./programs.ts).
 */
import fc from 'fast-check';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { error } from '../diagnostics/diagnostic.js';
import { listEntries, lowerEntry } from '../frontend/lower/entry.js';
import { parseSource, type ParseResult } from '../frontend/parse.js';
import { loadStdlib } from '../frontend/stdlib.js';
import type { Graph, Node } from '../ir/graph.js';
import type { NDArray } from '../ir/ndarray.js';
import { initParams } from '../interp/interpret.js';
import { indexRanges } from '../ir/index-ranges.js';
import { BackendError } from '../exec.js';
import { floatVariables, probes, randomArray, score, type CheckOptions, type DirectionalResult, type Point } from './check.js';
import { checkedPrograms, describeTarget, type CheckedPrograms, type Target } from './programs.js';

export interface GradcheckOptions extends CheckOptions, Partial<Target> {
  /** One function (`f`, `Model.f`, `inst.f`); default: every function returning a scalar. */
  readonly fn?: string;
  /** Names of inputs or parameters to check; default: all float inputs and used parameters. */
  readonly wrt?: readonly string[];
  readonly runs?: number;
  readonly seed?: number;
  /** Fixed sizes; other free dimension variables are drawn from minDim..maxDim (default 1..3). */
  readonly dims?: Readonly<Record<string, number>>;
  readonly minDim?: number;
  readonly maxDim?: number;
}

export interface TensorReport {
  readonly kind: 'input' | 'param';
  readonly name: string;
  readonly maxAbsErr: number;
  readonly maxRelErr: number;
  readonly ok: boolean;
}

export interface Counterexample {
  readonly dims: Record<string, number>;
  /** Seed of the failing point (inputs, parameters, directions). */
  readonly pointSeed: number;
  readonly failures: readonly DirectionalResult[];
}

export interface FunctionReport {
  readonly fn: string;
  readonly ok: boolean;
  readonly runs: number;
  readonly tensors: readonly TensorReport[];
  readonly counterexample?: Counterexample;
  /** fast-check's seed for the whole property, to replay it. */
  readonly seed: number;
  readonly skipped?: string;
}

export interface GradcheckResult {
  readonly ok: boolean;
  /** In words: the programs checked (the gradient program, and where finite differences ran). */
  readonly checked: string;
  readonly functions: readonly FunctionReport[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Compiled {
  readonly graph: Graph;
  readonly wrt: readonly Node[];
  readonly programs: CheckedPrograms;
}

function isScalarFunction(g: Graph): boolean {
  return g.outputs.length === 1 && g.outputs[0]!.node.type.dtype === 'f32' && g.outputs[0]!.node.type.shape.length === 0;
}

async function checkFunction(std: ParseResult, user: ParseResult, fn: string, opts: GradcheckOptions, diags: Diagnostic[], explicit: boolean): Promise<FunctionReport | undefined> {
  const seed = opts.seed ?? 0;
  const runs = opts.runs ?? 20;
  const probe = lowerEntry(std, user, fn, { dims: opts.dims ?? {} });
  if (!probe.graph) {
    diags.push(...probe.diagnostics);
    return undefined;
  }
  if (!isScalarFunction(probe.graph)) {
    if (explicit) diags.push(error('DL0604', `\`${fn}\` does not return a single f32 scalar, so it has no gradient to check`, { help: 'gradcheck a loss: a function returning f32' }));
    return undefined;
  }
  const free = probe.defaulted;
  const minDim = opts.minDim ?? 1;
  const maxDim = Math.max(minDim, opts.maxDim ?? 3);
  const target: Target = { backend: opts.backend ?? 'interp', ...(opts.precision ? { precision: opts.precision } : {}) };
  const cache = new Map<string, Promise<Compiled | undefined>>();
  const compile = (dims: Record<string, number>): Promise<Compiled | undefined> => {
    const key = JSON.stringify(dims);
    let c = cache.get(key);
    if (!c) {
      c = (async () => {
        const r = lowerEntry(std, user, fn, { dims: { ...(opts.dims ?? {}), ...dims } });
        if (!r.graph) return undefined;
        const all = floatVariables(r.graph);
        const wrt = opts.wrt ? all.filter((n) => opts.wrt!.includes(String(n.attrs['name']))) : all;
        return { graph: r.graph, wrt, programs: await checkedPrograms(r.graph, wrt, target) };
      })();
      cache.set(key, c);
    }
    return c;
  };
  const worst = new Map<string, TensorReport>();
  const record = (res: DirectionalResult) => {
    const key = `${res.variable.kind}:${res.variable.name}`;
    const prev = worst.get(key);
    worst.set(key, {
      kind: res.variable.kind,
      name: res.variable.name,
      maxAbsErr: Math.max(prev?.maxAbsErr ?? 0, res.absErr),
      maxRelErr: Math.max(prev?.maxRelErr ?? 0, res.relErr),
      ok: (prev?.ok ?? true) && res.ok,
    });
  };
  const evalPoint = async (dims: Record<string, number>, pointSeed: number): Promise<DirectionalResult[]> => {
    const c = await compile(dims);
    if (!c) return [];
    const inputs = new Map<string, NDArray>();
    // Labels and indices stay inside their valid range (src/ir/index-ranges.ts): 0 or 1 as for any i32, 0 for a range of one.
    const ranges = indexRanges(c.graph);
    for (const i of c.graph.inputs) {
      const name = String(i.attrs['name']);
      const r = ranges.get(name);
      inputs.set(name, randomArray(i.type.dtype, i.type.shape, pointSeed, `input:${name}`, r ? { int: Math.min(2, r.hi) } : 'any'));
    }
    const point: Point = { inputs, params: initParams(c.graph, pointSeed) };
    const { grad, forward, forwardOutput, tolerance } = c.programs;
    const tol = { ...tolerance, ...opts };
    const value = async (p: Point) => (await forward.run(p)).get(forwardOutput)!.data[0]!;
    const out = await grad.run(point);
    const at = await value(point);
    const results: DirectionalResult[] = [];
    for (const p of probes(c.wrt, point, pointSeed, tol.eps ?? 1e-6)) results.push(score(p, out, at, await value(p.plus), await value(p.minus), tol));
    return results;
  };
  const dimsArb = fc.record(Object.fromEntries(free.map((d) => [d, fc.integer({ min: minDim, max: maxDim })]))) as fc.Arbitrary<Record<string, number>>;
  let crash: unknown;
  const prop = fc.asyncProperty(dimsArb, fc.integer({ min: 0, max: 0x7fffffff }), async (dims, pointSeed) => {
    let results: DirectionalResult[];
    try {
      results = await evalPoint(dims, pointSeed);
    } catch (e) {
      crash ??= e;
      return false;
    }
    results.forEach(record);
    return results.every((r) => r.ok);
  });
  const details = await fc.check(prop, { numRuns: runs, seed, endOnFailure: false });
  let counterexample: Counterexample | undefined;
  if (details.failed && details.counterexample) {
    const [dims, pointSeed] = details.counterexample as [Record<string, number>, number];
    let failures: DirectionalResult[] = [];
    try {
      failures = (await evalPoint(dims, pointSeed)).filter((r) => !r.ok);
    } catch {
      // Reported through `crash`.
    }
    counterexample = { dims, pointSeed, failures };
  }
  if (crash instanceof BackendError) diags.push(...crash.diagnostics);
  else if (crash !== undefined) {
    diags.push(error('DL9001', `internal error while checking \`${fn}\`: ${crash instanceof Error ? crash.message : String(crash)}`, {}));
  }
  const tensors = [...worst.values()];
  return {
    fn,
    ok: !details.failed,
    runs: details.numRuns,
    tensors,
    ...(counterexample ? { counterexample } : {}),
    seed: details.seed,
  };
}

/**
 * Checks the gradients of a file's functions; see GradcheckOptions. `backend` (default
 * `interp`) and `precision` choose the program checked (see ./programs.ts).
 */
export async function gradcheck(text: string, path = 'input.dl', opts: GradcheckOptions = {}): Promise<GradcheckResult> {
  const std = loadStdlib();
  const user = parseSource(path, text);
  const diags: Diagnostic[] = [...user.diagnostics];
  const checked = describeTarget({ backend: opts.backend ?? 'interp', ...(opts.precision ? { precision: opts.precision } : {}) });
  if (user.diagnostics.some((d) => d.severity === 'error')) return { ok: false, checked, functions: [], diagnostics: diags };
  const entries = opts.fn ? [opts.fn] : listEntries(user).filter((e) => e.standalone && !e.fn.broken).map((e) => e.name);
  const functions: FunctionReport[] = [];
  for (const fn of entries) {
    const r = await checkFunction(std, user, fn, opts, diags, opts.fn !== undefined);
    if (r) functions.push(r);
  }
  if (opts.fn === undefined && functions.length === 0 && !diags.some((d) => d.severity === 'error')) {
    diags.push(error('DL0604', `no function in ${path} returns a scalar f32 to check`, { help: 'gradcheck checks losses: functions returning f32' }));
  }
  const ok = functions.every((f) => f.ok) && !diags.some((d) => d.severity === 'error');
  return { ok, checked, functions, diagnostics: diags };
}
