/** N unrolled gradient-descent steps on a least-squares loss (entry `train`, dims D and M). */
export function gradLoopSource(n: number): string;
/** An N-step L-infinity PGD attack on a small classifier (entry `Classifier.pgd`, dim B). */
export function pgdSource(n: number): string;
/** N small functions, each calling the one before it in chains of `chain` (dim N). */
export function manyFnsSource(n: number, chain?: number): string;
