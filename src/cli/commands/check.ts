/** @file `dlc check`: every error in a file, and the entry points it checked (names for `--fn`). */
import { checkModule } from '../../frontend/lower/entry.js';
import { parseSource } from '../../frontend/parse.js';
import { loadStdlib } from '../../frontend/stdlib.js';
import { checkFlags, dimsFlag, type ParsedArgs } from '../args.js';
import { emit, json, readSource, unusedDims, type Io } from '../common.js';

/** Entry names listed in the summary line; `--format json` gives them all. */
const LISTED = 30;

/** "(2 functions checked: f, Net.forward)", "(1 function and 1 training step checked: Net.loss, train fit)"; long lists end with a count. */
export function checkedSummary(checked: readonly string[]): string {
  const n = checked.length;
  const steps = checked.filter((c) => c.startsWith('train ')).length;
  const fns = n - steps;
  const stepWords = steps ? ` and ${steps} training step${steps === 1 ? '' : 's'}` : '';
  const count = `${fns} function${fns === 1 ? '' : 's'}${stepWords} checked`;
  if (n === 0) return `(${count})`;
  const shown = checked.slice(0, LISTED).join(', ');
  const more = n > LISTED ? `, … and ${n - LISTED} more (\`--format json\` lists them all)` : '';
  return `(${count}: ${shown}${more})`;
}

export function cmdCheck(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['dim', 'format', 'json']);
  const { path, text } = readSource(args);
  const user = parseSource(path, text);
  const dims = dimsFlag(args);
  const r = checkModule(loadStdlib(), user, { dims });
  emit(io, args, [...unusedDims(user, dims), ...r.diagnostics], { checked: r.checked }, true);
  if (!json(args)) io.out(`${path}: no errors ${checkedSummary(r.checked)}\n`);
}
