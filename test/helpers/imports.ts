/**
 * The static import graph of built modules (dist/): every module an entry loads before any of its
 * code runs, following relative imports and packages in node_modules (their package.json
 * `exports`, `import` condition). Dynamic `import()` is not followed (that is what lazy loading is).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const STATIC_IMPORT = /(?:^|[\n;])\s*(?:import|export)\s+(?:[^'"`;()]*?\s+from\s+)?['"]([^'"]+)['"]/g;
const NODE_BUILTINS = new Set(['fs', 'fs/promises', 'path', 'url', 'os', 'crypto', 'child_process', 'http', 'https', 'module', 'worker_threads', 'util', 'stream', 'buffer', 'process', 'events', 'zlib', 'net']);

export interface ImportGraph {
  /** Every module file reached, with the module that first imported it (undefined for the entry). */
  readonly modules: ReadonlyMap<string, string | undefined>;
  /** Node built-ins imported: `node:fs <- /abs/file.js`. */
  readonly builtins: readonly { specifier: string; importer: string }[];
  /** Each bare specifier reached (`chevrotain`, `pure-rand/generator/mersenne`) and the file it resolves to. */
  readonly packages: ReadonlyMap<string, string>;
}

function conditionTarget(e: unknown): string | undefined {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return conditionTarget(o['import'] ?? o['default'] ?? o['browser']);
  }
  return undefined;
}

/** Resolves a bare specifier from node_modules under `root`. */
export function resolvePackage(root: string, spec: string): string {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const sub = spec.slice(name.length);
  const dir = join(root, 'node_modules', name);
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; module?: string; main?: string };
  const exp = pj.exports as Record<string, unknown> | string | undefined;
  let target: string | undefined;
  if (exp !== undefined) target = typeof exp === 'string' || !Object.keys(exp).some((k) => k.startsWith('.')) ? (sub === '' ? conditionTarget(exp) : undefined) : conditionTarget(exp[`.${sub}`]);
  target ??= sub ? `.${sub}` : (pj.module ?? pj.main ?? 'index.js');
  const file = join(dir, target);
  return existsSync(file) ? file : `${file}.js`;
}

/** Walks the static imports of `entry` (an absolute path to a .js file under `root`). */
export function importGraph(root: string, entry: string): ImportGraph {
  const modules = new Map<string, string | undefined>();
  const builtins: { specifier: string; importer: string }[] = [];
  const packages = new Map<string, string>();
  const todo: [string, string | undefined][] = [[entry, undefined]];
  while (todo.length) {
    const [file, importer] = todo.pop()!;
    if (modules.has(file)) continue;
    modules.set(file, importer);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(STATIC_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || NODE_BUILTINS.has(spec)) {
        builtins.push({ specifier: spec, importer: file });
        continue;
      }
      let next: string;
      if (spec.startsWith('.') || spec.startsWith('/')) next = resolve(dirname(file), spec);
      else {
        next = resolvePackage(root, spec);
        packages.set(spec, next);
      }
      todo.push([next, file]);
    }
  }
  return { modules, builtins, packages };
}

/** `a.js <- b.js <- entry.js`: how a module was reached. */
export function importChain(g: ImportGraph, file: string, root: string): string {
  const chain: string[] = [];
  for (let f: string | undefined = file; f; f = g.modules.get(f)) chain.push(f.startsWith(root) ? f.slice(root.length) : f);
  return chain.join(' <- ');
}
