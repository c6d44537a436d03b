/**
 * @file Lowering entry points: builds the global scope (built-ins ← standard library ← user
 * file), resolves an entry name (`f`, `Model.f`, `instance.f`), turns its parameters into graph
 * inputs and its result into graph outputs. `checkModule` lowers every entry point it can.
 */
import { error, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { spanLocation, type Span } from '../../diagnostics/source.js';
import { closest } from '../../diagnostics/suggest.js';
import type { Graph, GraphOutput, Node } from '../../ir/graph.js';
import { formatShape, formatType, type TensorType } from '../../ir/types.js';
import { OpError } from '../../ir/op.js';
import type * as A from '../ast.js';
import type { ParseResult } from '../parse.js';
import { BUILTINS } from './builtins.js';
import { loadStdlib } from '../stdlib.js';
import { resolveNames } from '../resolve.js';
import { Lowerer, PoisonSignal } from './lowerer.js';
import { Scope } from './scope.js';
import { listTrains, lowerTrainStep } from './train.js';
import type { LoopMode } from './loop.js';
import { DimEnv } from './types.js';
import { describe, type Value } from './values.js';

export interface LowerOptions {
  /** Sizes for dimension variables (`--dim B=32`). */
  readonly dims?: Readonly<Record<string, number>>;
  /** Shapes of the caller's arrays, by parameter name; they bind dimension variables. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** `for` loops over ranges: 'auto' (default) keeps long ones as loops, 'unroll' unrolls all, 'keep' keeps all it can (src/frontend/lower/loop.ts). */
  readonly loops?: LoopMode;
}

export interface LowerResult {
  readonly graph?: Graph;
  readonly diagnostics: Diagnostic[];
  /** Every dimension variable of the entry's signature and the size it got. */
  readonly dims: Record<string, number>;
  /** Dimension variables that got an example size because nothing else chose one. */
  readonly defaulted: string[];
}

/** An entry point: a function that can be lowered on its own. */
export interface EntryPoint {
  readonly name: string;
  readonly fn: A.FnDecl;
  /** Whether every parameter is a typed tensor or has a default (so it can run standalone). */
  readonly standalone: boolean;
}

/** Example sizes for free dimension variables: small, distinct, and ≥ 2 so axes are not squeezed. */
const EXAMPLE_SIZES = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

/** A declaration list by name, computed once per parsed file (lowering every entry of a large file reads it many times). */
interface DeclIndex {
  /** The first declaration of each name: later ones are DL0202 and ignored. */
  readonly first: ReadonlyMap<string, A.Decl>;
  /** The first function of each name (what `--fn name` runs). */
  readonly fns: ReadonlyMap<string, A.FnDecl>;
  /** Names bound to a function, model or instance (not constants or `train` declarations). */
  readonly declNames: readonly string[];
  /** Constants that are the first declaration of their name, in order. */
  readonly consts: readonly A.ConstDecl[];
  readonly duplicates: readonly { readonly decl: A.Decl; readonly prev: Span }[];
}

const declIndexes = new WeakMap<readonly A.Decl[], DeclIndex>();

function declIndex(decls: readonly A.Decl[]): DeclIndex {
  const known = declIndexes.get(decls);
  if (known) return known;
  const first = new Map<string, A.Decl>();
  const fns = new Map<string, A.FnDecl>();
  const declNames: string[] = [];
  const consts: A.ConstDecl[] = [];
  const duplicates: { decl: A.Decl; prev: Span }[] = [];
  for (const d of decls) {
    const name = d.name.name;
    if (d.kind === 'fn' && name && !fns.has(name)) fns.set(name, d);
    if (!name) continue;
    const prev = first.get(name);
    if (prev) {
      duplicates.push({ decl: d, prev: prev.name.span });
      continue;
    }
    first.set(name, d);
    if (d.kind === 'const') consts.push(d);
    else if (d.kind !== 'train') declNames.push(name);
  }
  const ix = { first, fns, declNames, consts, duplicates };
  declIndexes.set(decls, ix);
  return ix;
}

function declare(lw: Lowerer, decls: readonly A.Decl[], sc: Scope): void {
  const ix = declIndex(decls);
  for (const { decl, prev } of ix.duplicates) {
    lw.report(error('DL0202', `\`${decl.name.name}\` is defined twice`, { span: decl.name.span, notes: [`the first definition is at ${spanLocation(prev)}`] }));
  }
  // Functions, models and instances are bound when first read, so that lowering one entry of a
  // file with thousands of declarations does not pay for all of them.
  sc.setLazy({
    bind: (name) => {
      const d = ix.first.get(name);
      if (d?.kind === 'fn') return { value: { k: 'fn', decl: d, scope: sc }, kind: 'decl' };
      if (d?.kind === 'model') return { value: { k: 'model', decl: d, scope: sc }, kind: 'decl' };
      if (d?.kind === 'instance') return { value: { k: 'instanceDecl', decl: d, scope: sc }, kind: 'decl' };
      return undefined;
    },
    names: () => ix.declNames,
  });
  for (const d of ix.consts) sc.define(d.name.name, lw.constValue(d, sc), 'const');
}

/** The user file's global scope, with the standard library and built-ins behind it. */
export function globalScope(lw: Lowerer, std: ParseResult, user: ParseResult): Scope {
  const builtins = new Scope(undefined);
  for (const b of BUILTINS.values()) builtins.define(b.name, { k: 'builtin', def: b }, 'builtin');
  const stdScope = new Scope(builtins);
  declare(lw, std.program.decls, stdScope);
  const userScope = new Scope(stdScope);
  declare(lw, user.program.decls, userScope);
  return userScope;
}

function isStandalone(fn: A.FnDecl): boolean {
  return fn.params.every((p) => p.default !== undefined || (p.type !== undefined && p.type.kind === 'named' && ['f32', 'i32', 'bool'].includes(p.type.name.name)));
}

/**
 * Every function of the file by its entry name: `f`, `Model.f` (all-default models), `inst.f`
 * (instances of the file's models or of standard-library models).
 */
export function listEntries(user: ParseResult, std: ParseResult = loadStdlib()): EntryPoint[] {
  return [...entriesOf(user, std)];
}

const entryLists = new WeakMap<ParseResult, { readonly std: ParseResult; readonly entries: readonly EntryPoint[] }>();

/** `listEntries`, computed once per file (`checkModule` resolves every entry of it). */
function entriesOf(user: ParseResult, std: ParseResult): readonly EntryPoint[] {
  const known = entryLists.get(user);
  if (known && known.std === std) return known.entries;
  const entries = computeEntries(user, std);
  entryLists.set(user, { std, entries });
  return entries;
}

function computeEntries(user: ParseResult, std: ParseResult): EntryPoint[] {
  const out: EntryPoint[] = [];
  const models = new Map<string, A.ModelDecl>();
  for (const d of std.program.decls) if (d.kind === 'model') models.set(d.name.name, d);
  for (const d of user.program.decls) if (d.kind === 'model') models.set(d.name.name, d);
  const methods = (m: A.ModelDecl, prefix: string) => {
    for (const mem of m.members) if (mem.kind === 'fn') out.push({ name: `${prefix}.${mem.name.name}`, fn: mem, standalone: isStandalone(mem) });
  };
  for (const d of user.program.decls) {
    if (d.kind === 'fn') out.push({ name: d.name.name, fn: d, standalone: isStandalone(d) });
    else if (d.kind === 'model' && d.params.every((p) => p.default !== undefined)) methods(d, d.name.name);
    else if (d.kind === 'instance' && d.value.kind === 'call' && d.value.callee.kind === 'name') {
      const m = models.get(d.value.callee.name);
      if (m) methods(m, d.name.name);
    }
  }
  return out;
}

export function lowerEntry(std: ParseResult, user: ParseResult, entry: string, opts: LowerOptions = {}): LowerResult {
  const lw = new Lowerer();
  lw.loopMode = opts.loops ?? 'auto';
  const dims: Record<string, number> = {};
  const defaulted: string[] = [];
  const graph = guarded(lw, () => {
    const body = lowerEntryBody(lw, std, user, entry, opts, dims, defaulted);
    if (!body) return undefined;
    const { fn, label } = body;
    const outputs = entryOutputs(lw, body.value, body.returnExpr, label, fn);
    if (!outputs || lw.diags.hasErrors()) return undefined;
    return lw.b.finish(label, body.inputs, outputs);
  });
  return finishLowering(lw, user, entry, graph, dims, defaulted);
}

/**
 * The LowerResult of a lowering: its diagnostics, and the graph if there is one. Never neither a
 * graph nor an error: an invalid value nobody explained is a compiler bug (DL9001).
 */
export function finishLowering(lw: Lowerer, user: ParseResult, what: string, graph: Graph | undefined, dims: Record<string, number>, defaulted: string[]): LowerResult {
  if (!graph && !lw.diags.hasErrors() && !user.diagnostics.some((d) => d.severity === 'error')) lw.report(error('DL9001', `internal compiler error: \`${what}\` produced no graph and no error`, { help: 'this is a bug in dlc; please report it with the input that caused it' }));
  return { ...(graph && !lw.diags.hasErrors() ? { graph } : {}), diagnostics: lw.diags.sorted(), dims, defaulted };
}

/** Runs one lowering; a user error that escapes it is reported (and gives undefined). */
export function guarded<T>(lw: Lowerer, f: () => T | undefined): T | undefined {
  try {
    return f();
  } catch (err) {
    if (err instanceof PoisonSignal) return undefined;
    if (err instanceof Error && 'diagnostic' in err) {
      lw.report((err as Error & { diagnostic: Diagnostic }).diagnostic);
      return undefined;
    }
    if (err instanceof OpError) {
      lw.report(error(err.code, err.describe(''), { help: err.help }));
      return undefined;
    }
    throw err;
  }
}

/** An entry point's body, lowered into `lw.b`: its tensor parameters are the input nodes. */
export interface LoweredBody {
  readonly fn: A.FnDecl;
  /** The scope the entry's function was defined in (a model instance's, or the file's). */
  readonly scope: Scope;
  /** The file's global scope (its declarations, the standard library, the built-ins). */
  readonly global: Scope;
  readonly label: string;
  readonly inputs: Node[];
  readonly value: Value;
  readonly returnExpr?: A.Expr;
}

/**
 * Resolves `entry` (`f`, `Model.f`, `inst.f`), makes its tensor parameters graph inputs (sizes of
 * free dimension variables go into `dims`, those that got example sizes into `defaulted`) and
 * lowers its body. Undefined after an error (reported into `lw`). `at` is where a missing entry is
 * reported (a `train` declaration naming it); without it the error has no span (the command line).
 */
export function lowerEntryBody(lw: Lowerer, std: ParseResult, user: ParseResult, entry: string, opts: LowerOptions, dims: Record<string, number>, defaulted: string[], at?: Span): LoweredBody | undefined {
  const sc = globalScope(lw, std, user);
  const target = resolveEntry(lw, sc, std, user, entry, at);
  if (!target) return undefined;
  const { fn, scope, label } = target;
  const fsc = new Scope(scope, true);
  const env = new DimEnv();
  const inputs: Node[] = [];
  let next = 0;
  const free = (name: string): number => {
    const given = opts.dims?.[name];
    if (given !== undefined) return given;
    // One size per name: every `...` of a signature stands for the same leading axes.
    const known = examples.get(name);
    if (known !== undefined) return known;
    const used = new Set([...env.dims.values(), ...Object.values(opts.dims ?? {})]);
    while (used.has(EXAMPLE_SIZES[next] ?? -1) && next < EXAMPLE_SIZES.length - 1) next++;
    const n = EXAMPLE_SIZES[Math.min(next++, EXAMPLE_SIZES.length - 1)]!;
    defaulted.push(name);
    examples.set(name, n);
    return n;
  };
  const examples = new Map<string, number>();
  // --dim values bind first so that every use of the name agrees with them.
  for (const [k, v] of Object.entries(opts.dims ?? {})) {
    env.dims.set(k, v);
    env.origin.set(k, `\`--dim ${k}=${v}\``);
    fsc.define(k, { k: 'int', v }, 'dim');
  }
  for (const p of fn.params) {
    const pname = p.name.name;
    const what = `input \`${pname}\``;
    let v: Value;
    const isStatic = !(p.type && p.type.kind === 'named' && p.type.dims !== null);
    const dimGiven = opts.dims?.[pname];
    if (isStatic && dimGiven !== undefined && p.type?.kind === 'named' && p.type.name.name === 'int') {
      // `--dim n=8` also sets an `n: int` parameter of the entry point.
      v = { k: 'int', v: dimGiven };
    } else if (p.default && isStatic) {
      v = lw.eval(p.default, fsc);
      if (p.type && v.k !== 'poison') v = lw.types.match(v, p.type, env, fsc, what, p.span);
    } else if (!p.type) {
      lw.fail('DL0311', `parameter \`${pname}\` of the entry point \`${label}\` needs a type such as \`f32[B, 4]\``, p.name.span);
    } else {
      const given = opts.inputShapes?.[pname];
      const type = given ? { dtype: p.type.kind === 'named' ? p.type.name.name : 'f32', shape: [...given] } : lw.types.entryType(p.type, env, fsc, what, free);
      if (type.shape.includes(0)) {
        const zeros = Object.entries(opts.dims ?? {}).filter(([, n]) => n === 0).map(([k]) => `\`${k}\` is 0 (from \`--dim ${k}=0\`)`);
        lw.fail('DL0315', `${what} would have no elements: ${formatType(type as TensorType)}`, p.span, 'every axis must have at least one element', zeros);
      }
      const node = lw.at(p.span, () => lw.b.add('input', [], { name: pname, dtype: type.dtype, shape: [...type.shape] }));
      inputs.push(node);
      v = lw.types.match({ k: 'tensor', node }, p.type, env, fsc, given ? `${what} (shape ${formatShape(given)})` : what, p.span);
    }
    fsc.define(pname, v!, 'arg');
  }
  for (const [k, v] of env.dims) dims[k] = v;
  if (defaulted.length) {
    const named = defaulted.filter((d) => /^[A-Za-z_]/.test(d));
    const generic = defaulted.length > named.length ? ['leading axes (`...`) one axis of an example size'] : [];
    lw.dimNote = `free dimensions got example sizes: ${[...named.map((d) => `${d}=${examples.get(d)}`), ...generic].join(', ')}${named.length ? ` (choose them with \`--dim ${named[0]}=…\`)` : ''}`;
  }
  const result = lw.callBody(fn, fsc, label, env);
  if (!result || result.value.k === 'poison' || lw.diags.hasErrors()) return undefined;
  return { fn, scope, global: sc, label, inputs, value: result.value, ...(result.returnExpr ? { returnExpr: result.returnExpr } : {}) };
}

interface ResolvedEntry {
  readonly fn: A.FnDecl;
  readonly scope: Scope;
  readonly label: string;
}

function resolveEntry(lw: Lowerer, sc: Scope, std: ParseResult, user: ParseResult, entry: string, at?: Span): ResolvedEntry | undefined {
  const parts = entry.split('.');
  const notFound = (): undefined => {
    const names = entriesOf(user, std).map((e) => e.name);
    const c = closest(entry, names);
    lw.report(
      error('DL0603', `no function \`${entry}\` in ${user.file.path}`, {
        span: at,
        help: c ? `did you mean \`${c}\`?` : names.length ? `functions: ${names.join(', ')}` : 'the file declares no functions',
      }),
    );
    return undefined;
  };
  if (parts.length === 1) {
    const d = declIndex(user.program.decls).fns.get(entry);
    if (!d) return notFound();
    return { fn: d, scope: sc, label: entry };
  }
  if (parts.length !== 2) return notFound();
  const [owner, method] = parts as [string, string];
  const decl = declIndex(user.program.decls).first.get(owner);
  if (!decl || (decl.kind !== 'model' && decl.kind !== 'instance')) return notFound();
  let inst;
  if (decl.kind === 'instance') {
    const v = lw.lookupName(owner, decl.name.span, sc);
    if (v.k !== 'instance') return undefined;
    inst = v.inst;
  } else {
    const missing = decl.params.filter((p) => p.default === undefined).map((p) => p.name.name);
    if (missing.length) {
      lw.report(
        error('DL0603', `model \`${owner}\` needs arguments (${missing.join(', ')}) before \`${entry}\` can run`, {
          span: decl.name.span,
          help: `declare an instance, e.g. \`let net = ${owner}(…)\`, and use \`--fn net.${method}\``,
        }),
      );
      return undefined;
    }
    inst = lw.instantiate(decl, sc, [], decl.name.span, '');
  }
  // A model that could not be built has nothing to run (its errors are already reported).
  if (lw.diags.hasErrors()) return undefined;
  const m = inst.scope.local(method);
  if (!m || m.value.k !== 'fn') return notFound();
  return { fn: m.value.decl, scope: inst.scope, label: entry };
}

/** The graph outputs for an entry's result: a tensor, or a tuple of tensors. */
function entryOutputs(lw: Lowerer, v: Value, ret: A.Expr | undefined, label: string, fn: A.FnDecl): GraphOutput[] | undefined {
  const items = v.k === 'tuple' ? v.items : [v];
  const exprs = ret && ret.kind === 'tuple' ? ret.items : ret ? [ret] : [];
  const names = items.map((_, i) => {
    const e = exprs[i];
    return e && e.kind === 'name' ? e.name : items.length === 1 ? 'out' : `out${i}`;
  });
  // Keep output names unique.
  const seen = new Map<string, number>();
  const unique = names.map((n) => {
    const c = seen.get(n) ?? 0;
    seen.set(n, c + 1);
    return c ? `${n}_${c}` : n;
  });
  const out: GraphOutput[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.k === 'tensor' || it.k === 'int' || it.k === 'float' || it.k === 'bool' || it.k === 'list') {
      const s = exprs[i]?.span ?? fn.name.span;
      const node = lw.attempt(s, () => lw.toTensor(it, s));
      if (!node) return undefined;
      out.push({ name: unique[i]!, node });
    } else {
      lw.report(error('DL0311', `the entry point \`${label}\` must return tensors, but returns ${describe(it)}`, { span: exprs[i]?.span ?? fn.name.span }));
      return undefined;
    }
  }
  return out;
}

export interface CheckResult {
  readonly diagnostics: Diagnostic[];
  /** Entry points that were lowered (and so fully checked), then `train NAME` for each training step. */
  readonly checked: string[];
}

/** All diagnostics for a file: syntax, plus lowering every standalone entry point and every `train` declaration. */
export function checkModule(std: ParseResult, user: ParseResult, opts: LowerOptions = {}): CheckResult {
  const all: Diagnostic[] = [...user.diagnostics];
  const seen = new Set<string>();
  const add = (d: Diagnostic) => {
    const key = `${d.code}|${d.message}|${d.span?.start}|${d.span?.end}`;
    if (!seen.has(key)) {
      seen.add(key);
      all.push(d);
    }
  };
  const checked: string[] = [];
  // Declarations are checked (duplicates, constants) even when nothing can be lowered.
  const lw = new Lowerer();
  try {
    globalScope(lw, std, user);
  } catch (err) {
    if (!(err instanceof PoisonSignal)) throw err;
  }
  lw.diags.items.forEach(add);
  resolveNames(user, std).forEach(add);
  for (const e of entriesOf(user, std)) {
    if (!e.standalone || e.fn.broken) continue;
    const r = lowerEntry(std, user, e.name, opts);
    r.diagnostics.forEach(add);
    checked.push(e.name);
  }
  // Every training step too, listed as `train NAME`.
  for (const t of listTrains(user)) {
    if (t.broken) continue;
    lowerTrainStep(std, user, t.name.name, opts).diagnostics.forEach(add);
    checked.push(`train ${t.name.name}`);
  }
  all.sort((a, b) => (a.span?.start ?? Infinity) - (b.span?.start ?? Infinity));
  return { diagnostics: all, checked };
}
