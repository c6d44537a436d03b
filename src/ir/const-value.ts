/** @file Recognizing constants: a scalar literal, possibly reshaped or broadcast. */
import type { Node } from './graph.js';

/** The value of a node that is one number repeated, or undefined. */
export function splatValue(n: Node): number | undefined {
  let x = n;
  while (x.op === 'broadcast' || x.op === 'reshape') x = x.inputs[0]!;
  if (x.op !== 'constant') return undefined;
  const v = x.attrs['value'];
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((e) => e === v[0])) return v[0] as number;
  return undefined;
}

export function isSplat(n: Node, value: number): boolean {
  return splatValue(n) === value;
}
