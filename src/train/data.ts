/**
 * @file Training data: named .npy arrays that share their first axis (one row per example),
 * checked against the step program's inputs, and cut into fixed-size batches in a seeded order.
 *
 * The step program is compiled for one batch size B, so each epoch runs ⌊n / B⌋ full batches and
 * the last n mod B examples of that epoch's order are not used (a different set each epoch, since
 * the order is reshuffled). Validation batches the same way with its own size (see loop.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { spanLocation } from '../diagnostics/source.js';
import type { Graph, Node } from '../ir/graph.js';
import { indexRanges } from '../ir/index-ranges.js';
import { NDArray } from '../ir/ndarray.js';
import { NpyError, readNpy } from '../io/npy.js';

/** A user error of a training run, as one diagnostic. */
export class TrainError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export interface Column {
  readonly name: string;
  readonly file: string;
  readonly array: NDArray;
  readonly kind: 'float' | 'int' | 'bool';
}

export interface Dataset {
  /** `--data` or `--val`: which flag it came from (for messages). */
  readonly flag: string;
  readonly columns: readonly Column[];
  /** Number of examples (the shared first axis). */
  readonly n: number;
}

/** `x=train_x.npy,y=train_y.npy` (also given as repeated flags) as name → file. */
export function parseDataSpec(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    for (const part of v.split(',')) {
      const eq = part.indexOf('=');
      const name = part.slice(0, eq).trim();
      if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !part.slice(eq + 1).trim()) {
        throw new TrainError(error('DL0601', `${flag} expects NAME=FILE.npy pairs separated by commas, got \`${part}\``, { help: `e.g. ${flag} x=train_x.npy,y=train_y.npy (the names are the loss function's parameters)` }));
      }
      if (name in out) throw new TrainError(error('DL0601', `${flag} gives \`${name}\` twice`, {}));
      out[name] = part.slice(eq + 1).trim();
    }
  }
  return out;
}

/** Reads the arrays of a data spec; they must all have the same first axis. */
export function loadDataset(spec: Record<string, string>, flag: string): Dataset {
  const columns: Column[] = [];
  for (const [name, file] of Object.entries(spec)) {
    if (!existsSync(file)) throw new TrainError(error('DL0602', `no such file: ${file} (for ${flag} ${name})`, {}));
    if (!statSync(file).isFile()) throw new TrainError(error('DL0602', `cannot read ${file} for ${flag} ${name}: it is a directory, not a .npy file`, {}));
    let r;
    try {
      r = readNpy(new Uint8Array(readFileSync(file)));
    } catch (e) {
      if (e instanceof NpyError) throw new TrainError(error('DL0602', `cannot read ${file} for ${flag} ${name}: ${e.message}`, {}));
      throw e;
    }
    if (r.array.shape.length === 0) throw new TrainError(error('DL0602', `${file} (${flag} ${name}) holds a scalar; training data needs one row per example (a first axis)`, {}));
    columns.push({ name, file, array: r.array, kind: r.kind });
  }
  const n = columns[0]?.array.shape[0] ?? 0;
  const bad = columns.find((c) => c.array.shape[0] !== n);
  if (bad) {
    const list = columns.map((c) => `\`${c.name}\` has ${c.array.shape[0]} (${c.file})`).join(', ');
    throw new TrainError(error('DL0602', `the arrays of ${flag} do not have the same number of examples (first axis): ${list}`, { help: 'every array holds one row per example, in the same order' }));
  }
  return { flag, columns, n };
}

/**
 * Checks a dataset against a step program's inputs: every input is given, nothing else is, dtypes
 * fit (a float file for an i32 or bool input is refused) and each row has the input's shape after
 * the batch axis. Returns the names of the inputs in the program's order.
 */
export function checkAgainstInputs(ds: Dataset, inputs: readonly Node[], what: string): void {
  const names = inputs.map((i) => String(i.attrs['name']));
  const list = names.map((n) => `\`${n}\``).join(', ');
  for (const c of ds.columns) {
    if (!names.includes(c.name)) throw new TrainError(error('DL0602', `${ds.flag} ${c.name}: ${what} has no parameter \`${c.name}\``, { help: `its parameters are ${list}; give ${ds.flag} ${names.map((n) => `${n}=FILE.npy`).join(',')}` }));
  }
  for (const i of inputs) {
    const name = String(i.attrs['name']);
    const c = ds.columns.find((x) => x.name === name);
    if (!c) throw new TrainError(error('DL0602', `${ds.flag} does not give \`${name}\`, a parameter of ${what}`, { help: `give ${ds.flag} ${names.map((n) => `${n}=FILE.npy`).join(',')}` }));
    if (i.type.shape.length === 0) throw new TrainError(error('DL0606', `parameter \`${name}\` of ${what} is a scalar, so it cannot take a batch of examples from ${c.file}`, { help: 'the loss function\'s data parameters need a batch axis first, e.g. x: f32[B, 64]' }));
    if (i.type.dtype !== 'f32' && c.kind === 'float') {
      throw new TrainError(error('DL0606', `\`${name}\` is ${i.type.dtype} but ${c.file} holds floating-point values`, { help: 'save it with an integer dtype (labels: np.int32 or np.int64)' }));
    }
    const row = i.type.shape.slice(1);
    const got = c.array.shape.slice(1);
    if (row.length !== got.length || row.some((d, k) => d !== got[k])) {
      throw new TrainError(error('DL0606', `each example of \`${name}\` should have shape [${row.join(', ')}] (${what} takes ${i.type.dtype}[${i.type.shape.join(', ')}]), but ${c.file} has shape [${c.array.shape.join(', ')}]`, { help: `the file's shape after the first axis must be [${row.join(', ')}]` }));
    }
  }
}

/**
 * Checks every value of the integer and bool columns before training starts, with the example's
 * row in the file: whole numbers in the i32 range, 0 or 1 for bool, and labels and indices in the
 * range the program reads them with (DL0605), so a bad label is not found halfway through a run.
 */
export function checkValues(ds: Dataset, g: Graph): void {
  const ranges = indexRanges(g);
  for (const i of g.inputs) {
    if (i.type.dtype === 'f32') continue;
    const name = String(i.attrs['name']);
    const c = ds.columns.find((x) => x.name === name);
    if (!c) continue;
    const range = ranges.get(name);
    const row = c.array.size / ds.n;
    for (let k = 0; k < c.array.size; k++) {
      const v = c.array.data[k]!;
      const ok = i.type.dtype === 'bool' ? v === 0 || v === 1 : Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && (!range || (v >= range.lo && v < range.hi));
      if (ok) continue;
      const at = `example ${Math.floor(k / row)}${row > 1 ? ` (value ${k % row} of its row)` : ''} of ${c.file}`;
      const why = i.type.dtype === 'bool' ? 'but a bool is 0 or 1' : !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31 ? 'but an i32 is a whole number in -2^31..2^31-1' : `but as ${range!.use} its values must be in ${range!.lo}..${range!.hi - 1}`;
      throw new TrainError(error('DL0605', `${ds.flag} ${name}: ${at} is ${v}, ${why}`, {
        span: i.span,
        ...(range ? { notes: [range.at.span ? `used as ${range.use} at ${spanLocation(range.at.span)}` : `used as ${range.use}`] } : {}),
        help: range ? 'check the data (labels counted from 1 must be shifted to start at 0)' : 'check the data',
      }));
    }
  }
}

/** The batch of examples order[start..start+size) of every column. */
export function takeBatch(ds: Dataset, order: ArrayLike<number>, start: number, size: number): Map<string, NDArray> {
  const out = new Map<string, NDArray>();
  for (const c of ds.columns) {
    const row = c.array.size / ds.n;
    const data = new Float64Array(size * row);
    for (let k = 0; k < size; k++) {
      const src = order[start + k]! * row;
      data.set(c.array.data.subarray(src, src + row), k * row);
    }
    out.set(c.name, new NDArray([size, ...c.array.shape.slice(1)], data));
  }
  return out;
}

/** The shapes to compile the program for: each column's shape with the first axis set to `batch`. */
export function batchShapes(ds: Dataset, batch: number): Record<string, number[]> {
  return Object.fromEntries(ds.columns.map((c) => [c.name, [batch, ...c.array.shape.slice(1)]]));
}
