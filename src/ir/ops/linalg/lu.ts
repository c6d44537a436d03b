/**
 * @file LU factorization with partial pivoting, P·a = L·U, the step `solve` and `slogdet` share,
 * written once for JS and once for WGSL and inlined into each routine. The factors overwrite a
 * copy of the matrix in the routine's scratch (n·n elements: U on and above the diagonal, L's
 * multipliers below it, L's unit diagonal implied); the row swaps and the eliminations are applied
 * as they happen to an optional right-hand side (k columns, row-major in the result), so no
 * permutation is stored. Column j's pivot is the entry of largest magnitude on or below the
 * diagonal (the first on ties, on every backend). A zero pivot means the column is already zero
 * below the diagonal: that step is skipped, leaving U(j, j) = 0 (a singular matrix; `solve` then
 * divides by it, `slogdet` gives sign 0 and log|det| = −∞).
 */
import type { WgslRoutineContext } from '../../routine.js';

/**
 * JS statements: the factorization of the n×n matrix at `w[wo …]` in place, counting the row swaps
 * in `swaps`, and when `rhs` is set applying them to `out[oo …]` ([n, k], row-major). Each multiplier
 * is read back after it is stored, so in f32 the update uses the rounded value as WGSL does.
 */
export function luJs(rhs: boolean): string {
  const R = (row: string) => `oo + ${row} * k + c`;
  return `
  let swaps = 0;
  for (let j = 0; j < n; j++) {
    let p = j, m = Math.abs(w[wo + j * n + j]);
    for (let i = j + 1; i < n; i++) { const v = Math.abs(w[wo + i * n + j]); if (v > m) { m = v; p = i; } }
    if (p !== j) {
      swaps++;
      for (let c = 0; c < n; c++) { const t = w[wo + j * n + c]; w[wo + j * n + c] = w[wo + p * n + c]; w[wo + p * n + c] = t; }
      ${rhs ? `for (let c = 0; c < k; c++) { const t = out[${R('j')}]; out[${R('j')}] = out[${R('p')}]; out[${R('p')}] = t; }` : ''}
    }
    if (m === 0) continue;
    const piv = w[wo + j * n + j];
    for (let i = j + 1; i < n; i++) {
      w[wo + i * n + j] = w[wo + i * n + j] / piv;
      const l = w[wo + i * n + j];
      if (l === 0) continue;
      for (let c = j + 1; c < n; c++) w[wo + i * n + c] -= l * w[wo + j * n + c];
      ${rhs ? `for (let c = 0; c < k; c++) out[${R('i')}] -= l * out[${R('j')}];` : ''}
    }
  }`;
}

/**
 * WGSL statements, the same factorization by one workgroup: thread 0 finds the pivot and leaves
 * its row at scratch element n·n; the threads swap the two rows' columns, then eliminate, a row
 * each, meeting at a barrier between the steps. `n` and `k` (i32) must be in scope, and the
 * scratch must hold the matrix; `onSwap` is a statement thread 0 runs when it swaps rows.
 */
export function luWgsl(c: WgslRoutineContext<any>, rhs: boolean, onSwap = ''): string[] {
  const W = (i: string) => c.loadScratch(i);
  const swap = (ld: (i: string) => string, st: (i: string, v: string) => string, a: string, b: string) =>
    `let t: f32 = ${ld(a)}; ${st(a, ld(b))} ${st(b, 't')}`;
  return [
    'for (var j: i32 = 0; j < n; j++) {',
    '  if (tid == 0) {',
    '    var p: i32 = j;',
    `    var m: f32 = abs(${W('j * n + j')});`,
    `    for (var i: i32 = j + 1; i < n; i++) { let v: f32 = abs(${W('i * n + j')}); if (v > m) { m = v; p = i; } }`,
    `    ${c.storeScratch('n * n', 'f32(p)')}`,
    ...(onSwap ? [`    if (p != j) { ${onSwap} }`] : []),
    '  }',
    '  storageBarrier();',
    `  let p: i32 = i32(${W('n * n')});`,
    '  if (p != j) {',
    `    for (var col: i32 = tid; col < n; col += NT) { ${swap(c.loadScratch, c.storeScratch, 'j * n + col', 'p * n + col')} }`,
    ...(rhs ? [`    for (var col: i32 = tid; col < k; col += NT) { ${swap(c.loadOut, c.storeOut, 'j * k + col', 'p * k + col')} }`] : []),
    '  }',
    '  storageBarrier();',
    `  let piv: f32 = ${W('j * n + j')};`,
    '  if (piv != 0.0) {',
    '    for (var i: i32 = j + 1 + tid; i < n; i += NT) {',
    `      let l: f32 = ${W('i * n + j')} / piv;`,
    `      ${c.storeScratch('i * n + j', 'l')}`,
    '      if (l != 0.0) {',
    `        for (var col: i32 = j + 1; col < n; col++) { ${c.storeScratch('i * n + col', `${W('i * n + col')} - l * ${W('j * n + col')}`)} }`,
    ...(rhs ? [`        for (var col: i32 = 0; col < k; col++) { ${c.storeOut('i * k + col', `${c.loadOut('i * k + col')} - l * ${c.loadOut('j * k + col')}`)} }`] : []),
    '      }',
    '    }',
    '  }',
    '  storageBarrier();',
    '}',
  ];
}

/** Scratch elements per matrix: the factors and the pivot's row. */
export const luScratch = (n: number) => n * n + 1;

/** Flops of the factorization (2n³/3), and of carrying k right-hand sides through it (n²k). */
export const luFlops = (n: number, k = 0) => (2 * n * n * n) / 3 + n * n * k;
