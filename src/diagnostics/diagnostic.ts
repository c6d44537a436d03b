/** @file Diagnostics: one user-facing message with a code, a primary span, notes and a help line. */
import type { Code } from './codes.js';
import type { Span } from './source.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: Code;
  /** Plain words, lowercase start, no trailing period. */
  readonly message: string;
  readonly span?: Span;
  /** Extra lines shown as `= note: …` (e.g. where an inlined function was called). */
  readonly notes: readonly string[];
  /** A fix, when one is known. */
  readonly help?: string;
}

export interface DiagnosticInit {
  span?: Span | undefined;
  notes?: string[];
  help?: string | undefined;
}

export function error(code: Code, message: string, init: DiagnosticInit = {}): Diagnostic {
  return make('error', code, message, init);
}

export function warning(code: Code, message: string, init: DiagnosticInit = {}): Diagnostic {
  return make('warning', code, message, init);
}

function make(severity: Severity, code: Code, message: string, init: DiagnosticInit): Diagnostic {
  return {
    severity,
    code,
    message,
    ...(init.span ? { span: init.span } : {}),
    notes: init.notes ?? [],
    ...(init.help ? { help: init.help } : {}),
  };
}

/**
 * A user-facing failure carried by an exception through code that cannot return a diagnostic
 * directly (op shape rules, the lowering of one expression). Caught where a span is known.
 */
export class DiagnosticError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Collects diagnostics, dropping exact duplicates (the same error reached twice by inlining). */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  add(d: Diagnostic): void {
    const key = `${d.severity}|${d.code}|${d.message}|${d.span?.file.path}|${d.span?.start}|${d.span?.end}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }

  addAll(ds: Iterable<Diagnostic>): void {
    for (const d of ds) this.add(d);
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  /** In source order (file, then offset); diagnostics without a span go last. */
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => {
      if (!a.span || !b.span) return (a.span ? 0 : 1) - (b.span ? 0 : 1);
      if (a.span.file.path !== b.span.file.path) return a.span.file.path < b.span.file.path ? -1 : 1;
      return a.span.start - b.span.start || a.span.end - b.span.end;
    });
  }
}
