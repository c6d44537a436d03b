/**
 * @file Checking the values given for a graph's inputs before they run: every input present, of
 * its declared shape, i32 values whole numbers inside the i32 range, bools 0 or 1, and labels and
 * indices inside their valid range (src/ir/index-ranges.ts). Every backend then sees the same
 * numbers: nothing is truncated, wrapped or clamped on the way in.
 */
import { error, type Diagnostic } from './diagnostics/diagnostic.js';
import { spanLocation } from './diagnostics/source.js';
import type { Graph, Node } from './ir/graph.js';
import { indexRanges, type IndexRange } from './ir/index-ranges.js';
import { formatShape, formatType, numel } from './ir/types.js';

/** Inputs that do not fit the graph; `diagnostics` says which and why. */
export class InputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
  }
}

export interface InputValue {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface InputCheckOptions {
  /**
   * false: let labels and indices outside their valid range through, to test what the program's
   * own ops do with them (default true).
   */
  readonly ranges?: boolean;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** The multi-index of flat position `k` in `shape`, as `[i, j]`. */
function position(shape: readonly number[], k: number): string {
  if (shape.length === 0) return '';
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(k % shape[d]!);
    k = Math.floor(k / shape[d]!);
  }
  return ` at [${idx.join(', ')}]`;
}

function badValue(n: Node, v: number, where: string, why: string, help: string, notes: string[] = []): Diagnostic {
  return error('DL0605', `input \`${String(n.attrs['name'])}\` holds ${v}${where}, ${why}`, { span: n.span, notes, help });
}

/** The first value of an i32 / bool input that cannot be represented, or is outside its range. */
function valueProblem(n: Node, a: InputValue, range: IndexRange | undefined): Diagnostic | undefined {
  const { dtype } = n.type;
  for (let k = 0; k < a.data.length; k++) {
    const v = a.data[k]!;
    const where = position(a.shape, k);
    if (dtype === 'bool') {
      if (v !== 0 && v !== 1) return badValue(n, v, where, 'but a bool is 0 or 1', 'pass 0 for false and 1 for true');
      continue;
    }
    if (!Number.isInteger(v)) return badValue(n, v, where, 'which is not a whole number (the input is i32)', 'round or convert the values to integers');
    if (v < I32_MIN || v > I32_MAX) return badValue(n, v, where, `outside the i32 range ${I32_MIN}..${I32_MAX}`, 'i32 values must fit in 32 bits; the backends would wrap them');
    if (range && (v < range.lo || v >= range.hi)) {
      const notes = range.at.span ? [`used as ${range.use} at ${spanLocation(range.at.span)}`] : [`used as ${range.use}`];
      return badValue(n, v, where, `but as ${range.use} its values must be in ${range.lo}..${range.hi - 1}`, 'check the data (labels counted from 1 must be shifted to start at 0)', notes);
    }
  }
  return undefined;
}

/** Every problem with the given inputs (the first per input), in signature order. */
export function inputDiagnostics(g: Graph, inputs: ReadonlyMap<string, InputValue>, opts: InputCheckOptions = {}, ranges: ReadonlyMap<string, IndexRange> = indexRanges(g)): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const n of g.inputs) {
    const name = String(n.attrs['name']);
    const a = inputs.get(name);
    const want = formatType(n.type);
    if (!a) {
      const given = [...inputs.keys()].map((k) => `\`${k}\``).join(', ');
      out.push(error('DL0606', `missing input \`${name}\` (${want})`, { span: n.span, help: given ? `the inputs given are ${given}` : 'no inputs were given' }));
      continue;
    }
    const same = a.shape.length === n.type.shape.length && a.shape.every((d, i) => d === n.type.shape[i]);
    if (!same) {
      out.push(error('DL0606', `input \`${name}\` should be ${want}, got shape ${formatShape(a.shape)}`, { span: n.span, help: numel(a.shape) === numel(n.type.shape) ? 'the number of values is right: reshape it to the declared shape' : `it needs ${numel(n.type.shape)} values` }));
      continue;
    }
    if (a.data.length !== numel(n.type.shape)) {
      out.push(error('DL0606', `input \`${name}\` (${want}) has ${a.data.length} values, its shape needs ${numel(n.type.shape)}`, { span: n.span }));
      continue;
    }
    if (n.type.dtype === 'f32') continue;
    const p = valueProblem(n, a, opts.ranges === false ? undefined : ranges.get(name));
    if (p) out.push(p);
  }
  // A parameter passed as an input would be ignored, and would silently keep its old values: say
  // so. (Other names that are not inputs are let through: one batch may feed several programs.)
  const list = g.inputs.map((n) => `\`${String(n.attrs['name'])}\``).join(', ') || 'none';
  for (const name of inputs.keys()) {
    if (g.inputs.some((n) => String(n.attrs['name']) === name)) continue;
    const param = g.params.find((n) => String(n.attrs['name']) === name);
    if (param) out.push(error('DL0606', `\`${name}\` is a parameter of the model, not an input`, { span: param.span, help: "set a parameter's values with the executable's setParam / setParams (`--params` on the command line); the inputs are " + list }));
  }
  return out;
}

/** Throws InputError when the inputs do not fit the graph. */
export function checkInputs(g: Graph, inputs: ReadonlyMap<string, InputValue>, opts: InputCheckOptions = {}, ranges?: ReadonlyMap<string, IndexRange>): void {
  const d = inputDiagnostics(g, inputs, opts, ranges);
  if (d.length) throw new InputError(d);
}
