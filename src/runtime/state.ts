/**
 * @file The persistent state of a program by name: model parameters (role `param`) and optimizer
 * state and step counters (role `state`). Reading gives every tensor; writing checks every tensor
 * given (known name, dtype, shape, value count, values the dtype can hold) before any is written,
 * so a bad map changes nothing. Imports nothing from the compiler.
 */
import { bufferByName, type DTypeName, type Manifest, type ManifestBuffer } from './manifest.js';
import { readWeights } from './weights.js';

/** A named tensor of a program's state: its dtype and shape, row-major values. */
export interface Tensor {
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** What a persistent buffer must hold. */
export interface Slot {
  readonly name: string;
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  readonly role: 'param' | 'state';
}

export interface SetOptions {
  /** true: the map may give only some of the tensors (the others keep their values). Default false: all of them. */
  readonly partial?: boolean;
}

export interface StateProblem {
  readonly tensor: string;
  /** unknown: no such tensor; mismatch: dtype, shape or value count; value: a value the dtype cannot hold; missing: not given. */
  readonly kind: 'unknown' | 'mismatch' | 'value' | 'missing';
  readonly message: string;
}

/** A state map that does not fit the program; nothing was written. `problems` name each tensor. */
export class StateError extends Error {
  constructor(readonly problems: readonly StateProblem[]) {
    const hint = problems.some((p) => p.kind === 'missing') ? '\n(give every one, or pass { partial: true } to replace some)' : '';
    super((problems.length === 1 ? problems[0]!.message : `${problems.length} tensors do not fit:\n${problems.map((p) => `  ${p.message}`).join('\n')}`) + hint);
  }
}

/** The persistent buffers of a manifest: its parameters, and with `state` its optimizer state too. */
export function manifestSlots(m: Manifest, which: 'params' | 'state'): Slot[] {
  const out: Slot[] = [];
  for (const b of m.buffers) if (b.role === 'param' || (which === 'state' && b.role === 'state')) out.push({ name: b.name, dtype: b.dtype, shape: b.shape, role: b.role });
  return out;
}

const typeText = (dtype: string, shape: readonly number[]) => `${dtype}[${shape.join(', ')}]`;

function valueProblem(dtype: DTypeName, data: ArrayLike<number>): string | undefined {
  if (dtype === 'f32') return undefined;
  for (let k = 0; k < data.length; k++) {
    const v = Number(data[k]);
    const ok = dtype === 'bool' ? v === 0 || v === 1 : Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
    if (!ok) return `value ${v} at index ${k} is not ${dtype === 'bool' ? '0 or 1' : 'a whole number in the i32 range'}`;
  }
  return undefined;
}

/**
 * Checks a map against the slots it may write; throws StateError listing every tensor that does
 * not fit (an unknown name, a dtype, shape or value count that differs, a value the dtype cannot
 * hold, and, unless partial, a slot the map leaves out).
 */
export function checkTensors(slots: readonly Slot[], tensors: ReadonlyMap<string, Tensor>, what: 'params' | 'state', opts: SetOptions = {}): void {
  const byName = new Map(slots.map((s) => [s.name, s]));
  const problems: StateProblem[] = [];
  const noun = what === 'params' ? 'parameter' : 'state tensor';
  for (const [name, t] of tensors) {
    const s = byName.get(name);
    const say = (kind: StateProblem['kind'], message: string) => problems.push({ tensor: name, kind, message: `\`${name}\`: ${message}` });
    if (!s) {
      const known = slots.map((x) => `\`${x.name}\``);
      say('unknown', `the program has no ${noun} of this name (its ${what === 'params' ? 'parameters' : 'state tensors'}: ${known.slice(0, 12).join(', ') || 'none'}${known.length > 12 ? ', …' : ''})`);
      continue;
    }
    const want = typeText(s.dtype, s.shape);
    const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (t.dtype !== s.dtype || !same) {
      say('mismatch', `is ${typeText(t.dtype, t.shape)} but the program's ${noun} is ${want}`);
      continue;
    }
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      say('mismatch', `${want} has ${n} values, got ${t.data.length}`);
      continue;
    }
    const bad = valueProblem(s.dtype, t.data);
    if (bad) say('value', `is ${s.dtype}: ${bad}`);
  }
  if (!opts.partial) {
    for (const s of slots) if (!tensors.has(s.name)) problems.push({ tensor: s.name, kind: 'missing', message: `\`${s.name}\`: missing (the program's ${noun} is ${typeText(s.dtype, s.shape)})` });
  }
  if (problems.length) throw new StateError(problems);
}

/**
 * What both executors share: writing state by name through `put` (which stores one buffer's
 * values where the executor keeps them), after checking every tensor.
 */
export abstract class StateWriter {
  abstract readonly manifest: Manifest;
  /**
   * Whether `run` refuses class labels and indices outside their range (the manifest's `range` of
   * an input). false lets them through, to test what the ops themselves do with them.
   */
  checkRanges = true;
  protected abstract put(b: ManifestBuffer, values: ArrayLike<number>): void;

  /**
   * Replaces parameters by name. Every tensor is checked (name, dtype, shape, value count, values)
   * before any is written; a StateError lists those that do not fit. All of them unless `partial`.
   */
  setParams(tensors: ReadonlyMap<string, Tensor>, opts: SetOptions = {}): void {
    this.write('params', tensors, opts);
  }

  /** Replaces persistent tensors (parameters and optimizer state) by name; checked like setParams. */
  setState(tensors: ReadonlyMap<string, Tensor>, opts: SetOptions = {}): void {
    this.write('state', tensors, opts);
  }

  /**
   * Loads a weights file (safetensors bytes) into the parameters: it must hold every parameter and
   * nothing else (a SafetensorsError or StateError names the tensor; nothing is written then).
   */
  loadWeights(bytes: Uint8Array, file = 'weights file'): void {
    this.setParams(readWeights(bytes, file));
  }

  /** The buffer of each persistent tensor, parameters only or all of them. */
  protected buffers(which: 'params' | 'state'): { slot: Slot; buffer: ManifestBuffer }[] {
    return manifestSlots(this.manifest, which).map((slot) => ({ slot, buffer: bufferByName(this.manifest, slot.name, slot.role)! }));
  }

  private write(which: 'params' | 'state', tensors: ReadonlyMap<string, Tensor>, opts: SetOptions): void {
    const all = this.buffers(which);
    checkTensors(all.map((x) => x.slot), tensors, which, opts);
    for (const { slot, buffer } of all) {
      const t = tensors.get(slot.name);
      if (t) this.put(buffer, t.data);
    }
  }
}
