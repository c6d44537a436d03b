/** @file Entry point of the front end's syntax half: text → AST plus syntax diagnostics. */
import type { IRecognitionException, IToken } from 'chevrotain';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { span, SourceFile } from '../diagnostics/source.js';
import type { Program } from './ast.js';
import { getParser } from './parser.js';
import { AstBuilder, knownOffset } from './to-ast.js';
import { DlLexer } from './tokens.js';

export interface ParseResult {
  readonly file: SourceFile;
  readonly program: Program;
  readonly diagnostics: Diagnostic[];
}

/** What a grammar rule stands for, in words, for "expected …" messages. */
const RULE_WORDS: Record<string, string> = {
  program: 'a declaration (`fn`, `model`, `const`, `let` or `train`)',
  topDecl: 'a declaration (`fn`, `model`, `const`, `let` or `train`)',
  modelMember: 'a model member (`param`, `layer`, `const` or `fn`)',
  stmt: 'a statement',
  typeExpr: 'a type such as `f32[B, 10]`',
  dim: 'a dimension',
  letStmt: 'a name after `let`',
  indexItem: 'an index or a slice',
};

const CHAR_HELP: Record<string, string> = {
  '!': 'use `not` for logical negation',
  '&': 'use `and` to combine conditions',
  '|': 'use `or` to combine conditions',
  '"': 'the language has no strings',
  "'": 'the language has no strings',
  '$': 'names use letters, digits and `_`',
  '?': 'for a choice between tensors use `where(cond, a, b)`',
};

function describeToken(t: IToken | undefined): string {
  if (!t || t.tokenType.name === 'EOF') return 'the end of the file';
  return `\`${t.image}\``;
}

function expectedWords(e: IRecognitionException): string {
  const rule = e.context.ruleStack[e.context.ruleStack.length - 1] ?? '';
  if (e.name === 'MismatchedTokenException') {
    const m = /Expecting(?: token of type)? --> (.+?) <--/.exec(e.message);
    if (m) return m[1] === 'EOF' ? RULE_WORDS['program']! : m[1]!;
  }
  if (e.name === 'NotAllInputParsedException') return RULE_WORDS['program']!;
  return RULE_WORDS[rule] ?? 'an expression';
}

const COMPARISON = new Set(['<', '<=', '>', '>=', '==', '!=']);

function helpFor(e: IRecognitionException, expected: string): string | undefined {
  const found = e.token?.image;
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  if (found && COMPARISON.has(found)) return 'comparisons cannot be chained; write `a < b and b < c`';
  if (prev?.image === '.' && expected === 'a name') return 'a number needs digits after its point, e.g. `1.0`; `.` is for members like `x.T`';
  if (expected === '`{`' && found === ':') return 'blocks are written with braces: `{ … }`';
  if (found === '=' && (expected === 'an expression' || expected === '`{`')) return 'to compare values use `==`';
  if (expected.startsWith('`)`') || expected.startsWith('`]`') || expected.startsWith('`}`')) return `a bracket is not closed; add ${expected}`;
  return undefined;
}

const MAX_DEPTH = 500;

function maxDepth(text: string): number {
  let depth = 0;
  let best = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) best = Math.max(best, ++depth);
    else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
  return best;
}

/** DL0104 at the deepest bracket of the file (where the nesting gave up). */
function tooDeep(file: SourceFile): Diagnostic {
  let depth = 0;
  let best = 0;
  let at = 0;
  for (let i = 0; i < file.text.length; i++) {
    const c = file.text[i];
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > best) {
        best = depth;
        at = i;
      }
    } else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return error('DL0104', `the program is nested too deeply to parse (${best} levels of brackets)`, { span: span(file, at, Math.min(at + 1, file.text.length)), help: 'split deeply nested expressions with `let`' });
}

export function parseSource(path: string, text: string): ParseResult {
  const file = new SourceFile(path, text);
  const diagnostics: Diagnostic[] = [];
  const lexed = DlLexer.tokenize(text);
  for (const le of lexed.errors) {
    // A whole code point (an emoji is two UTF-16 units).
    const cp = text.codePointAt(le.offset);
    const first = cp === undefined ? '' : String.fromCodePoint(cp);
    const display = /\s/.test(first) || first === '' ? JSON.stringify(first) : /\p{C}/u.test(first) ? `U+${cp!.toString(16).toUpperCase().padStart(4, '0')}` : `\`${first}\``;
    diagnostics.push(error('DL0101', `unexpected character ${display}`, { span: span(file, le.offset, le.offset + Math.max(1, first.length)), help: CHAR_HELP[first] }));
  }
  // Nesting deeper than any program needs is refused before it can exhaust the parser's stack.
  if (maxDepth(text) > MAX_DEPTH) {
    diagnostics.push(tooDeep(file));
    return { file, program: { decls: [] }, diagnostics };
  }
  const parser = getParser();
  parser.input = lexed.tokens;
  let cst;
  try {
    cst = parser.program();
  } catch (e) {
    if (e instanceof RangeError) {
      diagnostics.push(tooDeep(file));
      return { file, program: { decls: [] }, diagnostics };
    }
    throw e;
  }
  const errorOffsets: number[] = [];
  for (const e of parser.errors) {
    const t = e.token;
    const atEnd = !t || t.tokenType.name === 'EOF' || !knownOffset(t.startOffset);
    const start = atEnd ? Math.max(0, text.length - 1) : t.startOffset;
    const end = atEnd ? text.length : (knownOffset(t.endOffset) ? t.endOffset : start) + 1;
    errorOffsets.push(start);
    const expected = expectedWords(e);
    diagnostics.push(
      error('DL0102', `expected ${expected}, found ${describeToken(atEnd ? undefined : t)}`, {
        span: span(file, start, end),
        help: helpFor(e, expected),
      }),
    );
  }
  for (const le of lexed.errors) errorOffsets.push(le.offset);
  let program: Program;
  try {
    const builder = new AstBuilder(file, errorOffsets);
    program = builder.program(cst);
    diagnostics.push(...builder.diagnostics);
  } catch (e) {
    if (e instanceof RangeError) {
      diagnostics.push(tooDeep(file));
      return { file, program: { decls: [] }, diagnostics };
    }
    throw e;
  }
  return { file, program, diagnostics };
}
