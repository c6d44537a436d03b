/**
 * @file The `dlc` command line. Every failure is a diagnostic with a code; nothing the user
 * types produces a stack trace (set DLC_DEBUG=1 to see one for an internal error).
 */
import { error } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../diagnostics/render.js';
import { BackendError } from '../exec.js';
import { InputError } from '../input-check.js';
import { has, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { cmdBuild } from './commands/build.js';
import { cmdCheck } from './commands/check.js';
import { cmdGradcheck } from './commands/gradcheck.js';
import { cmdIr } from './commands/ir.js';
import { cmdKernels } from './commands/kernels.js';
import { cmdRun } from './commands/run.js';
import { cmdServe } from './commands/serve.js';
import { cmdTrain } from './commands/train.js';
import { cmdVerify } from './commands/verify.js';
import { defaultIo, DiagnosticExit, Exit, json, type Io } from './common.js';
import { COMMAND_HELP, MAIN_HELP, VERSION } from './help.js';

export type { Io } from './common.js';

function cmdHelp(io: Io, args: ParsedArgs): void {
  const topic = args.positional[0];
  if (!topic) io.out(MAIN_HELP);
  else if (COMMAND_HELP[topic]) io.out(COMMAND_HELP[topic]!);
  else throw new UsageError(`no help for \`${topic}\`; commands are ${Object.keys(COMMAND_HELP).join(', ')}`);
}

const COMMANDS: Record<string, (io: Io, args: ParsedArgs) => void | Promise<void>> = {
  check: cmdCheck,
  ir: cmdIr,
  run: cmdRun,
  gradcheck: cmdGradcheck,
  verify: cmdVerify,
  kernels: cmdKernels,
  build: cmdBuild,
  serve: cmdServe,
  train: (io, args) => cmdTrain(io, args, io === defaultIo ? process.stdout : {}),
  help: cmdHelp,
};

function safeJson(args: ParsedArgs): boolean {
  try {
    return json(args);
  } catch {
    return false;
  }
}

function failure(e: unknown, args: ParsedArgs | undefined, io: Io): number {
  if (e instanceof Exit) return e.code;
  if (e instanceof UsageError) {
    const d = error('DL0601', e.message, { help: args?.command && COMMAND_HELP[args.command] ? `see \`dlc help ${args.command}\`` : 'see `dlc --help`' });
    if (args && safeJson(args)) io.out(JSON.stringify({ ok: false, diagnostics: [diagnosticToJson(d)] }, null, 2) + '\n');
    else io.err(renderDiagnostics([d]));
    return 2;
  }
  if (e instanceof DiagnosticExit || e instanceof BackendError || e instanceof InputError) {
    const ds = e instanceof DiagnosticExit ? [e.diagnostic] : e.diagnostics;
    if (args && safeJson(args)) io.out(JSON.stringify({ ok: false, diagnostics: ds.map(diagnosticToJson) }, null, 2) + '\n');
    else io.err(renderDiagnostics(ds));
    return 1;
  }
  const msg = e instanceof Error ? e.message : String(e);
  const d = error('DL9001', `internal compiler error: ${msg}`, { help: 'this is a bug in dlc; please report it with the input that caused it' });
  io.err(renderDiagnostics([d]));
  if (process.env['DLC_DEBUG'] && e instanceof Error) io.err(`${e.stack}\n`);
  return 3;
}

/**
 * Runs the CLI; returns the exit status (0 ok, 1 errors in the program, 2 usage, 3 internal).
 * Commands that may run on WebGPU are asynchronous: for them the status comes as a promise.
 */
export function main(argv: readonly string[], io: Io = defaultIo): number | Promise<number> {
  let args: ParsedArgs | undefined;
  const fail = (e: unknown): number => failure(e, args, io);
  try {
    args = parseArgs(argv);
    if (has(args, 'version')) {
      io.out(`dlc ${VERSION}\n`);
      return 0;
    }
    if (!args.command || (has(args, 'help') && !COMMANDS[args.command])) {
      io.out(MAIN_HELP);
      return args.command || has(args, 'help') ? 0 : 2;
    }
    const cmd = COMMANDS[args.command];
    if (!cmd) throw new UsageError(`unknown command \`${args.command}\`; commands are ${Object.keys(COMMANDS).join(', ')} (see dlc --help)`);
    if (has(args, 'help')) {
      io.out(COMMAND_HELP[args.command] ?? MAIN_HELP);
      return 0;
    }
    const r = cmd(io, args);
    return r instanceof Promise ? r.then(() => 0, fail) : 0;
  } catch (e) {
    return fail(e);
  }
}
