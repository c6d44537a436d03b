/**
 * Golden files: compare text with a committed `.txt`, or rewrite it when UPDATE_GOLDEN=1
 * (`UPDATE_GOLDEN=1 npx vitest run test/diagnostics.test.ts test/ir.test.ts`). Review the
 * diff of every rewritten file before committing it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const UPDATE = process.env['UPDATE_GOLDEN'] === '1' || process.env['UPDATE_GOLDEN'] === 'true';

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Asserts `actual` equals the golden file (absolute path), or rewrites it in update mode. */
export function expectGolden(actual: string, file: string): void {
  if (UPDATE) {
    const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (old !== actual) writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`missing golden file ${file.slice(ROOT.length)}; create it with UPDATE_GOLDEN=1 and review it`);
  }
  expect(actual, `golden ${file.slice(ROOT.length)} differs (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, 'utf8'));
}

/** A CLI `Io` that records what is printed. */
export function captureIo(): { io: { out(s: string): void; err(s: string): void }; out: () => string; err: () => string } {
  let o = '';
  let e = '';
  return {
    io: {
      out: (s: string) => {
        o += s;
      },
      err: (s: string) => {
        e += s;
      },
    },
    out: () => o,
    err: () => e,
  };
}
