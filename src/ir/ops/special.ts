/**
 * @file Special functions for the float64 reference evaluation. The erf source is kept as text
 * so the generated JavaScript modules embed exactly the algorithm the interpreter runs.
 */

/** erf(x) to about 1e-15: a non-alternating series for |x| < 3, Lentz's continued fraction for erfc beyond. */
export const ERF_SOURCE = `function dlc_erf(x) {
  if (x !== x) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return 1.1283791670955126 * Math.exp(-x2) * sum;
  }
  if (ax > 27) return Math.sign(x);
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = ax + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f));
}`;

export const erf = new Function(`${ERF_SOURCE}\nreturn dlc_erf;`)() as (x: number) => number;
