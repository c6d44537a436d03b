/** @file Loads the standard library (src/stdlib/*.dl), parsed once per process. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSource, type ParseResult } from './parse.js';

let cached: ParseResult | undefined;

/** The stdlib source sits in ../stdlib relative to this module, in src/ and in dist/ alike. */
export function stdlibSource(): string {
  return readFileSync(fileURLToPath(new URL('../stdlib/nn.dl', import.meta.url)), 'utf8');
}

export function loadStdlib(): ParseResult {
  if (cached) return cached;
  const r = parseSource('<stdlib>/nn.dl', stdlibSource());
  if (r.diagnostics.length) {
    throw new Error(`internal: the standard library does not parse:\n${r.diagnostics.map((d) => d.message).join('\n')}`);
  }
  cached = r;
  return r;
}
