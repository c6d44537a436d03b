/** @file "Did you mean …?" suggestions by edit distance. */

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = same(a[i - 1]!, b[j - 1]!) ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && same(a[i - 1]!, b[j - 2]!) && same(a[i - 2]!, b[j - 1]!)) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/** Case-folded code units as numbers (ASCII folded directly, anything else through an interned `toLowerCase`). */
const folded = new Map<string, number>();
function foldInto(s: string, out: Int32Array): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) out[i] = c >= 65 && c <= 90 ? c + 32 : c;
    else {
      const low = s[i]!.toLowerCase();
      // Some letters fold to ASCII (the Kelvin sign to `k`).
      if (low.length === 1 && low.charCodeAt(0) < 128) {
        out[i] = low.charCodeAt(0);
        continue;
      }
      let id = folded.get(low);
      if (id === undefined) folded.set(low, (id = 128 + folded.size));
      out[i] = id;
    }
  }
}

/** Scratch rows, grown as needed (suggestions compare one name with thousands). */
let scratch = new Int32Array(0);
function rows(m: number, n: number): Int32Array {
  const need = m + n + 3 * (n + 1);
  if (scratch.length < need) scratch = new Int32Array(Math.max(need, 2 * scratch.length));
  return scratch;
}

/**
 * \`editDistance(a, b)\` when it is at most \`limit\`, else \`limit + 1\`. Only the band of the table
 * within \`limit\` of its diagonal is filled, and the walk stops once a row is all over the limit,
 * so comparing a name with every name of a large file stays cheap.
 */
export function boundedDistance(a: string, b: string, limit: number): number {
  const m = a.length;
  const n = b.length;
  const over = limit + 1;
  if (Math.abs(m - n) > limit) return over;
  const buf = rows(m, n);
  const la = buf.subarray(0, m);
  const lb = buf.subarray(m, m + n);
  foldInto(a, la);
  foldInto(b, lb);
  const w = n + 1;
  // Three rows of the table, rotated: i - 2, i - 1, i.
  let r2 = m + n;
  let r1 = r2 + w;
  let r0 = r1 + w;
  for (let j = 0; j <= n; j++) {
    buf[r2 + j] = over;
    buf[r1 + j] = j <= limit ? j : over;
  }
  for (let i = 1; i <= m; i++) {
    const lo = Math.max(1, i - limit);
    const hi = Math.min(n, i + limit);
    // Cells just outside the band are read by the next row: keep them over the limit.
    buf[r0] = i <= limit ? i : over;
    if (lo > 1) buf[r0 + lo - 1] = over;
    if (hi < n) buf[r0 + hi + 1] = over;
    let best = buf[r0]!;
    const ai = la[i - 1]!;
    for (let j = lo; j <= hi; j++) {
      const bj = lb[j - 1]!;
      let v = Math.min(buf[r1 + j]! + 1, buf[r0 + j - 1]! + 1, buf[r1 + j - 1]! + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === lb[j - 2] && la[i - 2] === bj) v = Math.min(v, buf[r2 + j - 2]! + 1);
      if (v > over) v = over;
      buf[r0 + j] = v;
      if (v < best) best = v;
    }
    if (best > limit) return over;
    const t = r2;
    r2 = r1;
    r1 = r0;
    r0 = t;
  }
  return buf[r1 + n]!;
}

/**
 * The closest candidate within a distance that scales with the name's length, if any. Names of
 * one or two letters only match a candidate differing in case (any other letter is as likely).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 2 ? 0 : Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === name) continue;
    if (name.length <= 2 && c.toLowerCase() !== name.toLowerCase()) continue;
    const d = boundedDistance(name, c, limit);
    if (d <= limit && (d < bestD || (d === bestD && best !== undefined && c < best))) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
}
