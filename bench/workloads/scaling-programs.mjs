// Programs whose compile time used to grow faster than their size (issue 8), generated for a size N.
// Shared by bench/compile-scaling.mjs (seconds against N) and test/scaling/compile-work.test.ts
// (work counted against N); plain JavaScript so that the bench runs without a build step.

/** `for` loop of N gradient-descent steps on a least-squares loss. */
export function gradLoopSource(n) {
  return `fn loss(w: f32[D], X: f32[M, D], y: f32[M]) -> f32 {
  let r = X @ w - y
  return sum(r * r) / float(M)
}

fn train(w0: f32[D], X: f32[M, D], y: f32[M], lr: float = 0.01) -> f32[D] {
  let w = w0
  for i in 0..${n} {
    w = w - lr * grad(loss(w, X, y), w)
  }
  return w
}
`;
}

/** An N-step L-infinity PGD attack on the input of a two-layer classifier. */
export function pgdSource(n) {
  return `model Classifier(d: int = 8, hidden: int = 16, classes: int = 3) {
  layer l1 = Linear(d, hidden)
  layer l2 = Linear(hidden, classes)

  fn forward(x: f32[B, d]) -> f32[B, classes] {
    return l2(tanh(l1(x)))
  }

  fn loss(x: f32[B, d], y: i32[B]) -> f32 {
    return cross_entropy(forward(x), y)
  }

  fn pgd(x: f32[B, d], y: i32[B], eps: float = 0.1, alpha: float = 0.01) -> f32[B, d] {
    let adv = x
    for i in 0..${n} {
      let step = alpha * sign(grad(loss(adv, y), adv))
      adv = min(max(adv + step, x - eps), x + eps)
    }
    return adv
  }
}
`;
}

/** N small functions; each calls the one before it, in chains of `chain` (deeper than 16 is DL0104). */
export function manyFnsSource(n, chain = 16) {
  const parts = [];
  for (let i = 0; i < n; i++) {
    const inner = i % chain === 0 ? 'x * 2.0 + 1.0' : `f${i - 1}(x) * s`;
    parts.push(`fn f${i}(x: f32[N], s: float = ${(i % 7) + 1}.0) -> f32[N] {\n  let h = ${inner}\n  return relu(h) + x\n}\n`);
  }
  return parts.join('\n');
}
