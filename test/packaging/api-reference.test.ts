/**
 * The API reference (docs/api.md) is generated from the TSDoc of the typings that ship
 * (scripts/api-reference.mjs over dist/) and must be up to date; every name `dlc/runtime` exports
 * from the bundle loading modules has a doc comment. Needs dist/ (`npm run build`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('docs/api.md', async () => {
  if (!existsSync(`${ROOT}dist/index.d.ts`)) throw new Error('dist/ is missing: run `npm run build`');
  const { apiReference } = (await import(`${ROOT}scripts/api-reference.mjs`)) as { apiReference(): { markdown: string; undocumented: string[] } };
  const { markdown, undocumented } = apiReference();

  it('is what scripts/api-reference.mjs generates from dist/ (else: npm run build && node scripts/api-reference.mjs)', () => {
    const lines = (s: string) => s.split('\n');
    const have = lines(readFileSync(`${ROOT}docs/api.md`, 'utf8'));
    const want = lines(markdown);
    const first = want.findIndex((l, i) => l !== have[i]);
    expect(first === -1 && have.length === want.length ? 'up to date' : `differs from line ${first + 1}: ${JSON.stringify(want[first])} vs ${JSON.stringify(have[first])}`).toBe('up to date');
  });

  it('documents both entry points, and every runtime export of the bundle modules has a doc comment', () => {
    expect(markdown).toContain('## `dlc`');
    expect(markdown).toContain('## `dlc/runtime`');
    for (const name of ['loadProgram', 'Program', 'LoadOptions', 'BundleError', 'InputError', 'GpuError', 'manifestProblem', 'sha256Hex', 'Manifest', 'checkManifest']) expect(markdown, name).toContain(`### ${name}\n`);
    const ours = new Set(['loadProgram', 'loadJsBundle', 'loadWebGpuBundle', 'LoadOptions', 'ReadFile', 'Program', 'InputValue', 'TensorInfo', 'BundleError', 'InputError', 'GpuError', 'manifestProblem', 'bundleIndexProblem', 'sha256Hex', 'Manifest', 'ManifestBuffer', 'ManifestFile', 'ManifestKernel', 'BundleIndex', 'checkManifest', 'MANIFEST_FORMAT', 'MANIFEST_VERSION']);
    const missing = undocumented.filter((u) => u.startsWith('dlc/runtime: ') && ours.has(u.slice('dlc/runtime: '.length)));
    if (undocumented.length) console.log(`[dlc] exports without a doc comment (${undocumented.length}): ${undocumented.join(', ')}`);
    expect(missing).toEqual([]);
  });
});
