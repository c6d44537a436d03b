/** @file The dense linear-algebra ops (each a routine, src/ir/routine.ts). */
import type { OpDef } from '../../op.js';
import { cholesky } from './cholesky.js';
import { triangularSolve } from './triangular-solve.js';
import { solve } from './solve.js';
import { slogdet } from './slogdet.js';
import { eigh } from './eigh.js';

export const LINALG: OpDef[] = [cholesky, triangularSolve, solve, slogdet, eigh];
