// The six workloads written with TF.js ops (eager, as TF.js is normally used). Each builder gets
// `tf` (with the wanted backend active) and the workload data, creates its tensors on that backend,
// and returns `step()`: one step, resolving to the loss (a number) or the output (a Float32Array).
// Every step reads back only that value (`await t.data()`) and disposes what it made.
import { oneHot } from '../data.mjs';

const tensor = (tf, a) => tf.tensor(a.data, a.shape, a.dtype === 'i32' ? 'int32' : 'float32');

async function readScalar(t) {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

async function readAll(t) {
  const v = await t.data();
  t.dispose();
  return v;
}

// Softmax cross-entropy with one-hot targets, averaged over the batch (as dlc's cross_entropy).
const crossEntropy = (tf, logits, targets) => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)));

function mlp(tf, p) {
  const v = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, tf.variable(tensor(tf, a))]));
  const forward = (x) => {
    const h1 = tf.relu(tf.add(tf.matMul(x, v['l1.W']), v['l1.b']));
    const h2 = tf.relu(tf.add(tf.matMul(h1, v['l2.W']), v['l2.b']));
    return tf.add(tf.matMul(h2, v['l3.W']), v['l3.b']);
  };
  return { vars: v, forward };
}

/** Rearranges [O, I, kh, kw] convolution weights to TF.js's [kh, kw, I, O]. */
function hwio(a) {
  const [O, I, KH, KW] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < KH; y++) for (let x = 0; x < KW; x++)
    out[((y * KW + x) * I + i) * O + o] = a.data[((o * I + i) * KH + y) * KW + x];
  return { shape: [KH, KW, I, O], data: out, dtype: 'f32' };
}

/** Reorders the rows of the dense weight from NCHW flattening (c, h, w) to NHWC (h, w, c). */
function nhwcRows(a, C, H, W) {
  const cols = a.shape[1];
  const out = new Float32Array(a.data.length);
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const from = (c * H + h) * W + w;
    const to = (h * W + w) * C + c;
    out.set(a.data.subarray(from * cols, (from + 1) * cols), to * cols);
  }
  return { shape: a.shape, data: out, dtype: 'f32' };
}

/** NCHW image data to NHWC. */
function nhwc(a) {
  const [N, C, H, W] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++)
    out[((n * H + h) * W + w) * C + c] = a.data[((n * C + c) * H + h) * W + w];
  return { shape: [N, H, W, C], data: out, dtype: 'f32' };
}

export const TFJS_MODELS = {
  W1(tf, d) {
    const a = tensor(tf, d.inputs.a);
    const b = tensor(tf, d.inputs.b);
    return { step: () => readAll(tf.matMul(a, b)) };
  },

  W2(tf, d, w) {
    const { vars, forward } = mlp(tf, d.params);
    const x = tensor(tf, d.inputs.x);
    const y = tensor(tf, oneHot(d.inputs.y, 10));
    const opt = tf.train.sgd(w.lr);
    const varList = Object.values(vars);
    // minimize(): loss, gradients and the in-place update w -= lr * g of every variable.
    return { step: () => readScalar(opt.minimize(() => crossEntropy(tf, forward(x), y), true, varList)) };
  },

  W3(tf, d) {
    const { forward } = mlp(tf, d.params);
    const x = tensor(tf, d.inputs.x);
    return { step: () => readAll(tf.tidy(() => forward(x))) };
  },

  W4(tf, d) {
    const p = d.params;
    const v = {
      c1: tf.variable(tensor(tf, hwio(p['conv1.W']))),
      b1: tf.variable(tensor(tf, p['conv1.b'])),
      c2: tf.variable(tensor(tf, hwio(p['conv2.W']))),
      b2: tf.variable(tensor(tf, p['conv2.b'])),
      fw: tf.variable(tensor(tf, nhwcRows(p['fc.W'], 32, 7, 7))),
      fb: tf.variable(tensor(tf, p['fc.b'])),
    };
    const x = tensor(tf, nhwc(d.inputs.x));
    const y = tensor(tf, oneHot(d.inputs.y, 10));
    const loss = () => {
      let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, v.c1, 1, 'same'), v.b1)), 2, 2, 'valid');
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, v.c2, 1, 'same'), v.b2)), 2, 2, 'valid');
      const logits = tf.add(tf.matMul(tf.reshape(h, [32, 7 * 7 * 32]), v.fw), v.fb);
      return crossEntropy(tf, logits, y);
    };
    return { step: () => gradsStep(tf, loss, Object.values(v)) };
  },

  W5(tf, d) {
    const W = tf.variable(tensor(tf, d.params['cell.W']));
    const b = tf.variable(tensor(tf, d.params['cell.b']));
    const x = tensor(tf, d.inputs.x);
    const loss = () => {
      let h = tf.zeros([32, 128]);
      let c = tf.zeros([32, 128]);
      for (const xt of tf.unstack(x, 1)) {
        const z = tf.add(tf.matMul(tf.concat([xt, h], 1), W), b);
        const [zi, zf, zg, zo] = tf.split(z, 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)));
        h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
      }
      return tf.sum(h);
    };
    return { step: () => gradsStep(tf, loss, [W, b]) };
  },

  W6(tf, d) {
    const v = Object.fromEntries(Object.entries(d.params).map(([k, a]) => [k, tf.variable(tensor(tf, a))]));
    const x = tensor(tf, d.inputs.x);
    const [B, T, D, H] = [8, 64, 128, 4];
    const layerNorm = (u, g, b) => {
      const mu = tf.mean(u, -1, true);
      const c = tf.sub(u, mu);
      const variance = tf.mean(tf.square(c), -1, true);
      return tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
    };
    const heads = (u) => tf.transpose(tf.reshape(u, [B, T, H, D / H]), [0, 2, 1, 3]);
    const attention = (u) => {
      const rows = tf.reshape(u, [B * T, D]);
      const q = heads(tf.matMul(rows, v['attn.Wq']));
      const k = heads(tf.matMul(rows, v['attn.Wk']));
      const val = heads(tf.matMul(rows, v['attn.Wv']));
      const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D / H)));
      const o = tf.reshape(tf.transpose(tf.matMul(weights, val), [0, 2, 1, 3]), [B * T, D]);
      return tf.reshape(tf.matMul(o, v['attn.Wo']), [B, T, D]);
    };
    const gelu = (u) => tf.mul(tf.mul(u, 0.5), tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1));
    const dense = (u, W, b) => tf.add(tf.matMul(u, W), b);
    const loss = () => {
      const r = tf.add(x, attention(layerNorm(x, v['ln1.gamma'], v['ln1.beta'])));
      const rows = tf.reshape(layerNorm(r, v['ln2.gamma'], v['ln2.beta']), [B * T, D]);
      const f = dense(gelu(dense(rows, v['fc1.W'], v['fc1.b'])), v['fc2.W'], v['fc2.b']);
      const out = tf.add(r, tf.reshape(f, [B, T, D]));
      return tf.mean(tf.square(out));
    };
    return { step: () => gradsStep(tf, loss, Object.values(v)) };
  },
};

/** Loss and the gradients of all `vars`; reads back the loss, disposes the gradients. */
async function gradsStep(tf, loss, vars) {
  const { value, grads } = tf.variableGrads(loss, vars);
  const v = await readScalar(value);
  tf.dispose(grads);
  return v;
}
