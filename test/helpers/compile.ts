/** Shared helpers for tests: compile a source string and run it on the interpreter. */
import { readFileSync } from 'node:fs';
import { check, compile, evaluate, NDArray } from '../../src/index.js';

export function run(src: string, entry: string, inputs: Record<string, NDArray> = {}, dims: Record<string, number> = {}, seed = 0): Map<string, NDArray> {
  const g = compile(src, entry, { dims });
  return evaluate(g, inputs, { seed });
}

export function nd(shape: number[], data: number[]): NDArray {
  return NDArray.from(shape, data);
}

export function errorsOf(src: string, path = 'test.dl'): string[] {
  return check(src, path).diagnostics.map((d) => d.code);
}

export function readExample(name: string): string {
  return readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
}
