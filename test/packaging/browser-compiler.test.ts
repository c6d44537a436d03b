/**
 * The compiler runs in a browser: the modules dist/index.js loads (parse, lower, passes, JS and
 * WGSL codegen, the interpreter, gradcheck) and dist/runtime/index.js import no Node built-in; the
 * standard library is embedded (src/frontend/stdlib-sources.ts, from src/stdlib/*.dl by
 * scripts/embed-stdlib.mjs), in src/ and in dist/ alike. test/browser/compile-page.test.ts compiles
 * and runs a program in headless Chromium. Needs dist/ (`npm run build`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { stdlibFiles } from '../../src/frontend/stdlib.js';
import { importChain, importGraph } from '../helpers/imports.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dist = (p: string) => join(ROOT, 'dist', p);
const onDisk = () =>
  readdirSync(join(ROOT, 'src/stdlib'))
    .filter((f) => f.endsWith('.dl'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(ROOT, 'src/stdlib', name), 'utf8') }));

beforeAll(() => {
  if (!existsSync(dist('index.js'))) throw new Error('dist/ is missing: run `npm run build`');
});

describe('the compiler without Node', () => {
  for (const entry of ['index.js', 'runtime/index.js']) {
    it(`dist/${entry} loads no Node built-in (node:fs, node:path, …) before its code runs`, () => {
      const g = importGraph(ROOT, dist(entry));
      expect(g.modules.size).toBeGreaterThan(entry === 'index.js' ? 100 : 10);
      expect(g.builtins.map((b) => `${b.specifier}: ${importChain(g, b.importer, ROOT)}`)).toEqual([]);
    });
  }

  it('the walk finds Node built-ins where there are some (the CLI reads files)', () => {
    const g = importGraph(ROOT, dist('cli/common.js'));
    expect(g.builtins.map((b) => b.specifier)).toEqual(expect.arrayContaining(['node:fs', 'node:path']));
    // and follows packages: the parser's chevrotain
    expect([...g.packages.keys()]).toContain('chevrotain');
  });

  it('the compiler reaches only the packages it depends on', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const g = importGraph(ROOT, dist('index.js'));
    // Packages imported by dlc's own modules (chevrotain's and fast-check's own imports aside).
    const direct = [...g.packages].filter(([, file]) => g.modules.get(file)?.startsWith(dist(''))).map(([spec]) => spec);
    expect(direct.sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('the standard library is embedded: the same files and texts as src/stdlib/*.dl, in src/ and dist/', async () => {
    const files = onDisk();
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['nn.dl', 'optim.dl']));
    expect(stdlibFiles()).toEqual(files);
    const built = (await import(pathToFileURL(dist('frontend/stdlib-sources.js')).href)) as { STDLIB_SOURCES: { name: string; text: string }[] };
    expect(built.STDLIB_SOURCES, 'dist/ is stale: run `npm run build`').toEqual(files);
  });
});
