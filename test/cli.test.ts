/**
 * The command line, through `main(argv, io)`: help and version, usage errors (exit 2, DL0601),
 * `run` with .npy inputs and outputs, `ir --spans`, and input files that do not fit (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { COMMAND_HELP, MAIN_HELP } from '../src/cli/help.js';
import { NDArray, readNpy, writeNpy } from '../src/index.js';
import { captureIo, ROOT } from './helpers/golden.js';

let dir = '';
const MLP = `${ROOT}examples/mlp.dl`;

const PROGRAM = `# test program for the CLI
fn rowsum(x: f32[B, 4]) -> f32[B] {
  return sum(x, axis=-1)
}

fn twice(y: i32[B]) {
  return y * 2
}

fn pair(x: f32[B, 4]) {
  let m = mean(x, axis=0)
  let s = softmax(x)
  return (m, s)
}
`;

function file(name: string): string {
  return join(dir, name);
}

function npy(name: string, shape: number[], data: number[], dtype: 'f32' | 'i32' | 'bool' = 'f32'): string {
  writeFileSync(file(name), writeNpy(NDArray.from(shape, data), dtype));
  return file(name);
}

/** Runs the CLI (some commands are asynchronous) and collects its exit code and output. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  let code: number;
  try {
    code = await main(argv, c.io);
  } catch (e) {
    throw new Error(`main(${JSON.stringify(argv)}) threw instead of returning an exit code: ${(e as Error).stack}`);
  }
  return { code, out: c.out(), err: c.err() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlc-cli-'));
  writeFileSync(file('prog.dl'), PROGRAM);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help and version', () => {
  it('--help and -h print the main help and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(MAIN_HELP);
      expect(r.out).toMatch(/^dlc \d+\.\d+\.\d+ /);
      for (const cmd of ['check', 'ir', 'run', 'help']) expect(r.out).toContain(`  ${cmd} `);
      expect(r.err).toBe('');
    }
  });

  it('the command list is one aligned column, naming every command', async () => {
    const list = MAIN_HELP.slice(MAIN_HELP.indexOf('Commands:\n') + 10, MAIN_HELP.indexOf('\n\n', MAIN_HELP.indexOf('Commands:')));
    const rows = list.split('\n').map((l) => /^ {2}(\w+)( +)\S/.exec(l));
    expect(rows.every((m) => m !== null)).toBe(true);
    expect(new Set(rows.map((m) => m![1]!.length + m![2]!.length)).size).toBe(1);
    expect(rows.map((m) => m![1]).sort()).toEqual(Object.keys(COMMAND_HELP).concat('help').sort());
  });

  it('no arguments print the help with exit 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe(MAIN_HELP);
  });

  it('help run, run --help and help for every command', async () => {
    const r = await run(['help', 'run']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(COMMAND_HELP['run']);
    expect(r.out).toContain('--input x=data.npy');
    expect(r.out).toContain('--out DIR');
    expect((await run(['run', '--help'])).out).toBe(COMMAND_HELP['run']);
    for (const cmd of Object.keys(COMMAND_HELP)) {
      const h = await run(['help', cmd]);
      expect(h.code).toBe(0);
      expect(h.out.startsWith(`dlc ${cmd}`)).toBe(true);
    }
  });

  it('help for an unknown topic is a usage error', async () => {
    const r = await run(['help', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error[DL0601]: no help for `frobnicate`');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`dlc ${pkg.version}\n`);
  });
});

describe('usage errors exit 2 with DL0601', () => {
  it('an unknown command', async () => {
    const r = await run(['frobnicate', MLP]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error\[DL0601\]: unknown command `frobnicate`; commands are check, ir, run, .*help \(see dlc --help\)\n {2}= help: see `dlc --help`\n\n1 error\n$/);
  });

  it('run and ir without --fn, a flag without its value, a bad --dim, a bad --seed, a bad --input', async () => {
    const p = file('prog.dl');
    const cases: [string[], RegExp][] = [
      [['run', p], /needs --fn NAME/],
      [['ir', p], /needs --fn NAME/],
      [['run', p, '--fn'], /--fn needs a value/],
      [['run', p, '--fn', 'rowsum', '--dim', 'B'], /--dim expects NAME=SIZE/],
      [['run', p, '--fn', 'rowsum', '--dim', 'B=-1'], /--dim expects NAME=SIZE/],
      [['run', p, '--fn', 'rowsum', '--seed', 'abc'], /--seed expects a non-negative integer/],
      [['run', p, '--fn', 'rowsum', '--input', 'x'], /--input expects NAME=FILE\.npy/],
      [['run', p, '--fn', 'rowsum', '--input', `x=${file('missing.npy')}`], /no such file/],
      [['ir', p, '--fn', 'rowsum', '--seed', '3'], /unknown option --seed for `dlc ir`/],
      [['run', p, '--fn', 'rowsum', '--dim', 'B=2', '--dim', 'B=3'], /--dim B is given twice, as 2 and 3/],
      [['run', p, '--fn', 'rowsum', '--input', 'x=a.npy', '--input', 'x=b.npy'], /--input x is given twice/],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(/^error\[DL0601\]: /);
      expect(r.err, argv.join(' ')).toMatch(msg);
    }
  });

  it('an output directory that is a file, or cannot be made, is a usage error (not an internal error)', async () => {
    const p = file('prog.dl');
    const cases: [string[], RegExp][] = [
      [['run', p, '--fn', 'rowsum', '--out', p], /--out .*prog\.dl: a file of that name exists; give a directory/],
      [['build', p, '--fn', 'rowsum', '-o', p], /-o .*prog\.dl: a file of that name exists/],
      [['build', p, '--fn', 'rowsum', '-o', join(p, 'sub')], /-o .*prog\.dl\/sub: cannot create the directory \(a part of the path is a file\)/],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(/^error\[DL0601\]: /);
      expect(r.err, argv.join(' ')).toMatch(msg);
    }
  });

  it('gradcheck: --runs 0 and a --wrt that names nothing differentiable are usage errors, not a silent pass', async () => {
    const zero = await run(['gradcheck', MLP, '--fn', 'MLP.loss', '--runs', '0']);
    expect(zero.code).toBe(2);
    expect(zero.err).toContain('--runs must be at least 1');
    const typo = await run(['gradcheck', MLP, '--fn', 'MLP.loss', '--runs', '1', '--dim', 'B=1', '--wrt', 'hiden.W']);
    expect(typo.code).toBe(2);
    expect(typo.out).toBe('');
    expect(typo.err).toContain('--wrt hiden.W: `MLP.loss` has no float input or parameter named `hiden.W` (did you mean `hidden.W`?); they are `x`, `hidden.W`, `hidden.b`, `out.W`, `out.b`');
    const label = await run(['gradcheck', MLP, '--fn', 'MLP.loss', '--runs', '1', '--dim', 'B=1', '--wrt', 'y']);
    expect(label.code).toBe(2);
    const ok = await run(['gradcheck', MLP, '--fn', 'MLP.loss', '--runs', '1', '--dim', 'B=1', '--wrt', 'x']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ok {3}MLP\.loss {2}\(1 run\)\n {5}input x /);
  });

  it('a --dim that no function uses is a warning with a suggestion; the run goes on', async () => {
    const p = file('prog.dl');
    const r = await run(['run', p, '--fn', 'rowsum', '--dim', 'b=3']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning[DL0601]: --dim b=3 is not used: `rowsum` has no dimension variable or int parameter `b`');
    expect(r.err).toContain('= help: did you mean `--dim B=3`?');
    expect(r.out).toMatch(/^out: f32\[2\]/);
    for (const cmd of ['ir', 'kernels', 'build']) {
      const argv = [cmd, p, '--fn', 'rowsum', '--dim', 'b=3', '--format', 'json', ...(cmd === 'build' ? ['-o', file('built')] : [])];
      const j = await run(argv);
      expect(j.code, argv.join(' ')).toBe(0);
      const doc = JSON.parse(j.out) as { diagnostics: { severity: string; message: string }[] };
      expect(doc.diagnostics.map((d) => `${d.severity}: ${d.message}`), argv.join(' ')).toEqual(['warning: --dim b=3 is not used: `rowsum` has no dimension variable or int parameter `b`']);
    }
    const c = await run(['check', p, '--dim', 'Q=3']);
    expect(c.code).toBe(0);
    expect(c.err).toContain('--dim Q=3 is not used: no function in');
    // Used names, and int parameters set through --dim, are not reported.
    expect((await run(['run', p, '--fn', 'rowsum', '--dim', 'B=3'])).err).toBe('');
    expect((await run(['check', p, '--dim', 'B=3'])).err).toBe('');
    expect((await run(['run', `${ROOT}examples/cnn.dl`, '--fn', 'conv_out', '--dim', 'padding=1'])).err).toBe('');
  });

  it('verify of a file without functions says that nothing was verified', async () => {
    writeFileSync(file('empty.dl'), '# nothing here\n');
    const r = await run(['verify', file('empty.dl')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/empty\.dl: no function that runs on its own, so nothing was verified\n$/);
  });

  it('verify of a function that does not exist prints the error, not an empty table', async () => {
    const r = await run(['verify', file('prog.dl'), '--fn', 'nope']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('error[DL0603]: no function `nope`');
  });

  it('an unknown option after the file is reported as unknown, not as "needs a value"', async () => {
    const r = await run(['check', MLP, '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --frobnicate for `dlc check`');
  });

  it('an unknown option before the file does not swallow the file name', async () => {
    const r = await run(['check', '--frobnicate', MLP]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --frobnicate for `dlc check`');
  });
});

describe('dlc run', () => {
  it('runs a function on random inputs and prints dtype, shape and values', async () => {
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--dim', 'B=3']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^out: f32\[3\] = \[[-0-9.e, ]+\]\n$/);
  });

  it('is deterministic in --seed', async () => {
    const a = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--seed', '5', '--format', 'json']);
    const b = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--seed', '5', '--format', 'json']);
    const c = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--seed', '6', '--format', 'json']);
    expect(a.out).toBe(b.out);
    expect(a.out).not.toBe(c.out);
  });

  it('--input x=file.npy binds the dimension variable B from the file, and --out writes .npy files that read back', async () => {
    const x = Array.from({ length: 20 }, (_, i) => i);
    const inp = npy('x54.npy', [5, 4], x);
    const outDir = file('results');
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`, '--out', outDir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('out: f32[5] = [6, 22, 38, 54, 70]\n');
    expect(readdirSync(outDir)).toEqual(['out.npy']);
    const back = readNpy(new Uint8Array(readFileSync(join(outDir, 'out.npy'))));
    expect(back.kind).toBe('float');
    expect(back.array.shape).toEqual([5]);
    expect(Array.from(back.array.data)).toEqual([6, 22, 38, 54, 70]);
  });

  it('--out writes one file per output of a tuple result, named after the returned variables', async () => {
    const inp = npy('x24.npy', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const outDir = file('pair');
    const r = await run(['run', file('prog.dl'), '--fn', 'pair', '--input', `x=${inp}`, '--out', outDir, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(Object.keys(doc.outputs)).toEqual(['m', 's']);
    expect(readdirSync(outDir).sort()).toEqual(['m.npy', 's.npy']);
    const m = readNpy(new Uint8Array(readFileSync(join(outDir, 'm.npy'))));
    expect(Array.from(m.array.data)).toEqual([3, 4, 5, 6]);
    expect(doc.outputs.m).toEqual({ dtype: 'f32', shape: [4], data: [3, 4, 5, 6] });
    const s = readNpy(new Uint8Array(readFileSync(join(outDir, 's.npy'))));
    expect(s.array.shape).toEqual([2, 4]);
    // The interpreter computes in float64, and that is what is written: the exact results.
    expect(Array.from(s.array.data)).toEqual(doc.outputs.s.data);
    expect(doc.outputs.s.data.some((v: number) => Math.fround(v) !== v)).toBe(true);
  });

  it('--out writes the precision that was computed: float64 for interp and js f64, float32 for js f32; --out-dtype overrides', async () => {
    const inp = npy('x24p.npy', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const descr = (dir: string) => /'descr': '([^']+)'/.exec(Buffer.from(readFileSync(join(dir, 's.npy'))).toString('latin1', 0, 128))![1];
    const cases: [string[], string][] = [
      [[], '<f8'],
      [['--backend', 'js', '--precision', 'f64'], '<f8'],
      [['--backend', 'js'], '<f4'],
      [['--out-dtype', 'f32'], '<f4'],
      [['--backend', 'js', '--out-dtype', 'f64'], '<f8'],
    ];
    for (const [k, [extra, want]] of cases.entries()) {
      const outDir = file(`prec${k}`);
      const r = await run(['run', file('prog.dl'), '--fn', 'pair', '--input', `x=${inp}`, '--out', outDir, '--format', 'json', ...extra]);
      expect(r.code, extra.join(' ')).toBe(0);
      expect(descr(outDir), extra.join(' ')).toBe(want);
      const back = readNpy(new Uint8Array(readFileSync(join(outDir, 's.npy'))));
      const printed = JSON.parse(r.out).outputs.s.data as number[];
      // The file holds the printed values (rounded to float32 when float32 was asked for).
      expect(Array.from(back.array.data), extra.join(' ')).toEqual(want === '<f4' ? printed.map(Math.fround) : printed);
    }
    const bad = await run(['run', file('prog.dl'), '--fn', 'pair', '--out-dtype', 'f16', '--out', file('prec-bad')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--out-dtype is f32 or f64, got `f16`');
  });

  it('i32 inputs and outputs round-trip through .npy', async () => {
    const inp = npy('y.npy', [4], [3, -1, 0, 7], 'i32');
    const outDir = file('ints');
    const r = await run(['run', file('prog.dl'), '--fn', 'twice', '--input', `y=${inp}`, '--out', outDir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('out: i32[4] = [6, -2, 0, 14]\n');
    const back = readNpy(new Uint8Array(readFileSync(join(outDir, 'out.npy'))));
    expect(back.kind).toBe('int');
    expect(Array.from(back.array.data)).toEqual([6, -2, 0, 14]);
  });

  it('runs an example model end to end (MLP.loss is a finite scalar)', async () => {
    const r = await run(['run', MLP, '--fn', 'MLP.loss', '--dim', 'B=4', '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const loss = doc.outputs.out;
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.data[0])).toBe(true);
    expect(loss.data[0]).toBeGreaterThan(0);
  });
});

describe('input files that do not fit exit 1 with a diagnostic', () => {
  it('the wrong size on a fixed axis: DL0304 at the parameter, with a note', async () => {
    const inp = npy('x53.npy', [5, 3], Array.from({ length: 15 }, (_, i) => i));
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const path = file('prog.dl');
    const lines = r.err.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'error[DL0304]: input `x` (shape [5, 3]) should be f32[B, 4], got f32[5, 3]',
      ` --> ${path}:2:11`,
      '  |',
      '2 | fn rowsum(x: f32[B, 4]) -> f32[B] {',
      '  |           ^^^^^^^^^^^^',
    ]);
    expect(lines[5]).toMatch(/^ {2}= note: axis 1 should be 4\b.*but it is 3$/);
    expect(r.err.endsWith('\n\n1 error\n')).toBe(true);
  });

  it('the wrong rank', async () => {
    const inp = npy('x3.npy', [4], [1, 2, 3, 4]);
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0304]');
    expect(r.err).toContain('the type has 2 axes, the value has 1');
  });

  it('a shape that contradicts --dim: DL0305', async () => {
    const inp = npy('x54b.npy', [5, 4], Array.from({ length: 20 }, (_, i) => i));
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`, '--dim', 'B=3']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0305]');
    expect(r.err).toContain('`B` was set to 3 by `--dim B=3`');
  });

  it('floating-point data for an i32 parameter: DL0602', async () => {
    const inp = npy('yf.npy', [3], [1, 2, 3]);
    const r = await run(['run', file('prog.dl'), '--fn', 'twice', '--input', `y=${inp}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0602]: input `y` is i32 but the file holds floating-point values');
  });

  it('an input the function does not have, and a file that is not .npy: DL0602', async () => {
    const inp = npy('z.npy', [2], [1, 2]);
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `z=${inp}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0602]: --input z: the function has no parameter `z`');
    expect(r.err).toContain('its inputs are `x`');
    const bad = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${file('prog.dl')}`]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('not a .npy file');
  });

  it('a truncated .npy file: DL0602', async () => {
    const full = writeNpy(NDArray.from([5, 4], new Array(20).fill(1)), 'f32');
    writeFileSync(file('short.npy'), full.subarray(0, full.length - 8));
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${file('short.npy')}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0602]');
    expect(r.err).toContain('fewer than the 20 values');
  });

  it('JSON output for an input error', async () => {
    const inp = npy('x53j.npy', [5, 3], new Array(15).fill(0));
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`, '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics[0]).toMatchObject({ code: 'DL0304', line: 2, column: 11 });
  });

  it('programs that check cleanly never end in an internal error (exit 3) when run', async () => {
    const cases = ['fn f(x: f32[2]) {\n  return zeros([-1])\n}\n', 'fn f(x: f32[-2]) {\n  return x\n}\n', 'fn f(x: f32[2, 3]) {\n  return [x, 1]\n}\n', 'fn f(x: f32[3, 4]) {\n  return x[, 1]\n}\n'];
    for (const [k, src] of cases.entries()) {
      writeFileSync(file(`crash${k}.dl`), src);
      const r = await run(['run', file(`crash${k}.dl`), '--fn', 'f']);
      expect(r.err, src).not.toContain('DL9001');
      expect(r.code, src).toBe(1);
    }
  });

  it('a function that does not exist: DL0603 with a suggestion', async () => {
    const r = await run(['run', MLP, '--fn', 'MLP.forwrd']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DL0603]: no function `MLP.forwrd`');
    expect(r.err).toContain('did you mean `MLP.forward`?');
  });
});

describe('dlc ir', () => {
  it('prints the graph; --spans adds the source location of every node', async () => {
    // Lines starting with `#` are commentary (e.g. pass statistics) and are not part of the graph.
    const graphText = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    const plain = await run(['ir', file('prog.dl'), '--fn', 'rowsum', '--dim', 'B=2']);
    expect(plain.code).toBe(0);
    expect(graphText(plain.out)).toBe(['graph rowsum(x: f32[2, 4]) {', '  %0: f32[2, 4] = input {name="x"}', '  %1: f32[2] = reduce_sum(%0) {axes=[1]}', '  return out=%1', '}', ''].join('\n'));
    const spans = await run(['ir', file('prog.dl'), '--fn', 'rowsum', '--dim', 'B=2', '--spans']);
    expect(spans.code).toBe(0);
    const p = file('prog.dl');
    expect(graphText(spans.out)).toBe(
      ['graph rowsum(x: f32[2, 4]) {', `  %0: f32[2, 4] = input {name="x"}  # ${p}:2:11`, `  %1: f32[2] = reduce_sum(%0) {axes=[1]}  # ${p}:3:10`, '  return out=%1', '}', ''].join('\n'),
    );
  });

  it('--spans on a model: every node carries a location', async () => {
    const r = await run(['ir', MLP, '--fn', 'MLP.forward', '--dim', 'B=2', '--spans']);
    expect(r.code).toBe(0);
    const nodes = r.out.split('\n').filter((l) => /^ {2}%\d+:/.test(l));
    expect(nodes.length).toBeGreaterThan(5);
    for (const l of nodes) expect(l).toMatch(/ {2}# \S+:\d+:\d+$/);
    // Operations written in the user's file point into it.
    expect(nodes.some((l) => l.includes('examples/mlp.dl:'))).toBe(true);
  });

  it('parameters of a stdlib layer point at the user’s `layer` declaration, not into <stdlib>', async () => {
    const r = await run(['ir', MLP, '--fn', 'MLP.forward', '--dim', 'B=2', '--spans']);
    const params = r.out.split('\n').filter((l) => l.includes('= param '));
    expect(params.length).toBeGreaterThan(0);
    for (const l of params) expect(l).not.toContain('<stdlib>');
  });

  it('--format json wraps the text', async () => {
    const r = await run(['ir', file('prog.dl'), '--fn', 'rowsum', '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(true);
    expect(doc.ir).toContain('reduce_sum');
  });
});

const LABELS = `fn loss(x: f32[B, 4], y: i32[B]) -> f32 {
  return cross_entropy(x, y)
}

fn hot(y: i32[B]) -> f32[B, 3] {
  return one_hot(y, 3)
}

fn count(n: i32[B]) {
  return n + 1
}
`;

describe('labels and indices from outside are checked where they enter', () => {
  it('out-of-range class labels (4 and 7 for 4 classes) are DL0605 at the parameter on every backend, not a finite loss', async () => {
    writeFileSync(file('labels.dl'), LABELS);
    const y = npy('y47.npy', [2], [4, 7], 'i32');
    for (const backend of ['interp', 'js', 'webgpu']) {
      const r = await run(['run', file('labels.dl'), '--fn', 'loss', '--input', `y=${y}`, '--backend', backend]);
      expect(r.code, backend).toBe(1);
      expect(r.out, backend).toBe('');
      expect(r.err.split('\n').slice(0, 6), backend).toEqual([
        'error[DL0605]: input `y` holds 4 at [0], but as class labels of a one_hot over 4 classes (as in cross_entropy) its values must be in 0..3',
        ` --> ${file('labels.dl')}:1:23`,
        '  |',
        '1 | fn loss(x: f32[B, 4], y: i32[B]) -> f32 {',
        '  |                       ^^^^^^^^^',
        `  = note: used as class labels of a one_hot over 4 classes (as in cross_entropy) at ${file('labels.dl')}:2:10`,
      ]);
    }
    const ok = await run(['run', file('labels.dl'), '--fn', 'loss', '--input', `y=${npy('y30.npy', [2], [3, 0], 'i32')}`]);
    expect(ok.code).toBe(0);
  });

  it('int64 labels outside i32 are DL0605 (they used to give a different loss per backend)', async () => {
    writeFileSync(file('labels.dl'), LABELS);
    // An int64 .npy file: values beyond 32 bits.
    const head = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
    const header = head + ' '.repeat(64 - ((10 + head.length + 1) % 64)) + '\n';
    const bytes = new Uint8Array(10 + header.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, header.length, true);
    for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
    new DataView(bytes.buffer).setBigInt64(10 + header.length, 2n ** 32n + 1n, true);
    new DataView(bytes.buffer).setBigInt64(10 + header.length + 8, 1n, true);
    writeFileSync(file('y64.npy'), bytes);
    for (const backend of ['interp', 'js']) {
      const r = await run(['run', file('labels.dl'), '--fn', 'loss', '--input', `y=${file('y64.npy')}`, '--backend', backend]);
      expect(r.code, backend).toBe(1);
      expect(r.err, backend).toContain('error[DL0605]: input `y` holds 4294967297 at [0], outside the i32 range -2147483648..2147483647');
    }
  });

  it('random labels cover every class and stay inside the range; other i32 inputs stay 0 or 1', async () => {
    writeFileSync(file('labels.dl'), LABELS);
    const r = await run(['run', file('labels.dl'), '--fn', 'hot', '--dim', 'B=60', '--format', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out).outputs.out.data as number[];
    const perClass = [0, 1, 2].map((c) => rows.filter((v, i) => i % 3 === c && v === 1).length);
    expect(perClass.reduce((a, b) => a + b)).toBe(60);
    expect(perClass.every((n) => n > 0)).toBe(true);
    const c = await run(['run', file('labels.dl'), '--fn', 'count', '--dim', 'B=40', '--format', 'json']);
    expect(new Set(JSON.parse(c.out).outputs.out.data)).toEqual(new Set([1, 2]));
  });
});

describe('random indices from gradcheck fit the range they are used in', () => {
  it('gradcheck --backend js of a lookup into one row draws index 0 only (not a DL0605 internal error)', async () => {
    writeFileSync(file('emb1.dl'), 'fn f(E: f32[V, 2], t: i32[3]) -> f32 {\n  return sum(take(E, t) ** 2)\n}\n');
    const r = await run(['gradcheck', file('emb1.dl'), '--runs', '2', '--dim', 'V=1', '--backend', 'js']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok {3}f {2}\(2 runs\)/);
  });
});

describe('input and output paths fail fast with a diagnostic', () => {
  it('--input x=DIRECTORY is DL0602, not an internal error', async () => {
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${dir}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error[DL0602]: cannot read ${dir} for input \`x\`: it is a directory, not a .npy file`);
    expect(r.err).not.toContain('DL9001');
  });

  it('--out under /proc returns at once with DL0601 (Node 20 recursive mkdir never returns there)', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dlc.js'), 'run', file('prog.dl'), '--fn', 'rowsum', '--out', '/proc/dlc-out'], { encoding: 'utf8', timeout: 30000 });
    expect(r.signal).toBe(null);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error[DL0601]: --out /proc/dlc-out: cannot create the directory (no such file or directory)');
    expect(Date.now() - t0).toBeLessThan(30000);
  });

  it('an output file that cannot be written is DL0607, checked before anything runs', async () => {
    const outDir = file('blocked');
    mkdirSync(join(outDir, 'out.npy'), { recursive: true });
    const r = await run(['run', file('prog.dl'), '--fn', 'rowsum', '--out', outDir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error[DL0607]: cannot write ${join(outDir, 'out.npy')}: it is a directory`);
    expect(r.err).not.toContain('DL9001');
  });
});

describe('dlc kernels', () => {
  it('--input x=FILE.npy binds the dimension variables from the file, as in dlc run', async () => {
    const inp = npy('x74.npy', [7, 4], new Array(28).fill(1));
    const r = await run(['kernels', file('prog.dl'), '--fn', 'rowsum', '--input', `x=${inp}`, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { kernels: { bytes: number }[] };
    const byDim = JSON.parse((await run(['kernels', file('prog.dl'), '--fn', 'rowsum', '--dim', 'B=7', '--format', 'json'])).out);
    expect(doc.kernels).toEqual(byDim.kernels);
    expect(doc.kernels).not.toEqual(JSON.parse((await run(['kernels', file('prog.dl'), '--fn', 'rowsum', '--format', 'json'])).out).kernels);
  });
});

describe('dlc verify', () => {
  it('uses an absolute tolerance too: an output that is zero up to rounding is not a huge relative error; a summary line ends it', async () => {
    writeFileSync(file('zero.dl'), 'fn f(x: f32[8]) -> f32[8] {\n  return sin(x) * sin(x) + cos(x) * cos(x) - 1.0\n}\n');
    const r = await run(['verify', file('zero.dl')]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('MISMATCH');
    expect(r.out).toContain('tolerance: max abs ≤ atol + rtol · max |interpreter value|: js f64 rtol 1e-9, atol 1e-12; js f32 rtol 1e-4, atol 1e-6');
    const last = r.out.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^verify: [23] outputs checked, 0 failed \(worst: (js f32|webgpu f32) on f\/out, max abs \S+, rel \S+, [\d.]+% of its tolerance\)$/);
    expect(COMMAND_HELP['verify']).toContain('atol');
  });

  it('the summary counts failures', async () => {
    const { summary } = await import('../src/cli/commands/verify.js');
    const c = (backend: string, used: number) => ({ program: 'f', output: 'out', backend, maxAbs: used, maxRel: used, used, ok: used <= 1 });
    expect(summary([c('js f64', 0), c('js f32', 3), c('webgpu f32', 0.5)])).toBe('verify: 3 outputs checked, 1 failed (worst: js f32 on f/out, max abs 3.0e+0, rel 3.0e+0, 300% of its tolerance)');
  });
});

describe("Dawn's limit notices", () => {
  const NOTICES =
    'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n' +
    'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';

  it('the filter drops exactly the two notices, however the text is split, and keeps everything else', async () => {
    const { DawnNoticeFilter } = await import('../src/cli/dawn-notices.js');
    const other = 'Warning: maxDynamicUniformBuffersPerPipelineLayout is odd\nerror[DL0603]: no function `g`\n';
    const text = `before\n${NOTICES}${other}partial`;
    for (const size of [1, 7, 40, text.length]) {
      const f = new DawnNoticeFilter();
      let out = '';
      for (let i = 0; i < text.length; i += size) out += f.push(text.slice(i, i + size));
      out += f.end();
      expect(out, `chunks of ${size}`).toBe(`before\n${other}partial`);
    }
    // Text that cannot become a notice is passed on at once, without waiting for its newline.
    expect(new DawnNoticeFilter().push('progress 50%')).toBe('progress 50%');
  });

  it('the commands that may create a WebGPU adapter are filtered', async () => {
    const { mayUseWebGpu } = await import('../src/cli/dawn-notices.js');
    expect(['verify', 'run --backend webgpu', 'run --backend=webgpu', 'run', 'run --backend js', 'check'].map((a) => mayUseWebGpu(a.split(' ')))).toEqual([true, true, true, false, false, false]);
  });

  it('dlc run --backend webgpu prints no notices; real errors still come through', () => {
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? tmpdir() };
    const dlc = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'dlc.js'), ...args], { encoding: 'utf8', env, timeout: 120000 });
    const ok = dlc('run', file('prog.dl'), '--fn', 'rowsum', '--backend', 'webgpu', '--dim', 'B=2');
    expect(ok.stderr).not.toContain('artificially reduced');
    expect(ok.stdout).toMatch(/^out: f32\[2\] = /);
    expect(ok.status).toBe(0);
    const bad = dlc('run', file('prog.dl'), '--fn', 'nope', '--backend', 'webgpu');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error[DL0603]: no function `nope`');
  });
});
