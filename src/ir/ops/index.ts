/** @file The op registry: every primitive, by name. Passes look ops up here; none lists them. */
import type { OpDef } from '../op.js';
import { dotGeneral } from './contraction.js';
import { BINARY, cast, select, stopGradient, UNARY } from './elementwise.js';
import { gather, scatterAdd } from './indexing.js';
import { MOVEMENT } from './movement.js';
import { ARG, REDUCE } from './reduce.js';
import { RANDOM } from './random.js';
import { constant, input, iota, param } from './source.js';
import { fold, unfold } from './window.js';
import { scan } from './scan.js';
import { LINALG } from './linalg/index.js';

const ALL: OpDef[] = [
  ...UNARY,
  ...BINARY,
  select,
  cast,
  stopGradient,
  ...REDUCE,
  ...ARG,
  ...MOVEMENT,
  gather,
  scatterAdd,
  dotGeneral,
  unfold,
  fold,
  ...RANDOM,
  scan,
  ...LINALG,
  input,
  param,
  constant,
  iota,
];

export const OPS: ReadonlyMap<string, OpDef> = new Map(ALL.map((d) => [d.name, d]));

export function getOp(name: string): OpDef {
  const d = OPS.get(name);
  if (!d) throw new Error(`internal: unknown op \`${name}\``);
  return d;
}
