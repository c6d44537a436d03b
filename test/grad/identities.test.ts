/**
 * Closed-form gradients from the course notes (seed-catalog §5.A–§5.D), checked through `grad`
 * in the language itself: each function returns the autodiff result and the formula.
 */
import { describe, expect, it } from 'vitest';
import { compile, evaluate, type NDArray } from '../../src/index.js';
import { randomArray } from '../../src/gradcheck/check.js';

/** Runs `entry` on seeded random inputs and returns its outputs. */
function outputs(src: string, entry: string, seed = 3): NDArray[] {
  const g = compile(src, entry);
  const inputs = Object.fromEntries(g.inputs.map((i) => [String(i.attrs['name']), randomArray(i.type.dtype, i.type.shape, seed, String(i.attrs['name']))]));
  const out = evaluate(g, inputs, { seed });
  return g.outputs.map((o) => out.get(o.name)!);
}

function expectPairsClose(src: string, entry: string, tol = 1e-10): void {
  for (const seed of [1, 2, 3]) {
    const outs = outputs(src, entry, seed);
    expect(outs.length % 2).toBe(0);
    for (let i = 0; i < outs.length; i += 2) {
      const [a, b] = [outs[i]!, outs[i + 1]!];
      expect(a.shape).toEqual(b.shape);
      a.data.forEach((v, k) => expect(Math.abs(v - b.data[k]!), `${entry} output ${i / 2}[${k}]: ${v} vs ${b.data[k]}`).toBeLessThan(tol * (1 + Math.abs(b.data[k]!))));
    }
  }
}

const SRC = `
# C1: z = aᵀx ⇒ ∂z/∂x = a;  z = Wx ⇒ ∂⟨c, z⟩/∂W = c xᵀ (row layout: x @ W, so xᵀ c)
fn c1(a: f32[4], x: f32[4], W: f32[4, 3], c: f32[3]) {
  return grad(sum(a * x), x), a, grad(sum((x @ W) * c), W), reshape(x, [4, 1]) @ reshape(c, [1, 3])
}
# C2: z = xᵀAx ⇒ ∇ = (A + Aᵀ)x and the Hessian-vector product (A + Aᵀ)v
fn c2(x: f32[4], A: f32[4, 4], v: f32[4]) {
  let g = grad(x @ A @ x, x)
  let hv = grad(sum(g * v), x)
  return g, (A + A.T) @ x, hv, (A + A.T) @ v
}
# C3: z = ½‖Ax‖² ⇒ ∇ = AᵀAx
fn c3(x: f32[3], A: f32[5, 3]) {
  return grad(0.5 * sum((A @ x) ** 2), x), A.T @ (A @ x)
}
# C4: P = AB ⇒ Ā = P̄ Bᵀ, B̄ = Aᵀ P̄
fn c4(A: f32[2, 3], B: f32[3, 4], P: f32[2, 4]) {
  return grad(sum((A @ B) * P), A), P @ B.T, grad(sum((A @ B) * P), B), A.T @ P
}
# C5: ∇ₓ (Ax+b)ᵀC(Dx+e) = Dᵀ Cᵀ (Ax+b) + Aᵀ C (Dx+e)
fn c5(x: f32[3], A: f32[4, 3], b: f32[4], C: f32[4, 5], D: f32[5, 3], e: f32[5]) {
  let u = A @ x + b
  let w = D @ x + e
  return grad(u @ C @ w, x), D.T @ (C.T @ u) + A.T @ (C @ w)
}
# C6: ∇‖f(x)‖² = 2 J_fᵀ f  with f(x) = tanh(Ax), J = diag(1 − f²) A
fn c6(x: f32[3], A: f32[4, 3]) {
  let f = tanh(A @ x)
  return grad(sum(f * f), x), 2.0 * (A.T @ ((1.0 - f * f) * f))
}
# C7: ∇_X aᵀXb = abᵀ; ∇_X aᵀXᵀXb = X(abᵀ + baᵀ)
fn c7(a: f32[3], X: f32[3, 3], b: f32[3]) {
  let ab = reshape(a, [3, 1]) @ reshape(b, [1, 3])
  return grad(a @ X @ b, X), ab, grad(a @ X.T @ X @ b, X), X @ (ab + ab.T)
}
# A2/A3: σ' = σ(1−σ), σ'' = σ(1−σ)(1−2σ)
fn a3(x: f32[5]) {
  let s = sigmoid(x)
  let d1 = grad(sum(sigmoid(x)), x)
  return d1, s * (1.0 - s), grad(sum(d1), x), s * (1.0 - s) * (1.0 - 2.0 * s)
}
# A6/A7: tanh' = 1 − tanh²; σ'(x) = ¼(1 − tanh²(x/2))
fn a7(x: f32[5]) {
  return grad(sum(tanh(x)), x), 1.0 - tanh(x) ** 2, grad(sum(sigmoid(x)), x), 0.25 * (1.0 - tanh(x / 2.0) ** 2)
}
# A11: sin' = cos, cos' = −sin, quotient rule
fn a11(x: f32[5], y: f32[5]) {
  let q = 2.0 + cos(y)
  return grad(sum(sin(x)), x), cos(x), grad(sum(cos(x)), x), -sin(x), grad(sum(sin(x) / q), y), sin(x) * sin(y) / q ** 2
}
# B6: ∂CE/∂z = softmax(z) − e_y (batch mean: divided by B)
fn b6(z: f32[3, 5], y: i32[3]) {
  return grad(cross_entropy(z, y), z), (softmax(z) - one_hot(y, 5)) / 3.0
}
# B8: logistic loss gradient [σ(wᵀx) − y] x
fn b8(w: f32[4], x: f32[4], y: f32) {
  let z = sum(w * x)
  let l = -(y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z))
  return grad(l, w), (sigmoid(z) - y) * x
}
# B9: distillation gradient (1/T)(softmax(F/T) − softmax(G/T)) for the tempered objective
fn b9(F: f32[5], G: f32[5]) {
  let T = 2.0
  let l = sum(softmax(F / T) * log_softmax(G / T))
  return grad(l, G), (softmax(F / T) - softmax(G / T)) / T
}
# B12: word2vec ∇_x ℓ = −y_ν + Σ_μ P(μ|ω) y_μ
fn b12(x: f32[3], Y: f32[6, 3]) {
  let s = Y @ x
  let l = -s[2] + logsumexp(s, axis=0)
  return grad(l, x), -Y[2] + softmax(s, axis=0) @ Y
}
# B13: ∂/∂θ₀ Σ(θ₀ + θ₁xᵢ − yᵢ)² = Σ 2(θ₀ + θ₁xᵢ − yᵢ), ∂/∂θ₁ = Σ 2(·)xᵢ
fn b13(t0: f32, t1: f32, x: f32[6], y: f32[6]) {
  let r = t0 + t1 * x - y
  let l = sum(r ** 2)
  return grad(l, t0), sum(2.0 * r), grad(l, t1), sum(2.0 * r * x)
}
# D4: the SGD step w + η(y − wᵀx)x is w − η∇½(y − wᵀx)²
fn d4(w: f32[4], x: f32[4], y: f32) {
  let eta = 0.1
  return w - eta * grad(0.5 * (y - sum(w * x)) ** 2, w), w + eta * (y - sum(w * x)) * x
}
# C10: a tied weight's gradient is the sum of the untied copies' gradients (each copy's
# gradient taken with the other copy held constant by stop_gradient)
fn c10(x: f32[3], W: f32[3, 3]) {
  let tied = grad(sum(tanh(tanh(x @ W) @ W)), W)
  let first = grad(sum(tanh(tanh(x @ W) @ stop_gradient(W))), W)
  let second = grad(sum(tanh(tanh(x @ stop_gradient(W)) @ W)), W)
  return tied, first + second
}
# G3: LN(ax + b) = LN(x) for a > 0 and ε = 0, so ∇ₓ ⟨c, LN(x)⟩ ⟂ 1 and ⟂ x
fn g3(x: f32[6], c: f32[6]) {
  let g = grad(sum(normalize(x, 0.0) * c), x)
  return sum(g), 0.0, sum(g * x), 0.0
}
# I1: BPTT through an unrolled RNN equals the gradient of the explicitly unrolled network
fn i1(x: f32[3, 2], U: f32[2, 2], V: f32[2, 2]) {
  let h = zeros([2])
  for t in 0..3 {
    h = tanh(h @ U + x[t] @ V)
  }
  let h1 = tanh(zeros([2]) @ U + x[0] @ V)
  let h2 = tanh(h1 @ U + x[1] @ V)
  let h3 = tanh(h2 @ U + x[2] @ V)
  return grad(sum(h), U), grad(sum(h3), U)
}
`;

describe('closed-form gradients (seed-catalog §5)', () => {
  for (const fn of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'a3', 'a7', 'a11', 'b6', 'b8', 'b9', 'b12', 'b13', 'd4', 'c10', 'g3', 'i1']) {
    it(fn, () => expectPairsClose(SRC, fn));
  }

  it('D1: the least-squares gradient vanishes at the normal-equations solution', () => {
    // X: 5×2, y: 5; w* = (XᵀX)⁻¹Xᵀy solved here in JS, then ∇ of ½‖Xw − y‖² evaluated by dlc.
    const X = [1, 2, 3, 1, 0, 1, 2, 5, 1, 1];
    const y = [1, 2, 0, 3, 1];
    const xtx = [0, 0, 0, 0];
    const xty = [0, 0];
    for (let i = 0; i < 5; i++) {
      for (let a = 0; a < 2; a++) {
        xty[a]! += X[i * 2 + a]! * y[i]!;
        for (let b = 0; b < 2; b++) xtx[a * 2 + b]! += X[i * 2 + a]! * X[i * 2 + b]!;
      }
    }
    const det = xtx[0]! * xtx[3]! - xtx[1]! * xtx[2]!;
    const w = [(xtx[3]! * xty[0]! - xtx[1]! * xty[1]!) / det, (-xtx[2]! * xty[0]! + xtx[0]! * xty[1]!) / det];
    const g = compile('fn f(X: f32[5, 2], y: f32[5], w: f32[2]) { return grad(0.5 * sum((X @ w - y) ** 2), w) }', 'f');
    const out = evaluate(g, { X: { shape: [5, 2], data: X }, y: { shape: [5], data: y }, w: { shape: [2], data: w } }).get('out')!;
    for (const v of out.data) expect(Math.abs(v)).toBeLessThan(1e-12);
  });
});
