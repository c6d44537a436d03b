/**
 * @file Loads the standard library: every `.dl` file in src/stdlib (nn.dl, optim.dl, …), parsed
 * once per process into one set of declarations that share the stdlib scope. Each declaration keeps
 * the spans of the file it was written in (`<stdlib>/nn.dl`, `<stdlib>/optim.dl`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Decl } from './ast.js';
import { parseSource, type ParseResult } from './parse.js';

let cached: ParseResult | undefined;

/** The stdlib sources sit in ../stdlib relative to this module, in src/ and in dist/ alike. */
const STDLIB_DIR = new URL('../stdlib/', import.meta.url);

/** The standard library's files, by name (`nn.dl`, `optim.dl`), in name order. */
export function stdlibFiles(): { name: string; text: string }[] {
  return readdirSync(fileURLToPath(STDLIB_DIR))
    .filter((f) => f.endsWith('.dl'))
    .sort()
    .map((name) => ({ name, text: readFileSync(fileURLToPath(new URL(name, STDLIB_DIR)), 'utf8') }));
}

/** The text of one standard-library file (default: nn.dl). */
export function stdlibSource(name = 'nn.dl'): string {
  return readFileSync(fileURLToPath(new URL(name, STDLIB_DIR)), 'utf8');
}

/**
 * Every stdlib file parsed, the declarations joined in file-name order. The result's `file` is the
 * first file's; the declarations' spans point at their own files. A name declared in two files is an
 * internal error (the stdlib shares one scope).
 */
export function loadStdlib(): ParseResult {
  if (cached) return cached;
  const parts = stdlibFiles().map((f) => parseSource(`<stdlib>/${f.name}`, f.text));
  if (parts.length === 0) throw new Error('internal: no standard library files found');
  const problems = parts.flatMap((r) => r.diagnostics.map((d) => `${r.file.path}: ${d.code}: ${d.message}`));
  const seen = new Map<string, string>();
  const decls: Decl[] = [];
  for (const r of parts) {
    for (const d of r.program.decls) {
      const prev = seen.get(d.name.name);
      if (prev !== undefined) problems.push(`\`${d.name.name}\` is declared in ${prev} and in ${r.file.path}`);
      seen.set(d.name.name, r.file.path);
      decls.push(d);
    }
  }
  if (problems.length) throw new Error(`internal: the standard library does not parse:\n${problems.join('\n')}`);
  cached = { file: parts[0]!.file, program: { ...parts[0]!.program, decls }, diagnostics: [] };
  return cached;
}
