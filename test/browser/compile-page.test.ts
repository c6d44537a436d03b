/**
 * The compiler in a real browser: headless Chromium (as test/browser/digits-page.test.ts) loads
 * dist/index.js as ES modules, with no bundler: an import map for the packages it imports
 * (chevrotain, fast-check and theirs, resolved from node_modules by test/helpers/imports.ts).
 * The page checks, compiles and runs examples/mlp.dl on the JS backend and the interpreter, and
 * gets what Node's compiler gets; a syntax error comes back as a rendered diagnostic. The policy is
 * dlc serve's with script-src widened as a compiling page needs: `'unsafe-eval'` (a few ops build
 * their scalar functions with `new Function`), `data:` (the JS backend imports the module it
 * generates from a data: URL) and the import map's hash.
 *
 * Needs dist/ (`npm run build`). Without a browser the file is skipped with a message, except
 * under CI=1, where a missing browser fails it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { compile, makeExecutable, NDArray, runPipeline } from '../../src/index.js';
import { CSP, serveStatic, type StaticServer } from '../../src/cli/commands/serve.js';
import { importGraph } from '../helpers/imports.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHROMIUM = process.env['DLC_CHROMIUM'] ?? '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const ART = join(ROOT, 'artifacts', 'browser-compiler');

if (!HAVE_BROWSER) {
  if (process.env['CI']) throw new Error(`CI=1 but there is no browser at ${CHROMIUM} (run scripts/setup-browser.sh)`);
  console.warn(`\n  [dlc] no browser at ${CHROMIUM}: the browser tests are SKIPPED on this machine (scripts/setup-browser.sh installs it; CI requires it)\n`);
}

const MLP = readFileSync(join(ROOT, 'examples/mlp.dl'), 'utf8');
const DIMS = { B: 2 };
const D_IN = 784; // MLP's default d_in

let server: StaticServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

type Result = { errors?: string; js?: Record<string, { shape: number[]; data: number[] }>; interp?: Record<string, { shape: number[]; data: number[] }>; kernels?: number };

const compileAndRun = (source: string, entry: string, dims: Record<string, number>, inputs: Record<string, { shape: number[]; data: number[] }>) =>
  page.evaluate(
    ([s, e, d, i]) => (globalThis as unknown as { dlcCompiler: { compileAndRun(...a: unknown[]): Promise<unknown> } }).dlcCompiler.compileAndRun(s, e, d, i),
    [source, entry, dims, inputs] as const,
  ) as Promise<Result>;

describe.runIf(HAVE_BROWSER)('the compiler in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (the page imports dist/index.js)');
    mkdirSync(ART, { recursive: true });
    // The page: an import map (dlc -> dist/index.js, each package specifier dist/ reaches -> its file) and the module.
    const url = (file: string) => `/${relative(ROOT, file)}`;
    const g = importGraph(ROOT, join(ROOT, 'dist/index.js'));
    const imports: Record<string, string> = { dlc: '/dist/index.js' };
    for (const [spec, file] of g.packages) imports[spec] = url(file);
    const map = JSON.stringify({ imports });
    writeFileSync(
      join(ART, 'index.html'),
      `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>dlc: the compiler in a page</title>\n<link rel="icon" href="data:,">\n` +
        `<script type="importmap">${map}</script>\n<script type="module" src="/test/browser/compile-page/compile.js"></script>\n</head>\n<body data-state="loading"></body>\n</html>\n`,
    );
    const hash = createHash('sha256').update(map).digest('base64');
    const csp = CSP.replace("script-src 'self'", `script-src 'self' 'unsafe-eval' data: 'sha256-${hash}'`);
    expect(csp).not.toBe(CSP);
    server = await serveStatic(ROOT, { port: 0, csp });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
    });
    const response = await page.goto(`${server.url}artifacts/browser-compiler/`);
    expect(response?.headers()['content-security-policy']).toBe(csp);
    await page.waitForSelector('body[data-state=ready]', { state: 'attached', timeout: 60_000 }).catch(async () => {
      throw new Error(`the page did not load (state ${await page.getAttribute('body', 'data-state')}): ${problems.join('; ')}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('compiles examples/mlp.dl in the page and runs it on JS as Node does (and as the interpreter)', async () => {
    const x = { shape: [DIMS.B, D_IN], data: Array.from({ length: DIMS.B * D_IN }, (_, i) => Math.sin(i + 1)) };
    const r = await compileAndRun(MLP, 'MLP.forward', DIMS, { x });
    expect(r.errors).toBeUndefined();
    const graph = runPipeline(compile(MLP, 'MLP.forward', { dims: DIMS })).graph;
    const node = await (await makeExecutable(graph, { backend: 'js', seed: 0 })).run(new Map([['x', NDArray.from(x.shape, x.data)]]));
    expect(Object.keys(r.js!)).toEqual([...node.keys()]);
    for (const [name, v] of node) {
      expect(r.js![name]!.shape).toEqual([...v.shape]);
      expect(r.js![name]!.data).toEqual(Array.from(v.data)); // the same generated code, in f32: the same bits
      r.interp![name]!.data.forEach((y, i) => expect(Math.abs(y - v.data[i]!), `${name}[${i}]`).toBeLessThan(1e-5));
    }
    expect(new Set(r.js!['out']!.data.map((y) => y.toFixed(6))).size).toBeGreaterThan(1);
    expect(r.kernels).toBeGreaterThan(0);
    await page.screenshot({ path: join(ART, 'compiled.png') });
    expect(problems).toEqual([]);
  });

  it('a syntax error comes back as a diagnostic with file, line, column and caret', async () => {
    const r = await compileAndRun('fn f(x: f32[2]) -> f32[2] {\n  return x +\n}\n', 'f', {}, {});
    expect(r.errors).toMatch(/error\[DL0102\]/);
    expect(r.errors).toMatch(/page\.dl:3:1/);
    expect(r.errors).toMatch(/\^/);
    expect(problems).toEqual([]);
  });
});
