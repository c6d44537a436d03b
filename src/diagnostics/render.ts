/** @file Renders diagnostics as code frames (rustc style) or as JSON for editors. */
import { CODES } from './codes.js';
import type { Diagnostic } from './diagnostic.js';

const TAB = '    ';

export function renderDiagnostic(d: Diagnostic): string {
  const out = [`${d.severity}[${d.code}]: ${d.message}`];
  const s = d.span;
  if (s) {
    const a = s.file.position(s.start);
    const b = s.file.position(Math.max(s.start, s.end - 1));
    const gutter = String(a.line).length;
    const pad = ' '.repeat(gutter);
    out.push(`${pad}--> ${s.file.path}:${a.line}:${a.col}`);
    out.push(`${pad} |`);
    const raw = s.file.lineText(a.line);
    // Control characters (a binary file, a stray escape) would garble the terminal: each shows as
    // one replacement character, so the caret columns stay right.
    const line = raw.replace(/\t/g, TAB).replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
    // Caret columns must account for expanded tabs before and inside the span.
    const visual = (col: number) => raw.slice(0, col - 1).replace(/\t/g, TAB).length;
    const startCol = visual(a.col);
    const endCol = b.line === a.line ? visual(b.col + 1) : line.length;
    const width = Math.max(1, endCol - startCol);
    out.push(`${a.line} | ${line}`);
    out.push(`${pad} | ${' '.repeat(startCol)}${'^'.repeat(width)}`);
    for (const n of d.notes) out.push(`${pad} = note: ${n}`);
    if (d.help) out.push(`${pad} = help: ${d.help}`);
  } else {
    for (const n of d.notes) out.push(`  = note: ${n}`);
    if (d.help) out.push(`  = help: ${d.help}`);
  }
  return out.join('\n');
}

export function renderDiagnostics(ds: readonly Diagnostic[]): string {
  if (ds.length === 0) return '';
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.length - errors;
  const parts = ds.map(renderDiagnostic);
  const summary: string[] = [];
  if (errors) summary.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (warnings) summary.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return `${parts.join('\n\n')}\n\n${summary.join(', ')}\n`;
}

export interface JsonDiagnostic {
  severity: string;
  code: string;
  title: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  notes: readonly string[];
  help?: string;
}

export function diagnosticToJson(d: Diagnostic): JsonDiagnostic {
  const j: JsonDiagnostic = {
    severity: d.severity,
    code: d.code,
    title: CODES[d.code],
    message: d.message,
    notes: d.notes,
  };
  if (d.span) {
    const a = d.span.file.position(d.span.start);
    const b = d.span.file.position(d.span.end);
    j.file = d.span.file.path;
    j.line = a.line;
    j.column = a.col;
    j.endLine = b.line;
    j.endColumn = b.col;
  }
  if (d.help) j.help = d.help;
  return j;
}
