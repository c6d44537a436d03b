/**
 * Robustness: no input makes the front end throw or hang. Arbitrary strings, strings built from the
 * language's own tokens, and random mutations of every example and of the standard library must
 * only ever produce diagnostics. Mutants that still check cleanly are lowered and run on the
 * interpreter, which may only fail with its documented EvalError.
 *
 * Runs: a few hundred per property locally, thousands when CI is set. The seed is fixed (FC_SEED
 * overrides it); fast-check prints the seed and path of a failure for replay. Each check must end
 * within a time budget (a hang guard). FUZZ_TRACE=1 logs each property as it starts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { check, CODES, lower, lowerTrain, NDArray, parse, verifyGraph, type Diagnostic, type Graph } from '../src/index.js';
import { BUILTINS } from '../src/frontend/lower/builtins.js';
import { EvalError, initParams, interpret } from '../src/interp/interpret.js';
import { mutate, type Mutation } from './helpers/mutate.js';
import { rng } from './helpers/reference.js';

const CI = Boolean(process.env['CI']);
/** Runs per property on generated strings. */
const RUNS = CI ? 2000 : 200;
/** Runs per corpus file for the mutation properties (there is one property per file). */
const FILE_RUNS = CI ? 1000 : 100;
/** Wall-clock budget for one `check` of one generated input (a hang guard, generous for slow CI). */
const CHECK_BUDGET_MS = CI ? 10_000 : 5_000;
/** Interpreting a mutant is skipped when its graph would touch more elements than this. */
const EVAL_ELEMENT_LIMIT = 1_000_000;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every example plus the standard library, read once. */
const CORPUS: { name: string; text: string }[] = [
  ...readdirSync(`${ROOT}examples`)
    .filter((f) => f.endsWith('.dl'))
    .sort()
    .map((f) => ({ name: `examples/${f}`, text: readFileSync(`${ROOT}examples/${f}`, 'utf8') })),
  { name: 'src/stdlib/nn.dl', text: readFileSync(`${ROOT}src/stdlib/nn.dl`, 'utf8') },
];

/**
 * fast-check seed: fixed so every run (and CI) explores the same inputs; FC_SEED=<n> explores
 * others. A failure prints its seed and path for replay.
 */
const SEED = process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : 20_261_121;
fc.configureGlobal({ seed: SEED });

const KNOWN_CODES = new Set(Object.keys(CODES));

// FUZZ_TRACE=1 logs each property as it starts (vitest prints results only when the file ends),
// to find which one is slow or hangs.
beforeEach((ctx) => {
  if (process.env['FUZZ_TRACE']) process.stderr.write(`fuzz ${new Date().toISOString()} rss=${Math.round(process.memoryUsage().rss / 1e6)}MB ${ctx.task.name}\n`);
});

/** Checks one input: never throws, finishes in budget, every diagnostic well formed. */
function checkSafely(src: string, path = 'fuzz.dl'): { diagnostics: Diagnostic[]; checked: string[] } {
  const t0 = performance.now();
  let r;
  try {
    r = check(src, path);
  } catch (e) {
    throw new Error(`check() threw on ${JSON.stringify(src.length > 2000 ? src.slice(0, 2000) + '…' : src)}:\n${(e as Error).stack}`);
  }
  const ms = performance.now() - t0;
  expect(ms, `check() took ${ms.toFixed(0)} ms on ${JSON.stringify(src.slice(0, 300))}`).toBeLessThan(CHECK_BUDGET_MS);
  for (const d of r.diagnostics) {
    expect(KNOWN_CODES.has(d.code), `unknown code ${d.code}`).toBe(true);
    // A user's input must never surface as an internal compiler error.
    expect(d.code, `internal error for ${JSON.stringify(src.slice(0, 300))}: ${d.message}`).not.toBe('DL9001');
    expect(d.message.length).toBeGreaterThan(0);
    if (d.span) {
      expect(d.span.start).toBeGreaterThanOrEqual(0);
      expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
      expect(d.span.end).toBeLessThanOrEqual(d.span.file.text.length);
    }
  }
  return r;
}

// ---- generators --------------------------------------------------------------------------------

const KEYWORDS = ['const', 'fn', 'model', 'param', 'layer', 'let', 'for', 'in', 'if', 'else', 'return', 'true', 'false', 'and', 'or', 'not'];
const OPERATORS = ['->', '...', '..', '.', '+=', '-=', '*=', '/=', '**', '//', '==', '!=', '<=', '>=', '<', '>', '=', '+', '-', '*', '/', '%', '@', ':', ',', ';'];
const BRACKETS = ['(', ')', '[', ']', '{', '}'];
const NAMES = ['x', 'y', 'W', 'b', 'B', 'T', 'D', 'N', 'f', 'g', 'M', 'forward', 'relu', 'softmax', 'sum', 'mean', 'reshape', 'conv2d', 'Linear', 'MLP', 'f32', 'i32', 'bool', 'int', 'float', 'axis', 'shape', 'zeros', 'glorot_uniform', 'net', '_'];
const NUMBERS = ['0', '1', '2', '3', '-1', '4', '1.5', '0.0', '1e3', '2.5e-3', '99999999999999999999', '1e999', '007'];
const SPACE = [' ', ' ', '\n', '\t', '\r\n', '# comment\n'];
const JUNK = ['$', '?', '!', '&', '|', '"', "'", '\\', '`', '~', '^', '\u00e9', '\u2200', '\u{1F600}', '\u0000', '\uFEFF'];
const TOKENS = [...KEYWORDS, ...OPERATORS, ...BRACKETS, ...NAMES, ...NUMBERS, ...SPACE];

/** Token soup: mostly language tokens, separated or not by whitespace, with rare junk. */
const tokenSoup = fc
  .array(fc.tuple(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: fc.constantFrom(...JUNK) }), fc.constantFrom('', ' ', ' ', '\n')), {
    maxLength: 120,
  })
  .map((parts) => parts.map(([t, s]) => t + s).join(''));

/** Plausible-looking programs: a declaration skeleton with token soup inside. */
const skeleton = fc
  .tuple(
    fc.constantFrom('fn f(x: f32[B, 4]) ', 'fn f(x: f32[2, 3], k: int = 2) -> f32[2, 3] ', 'model M(d: int = 4) ', 'const N = ', 'let net = ', 'fn g() '),
    fc.constantFrom('{', '', '{ let y = ', '{ return ', '{ param W: f32[d, d] = ', '{ for t in 0..3 { '),
    tokenSoup,
    fc.constantFrom('}', '}}', '', ')', ' return x }'),
  )
  .map((p) => p.join(''));

const pos = fc.nat({ max: 1_000_000 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: pos, text: fc.oneof(fc.constantFrom(...TOKENS, ...JUNK), fc.string({ maxLength: 3 })) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('swap' as const), at: pos, len: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: pos, text: fc.constantFrom(...TOKENS, ...JUNK) }),
  fc.record({ kind: fc.constant('truncate' as const), at: pos }),
  fc.record({ kind: fc.constant('deleteToken' as const), at: pos }),
  fc.record({ kind: fc.constant('duplicateToken' as const), at: pos }),
  fc.record({ kind: fc.constant('swapTokens' as const), at: pos, with: pos }),
  fc.record({ kind: fc.constant('insertToken' as const), at: pos, text: fc.constantFrom(...KEYWORDS, ...OPERATORS, ...BRACKETS, ...NAMES, ...NUMBERS) }),
);

// ---- running mutants ---------------------------------------------------------------------------

function graphElements(g: Graph): number {
  let n = 0;
  for (const node of g.nodes) n += node.type.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Random inputs for a graph (N(0,1)-ish floats, small non-negative ints, bools). */
function randomInputs(g: Graph, seed: number): Map<string, NDArray> {
  const r = rng(seed);
  const m = new Map<string, NDArray>();
  for (const i of g.inputs) {
    const n = i.type.shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () => (i.type.dtype === 'f32' ? 4 * r() - 2 : i.type.dtype === 'i32' ? Math.floor(r() * 3) : r() < 0.5 ? 0 : 1));
    m.set(String(i.attrs['name']), NDArray.from(i.type.shape, data));
  }
  return m;
}

/** i32 values are integers and bool values are 0 or 1 (the interpreter computes in float64). */
function expectDTypeInvariant(v: NDArray, dtype: string, what: string): void {
  if (dtype === 'i32') for (const x of v.data) expect(Number.isInteger(x), `${what}: non-integer ${x} in an i32 tensor`).toBe(true);
  if (dtype === 'bool') for (const x of v.data) expect(x === 0 || x === 1, `${what}: ${x} in a bool tensor`).toBe(true);
}

/** Lowers and runs every checked entry of a clean program; only documented failures are allowed. */
function lowerAndRun(src: string, entries: readonly string[], seed: number): number {
  let ran = 0;
  for (const entry of entries) {
    let r;
    try {
      // `train NAME` in check's list is a training step; the rest are functions.
      r = entry.startsWith('train ') ? lowerTrain(src, entry.slice('train '.length), { path: 'mutant.dl' }) : lower(src, entry, { path: 'mutant.dl' });
    } catch (e) {
      throw new Error(`lower(${entry}) threw on a program that checks cleanly:\n${src}\n${(e as Error).stack}`);
    }
    // `check` found no errors for this entry, so lowering it alone must succeed too.
    expect(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
      `lower(${entry}) disagrees with check()`,
    ).toEqual([]);
    const g = r.graph!;
    expect(g, `lower(${entry}) returned no graph`).toBeDefined();
    expect(verifyGraph(g)).toEqual([]);
    for (const n of g.nodes) {
      const ok = n.type.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
      expect(ok, `${entry}: node %${n.id} (${n.op}) has the invalid shape [${n.type.shape.join(', ')}]`).toBe(true);
    }
    if (graphElements(g) > EVAL_ELEMENT_LIMIT) continue;
    let outs: Map<string, NDArray>;
    try {
      outs = interpret(g, randomInputs(g, seed), initParams(g, seed));
    } catch (e) {
      if (e instanceof EvalError) continue;
      throw new Error(`evaluating ${entry} threw ${(e as Error).stack}\nprogram:\n${src}`);
    }
    expect([...outs.keys()]).toEqual(g.outputs.map((o) => o.name));
    for (const o of g.outputs) {
      const v = outs.get(o.name)!;
      expect(v.shape).toEqual(o.node.type.shape);
      expectDTypeInvariant(v, o.node.type.dtype, `${entry}: output ${o.name}`);
    }
    ran++;
  }
  return ran;
}

// ---- properties --------------------------------------------------------------------------------

describe('check() never throws on arbitrary input', () => {
  it('ASCII strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        checkSafely(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary Unicode strings (lone surrogates, NUL, BOM included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        checkSafely(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('strings built from the language’s tokens', () => {
    fc.assert(
      fc.property(tokenSoup, (s) => {
        checkSafely(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('declaration skeletons filled with token soup', () => {
    fc.assert(
      fc.property(skeleton, (s) => {
        checkSafely(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('a syntax error is always reported for unbalanced brackets', () => {
    fc.assert(
      fc.property(fc.constantFrom('(', '[', '{'), fc.integer({ min: 1, max: 50 }), (open, n) => {
        const src = `fn f(x: f32[2]) { return ${open.repeat(n)}x }`;
        const codes = checkSafely(src).diagnostics.map((d) => d.code);
        expect(codes).toContain('DL0102');
      }),
      { numRuns: Math.min(RUNS, 60) },
    );
  });
});

describe('deep nesting is a diagnostic, not a crash', () => {
  const cases: [string, string][] = [
    ['5000 `(` alone', '('.repeat(5000)],
    ['5000 `(` in an expression', `fn f(x: f32[2]) { return ${'('.repeat(5000)}x${')'.repeat(5000)} }`],
    ['5000 unclosed `(` in an expression', `fn f(x: f32[2]) { return ${'('.repeat(5000)}x }`],
    ['5000 `[` list literals', `fn f(x: f32[2]) { return ${'['.repeat(5000)}1${']'.repeat(5000)} }`],
    ['5000 unary minus', `fn f(x: f32[2]) { return ${'-'.repeat(5000)}x }`],
    ['5000 `not`', `fn f(x: bool[2]) { return ${'not '.repeat(5000)}x }`],
    ['5000 right-associative `**`', `fn f(x: f32[2]) { return ${'x ** '.repeat(5000)}x }`],
    ['5000 nested calls', `fn f(x: f32[2]) { return ${'relu('.repeat(5000)}x${')'.repeat(5000)} }`],
    ['5000 nested `if` blocks', `fn f(x: f32[2]) { ${'if true { '.repeat(5000)}return x${' }'.repeat(5000)} }`],
    ['5000 nested type brackets', `fn f(x: f32[${'['.repeat(5000)}${']'.repeat(5000)}]) { return x }`],
  ];
  for (const [name, src] of cases) {
    it(`${name} gives DL0104`, () => {
      const r = checkSafely(src, 'deep.dl');
      expect(r.diagnostics.map((d) => d.code)).toContain('DL0104');
    });
  }

  it('a long flat chain `x + x + … + x` (20,000 terms) does not crash', () => {
    const r = checkSafely(`fn f(x: f32[2]) { return x${' + x'.repeat(20_000)} }`, 'long.dl');
    for (const d of r.diagnostics) expect(['DL0104', 'DL0312']).toContain(d.code);
  });

  it('10,000 chained constants are fine', () => {
    const lines = ['const a0 = 1'];
    for (let i = 1; i < 10_000; i++) lines.push(`const a${i} = a${i - 1} + 1`);
    lines.push('fn f(x: f32[2]) { return x * a9999 }');
    expect(checkSafely(lines.join('\n')).diagnostics).toEqual([]);
  });
});

describe('mutated examples and standard library only ever produce diagnostics', () => {
  it('the corpus itself checks cleanly', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(2);
    for (const f of CORPUS) expect(checkSafely(f.text, f.name).diagnostics.map((d) => `${d.code} ${d.message}`), f.name).toEqual([]);
  });

  let clean = 0;
  let ran = 0;
  for (const file of CORPUS) {
    // The standard library as a user file lowers ~40 entry points per check: fewer runs.
    const runs = file.name.includes('stdlib') ? Math.ceil(FILE_RUNS / 4) : FILE_RUNS;
    it(`${file.name}: character and token mutations, truncation; clean mutants lower and run`, () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat(), (muts, seed) => {
          const src = mutate(file.text, muts);
          const r = checkSafely(src, file.name);
          if (r.diagnostics.some((d) => d.severity === 'error')) return;
          // A mutant with no errors (a change inside a comment, a duplicated blank, a renamed
          // local, …) must lower, verify and run like any valid program.
          clean++;
          ran += lowerAndRun(src, r.checked, seed);
        }),
        { numRuns: runs },
      );
    });
  }

  it('some mutants were clean and ran (the property above is not vacuous)', () => {
    expect(clean).toBeGreaterThan(0);
    expect(ran).toBeGreaterThan(0);
  });
});

// ---- calls of built-ins and standard-library functions with random arguments ----------------------

const STDLIB_FNS = parse(CORPUS.at(-1)!.text, '<stdlib>/nn.dl')
  .program.decls.filter((d) => d.kind === 'fn')
  .map((d) => ({ name: d.name.name, params: d.params.map((p) => p.name.name) }));
const CALLEES = [...[...BUILTINS.values()].map((b) => ({ name: b.name, params: [...b.params] })), ...STDLIB_FNS];

/** Argument expressions: the function's own tensors, numbers, shapes, lists, dtypes and some nonsense. */
const argExpr: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('x', 'y', 'i', 'b', 'img', 'x.T', 'x[0]', '-x', 'x > 0.0', 'cast(i, f32)') },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 6 }).map(String) },
  { weight: 1, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }).map((v) => v.toFixed(2)) },
  { weight: 2, arbitrary: fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }).map((a) => `[${a.join(', ')}]`) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'f32', 'i32', 'bool', '[]', '[x, x]', '[x, 1]', '[[1, 2], [3]]', '[[1, 0], [0, 1]]', '(x, y)', 'relu', 'Linear', '1e30', '2 ** 40') },
);

const callProgram = fc
  .tuple(
    fc.constantFrom(...CALLEES),
    fc.array(fc.tuple(fc.boolean(), argExpr, fc.nat()), { maxLength: 5 }),
  )
  .map(([callee, args]) => {
    const parts = args.map(([named, value, k]) => (named && callee.params.length ? `${callee.params[k % callee.params.length]}=${value}` : value));
    // Keyword arguments must follow positional ones to parse as intended; keep the generated order otherwise.
    const call = `${callee.name}(${parts.join(', ')})`;
    return `fn f(x: f32[2, 3], y: f32[3], i: i32[2], b: bool[2, 3], img: f32[1, 2, 4, 4]) {\n  return ${call}\n}\n`;
  });

describe('built-ins and standard-library functions called with random arguments', () => {
  it(`${CALLEES.length} callees: check never throws; clean calls lower, verify and run`, () => {
    let clean = 0;
    fc.assert(
      fc.property(callProgram, fc.nat(), (src, seed) => {
        const r = checkSafely(src, 'call.dl');
        if (r.diagnostics.some((d) => d.severity === 'error')) return;
        clean++;
        lowerAndRun(src, r.checked, seed);
      }),
      { numRuns: RUNS * 5 },
    );
    expect(clean).toBeGreaterThan(0);
  });
});
