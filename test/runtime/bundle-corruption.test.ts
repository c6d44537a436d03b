/**
 * Corrupt bundles: a bundle written by `dlc build --params` with one file truncated, bytes flipped,
 * bytes appended, emptied, removed, swapped for another, or its JSON edited (a random field set to
 * a random value) either loads and computes exactly what the intact bundle computes (the change hit
 * a file the backend does not use) or is refused with a BundleError naming the file at fault —
 * never garbage output, never a raw TypeError or RangeError. Generated with fast-check, on JS and
 * (where WebGPU is available) WebGPU.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadJsBundle, loadProgram } from '../../src/runtime/bundle.js';
import { BundleError } from '../../src/runtime/bundle-errors.js';
import { writeWeights } from '../../src/runtime/weights.js';
import { captureIo } from '../helpers/golden.js';
import { WEBGPU } from '../helpers/webgpu.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let dir = '';
let clean = '';
let files: string[] = [];
const X = Float32Array.from({ length: 2 * 64 }, (_, i) => ((i * 37) % 17) / 16);
const reference: Record<string, number[]> = {};

async function build(out: string, extra: string[]): Promise<void> {
  const io = captureIo();
  const code = await main(['build', join(ROOT, 'examples/digits-mlp.dl'), '--fn', 'DigitsMLP.forward', '--dim', 'B=2', '-o', out, ...extra], io.io);
  if (code !== 0) throw new Error(io.err());
}

function listFiles(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? listFiles(join(d, f)) : [join(d, f)]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dlc-corrupt-'));
  // Weights that differ from the initializers (seed 5), so a bundle that ignored them would show.
  await build(join(dir, 'init'), []);
  const init = await loadJsBundle(join(dir, 'init', 'js'), 5);
  writeFileSync(join(dir, 'w.safetensors'), writeWeights(init.getParams()));
  clean = join(dir, 'clean');
  await build(clean, ['--params', join(dir, 'w.safetensors')]);
  files = listFiles(clean).map((f) => relative(clean, f)).sort();
  for (const backend of ['js', ...(WEBGPU ? ['webgpu' as const] : [])] as const) {
    const p = await loadProgram(clean, { backend });
    reference[backend] = Array.from((await p.run({ x: X }))['out']!);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Corruption =
  | { kind: 'truncate'; file: number; at: number }
  | { kind: 'flip'; file: number; at: number; mask: number }
  | { kind: 'append'; file: number; bytes: number[] }
  | { kind: 'empty'; file: number }
  | { kind: 'remove'; file: number }
  | { kind: 'swap'; file: number; other: number }
  | { kind: 'edit'; file: number; path: number; value: unknown };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), file: fc.nat(), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.record({ kind: fc.constant('flip' as const), file: fc.nat(), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('append' as const), file: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('empty' as const), file: fc.nat() }),
  fc.record({ kind: fc.constant('remove' as const), file: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), file: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant('edit' as const),
    file: fc.nat(),
    path: fc.nat(),
    value: fc.oneof(fc.integer({ min: -5, max: 100000 }), fc.constantFrom(null, '', 'x', [], {}, 1e12, -1, 0.5, true, 70000, 2 ** 32)),
  }),
);

/** Every leaf of a JSON value, as [container, key]. */
function leaves(x: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): [Record<string, unknown> | unknown[], string | number][] {
  if (Array.isArray(x)) x.forEach((v, i) => (typeof v === 'object' && v !== null ? leaves(v, out) : out.push([x, i])));
  else if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) typeof v === 'object' && v !== null && !(Array.isArray(v) && v.length === 0) ? leaves(v, out) : out.push([x as Record<string, unknown>, k]);
  return out;
}

/**
 * Applies a corruption to a copy of the clean bundle; returns the file it changed (relative), or
 * undefined when it changed nothing that means anything (bundle.json's whitespace: its digest is
 * of its JSON content; every other file's bytes are digested).
 */
function corrupt(target: string, c: Corruption): string | undefined {
  const changed = change(target, c);
  if (changed !== 'bundle.json') return changed;
  const parse = (b: Buffer) => {
    try {
      return JSON.stringify(JSON.parse(b.toString('utf8')));
    } catch {
      return undefined;
    }
  };
  const now = parse(readFileSync(join(target, changed)));
  return now !== undefined && now === parse(readFileSync(join(clean, changed))) ? undefined : changed;
}

function change(target: string, c: Corruption): string | undefined {
  const json = files.filter((f) => f.endsWith('.json'));
  const name = c.kind === 'edit' ? json[c.file % json.length]! : files[c.file % files.length]!;
  const path = join(target, name);
  const bytes = readFileSync(path);
  switch (c.kind) {
    case 'truncate':
      writeFileSync(path, bytes.subarray(0, Math.floor(c.at * bytes.length)));
      return name;
    case 'flip': {
      const b = Buffer.from(bytes);
      b[c.at % b.length] ^= c.mask;
      writeFileSync(path, b);
      return name;
    }
    case 'append':
      writeFileSync(path, Buffer.concat([bytes, Buffer.from(c.bytes)]));
      return name;
    case 'empty':
      writeFileSync(path, '');
      return name;
    case 'remove':
      rmSync(path);
      return `${name} (removed)`;
    case 'swap': {
      const other = files[c.other % files.length]!;
      const replacement = readFileSync(join(target, other));
      if (replacement.equals(bytes)) return undefined; // the two backends' weights files are the same
      writeFileSync(path, replacement);
      return name;
    }
    case 'edit': {
      const m = JSON.parse(bytes.toString('utf8')) as unknown;
      const all = leaves(m);
      const [container, key] = all[c.path % all.length]!;
      if (JSON.stringify((container as Record<string, unknown>)[key as string]) === JSON.stringify(c.value)) return undefined;
      (container as Record<string, unknown>)[key as string] = c.value;
      writeFileSync(path, JSON.stringify(m, null, 2) + '\n');
      return name;
    }
  }
}

/** The files a backend's program is loaded from (a change elsewhere may leave it working). */
const usedBy = (backend: string, file: string) => !file.includes('/') || file.startsWith(`${backend}/`);

async function outcome(target: string, backend: 'js' | 'webgpu'): Promise<{ error?: unknown; out?: number[] }> {
  try {
    const p = await loadProgram(target, { backend });
    const out = Array.from((await p.run({ x: X }))['out']!);
    p.destroy();
    return { out };
  } catch (error) {
    return { error };
  }
}

for (const backend of ['js', 'webgpu'] as const) {
  describe.runIf(backend === 'js' || WEBGPU)(`corrupt bundles on ${backend}`, () => {
    it('give a BundleError naming the file, or (a file the backend does not load) the intact output', async () => {
      let n = 0;
      const counts = { refused: 0, unaffected: 0 };
      await fc.assert(
        fc.asyncProperty(corruption, async (c) => {
          const target = join(dir, `case-${backend}-${n++}`);
          cpSync(clean, target, { recursive: true });
          const removed = corrupt(target, c);
          const changed = removed?.replace(' (removed)', '');
          const r = await outcome(target, backend);
          rmSync(target, { recursive: true, force: true });
          if (r.error !== undefined) {
            if (!(r.error instanceof BundleError)) throw new Error(`${JSON.stringify(c)} on ${changed}: not a BundleError: ${String((r.error as Error)?.stack ?? r.error)}`);
            expect(r.error.message).toContain(r.error.file);
            // The error names the changed file, or the file that lists it (its size or digest differs).
            expect([changed, 'bundle.json', `${backend}/manifest.json`]).toContain(r.error.file);
            counts.refused++;
            return;
          }
          // Loaded: then nothing it uses was changed, and it computes what the intact bundle does.
          if (changed !== undefined) expect(usedBy(backend, changed) ? changed : 'unused').toBe('unused');
          expect(r.out).toEqual(reference[backend]);
          counts.unaffected++;
        }),
        { numRuns: backend === 'js' ? (process.env['CI'] ? 300 : 150) : 40, seed: Number(process.env['DLC_CORRUPT_SEED'] ?? 13) },
      );
      console.log(`[dlc] corrupt bundles on ${backend}: ${counts.refused} refused with a BundleError, ${counts.unaffected} changed only files ${backend} does not load (output identical)`);
      expect(counts.refused).toBeGreaterThan(counts.unaffected);
    }, 120_000);
  });
}

describe('BundleError messages', () => {
  const variant = (name: string, change: (root: string) => void) => {
    const target = join(dir, name);
    cpSync(clean, target, { recursive: true });
    change(target);
    return target;
  };
  const editJson = (root: string, file: string, edit: (m: Record<string, any>) => void) => {
    const m = JSON.parse(readFileSync(join(root, file), 'utf8'));
    edit(m);
    writeFileSync(join(root, file), JSON.stringify(m, null, 2));
  };

  it.each([
    ['a missing weights file', (r: string) => rmSync(join(r, 'js/weights.safetensors')), /js\/weights\.safetensors: is missing \(js\/manifest\.json lists it\)/],
    ['a truncated module', (r: string) => writeFileSync(join(r, 'js/program.js'), readFileSync(join(r, 'js/program.js')).subarray(0, 100)), /js\/program\.js: has 100 bytes, js\/manifest\.json says \d+ \(truncated/],
    ['a flipped byte in the weights', (r: string) => {
      const b = readFileSync(join(r, 'js/weights.safetensors'));
      b[b.length - 3] ^= 1;
      writeFileSync(join(r, 'js/weights.safetensors'), b);
    }, /js\/weights\.safetensors: is corrupt: its SHA-256 differs from the one js\/manifest\.json lists/],
    ['an edited manifest', (r: string) => editJson(r, 'js/manifest.json', (m) => (m['buffers'][1]['offset'] = 0)), /bundle.json/],
    ['no bundle.json and no manifest', (r: string) => {
      rmSync(join(r, 'bundle.json'));
      rmSync(join(r, 'js/manifest.json'));
    }, /bundle\.json: is missing, and so is manifest\.json/],
    ['bundle.json that is not JSON', (r: string) => writeFileSync(join(r, 'bundle.json'), '{"format": "dlc-bundle",'), /bundle\.json: is not valid JSON/],
    ['bundle.json of another version', (r: string) => editJson(r, 'bundle.json', (m) => (m['version'] = 9)), /bundle\.json: `version` 9 is not supported/],
  ])('%s', async (_what, change, message) => {
    const target = variant(`msg-${_what.replace(/\W+/g, '-')}`, change);
    const err = await loadProgram(target, { backend: 'js' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(message);
  });

  // A manifest loaded on its own (a backend's directory), edited: its integrity digest no longer matches.
  it('a hand-edited manifest of a backend directory is refused, naming it', async () => {
    const target = variant('msg-edit-dir', (r) => editJson(r, 'js/manifest.json', (m) => (m['buffers'].find((b: { role: string }) => b.role === 'param')['offset'] += 4)));
    await expect(loadProgram(join(target, 'js'))).rejects.toThrow(/js: manifest\.json: was edited after `dlc build` wrote it/);
  });

  it.each([
    ['a buffer past the end of its space', (m: Record<string, any>) => (m['buffers'][0]['offset'] = m['state']['bytes']), /`buffers\[0\]\.offset` \+ size of `.*` \(\d+ \+ \d+ bytes\) runs past the end of the state space/],
    ['a misaligned offset', (m: Record<string, any>) => (m['buffers'][0]['offset'] += 2), /`buffers\[0\]\.offset` \(\d+\) of `.*` is not a multiple of its element size 4/],
    ['an unknown initializer', (m: Record<string, any>) => (m['buffers'].find((b: { init?: unknown }) => b.init)['init']['kind'] = 'golden'), /init\.kind` names no initializer: "golden"/],
    ['an output that names no buffer', (m: Record<string, any>) => (m['outputs'] = ['nope']), /`outputs\[0\]` names `nope`, which is no output buffer/],
    ['a file left out of the list', (m: Record<string, any>) => (m['files'] = m['files'].filter((f: { name: string }) => f.name !== 'program.js')), /`files` does not list program\.js/],
    ['another manifest version', (m: Record<string, any>) => (m['version'] = 3), /`version` 3 is not supported \(this runtime reads version 2/],
    ['a space too large', (m: Record<string, any>) => (m['state']['bytes'] = 1e15), /`state\.bytes` must be a whole number in 0\.\.2147483644/],
    ['too many workgroups (WebGPU)', (m: Record<string, any>) => (m['kernels'][0]['workgroups'] = [70000, 1, 1]), /`kernels\[0\]\.workgroups\[0\]` must be a whole number in 0\.\.65535, is 70000/],
    ['a shader index past the list (WebGPU)', (m: Record<string, any>) => (m['kernels'][1]['shader'] = m['shaders'].length), /`kernels\[1\]\.shader` must be a whole number in 0\.\.\d+/],
    ['a parameter block too long (WebGPU)', (m: Record<string, any>) => (m['kernels'][0]['params'] = new Array(300).fill(0)), /`kernels\[0\]\.params` has 300 values, a parameter block holds 256/],
  ])('a structurally bad manifest (%s) is named before its digest is checked', async (what, edit, message) => {
    const backend = what.includes('WebGPU') ? 'webgpu' : 'js';
    const target = variant(`msg-struct-${what.replace(/\W+/g, '-')}`, (r) => editJson(r, `${backend}/manifest.json`, edit));
    const err = await loadProgram(join(target, backend)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).file).toBe('manifest.json');
    expect((err as Error).message).toMatch(message);
  });
});
