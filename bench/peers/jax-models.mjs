// The six workloads written with jax-js, each step one jit-compiled function (jit fuses and
// records the kernels; that is jax-js's intended use). jax-js arrays are reference-counted: every
// function consumes its array arguments, so a value used twice is passed as `x.ref` the first
// time. Parameters are a tree ({ 'l1.W': Array, … }); valueAndGrad differentiates w.r.t. it.
// Arrays are lazy, and kernels whose results are disposed unread are skipped, so each step waits
// (blockUntilReady) for every result it computes — gradients, updated parameters — while reading
// back only the loss (or the output for W1/W3).
import { oneHot } from '../data.mjs';

/** Reads a scalar loss, waiting for `others` (a tree) to be computed too; disposes them. */
async function lossAndWait(jax, loss, others) {
  const [v] = await Promise.all([loss.data(), jax.blockUntilReady(others)]);
  return v[0];
}

function arrays(jax, device, obj) {
  return Object.fromEntries(Object.entries(obj).map(([k, a]) => [k, jax.numpy.array(a.data, { shape: a.shape, device, dtype: a.dtype === 'i32' ? jax.numpy.int32 : jax.numpy.float32 })]));
}

// Softmax cross-entropy with one-hot targets, averaged over the batch.
const crossEntropy = (jax, logits, targets) => jax.numpy.mean(jax.numpy.sum(targets.mul(jax.nn.logSoftmax(logits, -1)), -1)).neg();

function mlpForward(jax, p, x) {
  const { numpy: np, nn } = jax;
  const h1 = nn.relu(np.matmul(x, p['l1.W']).add(p['l1.b']));
  const h2 = nn.relu(np.matmul(h1, p['l2.W']).add(p['l2.b']));
  return np.matmul(h2, p['l3.W']).add(p['l3.b']);
}

/** Runs a jitted (params, ...inputs) → [loss, grads] and waits for both; params and inputs stay owned. */
function gradStep(jax, fn, params, inputs) {
  return async () => {
    const [loss, grads] = fn(jax.tree.ref(params), ...inputs.map((a) => a.ref));
    const v = await lossAndWait(jax, loss, grads);
    jax.tree.dispose(grads);
    return v;
  };
}

export const JAX_MODELS = {
  W1(jax, d, device) {
    const { a, b } = arrays(jax, device, d.inputs);
    const mm = jax.jit((x, y) => jax.numpy.matmul(x, y), { device });
    return { step: async () => mm(a.ref, b.ref).data() };
  },

  W2(jax, d, device, w) {
    let params = arrays(jax, device, d.params);
    const { x, y } = arrays(jax, device, { x: d.inputs.x, y: oneHot(d.inputs.y, 10) });
    const loss = (p, xb, yb) => crossEntropy(jax, mlpForward(jax, p, xb), yb);
    const step = jax.jit((p, xb, yb) => {
      const [l, g] = jax.valueAndGrad(loss)(jax.tree.ref(p), xb, yb);
      const next = jax.tree.map((pi, gi) => pi.sub(gi.mul(w.lr)), p, g);
      return [l, next];
    }, { device });
    return {
      async step() {
        const [l, next] = step(params, x.ref, y.ref); // the old parameters are consumed
        params = next;
        return lossAndWait(jax, l, next);
      },
    };
  },

  W3(jax, d, device) {
    const params = arrays(jax, device, d.params);
    const { x } = arrays(jax, device, d.inputs);
    const forward = jax.jit((p, xb) => mlpForward(jax, p, xb), { device });
    return { step: async () => forward(jax.tree.ref(params), x.ref).data() };
  },

  W4(jax, d, device) {
    const { numpy: np, nn, lax } = jax;
    const params = arrays(jax, device, d.params);
    const { x, y } = arrays(jax, device, { x: d.inputs.x, y: oneHot(d.inputs.y, 10) });
    const pad1 = [[1, 1], [1, 1]];
    const maxPool2 = (h) => {
      const [N, C, H, W] = h.shape;
      return np.max(h.reshape([N, C, H / 2, 2, W / 2, 2]), [3, 5]);
    };
    const convRelu = (h, W, b) => nn.relu(lax.convGeneralDilated(h, W, [1, 1], pad1).add(b.reshape([-1, 1, 1])));
    const loss = (p, xb, yb) => {
      let h = maxPool2(convRelu(xb, p['conv1.W'], p['conv1.b']));
      h = maxPool2(convRelu(h, p['conv2.W'], p['conv2.b']));
      const logits = np.matmul(h.reshape([32, 32 * 7 * 7]), p['fc.W']).add(p['fc.b']);
      return crossEntropy(jax, logits, yb);
    };
    return { step: gradStep(jax, jax.jit(jax.valueAndGrad(loss), { device }), params, [x, y]) };
  },

  W5(jax, d, device) {
    const { numpy: np, nn } = jax;
    const params = arrays(jax, device, d.params);
    const { x } = arrays(jax, device, d.inputs);
    const loss = (p, xb) => {
      const W = p['cell.W'];
      const b = p['cell.b'];
      let h = np.zeros([32, 128], { device });
      let c = np.zeros([32, 128], { device });
      for (let t = 0; t < 32; t++) {
        const xt = xb.ref.slice([], t);
        const z = np.matmul(np.concatenate([xt, h], 1), W.ref).add(b.ref);
        const [zi, zf, zg, zo] = np.split(z, 4, 1);
        c = nn.sigmoid(zf).mul(c).add(nn.sigmoid(zi).mul(np.tanh(zg)));
        h = nn.sigmoid(zo).mul(np.tanh(c.ref));
      }
      c.dispose();
      xb.dispose();
      W.dispose();
      b.dispose();
      return np.sum(h);
    };
    return { step: gradStep(jax, jax.jit(jax.valueAndGrad(loss), { device }), params, [x]) };
  },

  W6(jax, d, device) {
    const { numpy: np, nn } = jax;
    const params = arrays(jax, device, d.params);
    const { x } = arrays(jax, device, d.inputs);
    const [B, T, D, H] = [8, 64, 128, 4];
    const layerNorm = (u, g, b) => {
      const c = u.ref.sub(np.mean(u, -1, { keepdims: true }));
      const variance = np.mean(np.square(c.ref), -1, { keepdims: true });
      return c.mul(np.reciprocal(np.sqrt(variance.add(1e-5)))).mul(g).add(b);
    };
    const heads = (u) => u.reshape([B, T, H, D / H]).transpose([0, 2, 1, 3]);
    const attention = (u, p) => {
      const q = heads(np.matmul(u.ref, p['attn.Wq']));
      const k = heads(np.matmul(u.ref, p['attn.Wk']));
      const v = heads(np.matmul(u, p['attn.Wv']));
      const weights = nn.softmax(np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(D / H)), -1);
      const o = np.matmul(weights, v).transpose([0, 2, 1, 3]).reshape([B, T, D]);
      return np.matmul(o, p['attn.Wo']);
    };
    const loss = (p, xb) => {
      const r = xb.ref.add(attention(layerNorm(xb, p['ln1.gamma'], p['ln1.beta']), p));
      const u = layerNorm(r.ref, p['ln2.gamma'], p['ln2.beta']);
      const f = np.matmul(nn.gelu(np.matmul(u, p['fc1.W']).add(p['fc1.b']), { approximate: false }), p['fc2.W']).add(p['fc2.b']);
      const out = r.add(f);
      return np.mean(np.square(out));
    };
    return { step: gradStep(jax, jax.jit(jax.valueAndGrad(loss), { device }), params, [x]) };
  },
};
