/**
 * @file eigh(a): the eigenvalues and eigenvectors of a symmetric a [..., n, n], packed into one
 * result [..., n + 1, n]: row 0 the eigenvalues in ascending order, rows 1..n the orthogonal V
 * whose COLUMNS are the eigenvectors (a = V·diag(λ)·Vᵀ). Only a's lower triangle is read (as
 * cholesky and LAPACK's syevd with uplo = 'L'), so the gradient with respect to a lies in it.
 *
 * Algorithm: cyclic Jacobi in the round-robin ("chess tournament") order. A sweep is m − 1 rounds
 * (m = n rounded up to even); a round pairs every index with another, and the m/2 rotations of a
 * round touch disjoint rows and columns, so they are computed together and applied together (two
 * phases: rows, then columns and V), which is also how the 64 WebGPU threads share a round. A
 * rotation zeroes a_pq (set exactly to 0); pairs with |a_pq| ≤ tol are skipped, tol = ε·‖a‖_F
 * (ε = 1e-14 in float64, 1e-7 in f32). A sweep that rotates nothing ends the iteration (the JS
 * routine stops; the WGSL one, whose loops must be uniform, idles through the remaining sweeps of
 * the fixed limit, SWEEPS), so every backend applies the same rotations in the same order.
 *
 * Then the eigenvalues (the diagonal) are sorted ascending (ties by index) and each eigenvector
 * gets a sign: its first component whose magnitude is within 0.1% of the largest is positive (a
 * tolerance rather than the exact largest, so that components equal up to rounding — (1, −1)/√2 —
 * pick the same one on every backend). Repeated eigenvalues have no unique eigenvectors: V is then
 * some orthonormal basis of the eigenspace, which may differ between backends.
 *
 * A NaN or ±∞ in (the lower triangle of) a gives NaN everywhere.
 */
import type { GraphBuilder } from '../../builder.js';
import * as C from '../../compose.js';
import type { Node } from '../../graph.js';
import { defineOp, type Draw, type VjpContext } from '../../op.js';
import { evaluateRoutine, routineCost, type Routine } from '../../routine.js';
import { mm, mT, squareSide, triangle } from './matrix.js';

/** The sweep limit (cyclic Jacobi converges quadratically: 5–10 sweeps for n up to a few hundred). */
export const SWEEPS = 20;
/** The relative tolerance on off-diagonal entries (times ‖a‖_F) in f32 and in float64. */
const TOL32 = 1e-7;
const TOL64 = 1e-14;
/** An eigenvector's sign is that of its first component at least this fraction of its largest. */
const SIGN_FRACTION = 0.999;

/**
 * Scratch per matrix: the working matrix A (n²), V (n²), the round's cosines, sines and new
 * diagonal entries a_pp − t·a_pq, a_qq + t·a_pq (m/2 each), the tolerance, three "rotated in
 * this sweep" flags (the WGSL body's sweep-to-sweep early exit) and whether a holds a NaN or ±∞.
 */
const scratchSize = (n: number) => {
  const m = n + (n & 1);
  return 2 * n * n + 2 * m + 5;
};

const SOURCE = `function dlc_eigh(ins, ino, out, oo, w, wo, d, f) {
  const a = ins[0], ao = ino[0], n = d[0], nn = n * n, m = n + (n & 1), h = m >> 1;
  const A = wo, V = wo + nn, Cs = wo + 2 * nn, Sn = Cs + h, Dp = Sn + h, Dq = Dp + h;
  const eps = out instanceof Float64Array ? ${TOL64} : ${TOL32};
  let mx = 0, bad = false;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = a[ao + (i >= j ? i * n + j : j * n + i)];
      w[A + i * n + j] = v;
      w[V + i * n + j] = i === j ? 1 : 0;
      mx = Math.max(mx, Math.abs(v));
      if (!(Math.abs(v) <= 3.4028234663852886e38)) bad = true;
    }
  if (bad) {
    for (let e = 0; e < nn + n; e++) out[oo + e] = NaN;
    return;
  }
  let ss = 0;
  for (let e = 0; e < nn; e++) { const v = mx > 0 ? w[A + e] / mx : 0; ss += v * v; }
  const tol = eps * mx * Math.sqrt(ss);
  for (let sweep = 0; sweep < ${SWEEPS}; sweep++) {
    let rotated = false;
    for (let r = 0; r < m - 1; r++) {
      for (let k = 0; k < h; k++) {
        const x = k === 0 ? m - 1 : (r + k) % (m - 1), y = k === 0 ? r : (r - k + m - 1) % (m - 1);
        const p = Math.min(x, y), q = Math.max(x, y);
        let c = 1, s = 0;
        if (q < n) {
          const apq = w[A + p * n + q];
          if (!(Math.abs(apq) <= tol)) {
            const th = (w[A + q * n + q] - w[A + p * n + p]) / (2 * apq);
            const t = (th >= 0 ? 1 : -1) / (Math.abs(th) + Math.sqrt(th * th + 1));
            c = 1 / Math.sqrt(t * t + 1);
            s = t * c;
            w[Dp + k] = w[A + p * n + p] - t * apq;
            w[Dq + k] = w[A + q * n + q] + t * apq;
            rotated = true;
          }
        }
        w[Cs + k] = c;
        w[Sn + k] = s;
      }
      for (let k = 0; k < h; k++) {
        const s = w[Sn + k];
        if (s === 0) continue;
        const c = w[Cs + k];
        const x = k === 0 ? m - 1 : (r + k) % (m - 1), y = k === 0 ? r : (r - k + m - 1) % (m - 1);
        const p = Math.min(x, y), q = Math.max(x, y);
        for (let j = 0; j < n; j++) {
          const u = w[A + p * n + j], v = w[A + q * n + j];
          w[A + p * n + j] = c * u - s * v;
          w[A + q * n + j] = s * u + c * v;
        }
      }
      for (let k = 0; k < h; k++) {
        const s = w[Sn + k];
        if (s === 0) continue;
        const c = w[Cs + k];
        const x = k === 0 ? m - 1 : (r + k) % (m - 1), y = k === 0 ? r : (r - k + m - 1) % (m - 1);
        const p = Math.min(x, y), q = Math.max(x, y);
        for (let i = 0; i < n; i++) {
          const u = w[A + i * n + p], v = w[A + i * n + q];
          w[A + i * n + p] = i === q ? 0 : i === p ? w[Dp + k] : c * u - s * v;
          w[A + i * n + q] = i === p ? 0 : i === q ? w[Dq + k] : s * u + c * v;
          const g = w[V + i * n + p], z = w[V + i * n + q];
          w[V + i * n + p] = c * g - s * z;
          w[V + i * n + q] = s * g + c * z;
        }
      }
    }
    if (!rotated) break;
  }
  for (let e = 0; e < nn + n; e++) out[oo + e] = NaN;
  for (let i = 0; i < n; i++) {
    const li = w[A + i * n + i];
    let rk = 0;
    for (let j = 0; j < n; j++) { const lj = w[A + j * n + j]; if (lj < li || (lj === li && j < i)) rk++; }
    let big = 0;
    for (let j = 0; j < n; j++) big = Math.max(big, Math.abs(w[V + j * n + i]));
    let sg = 1;
    for (let j = 0; j < n; j++) {
      const v = w[V + j * n + i];
      if (Math.abs(v) >= ${SIGN_FRACTION} * big) { sg = v >= 0 ? 1 : -1; break; }
    }
    out[oo + rk] = li;
    for (let j = 0; j < n; j++) out[oo + n + j * n + rk] = sg * w[V + j * n + i];
  }
}`;

const routine: Routine<Record<string, never>> = {
  dims: ([a]) => [a!.shape[a!.shape.length - 1]!],
  scratch: ([n]) => scratchSize(n!),
  js: { name: 'dlc_eigh', source: SOURCE },
  // Rounds as in the JS: the threads share the pairs (rotations), then (pair, column) and
  // (pair, row) work items; a storage barrier between phases. The sweep loop has the fixed trip
  // count SWEEPS (barriers need uniform control flow); a sweep after one that rotated nothing
  // skips all its work (flag slots f0..f2, one per sweep mod 3: written by rotating threads, reset
  // two sweeps ahead by thread 0, read after the sweep's last barrier).
  wgsl(c) {
    const A = (i: string) => c.loadScratch(i);
    const setA = (i: string, v: string) => c.storeScratch(i, v);
    const V = (i: string) => c.loadScratch(`nn + ${i}`);
    const setV = (i: string, v: string) => c.storeScratch(`nn + ${i}`, v);
    const pair = [
      '      let x: i32 = select((r + k) % (m - 1), m - 1, k == 0);',
      '      let y: i32 = select((r - k + m - 1) % (m - 1), r, k == 0);',
      '      let p: i32 = min(x, y);',
      '      let q: i32 = max(x, y);',
    ];
    return [
      `let n: i32 = ${c.dim(0)};`,
      'let nn: i32 = n * n;',
      'let m: i32 = n + (n & 1);',
      'let h: i32 = m / 2;',
      'let cs: i32 = 2 * nn;',
      'let sn: i32 = cs + h;',
      'let dp: i32 = sn + h;',
      'let dq: i32 = dp + h;',
      'let tl: i32 = dq + h;',
      'let fl: i32 = tl + 1;',
      'let bd: i32 = fl + 3;',
      'for (var e: i32 = tid; e < nn; e += NT) {',
      '  let i: i32 = e / n;',
      '  let j: i32 = e % n;',
      `  ${setA('e', c.load(0, 'select(j * n + i, i * n + j, i >= j)'))}`,
      `  ${setV('e', 'select(0.0, 1.0, i == j)')}`,
      '}',
      'if (tid == 0) {',
      `  ${c.storeScratch('fl', '0.0')}`,
      `  ${c.storeScratch('fl + 2', '1.0')}`,
      '}',
      'storageBarrier();',
      'if (tid == 0) {',
      '  var mx: f32 = 0.0;',
      '  var bad: bool = false;',
      `  for (var e: i32 = 0; e < nn; e++) { let v: f32 = ${A('e')}; mx = max(mx, abs(v)); bad = bad || !(abs(v) <= 0x1.fffffep+127f); }`,
      '  var ss: f32 = 0.0;',
      `  if (mx > 0.0) { for (var e: i32 = 0; e < nn; e++) { let v: f32 = ${A('e')} / mx; ss = ss + v * v; } }`,
      `  ${c.storeScratch('tl', `select(${TOL32} * mx * sqrt(ss), 0.0, bad)`)}`,
      `  ${c.storeScratch('bd', 'select(0.0, 1.0, bad)')}`,
      `  if (bad) { ${c.storeScratch('fl + 2', '0.0')} }`,
      '}',
      'storageBarrier();',
      `let tol: f32 = ${c.loadScratch('tl')};`,
      `for (var sweep: i32 = 0; sweep < ${SWEEPS}; sweep++) {`,
      `  let live: bool = ${c.loadScratch('fl + (sweep + 2) % 3')} != 0.0;`,
      `  if (tid == 0) { ${c.storeScratch('fl + (sweep + 1) % 3', '0.0')} }`,
      '  for (var r: i32 = 0; r < m - 1; r++) {',
      '    if (live) {',
      '    for (var k: i32 = tid; k < h; k += NT) {',
      ...pair,
      '      var co: f32 = 1.0;',
      '      var si: f32 = 0.0;',
      '      if (q < n) {',
      `        let apq: f32 = ${A('p * n + q')};`,
      '        if (!(abs(apq) <= tol)) {',
      `          let th: f32 = (${A('q * n + q')} - ${A('p * n + p')}) / (2.0 * apq);`,
      '          let t: f32 = select(-1.0, 1.0, th >= 0.0) / (abs(th) + sqrt(th * th + 1.0));',
      '          co = 1.0 / sqrt(t * t + 1.0);',
      '          si = t * co;',
      `          ${c.storeScratch('dp + k', `${A('p * n + p')} - t * apq`)}`,
      `          ${c.storeScratch('dq + k', `${A('q * n + q')} + t * apq`)}`,
      `          ${c.storeScratch('fl + sweep % 3', '1.0')}`,
      '        }',
      '      }',
      `      ${c.storeScratch('cs + k', 'co')}`,
      `      ${c.storeScratch('sn + k', 'si')}`,
      '    }',
      '    }',
      '    storageBarrier();',
      '    if (live) {',
      '    for (var e: i32 = tid; e < h * n; e += NT) {',
      '      let k: i32 = e / n;',
      '      let j: i32 = e % n;',
      `      let si: f32 = ${c.loadScratch('sn + k')};`,
      '      if (si != 0.0) {',
      `        let co: f32 = ${c.loadScratch('cs + k')};`,
      ...pair,
      `        let u: f32 = ${A('p * n + j')};`,
      `        let v: f32 = ${A('q * n + j')};`,
      `        ${setA('p * n + j', 'co * u - si * v')}`,
      `        ${setA('q * n + j', 'si * u + co * v')}`,
      '      }',
      '    }',
      '    }',
      '    storageBarrier();',
      '    if (live) {',
      '    for (var e: i32 = tid; e < h * n; e += NT) {',
      '      let k: i32 = e / n;',
      '      let i: i32 = e % n;',
      `      let si: f32 = ${c.loadScratch('sn + k')};`,
      '      if (si != 0.0) {',
      `        let co: f32 = ${c.loadScratch('cs + k')};`,
      ...pair,
      `        let u: f32 = ${A('i * n + p')};`,
      `        let v: f32 = ${A('i * n + q')};`,
      `        ${setA('i * n + p', `select(select(co * u - si * v, ${c.loadScratch('dp + k')}, i == p), 0.0, i == q)`)}`,
      `        ${setA('i * n + q', `select(select(si * u + co * v, ${c.loadScratch('dq + k')}, i == q), 0.0, i == p)`)}`,
      `        let g: f32 = ${V('i * n + p')};`,
      `        let z: f32 = ${V('i * n + q')};`,
      `        ${setV('i * n + p', 'co * g - si * z')}`,
      `        ${setV('i * n + q', 'si * g + co * z')}`,
      '      }',
      '    }',
      '    }',
      '    storageBarrier();',
      '  }',
      '}',
      `for (var e: i32 = tid; e < nn + n; e += NT) { ${c.storeOut('e', c.nan)} }`,
      'storageBarrier();',
      `let finite: bool = ${c.loadScratch('bd')} == 0.0;`,
      'for (var i: i32 = tid; i < n && finite; i += NT) {',
      `  let li: f32 = ${A('i * n + i')};`,
      '  var rk: i32 = 0;',
      `  for (var j: i32 = 0; j < n; j++) { let lj: f32 = ${A('j * n + j')}; if (lj < li || (lj == li && j < i)) { rk++; } }`,
      '  var big: f32 = 0.0;',
      `  for (var j: i32 = 0; j < n; j++) { big = max(big, abs(${V('j * n + i')})); }`,
      '  var sg: f32 = 1.0;',
      '  for (var j: i32 = 0; j < n; j++) {',
      `    let v: f32 = ${V('j * n + i')};`,
      `    if (abs(v) >= ${SIGN_FRACTION} * big) { sg = select(-1.0, 1.0, v >= 0.0); break; }`,
      '  }',
      `  ${c.storeOut('rk', 'li')}`,
      `  for (var j: i32 = 0; j < n; j++) { ${c.storeOut('n + j * n + rk', `sg * ${V('j * n + i')}`)} }`,
      '}',
    ];
  },
  // About 8 sweeps of m − 1 rounds, each rotating n/2 row pairs and column pairs of A and V.
  flops: ([n]) => 8 * 9 * n! * n! * n!,
};

/** Rows [r0, r1) of x over its second-to-last axis. */
function rows(b: GraphBuilder, x: Node, r0: number, r1: number): Node {
  const s = x.type.shape;
  const batch = s.slice(0, -2);
  return b.add('slice', [x], { start: [...batch.map(() => 0), r0, 0], stop: [...batch, r1, s[s.length - 1]!], step: s.map(() => 1) });
}

/**
 * With λ̄ and V̄ the cotangents of the eigenvalues and eigenvectors: Ḡ = V·(diag(λ̄) + F∘(Vᵀ·V̄))·Vᵀ,
 * F_ij = 1/(λ_j − λ_i) off the diagonal, is the gradient for a symmetric perturbation of a, so
 * (Ḡ + Ḡᵀ)/2 is the symmetric gradient; a_ij below the diagonal stands for both a_ij and a_ji,
 * hence ā = Φ(Ḡ + Ḡᵀ) (lower triangle, diagonal halved), as for cholesky. F_ij is 0 where
 * λ_i = λ_j exactly (repeated eigenvalues, and the diagonal), so a loss of the eigenvalues alone,
 * or of an eigenspace as a whole, gets its gradient there too; the division never sees a 0 (no
 * NaN in higher derivatives either).
 */
function vjp({ b, node: y, g }: VjpContext): Node[] {
  const n = y.type.shape[y.type.shape.length - 1]!;
  const lam = rows(b, y, 0, 1); // [..., 1, n]: λ_j along the columns
  const V = rows(b, y, 1, n + 1);
  const gl = rows(b, g, 0, 1);
  const gV = rows(b, g, 1, n + 1);
  const lamI = mT(b, lam); // [..., n, 1]: λ_i along the rows
  const D = C.binary(b, 'sub', lam, lamI);
  const same = C.binary(b, 'eq', lam, lamI);
  const one = C.fullLike(b, 1, D);
  const zero = C.fullLike(b, 0, D);
  const F = C.select(b, same, zero, C.binary(b, 'div', one, C.select(b, same, one, D)));
  const diagG = triangle(b, triangle(b, C.broadcastTo(b, gl, D.type.shape), true), false);
  const inner = C.binary(b, 'add', diagG, C.binary(b, 'mul', F, mm(b, mT(b, V), gV)));
  const G = mm(b, mm(b, V, inner), mT(b, V));
  return [triangle(b, C.binary(b, 'add', G, mT(b, G)), true, 0.5)];
}

function sample(d: Draw) {
  const n = d.int(1, 4);
  return { inputs: [{ dtype: 'f32' as const, shape: [...d.shape(0, 1, 2), n, n], domain: 'eig' as const }], attrs: {} };
}

export const eigh = defineOp<Record<string, never>>({
  name: 'eigh',
  kind: 'routine',
  doc: 'the eigenvalues (ascending, row 0) and eigenvectors (the columns of rows 1..n) of a symmetric a, packed [..., n + 1, n] (its lower triangle is read)',
  arity: 1,
  attrs: {},
  infer([a]) {
    const n = squareSide(a!, 'eigh');
    return { dtype: 'f32', shape: [...a!.shape.slice(0, -2), n + 1, n] };
  },
  evaluate: (inputs, f, out) => evaluateRoutine(routine, inputs, f, out),
  cost: (inputs, out, f) => routineCost(routine, inputs, out, f),
  vjp,
  routine,
  test: { sample, order: 2 },
});
