/**
 * @file The little every command and `main` share that loads nothing heavy: where output goes,
 * the exits a command throws, and `--format`. `main` imports only this, args.ts and help.ts up
 * front, so `dlc --version` and `dlc --help` do not load the parser or the compiler.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { flag, has, UsageError, type ParsedArgs } from './args.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** Ends a command with an exit status, its output already written. */
export class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Ends a command with one diagnostic (exit 1). */
export class DiagnosticExit extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Whether the command prints JSON (`--format json` or `--json`). */
export function json(args: ParsedArgs): boolean {
  const f = flag(args, 'format');
  if (f !== undefined && f !== 'text' && f !== 'json') throw new UsageError(`--format is text or json, got \`${f}\``);
  return f === 'json' || has(args, 'json');
}
