/**
 * Diagnostics: one golden case per error code the compiler can produce, the rendered text
 * (rustc-style frame with a caret) compared with `test/golden/diagnostics/<case>.txt`, the JSON
 * form, and the exit codes of `dlc check`.
 *
 * A case `<code>-<slug>.dl` is checked with `check(src, 'test/golden/diagnostics/<case>.dl')`.
 * A case whose first line is `# dlc: ARGS` is run through the CLI instead (`{file}` stands for the
 * case file) and its golden text is what the CLI prints on stderr.
 *
 * Regenerate: UPDATE_GOLDEN=1 npx vitest run test/diagnostics.test.ts — then review every diff.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { check, CODES, diagnosticToJson, lower, renderDiagnostic, renderDiagnostics, type Diagnostic } from '../src/index.js';
import { SourceFile, span } from '../src/diagnostics/source.js';
import { error, warning } from '../src/diagnostics/diagnostic.js';
import { captureIo, expectGolden, ROOT } from './helpers/golden.js';
import { checkedSummary } from '../src/cli/commands/check.js';

const DIR = `${ROOT}test/golden/diagnostics/`;
const REL = 'test/golden/diagnostics/';
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith('.dl'))
  .sort();

/** Codes that user input can reach today. DL04xx/DL05xx/DL0604 belong to later stages; DL9001 is internal. */
const REACHABLE = Object.keys(CODES).filter((c) => /^DL0[123]\d\d$/.test(c) || ['DL0601', 'DL0602', 'DL0603'].includes(c));

interface CaseResult {
  text: string;
  codes: string[];
  diagnostics?: Diagnostic[];
  exit?: number;
}

async function runCase(file: string): Promise<CaseResult> {
  const src = readFileSync(DIR + file, 'utf8');
  const cli = /^# dlc: (.*)$/m.exec(src.split('\n')[0] ?? '');
  if (cli) {
    const args = cli[1]!
      .trim()
      .split(/\s+/)
      .map((a) => a.replaceAll('{file}', DIR + file));
    const cap = captureIo();
    const exit = await main(args, cap.io);
    // Paths print relative to the repository root so the golden text does not depend on where it runs.
    const text = cap.err().replaceAll(ROOT, '');
    return { text, codes: [...text.matchAll(/^(?:error|warning)\[(DL\d{4})\]/gm)].map((m) => m[1]!), exit };
  }
  const diagnostics = check(src, REL + file).diagnostics;
  return { text: renderDiagnostics(diagnostics), codes: diagnostics.map((d) => d.code), diagnostics };
}

describe('golden diagnostics', () => {
  it('there is a case for every reachable error code', () => {
    const covered = new Set(CASES.map((c) => c.slice(0, 6)));
    expect(REACHABLE.filter((c) => !covered.has(c))).toEqual([]);
    expect(REACHABLE.length).toBeGreaterThanOrEqual(30);
  });

  for (const file of CASES) {
    it(file, async () => {
      const r = await runCase(file);
      expectGolden(r.text, DIR + file.replace(/\.dl$/, '.txt'));
      expect(r.codes.length, 'the case reports nothing').toBeGreaterThan(0);
      const named = /^(DL\d{4})-/.exec(file)?.[1];
      if (named) {
        // The case is about its code: that code comes first (the case has one mistake).
        expect(r.codes[0]).toBe(named);
        if (r.exit !== undefined) expect(r.exit).toBe(named === 'DL0601' ? 2 : 1);
      }
      for (const d of r.diagnostics ?? []) {
        // Diagnostic style (diagnostic.ts): plain words, lowercase start, no trailing period.
        expect(d.message).toMatch(/^[a-z`]/);
        expect(d.message).not.toMatch(/\.$/);
        if (d.span) expect(d.span.file.path).toBe(REL + file);
      }
    });
  }
});

describe('several mistakes in one file', () => {
  const file = 'multi-several-mistakes.dl';
  const src = readFileSync(DIR + file, 'utf8');

  it('one check reports a syntax error, an unknown name with a suggestion, a shape mismatch and a bad initializer, in source order', () => {
    const ds = check(src, REL + file).diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0102', 'DL0201', 'DL0301', 'DL0209']);
    const starts = ds.map((d) => d.span!.start);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(ds[1]!.message).toBe('unknown name `scaeld`');
    expect(ds[1]!.help).toBe('did you mean `scaled`?');
    expect(ds[3]!.help).toBe('did you mean `glorot_uniform`?');
    // The valid function in between is checked and produces nothing.
    expect(check(src, REL + file).checked).toContain('fine');
  });

  it('a syntax error in one function of a model does not hide the mistakes in its other functions', () => {
    const model = [
      'model Net(d: int = 4, h: int = 8) {',
      '  param W1: f32[d, h] = glorot_uniform',
      '  param W2: f32[d, 3] = glorot_uniform',
      '  fn forward(x: f32[B, d]) -> f32[B, 3] {',
      '    return sofmax(relu(x @ W1) @ W2)',
      '  }',
      '  fn broken(x: f32[B, d]) -> f32 {',
      '    let y = x * * 2.0',
      '    return sum(y)',
      '  }',
      '}',
      '',
    ].join('\n');
    const r = check(model, 'net.dl');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['DL0201', 'DL0301', 'DL0102']);
    expect(r.checked).toEqual(['Net.forward']);
    // A broken parameter poisons its uses silently; a broken header still skips the whole model.
    const badParam = 'model M(d: int = 4) {\n  param W: f32[d, d = zeros\n  fn f(x: f32[2, d]) -> f32[2, d] {\n    return x @ W\n  }\n  fn g(x: f32[2, d]) -> f32 {\n    return sum(x @ x)\n  }\n}\n';
    expect(check(badParam, 'p.dl').diagnostics.map((d) => d.code)).toEqual(['DL0102', 'DL0301']);
    const badHeader = 'model M(d: int = 4 {\n  fn g(x: f32[2, d]) -> f32 {\n    return sum(x @ x)\n  }\n}\n';
    expect(check(badHeader, 'h.dl').diagnostics.map((d) => d.code)).toEqual(['DL0102']);
  });

  it('the summary line counts every error', () => {
    expect(renderDiagnostics(check(src, REL + file).diagnostics).endsWith('\n\n4 errors\n')).toBe(true);
  });
});

describe('JSON form', () => {
  it('diagnosticToJson gives file, line, column, endLine and endColumn (end exclusive)', () => {
    const file = 'DL0301-contraction-mismatch.dl';
    const src = readFileSync(DIR + file, 'utf8');
    const [d] = check(src, REL + file).diagnostics;
    const j = diagnosticToJson(d!);
    expect(j).toEqual({
      severity: 'error',
      code: 'DL0301',
      title: 'contraction size mismatch',
      message: 'cannot contract 3 with 4 in `x @ w`: left is f32[2, 3], right is f32[4, 5]',
      file: REL + file,
      line: 3,
      column: 10,
      endLine: 3,
      endColumn: 15,
      notes: [],
    });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('carries help and notes, and omits the location of a diagnostic without a span', () => {
    const file = 'DL0305-dimension-conflict.dl';
    const [d] = check(readFileSync(DIR + file, 'utf8'), REL + file).diagnostics;
    const j = diagnosticToJson(d!);
    expect(j.notes).toEqual(['`N` was set to 3 by argument `a` of `dot`']);
    const bare = diagnosticToJson(error('DL0603', 'no function `g` in x.dl', { help: 'functions: f' }));
    expect(bare).toEqual({ severity: 'error', code: 'DL0603', title: 'no such function', message: 'no function `g` in x.dl', notes: [], help: 'functions: f' });
    expect('line' in bare).toBe(false);
  });

  it('a span reaching over a newline ends on the next line', () => {
    const f = new SourceFile('a.dl', 'ab\ncd\n');
    const j = diagnosticToJson(error('DL0102', 'm', { span: span(f, 1, 4) }));
    expect([j.line, j.column, j.endLine, j.endColumn]).toEqual([1, 2, 2, 2]);
  });
});

describe('rendering', () => {
  const f = new SourceFile('r.dl', 'let a = 1\n\tlet bb = 22\nlast');

  it('puts the caret under the span, expanding tabs before it', () => {
    const s = f.text.indexOf('bb');
    expect(renderDiagnostic(error('DL0201', 'unknown name `bb`', { span: span(f, s, s + 2) }))).toBe(
      ['error[DL0201]: unknown name `bb`', ' --> r.dl:2:6', '  |', '2 |     let bb = 22', '  |         ^^'].join('\n'),
    );
  });

  it('a span over several lines underlines to the end of its first line', () => {
    const s = f.text.indexOf('a = 1');
    const text = renderDiagnostic(error('DL0102', 'm', { span: span(f, s, f.text.length) }));
    expect(text.split('\n').slice(3)).toEqual(['1 | let a = 1', '  |     ^^^^^']);
  });

  it('an empty span still gets one caret, at the end of the file too', () => {
    const end = f.text.length;
    const text = renderDiagnostic(error('DL0102', 'expected `}`, found the end of the file', { span: span(f, end, end) }));
    expect(text).toContain(' --> r.dl:3:5');
    expect(text.split('\n').at(-1)).toBe('  |     ^');
  });

  it('the gutter widens with the line number', () => {
    const g = new SourceFile('w.dl', 'x\n'.repeat(120) + 'bad');
    const s = g.text.indexOf('bad');
    const text = renderDiagnostic(error('DL0201', 'unknown name `bad`', { span: span(g, s, s + 3), notes: ['n'], help: 'h' }));
    expect(text.split('\n')).toEqual(['error[DL0201]: unknown name `bad`', '   --> w.dl:121:1', '    |', '121 | bad', '    | ^^^', '    = note: n', '    = help: h']);
  });

  it('diagnostics without a span show notes and help only', () => {
    expect(renderDiagnostic(error('DL0601', 'bad usage', { help: 'see `dlc --help`' }))).toBe('error[DL0601]: bad usage\n  = help: see `dlc --help`');
  });

  it('the summary counts errors and warnings; nothing renders as empty', () => {
    const e = error('DL0201', 'a');
    const w = warning('DL0314', 'b');
    expect(renderDiagnostics([])).toBe('');
    expect(renderDiagnostics([e])).toBe('error[DL0201]: a\n\n1 error\n');
    expect(renderDiagnostics([e, e, w])).toMatch(/\n\n2 errors, 1 warning\n$/);
    expect(renderDiagnostics([w, w])).toMatch(/\n\nwarning\[DL0314\]: b\n\n2 warnings\n$/);
  });

  it('CRLF line endings do not leak a carriage return into the frame', () => {
    const ds = check('fn f(x: f32[2]) {\r\n  return y\r\n}\r\n', 'crlf.dl').diagnostics;
    const text = renderDiagnostics(ds);
    expect(text).not.toContain('\r');
    expect(text).toContain('2 |   return y\n  |          ^\n');
  });
});

describe('problems found by these tests: crashes, silent acceptance, confusing messages', () => {
  it('stray code at the top level says a declaration is expected, not "EOF"', () => {
    const ds = check('fn f(x: f32[4]) {\n  return x\n}\ny = f(x)\n', 'top.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0102']);
    expect(ds[0]!.message).not.toContain('EOF');
    expect(ds[0]!.message).toBe('expected a declaration (`fn`, `model`, `const`, `let` or `train`), found `y`');
  });

  it('an unexpected non-BMP character is shown whole, not as half a surrogate pair', () => {
    const ds = check('fn f(x: f32[2]) {\n  return x \u{1F600} 2\n}\n', 'emoji.dl').diagnostics;
    expect(ds[0]!.code).toBe('DL0101');
    expect(ds[0]!.message).toBe('unexpected character `\u{1F600}`');
    expect(ds[0]!.span!.end - ds[0]!.span!.start).toBe(2);
  });

  it('an invisible character (a control or zero-width character) is named by its code point and shown as � in the frame', () => {
    const ds = check('fn f(x: f32[2]) {\n  return x \u007f+ 2\u200b\n}\n', 'ctl.dl').diagnostics;
    expect(ds.map((d) => d.message)).toEqual(['unexpected character U+007F', 'unexpected character U+200B']);
    const frame = renderDiagnostic(ds[0]!).split('\n');
    expect(frame.slice(3)).toEqual(['2 |   return x \ufffd+ 2\u200b', '  |            ^']);
  });

  it('a generic function over `f32[...]` checks cleanly (check must not instantiate `...` as a scalar)', () => {
    for (const body of ['softmax(x)', 'logsumexp(x)', 'log_softmax(x)', 'variance(x)']) {
      const ds = check(`fn f(x: f32[...]) -> f32[...] {\n  return ${body}\n}\n`, 'generic.dl').diagnostics;
      expect(ds.map((d) => `${d.code} ${d.message}`), body).toEqual([]);
    }
  });

  it('a failed assignment to an undeclared name is reported once, not again at every later use', () => {
    const ds = check('fn f(x: f32[4]) {\n  total = x * 2.0\n  return total\n}\n', 'cascade.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0206']);
  });

  it('`if k = 2 {` is one syntax error with the `==` hint, not a cascade', () => {
    const ds = check('fn f(x: f32[4], k: int = 2) {\n  if k = 2 {\n    return x\n  }\n  return -x\n}\n', 'eq.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0102']);
    expect(ds[0]!.help).toBe('to compare values use `==`');
  });

  it('a misspelled dtype in a parameter type is reported even though the function is not an entry point', () => {
    const ds = check('fn f(x: f23[2, 3]) {\n  return x\n}\n', 'type.dl').diagnostics;
    expect(ds.map((d) => `${d.code} ${d.message}`)).toEqual(['DL0201 unknown type `f23`']);
  });

  it('a `let` whose declared type is invalid does not cascade into "unknown name" at its uses', () => {
    const ds = check('fn g(y: f32[2, 3]) {\n  let z: f23[2, 3] = y\n  return z\n}\n', 'let.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0201']);
    expect(ds[0]!.message).toBe('unknown type `f23`');
  });

  it('an empty index item (`x[, 1]`, `x[]`, `x[1,]`) is a syntax error, not a silently empty graph', () => {
    for (const index of ['[, 1]', '[]', '[1,]', '[:,, 1]']) {
      const src = `fn f(x: f32[3, 4]) {\n  return x${index}\n}\n`;
      const ds = check(src, 'index.dl').diagnostics;
      expect(ds.map((d) => d.code), index).toContain('DL0102');
      // Whatever check says, lowering must give a graph or an error, never neither.
      const r = lower(src, 'f');
      expect(r.graph !== undefined || r.diagnostics.some((d) => d.severity === 'error'), index).toBe(true);
    }
  });

  it('returning a list that mixes a tensor and a number is a diagnostic; check() must not throw', () => {
    const src = 'fn f(x: f32[2, 3]) {\n  return [x, 1]\n}\n';
    let ds: Diagnostic[] = [];
    expect(() => {
      ds = check(src, 'list.dl').diagnostics;
    }).not.toThrow();
    expect(ds.map((d) => d.code)).toEqual(['DL0302']);
    expect(ds[0]!.span!.file.position(ds[0]!.span!.start).line).toBe(2);
  });

  it('negative sizes are compile-time errors, not crashes of the interpreter', () => {
    for (const src of [
      'fn f(x: f32[-2]) {\n  return x\n}\n',
      'fn f(x: f32[2]) {\n  return zeros([-1])\n}\n',
      'fn f(x: f32[2]) {\n  return ones(-1)\n}\n',
      'fn f(x: f32[2]) {\n  return iota([3, -1], 0)\n}\n',
      'fn f(x: f32[2]) {\n  return full([-2], 1.0)\n}\n',
    ]) {
      const ds = check(src, 'neg.dl').diagnostics;
      expect(ds.map((d) => d.code), src).toContain('DL0311');
    }
  });

  it('compile-time integer overflow (`2 ** 2000`, a size of 2^60) is reported', () => {
    expect(check('const N = 2 ** 2000\nfn f(x: f32[2]) {\n  return x * N\n}\n', 'big.dl').diagnostics.length).toBeGreaterThan(0);
    expect(check('fn f(x: f32[2]) {\n  return zeros([2 ** 60])\n}\n', 'big.dl').diagnostics.length).toBeGreaterThan(0);
  });

  it('a model that contains itself is DL0205 ("contains itself"), not a stack overflow reported as DL0104', () => {
    const ds = check('model M() {\n  layer inner = M()\n  fn forward(x: f32[2]) {\n    return x\n  }\n}\n', 'self.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0205']);
    expect(ds[0]!.message).toContain('contains itself');
  });

  it('a top-level instance of a standard-library model is checked, and its errors point at the user’s line', () => {
    const src = '# a layer with a negative size\nlet net = Linear(-2, 2)\n';
    const ds = check(src, 'inst.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0311']);
    const r = lower(src, 'net.forward', { path: 'inst.dl' });
    const [d] = r.diagnostics;
    expect(d!.code).toBe('DL0311');
    expect(d!.span!.file.path).toBe('inst.dl');
    expect(d!.span!.file.position(d!.span!.start).line).toBe(2);
  });

  it('unpacking failures do not cascade into "unknown name" errors', () => {
    for (const src of ['fn f(x: f32[2, 3]) {\n  let (a, b) = x\n  return a\n}\n', 'fn f(x: f32[2, 3]) {\n  let (a, b) = (x, x, x)\n  return a\n}\n']) {
      const ds = check(src, 'unpack.dl').diagnostics;
      expect(ds.length, src).toBe(1);
      expect(ds[0]!.code).not.toBe('DL0201');
    }
  });

  it('the parser’s DL0104 points into the deep expression, not at the start of the file', () => {
    const src = `# header\nfn f(x: f32[2]) {\n  return ${'('.repeat(3000)}x${')'.repeat(3000)}\n}\n`;
    const [d] = check(src, 'deep.dl').diagnostics;
    expect(d!.code).toBe('DL0104');
    expect(d!.span!.file.position(d!.span!.start).line).toBe(3);
  });

  it('a loop nest that exhausts the unrolling budget does not blame a 1000-iteration loop for being "too long"', () => {
    const src = 'fn f(x: f32[2]) {\n  let y = 0\n  for i in 0..1000 {\n    for j in 0..1000 {\n      for k in 0..1000 {\n        y = y + 1\n      }\n    }\n  }\n  return x * y\n}\n';
    const ds = check(src, 'nest.dl').diagnostics;
    expect(ds.map((d) => d.code)).toEqual(['DL0312']);
    expect(ds[0]!.message).not.toMatch(/a loop of 1000 iterations is too long/);
  });
});

describe('dlc check exit codes and JSON output', () => {
  const ok = `${ROOT}examples/mlp.dl`;
  const bad = `${DIR}DL0301-contraction-mismatch.dl`;

  it('0 for a clean file, with a summary on stdout and nothing on stderr', async () => {
    const c = captureIo();
    expect(await main(['check', ok], c.io)).toBe(0);
    expect(c.err()).toBe('');
    expect(c.out()).toMatch(/examples\/mlp\.dl: no errors \(\d+ functions? checked: [^)]*\)\n$/);
  });

  it('the summary lists the entry points it checked (the names `--fn` takes), shortening long lists', async () => {
    const c = captureIo();
    expect(await main(['check', ok], c.io)).toBe(0);
    const r = check(readFileSync(ok, 'utf8'), ok);
    expect(r.checked.length).toBeGreaterThan(1);
    expect(c.out()).toBe(`${ok}: no errors (${r.checked.length} functions checked: ${r.checked.join(', ')})\n`);
    const many = Array.from({ length: 32 }, (_, i) => `f${i}`);
    expect(checkedSummary(many)).toBe(`(32 functions checked: ${many.slice(0, 30).join(', ')}, … and 2 more (\`--format json\` lists them all))`);
    expect(checkedSummary([])).toBe('(0 functions checked)');
  });

  it('1 for a file with errors, the rendered diagnostics on stderr', async () => {
    const c = captureIo();
    expect(await main(['check', bad], c.io)).toBe(1);
    expect(c.err()).toContain('error[DL0301]: cannot contract 3 with 4');
    expect(c.err()).toMatch(/\n1 error\n$/);
    expect(c.out()).toBe('');
  });

  it('2 for usage errors: no file, a missing file, two files, an unknown option', async () => {
    for (const argv of [['check'], ['check', `${ROOT}no/such/file.dl`], ['check', ok, ok], ['check', '--frobnicate', ok], ['check', ok, '--frobnicate=1']]) {
      const c = captureIo();
      expect(await main(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.err()).toContain('error[DL0601]');
    }
  });

  it('2 with DL0601 for a bad --format value (main must not throw)', async () => {
    for (const argv of [
      ['check', ok, '--format', 'xml'],
      ['check', ok, '--format=yaml'],
    ]) {
      const c = captureIo();
      let code: number | undefined;
      try {
        code = await main(argv, c.io);
      } catch (e) {
        throw new Error(`main(${argv.join(' ')}) threw: ${(e as Error).message}`);
      }
      expect(code).toBe(2);
      expect(c.err()).toContain('error[DL0601]: --format is text or json');
    }
  });

  it('--format json: a JSON document on stdout with ok, diagnostics and checked', async () => {
    const c = captureIo();
    expect(await main(['check', bad, '--format', 'json'], c.io)).toBe(1);
    expect(c.err()).toBe('');
    const doc = JSON.parse(c.out());
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics).toHaveLength(1);
    expect(doc.diagnostics[0]).toMatchObject({ code: 'DL0301', severity: 'error', line: 3, column: 10, endLine: 3, endColumn: 15 });
    expect(doc.diagnostics[0].file.endsWith('DL0301-contraction-mismatch.dl')).toBe(true);
    expect(doc.checked).toEqual(['f']);

    const c2 = captureIo();
    expect(await main(['check', ok, '--format=json'], c2.io)).toBe(0);
    const doc2 = JSON.parse(c2.out());
    expect(doc2).toMatchObject({ ok: true, diagnostics: [] });
    expect(doc2.checked.length).toBeGreaterThan(0);
  });

  it('--format json also covers usage errors (exit 2)', async () => {
    const c = captureIo();
    expect(await main(['check', '--format', 'json'], c.io)).toBe(2);
    const doc = JSON.parse(c.out());
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics[0].code).toBe('DL0601');
  });
});
