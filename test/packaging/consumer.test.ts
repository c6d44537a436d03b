/**
 * What `npm pack` ships, as a user gets it: the tarball's contents (dist/ with typings, the CLI,
 * the standard library, LICENSE; no tests or sources), typings that compile in a strict consumer
 * project without skipLibCheck (a Node project importing `dlc` and `dlc/runtime`; a browser
 * project, DOM types and no Node types, importing `dlc/runtime`), and a JS-backend program that
 * loads and runs from the installed package with `webgpu` (an optional peer dependency) absent.
 *
 * Needs dist/ (`npm run build`); packs with --ignore-scripts so it does not rebuild it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let dir = '';

interface PackFile {
  readonly path: string;
  readonly size: number;
}

function npmPack(args: string[]): { filename: string; files: PackFile[]; size: number } {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as { filename: string; files: PackFile[]; size: number }[])[0]!;
}

const tsc = (project: string) => {
  try {
    execFileSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
};

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build`');
  dir = mkdtempSync(join(tmpdir(), 'dlc-consumer-'));
  const packed = npmPack(['--pack-destination', dir]);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'dlc'), { recursive: true });
  execFileSync('tar', ['xzf', join(dir, packed.filename), '-C', join(modules, 'dlc'), '--strip-components=1']);
  // The package's dependencies (and @types/node for the Node project) from this repository's node_modules; not webgpu.
  const deps = Object.keys((JSON.parse(readFileSync(join(modules, 'dlc/package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const dep of [...deps, '@types/node']) {
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships dist with typings, the CLI, the standard library and LICENSE, and nothing else', () => {
    const { files, size } = npmPack(['--dry-run']);
    const paths = files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'bin/dlc.js', 'dist/index.js', 'dist/index.d.ts', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/bundle.js', 'dist/cli/main.js', 'src/stdlib/nn.dl']) expect(paths, p).toContain(p);
    const stray = paths.filter((p) => !/^(package\.json|README\.md|LICENSE|bin\/dlc\.js|dist\/.*\.(js|d\.ts|js\.map|dl)|src\/stdlib\/[^/]+\.dl)$/.test(p));
    expect(stray).toEqual([]);
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('artifacts/') || p.startsWith('examples/') || p.startsWith('data/'))).toBe(false);
    // Every module has its typings.
    const missing = paths.filter((p) => p.endsWith('.js') && p.startsWith('dist/') && !paths.includes(p.replace(/\.js$/, '.d.ts')));
    expect(missing).toEqual([]);
    expect(size).toBeLessThan(2_000_000);
  });

  it('declares webgpu an optional peer dependency, kept out of the dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/dlc/package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(pkg['dependencies']!['webgpu']).toBeUndefined();
    expect(pkg['peerDependencies']!['webgpu']).toBeDefined();
    expect(pkg['peerDependenciesMeta']!['webgpu']).toEqual({ optional: true });
    expect(pkg['license']).toBe('MIT');
  });
});

describe('a strict consumer project (no skipLibCheck)', () => {
  it('type-checks a Node project importing dlc and dlc/runtime', () => {
    const p = join(dir, 'node-project');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'], lib: ['ES2022'], exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true }, files: ['main.ts'] }));
    writeFileSync(
      join(p, 'main.ts'),
      [
        "import { check, compile } from 'dlc';",
        "import { loadProgram, BundleError, InputError, GpuError, type Program, type TensorInfo } from 'dlc/runtime';",
        "const r = check('fn f(x: f32[2]) -> f32 {\\n  return sum(x)\\n}\\n', 'f.dl');",
        'const n: number = r.diagnostics.length;',
        "const p: Program = await loadProgram('out', { backend: 'js' });",
        'const inputs: readonly TensorInfo[] = p.inputs;',
        'const out = await p.run({ x: new Float32Array(2) });',
        "const first: Float32Array | Float64Array | Int32Array | undefined = out['out'];",
        'console.log(n, inputs, first, BundleError, InputError, GpuError, compile);',
        '',
      ].join('\n'),
    );
    expect(tsc(p)).toBe('');
  });

  it('type-checks a browser project (DOM, no Node types) importing dlc/runtime', () => {
    const p = join(dir, 'web-project');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, skipLibCheck: false, noEmit: true, types: [], lib: ['ES2022', 'DOM'] }, files: ['main.ts'] }));
    writeFileSync(
      join(p, 'main.ts'),
      [
        "import { loadProgram, type Program } from 'dlc/runtime';",
        "const p: Program = await loadProgram(new URL('model/', location.href), { backend: 'auto' });",
        "const out = await p.run({ x: new Float32Array(64) });",
        "document.body.textContent = String(out['out']?.[0]);",
        'export {};',
        '',
      ].join('\n'),
    );
    expect(tsc(p)).toBe('');
  });

  it('the installed package runs a JS bundle with webgpu absent, and finds no WebGPU without it', async () => {
    expect(existsSync(join(dir, 'node_modules/webgpu'))).toBe(false);
    execFileSync(process.execPath, [join(dir, 'node_modules/dlc/bin/dlc.js'), 'build', join(ROOT, 'examples/mlp.dl'), '--fn', 'MLP.forward', '--dim', 'B=1', '-o', join(dir, 'out')], { cwd: dir, stdio: 'pipe' });
    const script = [
      "import { loadProgram, getDevice } from 'dlc/runtime';",
      "const p = await loadProgram('out');",
      "const out = await p.run({ x: new Float32Array(784).fill(0.5) });",
      "console.log(JSON.stringify({ backend: p.backend, n: out.out.length, finite: Array.from(out.out).every(Number.isFinite), device: (await getDevice()) === undefined ? 'none' : 'some' }));",
    ].join('\n');
    const r = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    expect(JSON.parse(r.trim().split('\n').pop()!)).toEqual({ backend: 'js', n: 10, finite: true, device: 'none' });
    // The bundle's index.d.ts types a call in a strict project.
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: [], lib: ['ES2022'] }, files: ['use-bundle.ts'] }));
    writeFileSync(
      join(dir, 'use-bundle.ts'),
      [
        "import type { Inputs, Outputs } from './out/index.js';",
        "import { loadProgram } from 'dlc/runtime';",
        "const p = await loadProgram('out');",
        'const inputs: Inputs = { x: new Float32Array(784) };',
        'const out = (await p.run(inputs)) as Outputs;',
        'const logits: Float32Array = out.out;',
        'export const n: number = logits.length;',
        '',
      ].join('\n'),
    );
    expect(tsc(dir)).toBe('');
    writeFileSync(join(dir, 'use-bundle.ts'), "import type { Inputs } from './out/index.js';\nexport const bad: Inputs = { y: new Float32Array(784) };\n");
    expect(tsc(dir)).toMatch(/use-bundle\.ts\(2,.*error TS2353/);
  });
});
