/**
 * Keeps the documentation in step with the code: every diagnostic code, IR primitive, built-in
 * and standard-library name is documented, and the examples in the docs compile.
 *
 * Fences in the docs:
 *   ```dl program   a complete program: `check()` must report no errors
 *   ```dl error     (docs/errors.md) an example that must produce the code of its section
 *   ```dl           a fragment, not checked
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, CODES, OPS } from '../src/index.js';
import { BUILTINS } from '../src/frontend/lower/builtins.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

const language = read('docs/language.md');
const stdlib = read('docs/stdlib.md');
const errors = read('docs/errors.md');
const ops = read('docs/ops.md');
const nn = read('src/stdlib/nn.dl');

/** The bodies of the code blocks fenced with ```dl <tag>, with the line each starts on. */
function blocks(text: string, tag: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const re = new RegExp('^```dl ' + tag + '[ \\t]*\\n([\\s\\S]*?)^```', 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, code: m[1]! });
  }
  return out;
}

/** Whether `name` is mentioned as code: `name`, `name(…)` or `name.…`. */
function mentions(text: string, name: string): boolean {
  return new RegExp('`' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '[`(.]').test(text);
}

describe('docs/errors.md', () => {
  it('has a section for every diagnostic code', () => {
    const missing = Object.keys(CODES).filter((code) => !new RegExp(`^## ${code}: `, 'm').test(errors));
    expect(missing).toEqual([]);
  });

  it('has no section for a code that does not exist', () => {
    const sections = [...errors.matchAll(/^## (DL\d{4}):/gm)].map((m) => m[1]!);
    expect(sections.filter((c) => !(c in CODES))).toEqual([]);
  });

  const sections = errors.split(/^(?=## DL\d{4}:)/m).slice(1);
  const cases = sections.flatMap((s) => {
    const code = /^## (DL\d{4}):/.exec(s)![1]!;
    return blocks(s, 'error').map((b, i) => ({ code, i: i + 1, source: b.code }));
  });

  it('has error examples', () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases)('example $i of $code produces $code', ({ code, source }) => {
    const codes = check(source, 'example.dl').diagnostics.map((d) => d.code);
    expect(codes).toContain(code);
  });

  it('marks no code as reserved that the compiler produces', () => {
    const src = readdirSync(new URL('../src/', import.meta.url), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('codes.ts'))
      .map((f) => read(`src/${f}`))
      .join('\n');
    const produced = new Set([...src.matchAll(/'(DL\d{4})'/g)].map((m) => m[1]!));
    const reserved = sections.filter((s) => /^\*Reserved/m.test(s)).map((s) => /^## (DL\d{4}):/.exec(s)![1]!);
    expect(reserved.filter((c) => produced.has(c))).toEqual([]);
  });
});

describe('docs/ops.md', () => {
  it('documents every IR primitive', () => {
    expect([...OPS.keys()].filter((name) => !mentions(ops, name))).toEqual([]);
  });
});

describe('docs/language.md and docs/stdlib.md', () => {
  const both = language + '\n' + stdlib;

  it('document every built-in function', () => {
    expect([...BUILTINS.keys()].filter((name) => !mentions(both, name))).toEqual([]);
  });

  it('document every function and model of the standard library', () => {
    const names = [...nn.matchAll(/^(?:fn|model)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !mentions(stdlib, name))).toEqual([]);
  });

  const programs = [
    ...blocks(language, 'program').map((b) => ({ where: `docs/language.md:${b.line}`, code: b.code })),
    ...blocks(stdlib, 'program').map((b) => ({ where: `docs/stdlib.md:${b.line}`, code: b.code })),
  ];

  it('have complete example programs', () => {
    expect(programs.length).toBeGreaterThan(5);
  });

  it.each(programs)('the program at $where compiles', ({ where, code }) => {
    const r = check(code, where);
    const errs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
    expect(errs).toEqual([]);
    // A complete program has at least one function that can be compiled on its own.
    expect(r.checked.length).toBeGreaterThan(0);
  });
});
