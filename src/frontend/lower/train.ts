/**
 * @file Lowering of a `train` declaration to ONE graph: a training step. Its inputs are the loss
 * function's tensor parameters (the batch), its one output is `loss` (an f32 scalar), and its state
 * updates write every trained parameter, every optimizer slot and the step counter `<train>/step`.
 *
 * The loss is lowered like any entry point (entry.ts), differentiated with `vjp`, optionally clipped
 * by global norm, and then each trained parameter goes through the optimizer: a plain `.dl`
 * function `fn NAME(p, g, <slot>…, t, lr_factor, <hyper> = …)` (src/stdlib/optim.dl, or the user's
 * own), inlined by the Lowerer like any call. Slots are new `param` nodes `<train>/<param>/<slot>`
 * starting at zeros.
 */
import { error, warning } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/source.js';
import { didYouMean } from '../../diagnostics/suggest.js';
import * as C from '../../ir/compose.js';
import type { Graph, GraphUpdate, Node } from '../../ir/graph.js';
import { formatType, sameType } from '../../ir/types.js';
import { vjp } from '../../passes/autodiff.js';
import type * as A from '../ast.js';
import type { ParseResult } from '../parse.js';
import { loadStdlib } from '../stdlib.js';
import { finishLowering, guarded, lowerEntryBody, type LowerOptions, type LowerResult } from './entry.js';
import type { Instance } from './instance.js';
import { Lowerer, type ArgValue } from './lowerer.js';
import { drawPerStep, stepCounter } from './random-builtins.js';
import type { Scope } from './scope.js';
import { describe, float, int, tensor, type Value } from './values.js';

/** What a training step is made of, for the tools that run it (`dlc train`). */
export interface TrainInfo {
  readonly name: string;
  /** The loss entry point, e.g. `MLP.loss`. */
  readonly loss: string;
  readonly optimizer: string;
  /** Every hyperparameter of the optimizer with the value it got (weight_decay: the one for weights). */
  readonly hyper: Readonly<Record<string, number | boolean>>;
  /** Trained parameters, in the order they are updated. */
  readonly params: readonly string[];
  /** Parameters the loss uses that are not trained (frozen, or not listed in `params`). */
  readonly frozen: readonly string[];
  /** Optimizer state: every slot `<train>/<param>/<slot>` and the step counter. */
  readonly state: readonly string[];
  /** Model state (`state` members) the step writes, e.g. batch norm's running statistics. */
  readonly modelState?: readonly string[];
  /** The step counter's name, `<train>/step`. */
  readonly step: string;
  readonly clipNorm?: number;
  readonly schedule?: string;
}

export interface TrainLowerResult extends LowerResult {
  readonly info?: TrainInfo;
}

const FIELDS = ['loss', 'optimizer', 'params', 'freeze', 'clip_norm', 'schedule'];

/** Parameters of an optimizer function the training step binds itself (the rest are hyperparameters). */
const STEP_ARGS = ['p', 'g', 't', 'lr_factor'];

/** The `train` declarations of a file, the first of each name. */
export function listTrains(user: ParseResult): A.TrainDecl[] {
  const seen = new Set<string>();
  const out: A.TrainDecl[] = [];
  for (const d of user.program.decls) {
    if (d.kind !== 'train' || !d.name.name || seen.has(d.name.name)) continue;
    seen.add(d.name.name);
    out.push(d);
  }
  return out;
}

/** An optimizer function's shape: `p, g, <slots>…, t, lr_factor, <hypers>…`; undefined if it is not one. */
function optimizerShape(d: A.FnDecl): { slots: string[]; hypers: A.ParamDecl[] } | undefined {
  const names = d.params.map((p) => p.name.name);
  const t = names.indexOf('t');
  if (names[0] !== 'p' || names[1] !== 'g' || t < 2 || names[t + 1] !== 'lr_factor') return undefined;
  return { slots: names.slice(2, t), hypers: d.params.slice(t + 2) };
}

/** Names of the optimizer functions a file can use (its own and the standard library's). */
function optimizerNames(std: ParseResult, user: ParseResult): string[] {
  const out = new Set<string>();
  for (const d of [...user.program.decls, ...std.program.decls]) if (d.kind === 'fn' && optimizerShape(d)) out.add(d.name.name);
  return [...out].sort();
}

function scheduleNames(std: ParseResult, user: ParseResult): string[] {
  const out = new Set<string>();
  for (const d of [...user.program.decls, ...std.program.decls]) if (d.kind === 'fn' && d.params[0]?.name.name === 't' && !optimizerShape(d)) out.add(d.name.name);
  return [...out].sort();
}

/** `Model.loss` as text, or undefined when the expression is not a dotted name. */
function dottedName(e: A.Expr): string | undefined {
  if (e.kind === 'name') return e.name;
  if (e.kind === 'member') {
    const t = dottedName(e.target);
    return t === undefined ? undefined : `${t}.${e.name.name}`;
  }
  return undefined;
}

interface Hyper {
  readonly decl: A.ParamDecl;
  readonly value: Value;
}

/** A resolved call `name(hyper = …)` of an optimizer or schedule function. */
interface Resolved {
  readonly name: string;
  readonly fn: Value & { k: 'fn' };
  readonly slots: string[];
  readonly hypers: Hyper[];
  readonly span: Span;
}

class TrainLowering {
  readonly lw = new Lowerer();
  readonly dims: Record<string, number> = {};
  readonly defaulted: string[] = [];
  info: TrainInfo | undefined;

  constructor(
    readonly std: ParseResult,
    readonly user: ParseResult,
    readonly decl: A.TrainDecl,
    readonly opts: LowerOptions,
  ) {
    this.lw.loopMode = opts.loops ?? 'auto';
  }

  private err(code: 'DL0701' | 'DL0702' | 'DL0703' | 'DL0704' | 'DL0705' | 'DL0706', message: string, span: Span, help?: string): undefined {
    this.lw.report(error(code, message, { span, help }));
    return undefined;
  }

  /** The fields by name; DL0706 for unknown, repeated and missing ones. */
  private fields(): Map<string, A.TrainField> {
    const out = new Map<string, A.TrainField>();
    for (const f of this.decl.fields) {
      const n = f.name.name;
      if (!n) continue;
      if (!FIELDS.includes(n)) {
        this.err('DL0706', `a \`train\` declaration has no field \`${n}\``, f.name.span, didYouMean(n, FIELDS) ?? `its fields are ${FIELDS.map((x) => `\`${x}\``).join(', ')}`);
        continue;
      }
      if (out.has(n)) {
        this.err('DL0706', `the field \`${n}\` is given twice`, f.name.span);
        continue;
      }
      out.set(n, f);
    }
    for (const need of ['loss', 'optimizer']) {
      if (!out.has(need) && this.decl.form === 'block') {
        this.err('DL0706', `\`train ${this.decl.name.name}\` needs ${need === 'loss' ? 'a' : 'an'} \`${need}\` field`, this.decl.name.span, need === 'loss' ? 'e.g. `loss = MLP.loss`' : 'e.g. `optimizer = adam(lr = 1e-3)`');
      }
    }
    return out;
  }

  run(): Node | undefined {
    const lw = this.lw;
    const d = this.decl;
    const fields = this.fields();
    const lossField = fields.get('loss');
    const optField = fields.get('optimizer');
    if (!lossField || !optField) return undefined;
    const entry = dottedName(lossField.value);
    if (entry === undefined) {
      if (lossField.value.kind !== 'error') this.err('DL0706', 'the loss of a `train` declaration names a function: `Model.loss`, `inst.loss` or `loss`', lossField.value.span);
      return undefined;
    }
    // Random draws in the loss mix in the step counter: fresh noise every step (docs/random.md).
    drawPerStep(lw, `${d.name.name}/step`);
    // The loss is lowered in training mode: `training()` is true, `dropout` drops, state may be assigned.
    lw.training = true;
    const body = lowerEntryBody(lw, this.std, this.user, entry, this.opts, this.dims, this.defaulted, lossField.value.span);
    lw.training = false;
    if (!body || lw.diags.hasErrors()) return undefined;
    const loss = this.lossNode(body.value, entry, lossField.value.span);
    if (!loss) return undefined;

    // The parameters to train.
    const used = usedParams(loss).filter((p) => !lw.stateNodes.has(p));
    let selected = used;
    const paramsField = fields.get('params');
    if (paramsField) {
      const listed = this.paths(paramsField.value, body.scope);
      if (!listed) return undefined;
      const usedSet = new Set(used);
      for (const [p, span] of listed) {
        if (!usedSet.has(p)) lw.report(warning('DL0402', `\`${pname(p)}\` is listed in \`params\`, but the loss \`${entry}\` does not depend on it: it is not trained`, { span }));
      }
      selected = used.filter((p) => listed.has(p));
    }
    const freezeField = fields.get('freeze');
    if (freezeField) {
      const frozen = this.paths(freezeField.value, body.scope);
      if (!frozen) return undefined;
      selected = selected.filter((p) => !frozen.has(p));
    }
    if (!selected.length) {
      const left = [...(paramsField ? ['left out of `params`'] : []), ...(freezeField ? ['frozen'] : [])].join(' or ');
      const why = !used.length ? `the loss \`${entry}\` uses no parameters` : `every parameter the loss \`${entry}\` uses is ${left}`;
      return this.err('DL0705', `\`train ${d.name.name}\` has nothing to train: ${why}`, d.name.span, used.length ? `the loss uses ${used.map((p) => `\`${pname(p)}\``).join(', ')}` : 'the loss must depend on a `param` of a model');
    }

    const clip = fields.get('clip_norm');
    let clipNorm: number | undefined;
    if (clip) {
      const v = lw.eval(clip.value, body.global);
      if (v.k === 'poison') return undefined;
      if ((v.k !== 'int' && v.k !== 'float') || !(v.v > 0) || !Number.isFinite(v.v)) {
        return this.err('DL0706', `\`clip_norm\` must be a positive number known at compile time, got ${describe(v)}`, clip.value.span, 'e.g. `clip_norm = 1.0`');
      }
      clipNorm = v.v;
    }
    const opt = this.resolveCall(optField.value, body.global, 'optimizer');
    const schedField = fields.get('schedule');
    const sched = schedField ? this.resolveCall(schedField.value, body.global, 'schedule') : undefined;
    if (!opt || (schedField && !sched) || lw.diags.hasErrors()) return undefined;

    // The step counter and the schedule's factor.
    const tname = d.name.name;
    const stepName = `${tname}/step`;
    const { t, stepNext } = lw.at(d.name.span, () => {
      const step = stepCounter(lw, stepName);
      const stepNext = lw.b.add('add', [step, C.scalarConst(lw.b, 1, 'i32')]);
      // t counts from 1: the step being taken.
      return { t: C.cast(lw.b, stepNext, 'f32'), stepNext };
    });
    let factor: Node | undefined;
    if (sched) {
      const v = lw.callFn(sched.fn, [this.arg('t', tensor(t), sched.span), ...sched.hypers.map((h) => this.arg(h.decl.name.name, h.value, sched.span))], sched.span);
      if (v.k === 'poison') return undefined;
      const f = lw.attempt(sched.span, () => lw.toTensor(v, sched.span, 'f32'));
      if (!f) return undefined;
      if (f.type.dtype !== 'f32' || f.type.shape.length !== 0) {
        return this.err('DL0701', `the schedule \`${sched.name}\` must return an f32 scalar (the learning-rate factor), but returns ${formatType(f.type)}`, sched.span);
      }
      factor = f;
    }
    factor ??= lw.at(optField.value.span, () => C.scalarConst(lw.b, 1, 'f32'));

    // Gradients, clipped by global norm.
    const grads = lw.attempt(d.name.span, () => {
      const seed = C.scalarConst(lw.b, 1, 'f32');
      const gs = vjp(lw.b, loss, selected, seed);
      return gs.map((g, i) => g ?? C.fullLike(lw.b, 0, selected[i]!));
    });
    if (!grads) return undefined;
    if (clipNorm !== undefined) {
      const c = clipNorm;
      lw.at(clip!.value.span, () => {
        const squares = grads.map((g) => C.reduce(lw.b, 'reduce_sum', lw.b.add('mul', [g, g])));
        const total = squares.reduce((a, b) => lw.b.add('add', [a, b]));
        const norm = lw.b.add('sqrt', [total]);
        const ratio = lw.b.add('div', [C.scalarConst(lw.b, c, 'f32'), lw.b.add('add', [norm, C.scalarConst(lw.b, 1e-6, 'f32')])]);
        const scale = lw.b.add('min', [C.scalarConst(lw.b, 1, 'f32'), ratio]);
        grads.forEach((g, i) => (grads[i] = C.binary(lw.b, 'mul', g, scale)));
      });
    }

    // One optimizer call per parameter.
    const updates: GraphUpdate[] = [];
    const state: string[] = [];
    let hyperShown: Record<string, number | boolean> = {};
    for (let i = 0; i < selected.length; i++) {
      const p = selected[i]!;
      const name = pname(p);
      const slots = opt.slots.map((s) => {
        const sname = `${tname}/${name}/${s}`;
        state.push(sname);
        return { name: sname, node: lw.at(opt.span, () => lw.b.add('param', [], { name: sname, dtype: p.type.dtype, shape: [...p.type.shape], init: { kind: 'zeros', args: {} } })) };
      });
      // Weight decay is for weights (2 axes or more), not biases and norm scales.
      const hypers = opt.hypers.map((h) => (h.decl.name.name === 'weight_decay' && p.type.shape.length < 2 ? { ...h, value: float(0) } : h));
      if (p.type.shape.length >= 2 || !Object.keys(hyperShown).length) hyperShown = Object.fromEntries(hypers.map((h) => [h.decl.name.name, staticOf(h.value)]));
      const args: ArgValue[] = [
        this.arg('p', tensor(p), opt.span),
        this.arg('g', tensor(grads[i]!), opt.span),
        ...slots.map((s, k) => this.arg(opt.slots[k]!, tensor(s.node), opt.span)),
        this.arg('t', tensor(t), opt.span),
        this.arg('lr_factor', tensor(factor), opt.span),
        ...hypers.map((h) => this.arg(h.decl.name.name, h.value, opt.span)),
      ];
      const r = lw.callFn(opt.fn, args, opt.span);
      if (r.k === 'poison' || lw.diags.hasErrors()) return undefined;
      const items = r.k === 'tuple' ? r.items : [r];
      const shapeHelp = opt.slots.length ? `return the new parameter and the new ${opt.slots.map((s) => `\`${s}\``).join(', ')}: \`return (p_new, ${opt.slots.map((s) => `${s}_new`).join(', ')})\`` : 'return the new parameter';
      if (items.length !== 1 + opt.slots.length) {
        return this.err('DL0701', `the optimizer \`${opt.name}\` must return ${1 + opt.slots.length} value${opt.slots.length ? 's' : ''} (the new parameter${opt.slots.length ? ' and its state' : ''}), but returns ${describe(r)}`, opt.span, shapeHelp);
      }
      const targets = [{ name, node: p }, ...slots];
      for (let k = 0; k < items.length; k++) {
        const it = items[k]!;
        const tgt = targets[k]!;
        const node = it.k === 'tensor' ? it.node : undefined;
        if (!node || !sameType(node.type, tgt.node.type)) {
          return this.err('DL0701', `the optimizer \`${opt.name}\` returns ${describe(it)} for \`${tgt.name}\`, which is ${formatType(tgt.node.type)}`, opt.span, shapeHelp);
        }
        updates.push({ name: tgt.name, node });
      }
    }
    // State the loss assigned (batch norm's running statistics): its last assigned value.
    const written = [...lw.stateWrites.keys()];
    for (const [name, node] of lw.stateWrites) updates.push({ name, node });
    state.push(stepName);
    updates.push({ name: stepName, node: stepNext });
    const usedSet = new Set(selected);
    this.info = {
      name: tname,
      loss: body.label,
      optimizer: opt.name,
      hyper: hyperShown,
      params: selected.map(pname),
      frozen: used.filter((p) => !usedSet.has(p)).map(pname),
      state,
      ...(written.length ? { modelState: written } : {}),
      step: stepName,
      ...(clipNorm !== undefined ? { clipNorm } : {}),
      ...(sched ? { schedule: sched.name } : {}),
    };
    this.graph = lw.b.finish(tname, body.inputs, [{ name: 'loss', node: loss }], updates);
    return loss;
  }

  graph: Graph | undefined;

  private arg(name: string, value: Value, span: Span): ArgValue {
    return { name, value, span };
  }

  /** The loss as an f32 scalar node; DL0704 otherwise. */
  private lossNode(v: Value, entry: string, span: Span): Node | undefined {
    const lw = this.lw;
    const node = v.k === 'tensor' ? v.node : v.k === 'int' || v.k === 'float' ? lw.attempt(span, () => lw.toTensor(v, span, 'f32')) : undefined;
    if (!node || node.type.dtype !== 'f32' || node.type.shape.length !== 0) {
      const what = node ? formatType(node.type) : describe(v);
      return this.err('DL0704', `the loss \`${entry}\` must return one f32 scalar, but returns ${what}`, span, node && node.type.shape.length ? 'reduce it to one number, e.g. `mean(…)` or `sum(…)`' : undefined);
    }
    return node;
  }

  /** The parameters named by `params = […]` / `freeze = […]`, each with the span that named it. */
  private paths(e: A.Expr, sc: Scope): Map<Node, Span> | undefined {
    const items = e.kind === 'list' ? e.items : [e];
    const out = new Map<Node, Span>();
    for (const it of items) {
      const v = this.pathValue(it, sc);
      if (!v) return undefined;
      const nodes: Node[] = [];
      if (!collectParams(v, nodes)) {
        return this.err('DL0703', `\`${dottedText(it)}\` is ${describe(v)}, not a layer or a parameter`, it.span, 'list layers or parameters by path, e.g. `[critic]` or `[critic.l1.W]`');
      }
      for (const n of nodes) if (!out.has(n)) out.set(n, it.span);
    }
    return out;
  }

  /** Follows a path `critic.l1.W`, `blocks[0]` from the entry's scope; DL0703 where it leads nowhere. */
  private pathValue(e: A.Expr, sc: Scope): Value | undefined {
    const lw = this.lw;
    switch (e.kind) {
      case 'name': {
        const b = sc.lookup(e.name);
        if (!b || b.value.k === 'builtin' || b.value.k === 'fn' || b.value.k === 'model') {
          const own = sc.lookup('self');
          const members = own && own.value.k === 'instance' ? memberNames(own.value.inst) : this.instanceNames();
          return this.err('DL0703', `unknown parameter or layer \`${e.name}\``, e.span, didYouMean(e.name, members) ?? (members.length ? `the layers and parameters here are ${members.map((m) => `\`${m}\``).join(', ')}` : undefined));
        }
        if (b.value.k === 'instanceDecl') return lw.attempt(e.span, () => lw.lookupName(e.name, e.span, sc));
        return b.value;
      }
      case 'member': {
        const t = this.pathValue(e.target, sc);
        if (!t) return undefined;
        if (t.k !== 'instance') return this.err('DL0703', `\`${dottedText(e.target)}\` is ${describe(t)}, which has no member \`${e.name.name}\``, e.name.span);
        const m = t.inst.scope.local(e.name.name);
        const names = memberNames(t.inst);
        if (!m || !names.includes(e.name.name)) {
          return this.err('DL0703', `\`${dottedText(e.target)}\` has no layer or parameter \`${e.name.name}\``, e.name.span, didYouMean(e.name.name, names) ?? (names.length ? `its layers and parameters are ${names.map((x) => `\`${x}\``).join(', ')}` : undefined));
        }
        return m.value;
      }
      case 'index': {
        const t = this.pathValue(e.target, sc);
        if (!t) return undefined;
        const it = e.items[0];
        if (t.k !== 'list' || e.items.length !== 1 || it?.kind !== 'expr' || it.expr.kind !== 'num' || it.expr.isFloat) {
          return this.err('DL0703', 'a path indexes a list of layers with one number, e.g. `blocks[0]`', e.span);
        }
        const i = it.expr.value;
        if (i >= t.items.length) return this.err('DL0703', `\`${dottedText(e.target)}\` has ${t.items.length} layers, so index ${i} is out of range`, it.span);
        return t.items[i];
      }
      default:
        return this.err('DL0703', 'expected a layer or parameter path such as `critic`, `critic.l1.W` or `blocks[0]`', e.span);
    }
  }

  private instanceNames(): string[] {
    return this.user.program.decls.filter((d) => d.kind === 'instance').map((d) => d.name.name);
  }

  /** `adam(lr = 1e-3)` or `sgd`: the function, its slots and every hyperparameter's value. */
  private resolveCall(e: A.Expr, global: Scope, role: 'optimizer' | 'schedule'): Resolved | undefined {
    const lw = this.lw;
    const callee = e.kind === 'call' ? e.callee : e;
    const args = e.kind === 'call' ? e.args : [];
    const example = role === 'optimizer' ? '`adam(lr = 1e-3)`' : '`cosine_lr(total = 1000)`';
    if (callee.kind !== 'name') return this.err('DL0701', `expected ${role === 'optimizer' ? 'an optimizer' : 'a schedule'} such as ${example}`, e.span);
    const name = callee.name;
    const known = role === 'optimizer' ? optimizerNames(this.std, this.user) : scheduleNames(this.std, this.user);
    const listing = known.length ? `the ${role === 'optimizer' ? 'optimizers' : 'schedules'} are ${known.map((n) => `\`${n}\``).join(', ')}` : undefined;
    const b = global.lookup(name);
    if (!b || b.value.k !== 'fn') {
      const dym = didYouMean(name, known);
      const what = b && b.value.k !== 'poison' ? `${describe(b.value)} is not ${role === 'optimizer' ? 'an optimizer' : 'a schedule'}` : `unknown ${role} \`${name}\``;
      return this.err('DL0701', what, callee.span, dym && listing ? `${dym} ${listing}` : (dym ?? listing));
    }
    const fn = b.value;
    let slots: string[];
    let hyperDecls: A.ParamDecl[];
    if (role === 'optimizer') {
      const shape = optimizerShape(fn.decl);
      if (!shape) {
        return this.err('DL0701', `\`${name}\` is not an optimizer: an optimizer is a function \`fn ${name}(p, g, <state>…, t, lr_factor, <hyperparameter> = …)\``, callee.span, listing);
      }
      slots = shape.slots;
      hyperDecls = shape.hypers;
    } else {
      if (fn.decl.params[0]?.name.name !== 't') {
        return this.err('DL0701', `\`${name}\` is not a schedule: a schedule is a function \`fn ${name}(t: f32, <hyperparameter> = …) -> f32\``, callee.span, listing);
      }
      slots = [];
      hyperDecls = fn.decl.params.slice(1);
    }
    const given = new Map<string, { value: Value; span: Span }>();
    const hyperNames = hyperDecls.map((h) => h.name.name);
    for (const a of args) {
      if (!a.name) {
        return this.err('DL0702', `hyperparameters of \`${name}\` are given by name`, a.span, hyperNames.length ? `e.g. \`${name}(${hyperNames[0]} = ${spanOf(a)})\`` : `\`${name}\` takes no hyperparameters`);
      }
      const hn = a.name.name;
      if (!hyperNames.includes(hn)) {
        const own = role === 'optimizer' ? [...STEP_ARGS, ...slots] : ['t'];
        const why = own.includes(hn) ? `: \`${hn}\` is set by the training step` : '';
        return this.err('DL0702', `\`${name}\` has no hyperparameter \`${hn}\`${why}`, a.name.span, didYouMean(hn, hyperNames) ?? (hyperNames.length ? `its hyperparameters are ${hyperNames.map((x) => `\`${x}\``).join(', ')}` : `\`${name}\` takes no hyperparameters`));
      }
      if (given.has(hn)) return this.err('DL0702', `the hyperparameter \`${hn}\` is given twice`, a.name.span);
      const v = lw.eval(a.value, global);
      if (v.k === 'poison') return undefined;
      given.set(hn, { value: v, span: a.value.span });
    }
    const hypers: Hyper[] = [];
    for (const h of hyperDecls) {
      const hn = h.name.name;
      const g = given.get(hn);
      const type = h.type && h.type.kind === 'named' && h.type.dims === null ? h.type.name.name : undefined;
      if (!g) {
        if (!h.default) return this.err('DL0702', `\`${name}\` needs the hyperparameter \`${hn}\``, e.span, `e.g. \`${name}(${hn} = …)\``);
        hypers.push({ decl: h, value: lw.eval(h.default, fn.scope) });
        continue;
      }
      const v = g.value;
      const ok =
        type === 'float' ? v.k === 'int' || v.k === 'float' : type === 'int' ? v.k === 'int' || (v.k === 'float' && Number.isInteger(v.v)) : type === 'bool' ? v.k === 'bool' : v.k === 'int' || v.k === 'float' || v.k === 'bool';
      if (!ok) {
        const want = type === 'float' ? 'a number' : type === 'int' ? 'an integer' : type === 'bool' ? '`true` or `false`' : 'a number or a boolean known at compile time';
        return this.err('DL0702', `the hyperparameter \`${hn}\` of \`${name}\` is ${want}, got ${describe(v)}`, g.span);
      }
      hypers.push({ decl: h, value: type === 'float' && v.k === 'int' ? float(v.v) : type === 'int' && v.k === 'float' ? int(v.v) : v });
    }
    if (hypers.some((h) => h.value.k === 'poison')) return undefined;
    return { name, fn, slots, hypers, span: e.span };
  }
}

function spanOf(a: A.Arg): string {
  const t = a.value.span.file.text.slice(a.value.span.start, a.value.span.end);
  return t.length <= 20 ? t : '…';
}

function staticOf(v: Value): number | boolean {
  return v.k === 'int' || v.k === 'float' ? v.v : v.k === 'bool' ? v.v : NaN;
}

function pname(p: Node): string {
  return String(p.attrs['name']);
}

function dottedText(e: A.Expr): string {
  const t = e.span.file.text.slice(e.span.start, e.span.end);
  return t.length <= 40 ? t : '…';
}

/** Layer and parameter members of an instance. */
function memberNames(inst: Instance): string[] {
  return inst.decl.members.filter((m) => m.kind === 'param' || m.kind === 'layer').map((m) => m.name.name);
}

/** Model parameters (not optimizer state) the loss depends on, in creation order; f32 only. */
function usedParams(loss: Node): Node[] {
  const seen = new Set<Node>();
  const out: Node[] = [];
  const stack = [loss];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.op === 'param' && n.type.dtype === 'f32') out.push(n);
    for (const i of n.inputs) stack.push(i);
  }
  return out.sort((a, b) => a.id - b.id);
}

/** Every parameter node of a layer, list of layers or parameter; false for anything else. */
function collectParams(v: Value, out: Node[]): boolean {
  switch (v.k) {
    case 'tensor':
      if (v.node.op !== 'param') return false;
      out.push(v.node);
      return true;
    case 'list':
    case 'tuple':
      return v.items.every((it) => collectParams(it, out));
    case 'instance': {
      for (const m of v.inst.decl.members) {
        if ((m.kind !== 'param' || m.state) && m.kind !== 'layer') continue;
        const b = v.inst.scope.local(m.name.name);
        if (b && b.value.k !== 'poison') collectParams(b.value, out);
      }
      return true;
    }
    default:
      return false;
  }
}

/** Lowers the `train` declaration `name` of a file to its step graph. */
export function lowerTrainStep(std: ParseResult, user: ParseResult, name: string, opts: LowerOptions = {}): TrainLowerResult {
  const decl = listTrains(user).find((d) => d.name.name === name);
  if (!decl) {
    const lw = new Lowerer();
    const names = listTrains(user).map((d) => d.name.name);
    lw.report(error('DL0603', `no \`train\` declaration \`${name}\` in ${user.file.path}`, { help: didYouMean(name, names) ?? (names.length ? `its train declarations are ${names.map((n) => `\`${n}\``).join(', ')}` : 'declare one, e.g. `train step = MLP.loss with adam(lr = 1e-3)`') }));
    return finishLowering(lw, user, name, undefined, {}, []);
  }
  const t = new TrainLowering(std, user, decl, opts);
  if (decl.broken) return finishLowering(t.lw, user, name, undefined, {}, []);
  guarded(t.lw, () => t.run());
  const r = finishLowering(t.lw, user, `train ${name}`, t.graph, t.dims, t.defaulted);
  return r.graph && t.info ? { ...r, info: t.info } : r;
}

/** `lowerTrainStep` with the standard library loaded. */
export function lowerTrainDecl(user: ParseResult, name: string, opts: LowerOptions = {}): TrainLowerResult {
  return lowerTrainStep(loadStdlib(), user, name, opts);
}
