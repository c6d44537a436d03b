/** @file Every token of the `.dl` language, defined once. */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });

const keyword = (word: string) => createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, label: `\`${word}\`` });

export const Const = keyword('const');
export const Fn = keyword('fn');
export const Model = keyword('model');
export const Param = keyword('param');
export const Layer = keyword('layer');
export const Let = keyword('let');
export const For = keyword('for');
export const In = keyword('in');
export const If = keyword('if');
export const Else = keyword('else');
export const Return = keyword('return');
export const True = keyword('true');
export const False = keyword('false');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');

export const Float = createToken({ name: 'Float', pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/, label: 'a number' });
export const Int = createToken({ name: 'Int', pattern: /\d+/, label: 'a number' });

const op = (name: string, pattern: RegExp, label: string) => createToken({ name, pattern, label: `\`${label}\`` });

export const Arrow = op('Arrow', /->/, '->');
export const Ellipsis = op('Ellipsis', /\.\.\./, '...');
export const DotDot = op('DotDot', /\.\./, '..');
export const Dot = op('Dot', /\./, '.');
export const PlusAssign = op('PlusAssign', /\+=/, '+=');
export const MinusAssign = op('MinusAssign', /-=/, '-=');
export const StarAssign = op('StarAssign', /\*=/, '*=');
export const SlashAssign = op('SlashAssign', /\/=/, '/=');
export const StarStar = op('StarStar', /\*\*/, '**');
export const SlashSlash = op('SlashSlash', /\/\//, '//');
export const EqEq = op('EqEq', /==/, '==');
export const NotEq = op('NotEq', /!=/, '!=');
export const LessEq = op('LessEq', /<=/, '<=');
export const GreaterEq = op('GreaterEq', />=/, '>=');
export const Less = op('Less', /</, '<');
export const Greater = op('Greater', />/, '>');
export const Assign = op('Assign', /=/, '=');
export const Plus = op('Plus', /\+/, '+');
export const Minus = op('Minus', /-/, '-');
export const Star = op('Star', /\*/, '*');
export const Slash = op('Slash', /\//, '/');
export const Percent = op('Percent', /%/, '%');
export const At = op('At', /@/, '@');
export const Colon = op('Colon', /:/, ':');
export const Comma = op('Comma', /,/, ',');
export const Semi = op('Semi', /;/, ';');
export const LParen = op('LParen', /\(/, '(');
export const RParen = op('RParen', /\)/, ')');
export const LBracket = op('LBracket', /\[/, '[');
export const RBracket = op('RBracket', /\]/, ']');
export const LBrace = op('LBrace', /\{/, '{');
export const RBrace = op('RBrace', /\}/, '}');

/**
 * `train` starts a training declaration, but is not reserved: the token is also an Identifier
 * (its category), so it can name anything. Only the start of a top-level declaration reads it as
 * the declaration word (see the parser's trainDecl).
 */
export const TrainWord = createToken({ name: 'TrainWord', pattern: /train/, longer_alt: Identifier, categories: [Identifier], label: 'a name' });

/**
 * `state` starts a model's non-trainable state member (`state running_mean: f32[d] = zeros`), but is
 * not reserved either: like `train` it is also an Identifier, read as the word only at the start of a
 * model member.
 */
export const StateWord = createToken({ name: 'StateWord', pattern: /state/, longer_alt: Identifier, categories: [Identifier], label: 'a name' });

export const KEYWORDS = [Const, Fn, Model, Param, Layer, Let, For, In, If, Else, Return, True, False, And, Or, Not];

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  ...KEYWORDS,
  TrainWord,
  StateWord,
  Identifier,
  Float,
  Int,
  Arrow,
  Ellipsis,
  DotDot,
  Dot,
  PlusAssign,
  MinusAssign,
  StarAssign,
  SlashAssign,
  StarStar,
  SlashSlash,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  At,
  Colon,
  Comma,
  Semi,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
];

export const DlLexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });
