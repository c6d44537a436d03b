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

/**
 * The closest candidate within a distance that scales with the name's length, if any. Names of
 * one or two letters only match a candidate differing in case (any other letter is as likely).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 2 ? 0 : Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: most candidates need no table.
    if (c === name || Math.abs(c.length - name.length) > limit) continue;
    const d = editDistance(name, c);
    if (name.length <= 2 && c.toLowerCase() !== name.toLowerCase()) continue;
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
