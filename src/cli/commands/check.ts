/** @file `dlc check`: every error in a file. */
import { checkModule } from '../../frontend/lower/entry.js';
import { parseSource } from '../../frontend/parse.js';
import { loadStdlib } from '../../frontend/stdlib.js';
import { checkFlags, dimsFlag, type ParsedArgs } from '../args.js';
import { emit, json, readSource, unusedDims, type Io } from '../common.js';

export function cmdCheck(io: Io, args: ParsedArgs): void {
  checkFlags(args, ['dim', 'format', 'json']);
  const { path, text } = readSource(args);
  const user = parseSource(path, text);
  const dims = dimsFlag(args);
  const r = checkModule(loadStdlib(), user, { dims });
  emit(io, args, [...unusedDims(user, dims), ...r.diagnostics], { checked: r.checked }, true);
  if (!json(args)) io.out(`${path}: no errors (${r.checked.length} function${r.checked.length === 1 ? '' : 's'} checked)\n`);
}

