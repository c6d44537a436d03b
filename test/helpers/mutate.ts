/**
 * Deterministic source mutations for fuzzing: character edits, token edits and truncation.
 * Positions are taken modulo the current length, so any number is a valid position.
 */

export type Mutation =
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'duplicate'; at: number; len: number }
  | { kind: 'swap'; at: number; len: number }
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'deleteToken'; at: number }
  | { kind: 'duplicateToken'; at: number }
  | { kind: 'swapTokens'; at: number; with: number }
  | { kind: 'insertToken'; at: number; text: string };

/** Splits source into tokens (names, numbers, single symbols) and the whitespace between them. */
export function tokenize(src: string): string[] {
  return src.match(/[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\s+|#[^\n]*|[-=*/<>!.+]=|->|\.\.\.?|\*\*|\/\/|[^\s]/g) ?? [];
}

export function mutate(src: string, muts: readonly Mutation[]): string {
  let s = src;
  for (const m of muts) {
    const n = s.length;
    const at = n === 0 ? 0 : m.at % (n + 1);
    switch (m.kind) {
      case 'delete':
        s = s.slice(0, at) + s.slice(at + m.len);
        break;
      case 'insert':
        s = s.slice(0, at) + m.text + s.slice(at);
        break;
      case 'duplicate':
        s = s.slice(0, at + m.len) + s.slice(at, at + m.len) + s.slice(at + m.len);
        break;
      case 'swap': {
        const a = s.slice(at, at + m.len);
        const b = s.slice(at + m.len, at + 2 * m.len);
        s = s.slice(0, at) + b + a + s.slice(at + 2 * m.len);
        break;
      }
      case 'replace':
        s = s.slice(0, at) + m.text + s.slice(at + 1);
        break;
      case 'truncate':
        s = s.slice(0, at);
        break;
      default: {
        const toks = tokenize(s);
        if (toks.length === 0) break;
        const i = m.at % toks.length;
        if (m.kind === 'deleteToken') toks.splice(i, 1);
        else if (m.kind === 'duplicateToken') toks.splice(i, 0, toks[i]!);
        else if (m.kind === 'insertToken') toks.splice(i, 0, ` ${m.text} `);
        else {
          const j = m.with % toks.length;
          [toks[i], toks[j]] = [toks[j]!, toks[i]!];
        }
        s = toks.join('');
      }
    }
  }
  return s;
}
