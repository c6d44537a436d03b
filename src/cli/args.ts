/** @file Command-line parsing: `dlc CMD FILE [--flag value]…` with repeatable flags. */

export class UsageError extends Error {}

export interface ParsedArgs {
  readonly command: string | undefined;
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

/** Flags that take no value, and flags that take one; anything else is an unknown option. */
const BOOLEAN_FLAGS = new Set(['help', 'version', 'spans', 'full', 'json', 'quiet']);
const VALUE_FLAGS = new Set(['fn', 'dim', 'input', 'seed', 'out', 'format', 'backend', 'precision', 'after', 'wrt', 'runs', 'o', 'out-dtype', 'train', 'steps', 'params',
  'data', 'val', 'epochs', 'batch', 'patience', 'run-dir', 'resume', 'memory-svg', 'port', 'host']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      flags.set('help', ['']);
      continue;
    }
    if (a === '-o') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new UsageError('-o needs a directory');
      flags.set('o', [next]);
      i++;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!BOOLEAN_FLAGS.has(name) && !VALUE_FLAGS.has(name)) throw new UsageError(`unknown option --${name}${command ? ` for \`dlc ${command}\`` : ''}`);
      let value: string;
      if (eq > 0) value = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(name)) value = '';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
      continue;
    }
    if (command === undefined) command = a;
    else positional.push(a);
  }
  return { command, positional, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

/** `--dim B=32 --dim T=8` (or `--dim B=32,T=8`) as a record. */
export function dimsFlag(args: ParsedArgs): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of args.flags.get('dim') ?? []) {
    for (const part of v.split(',')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+)\s*$/.exec(part);
      if (!m) throw new UsageError(`--dim expects NAME=SIZE (e.g. --dim B=32), got \`${part}\``);
      if (Number(m[2]) === 0) throw new UsageError(`--dim ${m[1]}=0: the dimension \`${m[1]}\` must be at least 1 (tensors with no elements are not supported)`);
      const prev = out[m[1]!];
      if (prev !== undefined && prev !== Number(m[2])) throw new UsageError(`--dim ${m[1]} is given twice, as ${prev} and ${Number(m[2])}`);
      out[m[1]!] = Number(m[2]);
    }
  }
  return out;
}

/** `--input x=path.npy` pairs. */
export function inputsFlag(args: ParsedArgs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of args.flags.get('input') ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input expects NAME=FILE.npy, got \`${v}\``);
    const name = v.slice(0, eq);
    if (name in out) throw new UsageError(`--input ${name} is given twice`);
    out[name] = v.slice(eq + 1);
  }
  return out;
}

export function checkFlags(args: ParsedArgs, allowed: readonly string[]): void {
  for (const k of args.flags.keys()) {
    if (!allowed.includes(k) && k !== 'help') throw new UsageError(`unknown option --${k} for \`dlc ${args.command}\``);
  }
}
