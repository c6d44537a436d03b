/**
 * The IR: golden `printGraph` text for small functions, the verifier on every entry point of
 * every example and on programs using the whole standard library (after lowering and after each
 * pass), the verifier catching hand-broken graphs, and the op registry's own contract.
 *
 * Regenerate the golden text: UPDATE_GOLDEN=1 npx vitest run test/ir.test.ts — then review it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, compile, evaluate, lower, lowerTrain, NDArray, OPS, printGraph, verifyGraph, type Graph, type Node } from '../src/index.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { OpError, type OpKind } from '../src/ir/op.js';
import type { DType, TensorType } from '../src/ir/types.js';
import { PASSES } from '../src/passes/pipeline.js';
import { expectGolden, ROOT } from './helpers/golden.js';
import { maxAbsDiff, rng } from './helpers/reference.js';

const GOLDEN = `${ROOT}test/golden/ir/`;

// ---- golden printGraph -------------------------------------------------------------------------

const PRINT_CASES: { name: string; src: string; entry: string; dims?: Record<string, number>; spans?: boolean }[] = [
  {
    name: 'linear',
    src: 'fn linear_layer(x: f32[B, 3], W: f32[3, 4], b: f32[4]) -> f32[B, 4] {\n  return x @ W + b\n}\n',
    entry: 'linear_layer',
    dims: { B: 2 },
  },
  {
    name: 'linear-spans',
    src: 'fn linear_layer(x: f32[B, 3], W: f32[3, 4], b: f32[4]) -> f32[B, 4] {\n  let y = x @ W\n  return y + b\n}\n',
    entry: 'linear_layer',
    dims: { B: 2 },
    spans: true,
  },
  {
    name: 'softmax',
    src: 'fn probs(x: f32[2, 3]) {\n  return softmax(x)\n}\n',
    entry: 'probs',
  },
  {
    name: 'conv2d',
    src: 'fn features(x: f32[1, 2, 5, 5], w: f32[3, 2, 3, 3]) {\n  return conv2d(x, w, stride=2, padding=1)\n}\n',
    entry: 'features',
  },
  {
    name: 'grouped-conv',
    src: 'fn features(x: f32[1, 4, 4, 4], w: f32[2, 2, 2, 2]) {\n  return conv2d(x, w, groups=2)\n}\n',
    entry: 'features',
  },
  {
    name: 'model-with-params',
    src: 'model Head(d: int = 3, k: int = 2) {\n  layer proj = Linear(d, k)\n  param scale: f32[k] = ones\n  fn forward(x: f32[B, d]) -> f32[B, k] {\n    return proj(x) * scale\n  }\n}\n',
    entry: 'Head.forward',
    dims: { B: 4 },
  },
];

describe('printGraph golden text', () => {
  for (const c of PRINT_CASES) {
    it(c.name, () => {
      const g = compile(c.src, c.entry, { dims: c.dims ?? {}, path: `${c.name}.dl` });
      expect(verifyGraph(g)).toEqual([]);
      const text = printGraph(g, { spans: c.spans ?? false });
      expectGolden(text, `${GOLDEN}${c.name}.txt`);
      // The text form is stable: printing twice gives the same text.
      expect(printGraph(g, { spans: c.spans ?? false })).toBe(text);
    });
  }

  it('the header lists the inputs and the last line returns the outputs', () => {
    const g = compile('fn f(a: f32[2], b: i32[3]) {\n  return (a * 2.0, b)\n}\n', 'f');
    const lines = printGraph(g).trimEnd().split('\n');
    expect(lines[0]).toBe('graph f(a: f32[2], b: i32[3]) {');
    expect(lines.at(-2)).toMatch(/^ {2}return out0=%\d+, b=%\d+$/);
    expect(lines.at(-1)).toBe('}');
    // Node ids are 0..n-1 in order.
    lines.slice(1, -2).forEach((l, i) => expect(l.startsWith(`  %${i}: `)).toBe(true));
  });
});

// ---- verifier on real programs --------------------------------------------------------------------

const EXAMPLES = readdirSync(`${ROOT}examples`)
  .filter((f) => f.endsWith('.dl'))
  .sort();

/** Inputs with a fixed seed: floats in [−1, 1), small non-negative ints, bools. */
function inputsFor(g: Graph, seed = 1): Record<string, NDArray> {
  const r = rng(seed);
  const out: Record<string, NDArray> = {};
  for (const i of g.inputs) {
    const n = i.type.shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () => (i.type.dtype === 'f32' ? 2 * r() - 1 : i.type.dtype === 'i32' ? Math.floor(r() * 2) : r() < 0.5 ? 0 : 1));
    out[String(i.attrs['name'])] = NDArray.from(i.type.shape, data);
  }
  return out;
}

/** Verifies a lowered graph, then the graph after each pass, which must compute the same outputs. */
function verifyThroughPasses(g: Graph, what: string): void {
  expect(verifyGraph(g), `${what} after lowering`).toEqual([]);
  const inputs = inputsFor(g);
  const before = evaluate(g, inputs, { seed: 3 });
  let cur = g;
  for (const p of PASSES) {
    cur = p.run(cur);
    expect(verifyGraph(cur), `${what} after ${p.name}`).toEqual([]);
    expect(cur.inputs.map((i) => String(i.attrs['name']))).toEqual(g.inputs.map((i) => String(i.attrs['name'])));
    expect(cur.outputs.map((o) => [o.name, o.node.type])).toEqual(g.outputs.map((o) => [o.name, o.node.type]));
  }
  if (cur === g) return;
  const after = evaluate(cur, inputs, { seed: 3 });
  for (const [name, v] of before) {
    const w = after.get(name)!;
    expect(w.shape, `${what}: output ${name}`).toEqual(v.shape);
    const finite = Array.from(v.data).every(Number.isFinite);
    if (finite) expect(maxAbsDiff(v.data, w.data), `${what}: output ${name} changed by the passes`).toBeLessThan(1e-9 * (1 + Math.max(...Array.from(v.data, Math.abs))));
  }
}

describe('verifyGraph accepts every graph the front end builds', () => {
  it('there are examples to verify', () => {
    expect(EXAMPLES.length).toBeGreaterThan(0);
  });

  for (const file of EXAMPLES) {
    it(`examples/${file}: every checked entry point`, () => {
      const src = readFileSync(`${ROOT}examples/${file}`, 'utf8');
      const r = check(src, `examples/${file}`);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.checked.length).toBeGreaterThan(0);
      for (const entry of r.checked) {
        // `train NAME` is a training step (its graph has state updates), the rest are functions.
        const step = entry.startsWith('train ') ? entry.slice('train '.length) : undefined;
        const l = step !== undefined ? lowerTrain(src, step, { path: `examples/${file}` }) : lower(src, entry, { path: `examples/${file}` });
        expect(l.graph, `${file}: ${entry}`).toBeDefined();
        verifyThroughPasses(l.graph!, `${file}: ${entry}`);
      }
    });
  }

  // Every stdlib function and layer, called from user code with concrete shapes.
  const STDLIB_USER = `
fn activations(x: f32[2, 5]) {
  return (relu(x), leaky_relu(x, 0.2), gelu(x), gelu_tanh(x), softplus(x), log_sigmoid(x), silu(x), elu(x, 0.5))
}

fn softmaxes(x: f32[2, 5]) {
  return (logsumexp(x), logsumexp(x, axis=0, keepdims=true), softmax(x, axis=0), log_softmax(x))
}

fn norms(x: f32[4, 3], g: f32[3], b: f32[3], img: f32[2, 3, 2, 2]) {
  return (variance(x), normalize(x), layer_norm(x, g, b), batch_norm(x, g, b), batch_norm(img, g, b))
}

fn losses(z: f32[4, 3], y: i32[4], p: f32[4, 3], mu: f32[4, 3], lv: f32[4, 3]) {
  return (cross_entropy(z, y), cross_entropy(z, softmax(p)), bce_with_logits(z, p), mse(z, p), kl_std_normal(mu, lv), kl_normal(mu, lv, z, p))
}

fn layers(x: f32[2, 4, 8], W: f32[8, 8], b: f32[8]) {
  let q = split_heads(x, 2)
  return (linear(x, W, b), attention(x, x, x), attention(x, x, x, causal=true), merge_heads(q), multi_head_attention(x, W, W, W, W, 2, true))
}

fn cells(x: f32[2, 3], h: f32[2, 4], c: f32[2, 4], W: f32[7, 16], b: f32[16], Wx: f32[3, 12], Wh: f32[4, 12], bg: f32[12]) {
  let (h2, c2) = lstm_cell(x, h, c, W, b)
  return (h2, c2, gru_cell(x, h, Wx, Wh, bg))
}

model Zoo() {
  layer lin = Linear(4, 3)
  layer nobias = Linear(4, 3, bias=false)
  layer ln = LayerNorm(3)
  layer bn = BatchNorm(2)
  layer emb = Embedding(10, 4)
  layer conv = Conv2d(2, 4, 3, padding=1)
  layer conv_g = Conv2d(2, 4, 3, stride=2, groups=2)
  layer conv1 = Conv1d(2, 3, 3, dilation=2)
  layer mha = MultiHeadAttention(4, 2, causal=true)
  layer lstm = LSTMCell(4, 5)
  layer gru = GRUCell(4, 5)
  layer stack[3] = Linear(4, 4)

  fn dense(x: f32[2, 4]) {
    let h = x
    for l in stack {
      h = relu(l(h))
    }
    return (ln(lin(h)), nobias(x))
  }

  fn images(img: f32[2, 2, 5, 5], seq: f32[2, 2, 9]) {
    return (bn(img), conv(img), conv_g(img), conv1(seq))
  }

  fn tokens(t: i32[2, 3]) {
    let e = emb(t)
    return mha(e)
  }

  fn recurrent(x: f32[2, 4], h: f32[2, 5], c: f32[2, 5]) {
    let (h1, c1) = lstm(x, h, c)
    return (h1, c1, gru(x, h))
  }
}
`;

  it('a program using every standard-library function and layer checks cleanly', () => {
    expect(check(STDLIB_USER, 'stdlib-user.dl').diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });

  for (const entry of ['activations', 'softmaxes', 'norms', 'losses', 'layers', 'cells', 'Zoo.dense', 'Zoo.images', 'Zoo.tokens', 'Zoo.recurrent']) {
    it(`stdlib user program: ${entry} verifies, runs and stays the same through the passes`, () => {
      const g = compile(STDLIB_USER, entry, { path: 'stdlib-user.dl' });
      verifyThroughPasses(g, entry);
      const outs = evaluate(g, inputsFor(g), { seed: 2 });
      for (const [name, v] of outs) {
        for (const x of v.data) expect(Number.isFinite(x), `${entry}: ${name}`).toBe(true);
      }
    });
  }

  it('parameters of repeated layers get distinct dotted names', () => {
    const g = compile(STDLIB_USER, 'Zoo.dense', { path: 'stdlib-user.dl' });
    const names = g.params.map((p) => String(p.attrs['name']));
    expect(names).toEqual(expect.arrayContaining(['stack.0.W', 'stack.1.W', 'stack.2.W', 'lin.W', 'lin.b', 'ln.gamma', 'nobias.W']));
    expect(new Set(names).size).toBe(names.length);
  });
});

// ---- verifier on broken graphs -------------------------------------------------------------------

/** A small valid graph: out = relu-ish(x @ W + b) built with the builder. */
function sampleGraph(): Graph {
  const b = new GraphBuilder();
  const x = b.add('input', [], { name: 'x', dtype: 'f32', shape: [2, 3] });
  const w = b.add('param', [], { name: 'W', dtype: 'f32', shape: [3, 4], init: { kind: 'zeros', args: {} } });
  const y = b.add('dot_general', [x, w], { lhs_batch: [], rhs_batch: [], lhs_contract: [1], rhs_contract: [0] });
  const z = b.add('exp', [y]);
  const s = b.add('reduce_sum', [z], { axes: [1] });
  return b.finish('sample', [x], [{ name: 'out', node: s }]);
}

/** Rebuilds a graph with node `i` replaced by `f(node)`; later nodes are rewired to the new objects. */
function withNode(g: Graph, i: number, f: (n: Node, nodes: Node[]) => Node): Graph {
  const nodes: Node[] = [];
  const map = new Map<Node, Node>();
  for (const n of g.nodes) {
    const rewired: Node = { ...n, inputs: n.inputs.map((x) => map.get(x) ?? x) };
    const m = n.id === i ? f(rewired, nodes) : rewired;
    map.set(n, m);
    nodes.push(m);
  }
  return {
    name: g.name,
    nodes,
    inputs: g.inputs.map((x) => map.get(x)!),
    params: g.params.map((x) => map.get(x)!),
    outputs: g.outputs.map((o) => ({ name: o.name, node: map.get(o.node)! })),
    updates: g.updates.map((u) => ({ name: u.name, node: map.get(u.node)! })),
  };
}

const problemsOf = (g: Graph) => verifyGraph(g).join('\n');

describe('verifyGraph catches broken graphs', () => {
  const good = sampleGraph();

  it('the hand-built sample is valid and evaluates', () => {
    expect(verifyGraph(good)).toEqual([]);
    const out = evaluate(good, { x: NDArray.from([2, 3], [1, 2, 3, 4, 5, 6]) }).get('out')!;
    expect(Array.from(out.data)).toEqual([4, 4]);
  });

  it('a node whose recorded type disagrees with its shape rule', () => {
    const bad = withNode(good, 3, (n) => ({ ...n, type: { dtype: 'f32', shape: [2, 5] } }));
    expect(problemsOf(bad)).toMatch(/node %3 \(exp\): type f32\[2, 5\] but the shape rule gives f32\[2, 4\]/);
    const dt = withNode(good, 3, (n) => ({ ...n, type: { dtype: 'i32', shape: [2, 4] } }));
    expect(problemsOf(dt)).toMatch(/node %3 \(exp\): type i32\[2, 4\] but the shape rule gives f32\[2, 4\]/);
  });

  it('an input taken from a later node (not topologically ordered)', () => {
    const bad = withNode(good, 3, (n) => ({ ...n, inputs: [good.nodes[4]!] }));
    expect(problemsOf(bad)).toMatch(/node %3 \(exp\): input %4 is not an earlier node of this graph/);
  });

  it('an input that is itself (a cycle)', () => {
    const bad = withNode(good, 3, (n) => {
      const self: { -readonly [K in keyof Node]: Node[K] } = { ...n };
      self.inputs = [self as Node];
      return self as Node;
    });
    expect(problemsOf(bad)).toMatch(/node %3 \(exp\): input %3 is not an earlier node/);
  });

  it('an input node from another graph', () => {
    const other = sampleGraph();
    const bad = withNode(good, 3, (n) => ({ ...n, inputs: [other.nodes[2]!] }));
    expect(problemsOf(bad)).toMatch(/node %3 \(exp\): input %2 is not an earlier node of this graph/);
  });

  it('an unknown op is reported as a problem (verifyGraph must not throw)', () => {
    const bad = withNode(good, 3, (n) => ({ ...n, op: 'frobnicate' }));
    let problems: string[] = [];
    expect(() => {
      problems = verifyGraph(bad);
    }).not.toThrow();
    expect(problems.join('\n')).toMatch(/node %3 \(frobnicate\): unknown op/);
  });

  it('a wrong arity, a bad or unexpected attribute', () => {
    expect(problemsOf(withNode(good, 3, (n) => ({ ...n, inputs: [n.inputs[0]!, n.inputs[0]!] })))).toMatch(/node %3 \(exp\): 2 inputs, expected 1/);
    expect(problemsOf(withNode(good, 4, (n) => ({ ...n, attrs: { axes: [1.5] } })))).toMatch(/node %4 \(reduce_sum\): attribute axes should be ints/);
    expect(problemsOf(withNode(good, 4, (n) => ({ ...n, attrs: {} })))).toMatch(/attribute axes should be ints/);
    expect(problemsOf(withNode(good, 3, (n) => ({ ...n, attrs: { fast: true } })))).toMatch(/node %3 \(exp\): unexpected attribute fast/);
    expect(problemsOf(withNode(good, 0, (n) => ({ ...n, attrs: { ...n.attrs, dtype: 'f64' } })))).toMatch(/node %0 \(input\): attribute dtype should be dtype/);
  });

  it('a shape rule that fails outright', () => {
    const bad = withNode(good, 2, (n) => ({ ...n, attrs: { ...n.attrs, lhs_contract: [0] } }));
    expect(problemsOf(bad)).toMatch(/node %2 \(dot_general\): shape rule fails: cannot contract 2 with 3/);
  });

  it('ids out of order, outputs and inputs outside the graph, duplicate parameters', () => {
    expect(problemsOf(withNode(good, 1, (n) => ({ ...n, id: 7 })))).toMatch(/node %7 \(param\): id 7 at position 1/);
    const foreign = sampleGraph();
    expect(problemsOf({ ...good, outputs: [{ name: 'out', node: foreign.nodes[4]! }] })).toMatch(/output out is not a node of the graph/);
    expect(problemsOf({ ...good, inputs: [good.nodes[1]!] })).toMatch(/graph input %1 is not an input node of the graph/);
    expect(problemsOf({ ...good, params: [good.nodes[1]!, good.nodes[1]!] })).toMatch(/parameter W appears twice/);
  });

  it('every problem names the node and shows its neighbourhood', () => {
    const bad = withNode(good, 3, (n) => ({ ...n, type: { dtype: 'f32', shape: [9] } }));
    const [p] = verifyGraph(bad);
    expect(p).toContain('> %3: f32[9] = exp(%2)');
    expect(p).toContain('%2: f32[2, 4] = dot_general(%0, %1)');
  });
});

// ---- the op registry ------------------------------------------------------------------------------

const KINDS: readonly OpKind[] = ['elementwise', 'reduce', 'movement', 'indexing', 'contraction', 'window', 'source', 'loop', 'routine'];
const ATTR_KINDS = ['int', 'ints', 'float', 'bool', 'dtype', 'string', 'json'];
const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

/** Which dtypes each attribute-free elementwise op accepts (from its documented meaning). */
const ACCEPTS: Record<string, readonly DType[]> = {
  neg: ['f32', 'i32'],
  abs: ['f32', 'i32'],
  sign: ['f32', 'i32'],
  exp: ['f32'],
  log: ['f32'],
  log1p: ['f32'],
  sqrt: ['f32'],
  rsqrt: ['f32'],
  tanh: ['f32'],
  sigmoid: ['f32'],
  sin: ['f32'],
  cos: ['f32'],
  erf: ['f32'],
  floor: ['f32'],
  ceil: ['f32'],
  not: ['bool'],
  add: ['f32', 'i32'],
  sub: ['f32', 'i32'],
  mul: ['f32', 'i32'],
  div: ['f32', 'i32'],
  pow: ['f32'],
  max: ['f32', 'i32'],
  min: ['f32', 'i32'],
  eq: ['f32', 'i32', 'bool'],
  ne: ['f32', 'i32', 'bool'],
  lt: ['f32', 'i32'],
  le: ['f32', 'i32'],
  gt: ['f32', 'i32'],
  ge: ['f32', 'i32'],
  and: ['bool'],
  or: ['bool'],
};
const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

const t = (dtype: DType, shape: number[] = [2, 3]): TensorType => ({ dtype, shape });

/** infer, reporting whether it accepted; anything but an OpError is a bug in the shape rule. */
function tryInfer(op: string, inputs: TensorType[], attrs: object = {}): { ok: true; type: TensorType } | { ok: false; error: OpError } {
  try {
    return { ok: true, type: OPS.get(op)!.infer(inputs, attrs as never) };
  } catch (e) {
    if (!(e instanceof OpError)) throw new Error(`${op}.infer threw ${(e as Error).name}: ${(e as Error).message} instead of an OpError`);
    return { ok: false, error: e };
  }
}

describe('the op registry', () => {
  it('every op has its name as key, a one-line doc, a valid kind, arity and attribute kinds', () => {
    expect(OPS.size).toBeGreaterThan(40);
    for (const [name, d] of OPS) {
      expect(d.name).toBe(name);
      expect(typeof d.doc, name).toBe('string');
      expect(d.doc.trim().length, `${name} has no doc`).toBeGreaterThan(0);
      expect(d.doc, name).not.toContain('\n');
      expect(KINDS, name).toContain(d.kind);
      expect(d.arity === 'variadic' || (Number.isInteger(d.arity) && d.arity >= 0), name).toBe(true);
      for (const [k, kind] of Object.entries(d.attrs)) expect(ATTR_KINDS, `${name}.${k}`).toContain(kind);
      expect(typeof d.infer).toBe('function');
      expect(typeof d.evaluate).toBe('function');
      if (d.kind === 'source') expect(d.arity, name).toBe(0);
      else expect(d.arity, name).not.toBe(0);
    }
  });

  it('the documented elementwise ops are all registered', () => {
    for (const name of Object.keys(ACCEPTS)) {
      expect(OPS.get(name)?.kind, name).toBe('elementwise');
    }
  });

  for (const [name, accepts] of Object.entries(ACCEPTS)) {
    it(`${name}: infer accepts ${accepts.join('/')} and rejects the other dtypes with DL0303`, () => {
      const d = OPS.get(name)!;
      for (const dt of DTYPES) {
        const ins = Array.from({ length: d.arity as number }, () => t(dt));
        const r = tryInfer(name, ins);
        if (accepts.includes(dt)) {
          expect(r.ok, `${name}(${dt})`).toBe(true);
          if (r.ok) expect(r.type).toEqual(t(COMPARISONS.has(name) ? 'bool' : dt));
        } else {
          expect(r.ok, `${name}(${dt}) should be rejected`).toBe(false);
          if (!r.ok) expect(r.error.code).toBe('DL0303');
        }
      }
      if (d.arity === 2) {
        // Mixed dtypes and unequal shapes are rejected (broadcasting is explicit in the IR).
        const [a, b2] = [accepts[0]!, accepts[1]];
        if (b2) {
          const mixed = tryInfer(name, [t(a), t(b2)]);
          expect(mixed.ok).toBe(false);
          if (!mixed.ok) expect(mixed.error.code).toBe('DL0303');
        }
        const shapes = tryInfer(name, [t(a, [2, 3]), t(a, [3, 2])]);
        expect(shapes.ok).toBe(false);
        if (!shapes.ok) expect(shapes.error.code).toBe('DL0302');
      }
    });
  }

  it('elementwise ops not in the table still answer every dtype with a type or an OpError', () => {
    for (const [name, d] of OPS) {
      if (d.kind !== 'elementwise' || name in ACCEPTS || Object.keys(d.attrs).length || typeof d.arity !== 'number') continue;
      for (const dt of DTYPES) tryInfer(name, Array.from({ length: d.arity }, () => t(dt)));
    }
  });

  it('select needs a bool condition and equal branch dtypes; cast accepts everything', () => {
    expect(tryInfer('select', [t('bool'), t('f32'), t('f32')])).toMatchObject({ ok: true, type: t('f32') });
    expect(tryInfer('select', [t('f32'), t('f32'), t('f32')])).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('select', [t('bool'), t('f32'), t('i32')])).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    for (const from of DTYPES) for (const to of DTYPES) expect(tryInfer('cast', [t(from)], { dtype: to })).toMatchObject({ ok: true, type: t(to) });
  });

  it('reductions reject bool; argmax returns i32; bad axes are DL0307', () => {
    for (const op of ['reduce_sum', 'reduce_max', 'reduce_min']) {
      expect(tryInfer(op, [t('f32')], { axes: [1] })).toMatchObject({ ok: true, type: t('f32', [2]) });
      expect(tryInfer(op, [t('i32')], { axes: [0, 1] })).toMatchObject({ ok: true, type: t('i32', []) });
      expect(tryInfer(op, [t('bool')], { axes: [1] })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
      expect(tryInfer(op, [t('f32')], { axes: [2] })).toMatchObject({ ok: false, error: { code: 'DL0307' } });
      expect(tryInfer(op, [t('f32')], { axes: [1, 1] })).toMatchObject({ ok: false, error: { code: 'DL0307' } });
    }
    for (const op of ['argmax', 'argmin']) {
      expect(tryInfer(op, [t('f32')], { axis: 0 })).toMatchObject({ ok: true, type: t('i32', [3]) });
      expect(tryInfer(op, [t('bool')], { axis: 0 })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
      expect(tryInfer(op, [t('f32')], { axis: -1 })).toMatchObject({ ok: false, error: { code: 'DL0307' } });
    }
  });

  it('dot_general rejects bool and mixed dtypes, and mismatched contraction sizes', () => {
    const mm = { lhs_batch: [], rhs_batch: [], lhs_contract: [1], rhs_contract: [0] };
    expect(tryInfer('dot_general', [t('f32', [2, 3]), t('f32', [3, 4])], mm)).toMatchObject({ ok: true, type: t('f32', [2, 4]) });
    expect(tryInfer('dot_general', [t('i32', [2, 3]), t('i32', [3, 4])], mm)).toMatchObject({ ok: true, type: t('i32', [2, 4]) });
    expect(tryInfer('dot_general', [t('bool', [2, 3]), t('bool', [3, 4])], mm)).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('dot_general', [t('f32', [2, 3]), t('i32', [3, 4])], mm)).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('dot_general', [t('f32', [2, 3]), t('f32', [4, 4])], mm)).toMatchObject({ ok: false, error: { code: 'DL0301' } });
    expect(tryInfer('dot_general', [t('f32', [2, 3]), t('f32', [3, 4])], { ...mm, lhs_contract: [5] })).toMatchObject({ ok: false, error: { code: 'DL0307' } });
  });

  it('gather and scatter_add need i32 indices', () => {
    expect(tryInfer('gather', [t('f32', [5, 2]), t('i32', [3])], { axis: 0 })).toMatchObject({ ok: true, type: t('f32', [3, 2]) });
    expect(tryInfer('gather', [t('f32', [5, 2]), t('f32', [3])], { axis: 0 })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('gather', [t('f32', [5, 2]), t('bool', [3])], { axis: 0 })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('scatter_add', [t('i32', [3]), t('f32', [3, 2])], { axis: 0, size: 5 })).toMatchObject({ ok: true, type: t('f32', [5, 2]) });
    expect(tryInfer('scatter_add', [t('f32', [3]), t('f32', [3, 2])], { axis: 0, size: 5 })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
  });

  it('concat rejects mixed dtypes; movement ops reject invalid attributes with OpErrors', () => {
    expect(tryInfer('concat', [t('f32'), t('i32')], { axis: 0 })).toMatchObject({ ok: false, error: { code: 'DL0303' } });
    expect(tryInfer('concat', [t('f32'), t('f32', [2, 5])], { axis: 1 })).toMatchObject({ ok: true, type: t('f32', [2, 8]) });
    expect(tryInfer('reshape', [t('f32')], { shape: [7] })).toMatchObject({ ok: false, error: { code: 'DL0308' } });
    expect(tryInfer('permute', [t('f32')], { perm: [0, 0] })).toMatchObject({ ok: false, error: { code: 'DL0307' } });
    expect(tryInfer('broadcast', [t('f32')], { shape: [4, 3] })).toMatchObject({ ok: false, error: { code: 'DL0302' } });
    expect(tryInfer('slice', [t('f32')], { start: [0, 0], stop: [3, 3], step: [1, 1] })).toMatchObject({ ok: false, error: { code: 'DL0309' } });
    expect(tryInfer('pad', [t('f32')], { lo: [0, -1], hi: [0, 0], value: 0 })).toMatchObject({ ok: false, error: { code: 'DL0311' } });
    const win = { window: [3], stride: [1], dilation: [1], pad_lo: [0], pad_hi: [0], value: 0 };
    expect(tryInfer('unfold', [t('f32', [2, 2])], win)).toMatchObject({ ok: false, error: { code: 'DL0311' } });
    expect(tryInfer('unfold', [t('f32', [2, 5])], win)).toMatchObject({ ok: true, type: t('f32', [2, 3, 3]) });
  });

  it('every op with a cost model reports non-negative work for a valid node', () => {
    const g = compile(
      'fn f(x: f32[2, 1, 6, 6], w: f32[3, 1, 3, 3], i: i32[2]) {\n  let y = relu(conv2d(x, w, padding=1))\n  return (max_pool2d(y, 2), sum(take(reshape(y, [2, 108]), i, axis=1) @ ones([2, 4])), softmax(y, axis=1))\n}\n',
      'f',
    );
    for (const n of g.nodes) {
      const d = OPS.get(n.op)!;
      if (!d.cost) continue;
      const c = d.cost(
        n.inputs.map((x) => x.type),
        n.type,
        n.attrs,
      );
      expect(c.flops, n.op).toBeGreaterThanOrEqual(0);
      expect(c.bytes, n.op).toBeGreaterThanOrEqual(0);
    }
  });
});
