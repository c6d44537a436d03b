// The six workloads: shapes, seeded inputs and parameters, identical for every system.
// Layouts are dlc's (row-major; dense weights [in, out]; convolutions NCHW with weights
// [out, in, kh, kw]; the LSTM weight [I + H, 4H] with gate blocks i, f, g, o); a peer that wants
// another layout converts these arrays, so every side computes the same function of the same numbers.

/** A small seeded generator (mulberry32): uniform floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** f32 values uniform in [lo, hi). */
function uniform(next, shape, lo, hi) {
  const out = new Float32Array(numel(shape));
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * next();
  return { shape, data: out, dtype: 'f32' };
}

/** A weight with the Glorot-uniform scale for the given fans. */
const glorot = (next, shape, fanIn, fanOut) => {
  const s = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(next, shape, -s, s);
};

function labels(next, n, classes) {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * classes);
  return { shape: [n], data: out, dtype: 'i32' };
}

/** One-hot rows for integer labels (the peers take the labels this way). */
export function oneHot(y, classes) {
  const out = new Float32Array(y.data.length * classes);
  y.data.forEach((c, i) => (out[i * classes + c] = 1));
  return { shape: [y.data.length, classes], data: out, dtype: 'f32' };
}

function mlpParams(next) {
  return {
    'l1.W': glorot(next, [784, 256], 784, 256),
    'l1.b': uniform(next, [256], -0.1, 0.1),
    'l2.W': glorot(next, [256, 256], 256, 256),
    'l2.b': uniform(next, [256], -0.1, 0.1),
    'l3.W': glorot(next, [256, 10], 256, 10),
    'l3.b': uniform(next, [10], -0.1, 0.1),
  };
}

/**
 * Each workload: `file` and `fn` name dlc's side; `inputs` and `params` are keyed by dlc's names;
 * `result` says what is compared across systems and read back every step: the scalar loss, or
 * the whole output (W1, W3).
 */
export const WORKLOADS = [
  {
    id: 'W1',
    title: 'matmul 512x512x512',
    file: 'w1-matmul.dl',
    fn: 'matmul',
    result: 'output',
    make(next) {
      return { inputs: { a: uniform(next, [512, 512], -1, 1), b: uniform(next, [512, 512], -1, 1) }, params: {} };
    },
  },
  {
    id: 'W2',
    title: 'MLP train step 784-256-256-10, batch 128 (SGD)',
    file: 'w2-mlp-train.dl',
    fn: 'MLP.step',
    result: 'loss',
    lr: 0.01,
    make(next) {
      return { inputs: { x: uniform(next, [128, 784], 0, 1), y: labels(next, 128, 10) }, params: mlpParams(next) };
    },
  },
  {
    id: 'W3',
    title: 'MLP inference 784-256-256-10, batch 128 (logits)',
    file: 'w3-mlp-infer.dl',
    fn: 'MLP.forward',
    result: 'output',
    make(next) {
      return { inputs: { x: uniform(next, [128, 784], 0, 1) }, params: mlpParams(next) };
    },
  },
  {
    id: 'W4',
    title: 'CNN fwd+bwd, batch 32, 1x28x28',
    file: 'w4-cnn-grad.dl',
    fn: 'CNN.grads',
    result: 'loss',
    make(next) {
      return {
        inputs: { x: uniform(next, [32, 1, 28, 28], 0, 1), y: labels(next, 32, 10) },
        params: {
          'conv1.W': glorot(next, [16, 1, 3, 3], 9, 16 * 9),
          'conv1.b': uniform(next, [16], -0.1, 0.1),
          'conv2.W': glorot(next, [32, 16, 3, 3], 16 * 9, 32 * 9),
          'conv2.b': uniform(next, [32], -0.1, 0.1),
          'fc.W': glorot(next, [32 * 7 * 7, 10], 32 * 7 * 7, 10),
          'fc.b': uniform(next, [10], -0.1, 0.1),
        },
      };
    },
  },
  {
    id: 'W5',
    title: 'LSTM fwd+bwd, batch 32, 32 steps, 64 -> 128',
    file: 'w5-lstm-grad.dl',
    fn: 'LSTM.grads',
    result: 'loss',
    make(next) {
      return {
        inputs: { x: uniform(next, [32, 32, 64], -1, 1) },
        params: { 'cell.W': glorot(next, [64 + 128, 4 * 128], 64 + 128, 4 * 128), 'cell.b': uniform(next, [4 * 128], -0.1, 0.1) },
      };
    },
  },
  {
    id: 'W6',
    title: 'transformer block fwd+bwd, batch 8, seq 64, d 128, 4 heads, FFN 512',
    file: 'w6-transformer-grad.dl',
    fn: 'Block.grads',
    result: 'loss',
    make(next) {
      const d = 128;
      return {
        inputs: { x: uniform(next, [8, 64, d], -1.5, 1.5) },
        params: {
          'ln1.gamma': uniform(next, [d], 0.9, 1.1),
          'ln1.beta': uniform(next, [d], -0.1, 0.1),
          'attn.Wq': glorot(next, [d, d], d, d),
          'attn.Wk': glorot(next, [d, d], d, d),
          'attn.Wv': glorot(next, [d, d], d, d),
          'attn.Wo': glorot(next, [d, d], d, d),
          'ln2.gamma': uniform(next, [d], 0.9, 1.1),
          'ln2.beta': uniform(next, [d], -0.1, 0.1),
          'fc1.W': glorot(next, [d, 512], d, 512),
          'fc1.b': uniform(next, [512], -0.1, 0.1),
          'fc2.W': glorot(next, [512, d], 512, d),
          'fc2.b': uniform(next, [d], -0.1, 0.1),
        },
      };
    },
  },
];

/** The data of one workload (the same on every call: seeded by the workload's number). */
export function workloadData(w) {
  return w.make(rng(1000 + Number(w.id.slice(1))));
}

/**
 * Whether two results agree: scalars within `rel` of each other, arrays within `rel` of the
 * largest reference magnitude. Returns the error measure.
 */
export function relError(ref, got) {
  if (typeof ref === 'number') return Math.abs(ref - got) / Math.max(Math.abs(ref), 1e-6);
  if (ref.length !== got.length) return Infinity;
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    const d = Math.abs(ref[i] - got[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
  }
  return maxDiff / Math.max(maxRef, 1e-6);
}
