/**
 * The digits page (examples/web/) in a real browser: headless Chromium (Debian's `chromium`,
 * installed by scripts/setup-browser.sh) driven by playwright-core. From a fresh build of what
 * ships: `dlc train` the digits MLP, `dlc build` it, `dlc serve`'s server (strict CSP), then the
 * page loads the bundle, classifies known validation images correctly on the JS backend, through
 * its controls and through a digit drawn with the mouse, and on WebGPU where headless Chromium
 * gets an adapter (it does with --enable-unsafe-webgpu: SwiftShader, Chromium 156; without the
 * flag it has navigator.gpu but no adapter). Screenshots go to artifacts/browser/.
 *
 * Needs dist/ (`npm run build`: the page imports dist/runtime/). Without a browser the file is
 * skipped with a message, except under CI=1 (.ci/run), where a missing browser fails it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadProgram } from '../../src/runtime/bundle.js';
import { readNpy } from '../../src/io/npy.js';
import { serveStatic, type StaticServer } from '../../src/cli/commands/serve.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHROMIUM = process.env['DLC_CHROMIUM'] ?? '/usr/bin/chromium';
const HAVE_BROWSER = existsSync(CHROMIUM);
const ART = join(ROOT, 'artifacts', 'browser');
const MODEL = join(ART, 'model');

if (!HAVE_BROWSER) {
  if (process.env['CI']) throw new Error(`CI=1 but there is no browser at ${CHROMIUM} (run scripts/setup-browser.sh)`);
  console.warn(`\n  [dlc] no browser at ${CHROMIUM}: the browser tests are SKIPPED on this machine (scripts/setup-browser.sh installs it; CI requires it)\n`);
}

const dlc = (...argv: string[]) => execFileSync(process.execPath, [join(ROOT, 'bin/dlc.js'), ...argv], { cwd: ROOT, encoding: 'utf8' });

let server: StaticServer;
let browser: Browser;
/** Validation images the Node runtime classifies correctly, with its probabilities. */
let known: { index: number; label: number; probs: number[] }[] = [];

const softmax = (v: ArrayLike<number>) => {
  const a = Array.from(v);
  const m = Math.max(...a);
  const e = a.map((x) => Math.exp(x - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((x) => x / s);
};

async function openPage(backend: 'js' | 'webgpu'): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A CSP violation, or anything else the page logs as an error (the favicon is data:, so none 404s).
    if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  const response = await page.goto(`${server.url}examples/web/?backend=${backend}&model=../../artifacts/browser/model/`);
  expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
  await page.waitForSelector('body[data-state=ready], body[data-state=error]', { timeout: 60_000 });
  const state = await page.getAttribute('body', 'data-state');
  if (state !== 'ready') throw new Error(`the page did not load: ${await page.textContent('#status')} ${problems.join('; ')}`);
  return { page, problems };
}

async function checkKnown(page: Page, tol: number): Promise<void> {
  for (const k of known) {
    const r = (await page.evaluate((i) => (globalThis as unknown as { dlcDigits: { classifyValidation(i: number): Promise<{ digit: number; label: number; probs: number[] }> } }).dlcDigits.classifyValidation(i), k.index)) as { digit: number; label: number; probs: number[] };
    expect(r.label).toBe(k.label);
    expect(r.digit, `validation image #${k.index}`).toBe(k.label);
    r.probs.forEach((p, d) => expect(Math.abs(p - k.probs[d]!), `image #${k.index} p(${d})`).toBeLessThan(tol));
  }
}

describe.runIf(HAVE_BROWSER)('the digits page in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/runtime/index.js'))) throw new Error('dist/ is missing: run `npm run build` (the page imports dist/runtime/index.js)');
    rmSync(ART, { recursive: true, force: true });
    mkdirSync(ART, { recursive: true });
    // The path a user follows (README.md / examples/README.md), with the CLI that ships.
    dlc('train', 'examples/digits-mlp.dl', '--data', 'x=data/digits/train_x.npy,y=data/digits/train_y.npy', '--val', 'x=data/digits/val_x.npy,y=data/digits/val_y.npy', '--epochs', '10', '--batch', '32', '--seed', '1', '--backend', 'js', '--run-dir', join(ART, 'run'));
    dlc('build', 'examples/digits-mlp.dl', '--fn', 'DigitsMLP.forward', '--dim', 'B=1', '--params', join(ART, 'run', 'weights.safetensors'), '-o', MODEL);
    // The Node runtime's answers on a few validation images of different classes, which it gets right.
    const x = readNpy(readFileSync(join(ROOT, 'data/digits/val_x.npy'))).array;
    const y = readNpy(readFileSync(join(ROOT, 'data/digits/val_y.npy'))).array;
    const p = await loadProgram(MODEL, { backend: 'js' });
    const seen = new Set<number>();
    for (let i = 0; i < 360 && known.length < 4; i++) {
      const label = y.data[i]!;
      if (seen.has(label)) continue;
      const probs = softmax((await p.run({ x: x.data.slice(i * 64, (i + 1) * 64) }))['out']!);
      if (probs.indexOf(Math.max(...probs)) !== label) continue;
      seen.add(label);
      known.push({ index: i, label, probs });
    }
    expect(known.length).toBe(4);
    server = await serveStatic(ROOT, { port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the bundle on JS and classifies known validation images as the Node runtime does', async () => {
    const { page, problems } = await openPage('js');
    expect(await page.getAttribute('body', 'data-backend')).toBe('js');
    await checkKnown(page, 1e-6);
    // Through the page's own controls: pick an image, press Classify, read the prediction.
    const k = known[1]!;
    await page.fill('#pick', String(k.index));
    await page.click('#classify-pick');
    await expect.poll(() => page.textContent('#prediction')).toBe(String(k.label));
    expect(await page.textContent('#truth')).toBe(`Image #${k.index} is a ${k.label}.`);
    await page.screenshot({ path: join(ART, 'digits-js.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('classifies a digit drawn with the mouse (a vertical stroke: a 1)', async () => {
    const { page, problems } = await openPage('js');
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let t = 1; t <= 20; t++) await page.mouse.move(box.x + box.width * (0.5 - 0.04 * (t / 20)), box.y + box.height * (0.15 + 0.7 * (t / 20)));
    await page.mouse.up();
    await page.waitForSelector('body[data-state=classified]');
    const probs = await page.$$eval('#probs li', (lis) => lis.map((li) => Number((li as unknown as { dataset: Record<string, string> }).dataset['p'])));
    expect(probs).toHaveLength(10);
    expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
    expect(await page.textContent('#prediction')).toBe('1');
    await page.screenshot({ path: join(ART, 'digits-drawn.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('on WebGPU when headless Chromium has an adapter (reported either way)', async () => {
    const probe = await browser.newPage();
    await probe.goto(`${server.url}examples/web/?backend=js&model=../../artifacts/browser/model/`);
    const adapter = await probe.evaluate(async () => {
      const gpu = (globalThis as unknown as { navigator: { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } } }).navigator.gpu;
      const a = gpu ? await gpu.requestAdapter() : null;
      return gpu ? (a ? `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''} ${a.info?.description ?? ''}`.trim() || 'an adapter' : null) : undefined;
    });
    await probe.close();
    if (!adapter) {
      console.warn(`\n  [dlc] headless Chromium (${CHROMIUM}) has ${adapter === undefined ? 'no navigator.gpu' : 'navigator.gpu but no WebGPU adapter'}: the page's WebGPU case did NOT run\n`);
      return;
    }
    console.log(`[dlc] headless Chromium's WebGPU adapter: ${adapter}; the page's WebGPU case runs`);
    const { page, problems } = await openPage('webgpu');
    expect(await page.getAttribute('body', 'data-backend')).toBe('webgpu');
    await checkKnown(page, 1e-4);
    await page.screenshot({ path: join(ART, 'digits-webgpu.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
