/** @file `dlc gradcheck`: gradients against finite differences. */
import { diagnosticToJson, renderDiagnostics } from '../../diagnostics/render.js';
import { gradcheck, type FunctionReport } from '../../gradcheck/gradcheck.js';
import { closest } from '../../diagnostics/suggest.js';
import { parseSource } from '../../frontend/parse.js';
import { checkFlags, dimsFlag, flag, UsageError, type ParsedArgs } from '../args.js';
import { Exit, intFlag, json, readSource, unusedDims, type Io } from '../common.js';
import { backendFlag, precisionFlag } from './run.js';

function sci(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}

function formatReport(r: FunctionReport, path: string, target: string): string {
  const lines: string[] = [];
  const mark = r.ok ? 'ok  ' : 'FAIL';
  lines.push(`${mark} ${r.fn}  (${r.runs} run${r.runs === 1 ? '' : 's'})`);
  const width = Math.max(4, ...r.tensors.map((t) => t.name.length));
  for (const t of r.tensors) {
    lines.push(`     ${t.kind.padEnd(5)} ${t.name.padEnd(width)}  max abs err ${sci(t.maxAbsErr).padStart(7)}  max rel err ${sci(t.maxRelErr).padStart(7)}${t.ok ? '' : '  <- wrong'}`);
  }
  const c = r.counterexample;
  if (c) {
    const dims = Object.entries(c.dims).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`     smallest failing case: ${dims || 'no free dimensions'}, point seed ${c.pointSeed}`);
    const value = c.failures[0]?.value;
    if (value !== undefined && !Number.isFinite(value)) lines.push(`     the function's value there is ${value}: it is not defined at these random inputs (a log or sqrt of a negative value, a mean over an empty axis?); nothing can be checked there`);
    for (const f of c.failures) {
      lines.push(`       ${f.variable.kind} ${f.variable.name}: reverse mode gives ⟨∇, v⟩ = ${f.ad.toPrecision(6)}, finite differences give ${f.fd.toPrecision(6)}`);
    }
    lines.push(`     replay: dlc gradcheck ${path} --fn ${r.fn}${target} --seed ${r.seed}${Object.keys(c.dims).length ? ` ${Object.entries(c.dims).map(([k, v]) => `--dim ${k}=${v}`).join(' ')}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export async function cmdGradcheck(io: Io, args: ParsedArgs): Promise<void> {
  checkFlags(args, ['fn', 'wrt', 'runs', 'seed', 'dim', 'backend', 'precision', 'format', 'json']);
  const { path, text } = readSource(args);
  const wrt = (args.flags.get('wrt') ?? []).flatMap((w) => w.split(',')).filter((w) => w.length);
  const fn = flag(args, 'fn');
  const runs = intFlag(args, 'runs', 20);
  if (runs < 1) throw new UsageError('--runs must be at least 1');
  const dims = dimsFlag(args);
  const backend = backendFlag(args);
  // The JS backend is checked in f64 unless --precision f32 asks for the f32 program.
  const precision = flag(args, 'precision') ? precisionFlag(args, backend) : undefined;
  const opts = { ...(fn ? { fn } : {}), runs, seed: intFlag(args, 'seed', 0), dims, backend, ...(precision ? { precision } : {}) };
  const r = await gradcheck(text, path, { ...opts, ...(wrt.length ? { wrt } : {}) });
  if (wrt.length && r.diagnostics.every((d) => d.severity !== 'error')) {
    // A --wrt name that matches nothing would otherwise pass silently, having checked nothing.
    const checked = new Set(r.functions.flatMap((f) => f.tensors.map((t) => t.name)));
    const unknown = wrt.filter((w) => !checked.has(w));
    if (unknown.length) {
      const all = [...new Set((await gradcheck(text, path, { ...opts, backend: 'interp', runs: 1 })).functions.flatMap((f) => f.tensors.map((t) => t.name)))];
      const guess = closest(unknown[0]!, all);
      const what = fn ? `\`${fn}\`` : 'the functions checked';
      throw new UsageError(`--wrt ${unknown.join(',')}: ${what} ${fn ? 'has' : 'have'} no float input or parameter named ${unknown.map((u) => `\`${u}\``).join(', ')}${guess ? ` (did you mean \`${guess}\`?)` : ''}; ${all.length ? `they are ${all.map((a) => `\`${a}\``).join(', ')}` : 'they have none'}`);
    }
  }
  const diagnostics = [...unusedDims(parseSource(path, text), dims, fn), ...r.diagnostics];
  if (json(args)) {
    io.out(JSON.stringify({ ok: r.ok, checked: r.checked, diagnostics: diagnostics.map(diagnosticToJson), functions: r.functions }, null, 2) + '\n');
    if (!r.ok) throw new Exit(1);
    return;
  }
  if (diagnostics.length) io.err(renderDiagnostics(diagnostics));
  const target = `${backend === 'interp' ? '' : ` --backend ${backend}`}${precision ? ` --precision ${precision}` : ''}`;
  for (const f of r.functions) io.out(formatReport(f, path, target));
  if (r.functions.length) io.out(`checked: ${r.checked}\n`);
  if (!r.ok) throw new Exit(1);
}

