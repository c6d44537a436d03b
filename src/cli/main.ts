/**
 * @file The `dlc` command line. Every failure is a diagnostic with a code; nothing the user
 * types produces a stack trace (set DLC_DEBUG=1 to see one for an internal error).
 */
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnosticToJson, renderDiagnostics } from '../diagnostics/render.js';
import { has, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { COMMAND_HELP, MAIN_HELP, VERSION } from './help.js';
import { defaultIo, DiagnosticExit, Exit, json, type Io } from './io.js';

export type { Io } from './common.js';

function cmdHelp(io: Io, args: ParsedArgs): void {
  const topic = args.positional[0];
  if (!topic) io.out(MAIN_HELP);
  else if (COMMAND_HELP[topic]) io.out(COMMAND_HELP[topic]!);
  else throw new UsageError(`no help for \`${topic}\`; commands are ${Object.keys(COMMAND_HELP).join(', ')}`);
}

type Command = (io: Io, args: ParsedArgs) => void | Promise<void>;

/**
 * Each command's module is imported when the command runs, so `dlc --version`, `dlc --help` and
 * usage errors load neither the parser, the compiler nor a backend.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./commands/check.js')).cmdCheck,
  ir: async () => (await import('./commands/ir.js')).cmdIr,
  run: async () => (await import('./commands/run.js')).cmdRun,
  gradcheck: async () => (await import('./commands/gradcheck.js')).cmdGradcheck,
  verify: async () => (await import('./commands/verify.js')).cmdVerify,
  kernels: async () => (await import('./commands/kernels.js')).cmdKernels,
  build: async () => (await import('./commands/build.js')).cmdBuild,
  serve: async () => (await import('./commands/serve.js')).cmdServe,
  train: async () => {
    const { cmdTrain } = await import('./commands/train.js');
    return (io, args) => cmdTrain(io, args, io === defaultIo ? process.stdout : {});
  },
  help: async () => cmdHelp,
};

/** Errors of the compiler and the runtime that carry diagnostics (loaded only once a command failed). */
async function diagnosticErrors(): Promise<DiagnosticErrorClass[]> {
  const [{ BackendError }, { InputError }] = await Promise.all([import('../exec.js'), import('../input-check.js')]);
  return [BackendError, InputError];
}

type DiagnosticErrorClass = abstract new (...args: never[]) => { readonly diagnostics: Diagnostic[] };

function safeJson(args: ParsedArgs): boolean {
  try {
    return json(args);
  } catch {
    return false;
  }
}

function failure(e: unknown, args: ParsedArgs | undefined, io: Io, withDiagnostics: readonly DiagnosticErrorClass[] = []): number {
  if (e instanceof Exit) return e.code;
  if (e instanceof UsageError) {
    const d = error('DL0601', e.message, { help: args?.command && COMMAND_HELP[args.command] ? `see \`dlc help ${args.command}\`` : 'see `dlc --help`' });
    if (args && safeJson(args)) io.out(JSON.stringify({ ok: false, diagnostics: [diagnosticToJson(d)] }, null, 2) + '\n');
    else io.err(renderDiagnostics([d]));
    return 2;
  }
  const carrier = withDiagnostics.find((c) => e instanceof c);
  if (e instanceof DiagnosticExit || carrier) {
    const ds = e instanceof DiagnosticExit ? [e.diagnostic] : (e as InstanceType<DiagnosticErrorClass>).diagnostics;
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
 * `--version`, help and usage errors answer at once; a command's status comes as a promise (its
 * module is loaded first, and commands that may run on WebGPU are asynchronous).
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
    const a = args;
    return cmd()
      .then((run) => run(io, a))
      .then(
        () => 0,
        async (e: unknown) => failure(e, a, io, await diagnosticErrors()),
      );
  } catch (e) {
    return fail(e);
  }
}
