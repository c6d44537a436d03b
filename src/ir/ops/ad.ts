/**
 * @file Shorthands for writing gradient rules: arithmetic on nodes with broadcasting and
 * literal constants, so a rule reads like its formula (`mul(b, g, sub(b, one, sq(b, y)))`).
 */
import type { GraphBuilder } from '../builder.js';
import * as C from '../compose.js';
import type { Node } from '../graph.js';

type B = GraphBuilder;
type N = Node | number;

function node(b: B, x: N, like: Node): Node {
  return typeof x === 'number' ? C.scalarConst(b, x, like.type.dtype) : x;
}

function bin(op: string) {
  return (b: B, x: N, y: N): Node => {
    const like = typeof x === 'number' ? (y as Node) : x;
    return C.binary(b, op, node(b, x, like), node(b, y, like));
  };
}

export const add = bin('add');
export const sub = bin('sub');
export const mul = bin('mul');
export const div = bin('div');
export const neg = (b: B, x: Node): Node => b.add('neg', [x]);
export const sq = (b: B, x: Node): Node => b.add('mul', [x, x]);
export const un = (b: B, op: string, x: Node): Node => b.add(op, [x]);

/** where(c, x, 0): x where c holds, else zero. */
export function mask(b: B, c: Node, x: Node): Node {
  return C.select(b, c, x, C.fullLike(b, 0, x));
}
