/**
 * Documentation that runs: every shell command in the ```sh blocks of README.md, docs/*.md and
 * examples/README.md is either run (with the CLI that ships, bin/dlc.js on dist/, in a sandbox
 * where examples/ and data/ look as in the repository; the commands of one file in order, so a
 * build finds the weights the train before it wrote) and must exit 0, or is illustrative for a
 * stated reason (a synopsis with placeholders, an install step, a server, a file the reader
 * brings). A command that matches no reason runs: a command added to the docs is checked from then on.
 *
 * Needs dist/ (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBGPU } from '../helpers/webgpu.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = ['README.md', 'examples/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/** Why a command is not run (the first that matches). */
const ILLUSTRATIVE: readonly [RegExp, string][] = [
  [/\b(FILE|NAME|DIR|W\.safetensors)\b|…|\[--|\|[a-z]/, 'a synopsis with placeholders'],
  [/^(sudo |npm (install|ci|test)\b)/, 'an installation or test-suite step (.ci/run does it)'],
  [/^cd bench\b/, 'a benchmark with its own dependencies (bench/README.md)'],
  [/\bdlc serve\b/, 'a server that runs until Ctrl-C (test/runtime/bundle-load.test.ts and test/browser/ serve with it)'],
  [/\bexample\.dl\b|^mkdir -p results\/out\.npy$/, "an error example: test/docs.test.ts checks each fenced example's code"],
  [/(^| )(mlp|tinycnn)\.dl\b/, 'runs a program the page shows (test/docs.test.ts compiles the fenced programs)'],
  [/(=| )(x|tokens|labels)\.npy\b|(^| )weights\.safetensors\b|only-W\.safetensors/, 'reads a file the reader brings'],
  [/\bruns\/mlp\//, 'reads runs/mlp/, the run directory of the training command the page abbreviates (`--data …`)'],
  [/--backend webgpu/, 'WEBGPU'], // run where WebGPU is available (see below)
];

interface Command {
  readonly doc: string;
  readonly line: number;
  readonly text: string;
}

/** The commands of a document's ```sh blocks: continuation lines joined, comments and blank lines dropped, `a && b` split. */
function commands(doc: string): Command[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const out: Command[] = [];
  const re = /^```(?:sh|bash|shell)[^\n]*\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = text.slice(0, m.index).split('\n').length + 1;
    const lines = m[1]!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const at = start + i;
      let line = lines[i]!;
      while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) line = line.trimEnd().slice(0, -1) + ' ' + lines[++i]!.trim();
      const cmd = line.replace(/\s+#.*$/, '').replace(/\s+/g, ' ').trim();
      if (!cmd || cmd.startsWith('#')) continue;
      // `a && b`: each part on its own, unless it changes directory (then the line is one command).
      for (const part of /(^|&& )cd /.test(cmd) ? [cmd] : cmd.split(' && ')) out.push({ doc, line: at, text: part.trim() });
    }
  }
  return out;
}

function why(c: Command): string | undefined {
  for (const [re, reason] of ILLUSTRATIVE) {
    if (!re.test(c.text)) continue;
    if (reason === 'WEBGPU') return WEBGPU ? undefined : 'needs a WebGPU adapter (none on this machine; CI has one)';
    return reason;
  }
  return undefined;
}

let sandbox = '';

/** A directory tree of symlinks to the files under `from` (directories real), so outputs written into it stay in the sandbox. */
function mirror(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    if (f === 'model') continue; // examples/web/model: a build output
    const src = join(from, f);
    if (statSync(src).isDirectory()) mirror(src, join(to, f));
    else symlinkSync(src, join(to, f));
  }
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build`');
  sandbox = mkdtempSync(join(tmpdir(), 'dlc-docs-'));
  mirror(join(ROOT, 'examples'), join(sandbox, 'examples'));
  for (const d of ['data', 'scripts', 'node_modules', 'dist', 'bin', 'package.json']) symlinkSync(join(ROOT, d), join(sandbox, d));
  mkdirSync(join(sandbox, '.bin'));
  writeFileSync(join(sandbox, '.bin', 'dlc'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/dlc.js')}" "$@"\n`);
  chmodSync(join(sandbox, '.bin', 'dlc'), 0o755);
  cpSync(join(ROOT, 'README.md'), join(sandbox, 'README.md'));
});

afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

describe('shell commands in the documentation', () => {
  const all = DOCS.flatMap(commands);

  it('finds the commands of every document', () => {
    expect(all.length).toBeGreaterThan(40);
    const docs = new Set(all.map((c) => c.doc));
    for (const d of ['README.md', 'examples/README.md', 'docs/backends.md', 'docs/training.md']) expect(docs.has(d), d).toBe(true);
  });

  for (const doc of DOCS) {
    const cs = commands(doc);
    if (cs.length === 0) continue;
    it(`${doc}: every command runs (exit 0) or is illustrative for a reason`, () => {
      const report: string[] = [];
      let ran = 0;
      for (const c of cs) {
        const reason = why(c);
        if (reason) {
          report.push(`  ${c.doc}:${c.line} illustrative (${reason}): ${c.text}`);
          continue;
        }
        const shell = c.text.replace(/^npx dlc\b/, 'dlc');
        try {
          execFileSync('bash', ['-c', shell], { cwd: sandbox, encoding: 'utf8', stdio: 'pipe', timeout: 120_000, env: { ...process.env, PATH: `${join(sandbox, '.bin')}:${process.env['PATH']}` } });
        } catch (e) {
          const err = e as { status?: number; stderr?: string; stdout?: string };
          throw new Error(`${c.doc}:${c.line}: \`${c.text}\` exited ${err.status}:\n${(err.stderr || err.stdout || String(e)).slice(0, 2000)}`);
        }
        ran++;
        report.push(`  ${c.doc}:${c.line} ran: ${c.text}`);
      }
      console.log(`[dlc] ${doc}: ${ran} of ${cs.length} commands run, ${cs.length - ran} illustrative\n${report.join('\n')}`);
    }, 600_000);
  }
});
