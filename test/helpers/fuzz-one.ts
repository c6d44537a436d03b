/**
 * One fuzz case: program number `seed` (drawn by fast-check from that seed), run through the
 * differential stages; on a failure, fast-check shrinks it to the smallest program that fails
 * the same way (same stage and kind). Shared by `npm run fuzz` and test/differential/*.
 */
import fc from 'fast-check';
import { differential, type Failure, type Stage } from './differential.js';
import { programArb, renderProgram, type GenOptions, type ProgramSpec } from './random-program.js';

export interface FuzzCaseOptions {
  readonly gen?: GenOptions;
  readonly stages?: readonly Stage[];
  /** Seed of the inputs (default 1). */
  readonly inputSeed?: number;
  /** Shrink a failure (default true). */
  readonly minimize?: boolean;
}

export interface FuzzCase {
  readonly seed: number;
  readonly source: string;
  readonly failures: readonly Failure[];
  /** The shrunk program and its failures (when minimizing). */
  readonly minimized?: { readonly source: string; readonly failures: readonly Failure[] };
}

const signature = (f: Failure) => `${f.stage} ${f.kind}`;

/** The program of a fuzz seed. */
export function programOf(seed: number, gen: GenOptions = {}): ProgramSpec {
  return fc.sample(programArb(gen), { seed, numRuns: 1 })[0]!;
}

export async function fuzzCase(seed: number, opts: FuzzCaseOptions = {}): Promise<FuzzCase> {
  const gen = opts.gen ?? {};
  const run = (p: ProgramSpec) => differential(renderProgram(p, gen), { ...(opts.stages ? { stages: opts.stages } : {}), seed: opts.inputSeed ?? 1 });
  const spec = programOf(seed, gen);
  const source = renderProgram(spec, gen);
  const failures = await run(spec);
  if (failures.length === 0 || opts.minimize === false) return { seed, source, failures };
  const want = signature(failures[0]!);
  let last: { source: string; failures: readonly Failure[] } | undefined;
  const prop = fc.asyncProperty(programArb(gen), async (p) => {
    const fs = await run(p);
    return !fs.some((f) => signature(f) === want);
  });
  const d = await fc.check(prop, { numRuns: 1, seed });
  if (d.failed && d.counterexample) {
    const p = d.counterexample[0] as ProgramSpec;
    last = { source: renderProgram(p, gen), failures: await run(p) };
  }
  return { seed, source, failures, ...(last ? { minimized: last } : {}) };
}
