/**
 * @file The catalog of diagnostic codes. Codes are stable: never renumber, only add.
 * DL01xx lexing and parsing, DL02xx names and declarations, DL03xx types and shapes,
 * DL04xx differentiation, DL05xx backends and device limits, DL06xx inputs and the command line,
 * DL07xx training declarations,
 * DL9xxx internal errors. docs/errors.md explains each one (a test keeps the two in step).
 */
export const CODES = {
  DL0101: 'unexpected character',
  DL0102: 'syntax error',
  DL0103: 'invalid number literal',
  DL0104: 'nesting too deep',

  DL0201: 'unknown name',
  DL0202: 'duplicate definition',
  DL0203: 'wrong number of arguments',
  DL0204: 'bad keyword argument',
  DL0205: 'recursive function',
  DL0206: 'assignment to an undeclared or constant name',
  DL0207: 'value used as the wrong kind of thing',
  DL0208: 'unknown member',
  DL0209: 'unknown initializer',
  DL0210: 'misplaced declaration',
  DL0211: '`let` in a block shadows the variable it updates',

  DL0301: 'contraction size mismatch',
  DL0302: 'shapes do not broadcast',
  DL0303: 'dtype mismatch',
  DL0304: 'argument does not match the parameter type',
  DL0305: 'conflicting sizes for a dimension variable',
  DL0306: 'result does not match the declared type',
  DL0307: 'invalid axis',
  DL0308: 'reshape changes the number of elements',
  DL0309: 'index or slice out of range',
  DL0310: 'compile-time value required',
  DL0311: 'invalid argument to a built-in',
  DL0312: 'program too large',
  DL0313: 'invalid static arithmetic',
  DL0314: 'unused result or missing return',
  DL0315: 'tensor with no elements',
  DL0316: 'probability or range of a random draw out of bounds',
  DL0317: 'state assigned outside a train step',
  DL0318: 'matrix operand of the wrong shape',
  DL0319: 'matrix too large for the linear-algebra routines',

  DL0401: 'not differentiable',
  DL0402: 'gradient is identically zero',
  DL0403: 'invalid gradient target',

  DL0501: 'device limit exceeded',
  DL0502: 'shader compilation failed',

  DL0601: 'bad command-line usage',
  DL0602: 'bad input file',
  DL0603: 'no such function',
  DL0604: 'numerical check failed',
  DL0605: 'input value out of range',
  DL0606: 'input does not match its parameter',
  DL0607: 'cannot write an output file',

  DL0701: 'unknown or invalid optimizer or schedule',
  DL0702: 'invalid hyperparameter',
  DL0703: 'unknown parameter path',
  DL0704: 'loss is not an f32 scalar',
  DL0705: 'nothing to train',
  DL0706: 'malformed train declaration',

  DL9001: 'internal compiler error',
} as const;

export type Code = keyof typeof CODES;
