/**
 * Shared pieces of the training tests: a tiny synthetic classification set written as .npy files,
 * and a step program built by hand from a `.dl` function that returns the loss and the new values
 * of the parameters (plain SGD), with those values turned into state updates.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lower, writeNpy, NDArray } from '../../src/index.js';
import { buildGraph } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { Mulberry32 } from '../../src/train/prng.js';

export const LIN = `
model Lin(d: int = 3, k: int = 2) {
  param W: f32[d, k] = normal(0.0, 0.1)
  param b: f32[k] = zeros
  fn loss(x: f32[B, d], y: i32[B]) -> f32 {
    return cross_entropy(x @ W + b, y)
  }
  fn accuracy(x: f32[B, d], y: i32[B]) -> f32 {
    return mean(cast(argmax(x @ W + b, axis=1) == y, f32))
  }
  fn step(x: f32[B, d], y: i32[B]) -> (f32, f32[d, k], f32[k]) {
    let (l, g) = value_and_grad(loss(x, y), [W, b])
    return l, W - 0.5 * g[0], b - 0.5 * g[1]
  }
}
`;

/** The SGD step of LIN for batches of `batch`, as a graph with state updates of `W` and `b`. */
export function linStep(batch: number): Graph {
  const r = lower(LIN, 'Lin.step', { inputShapes: { x: [batch, 3], y: [batch] } });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const g = r.graph;
  const updates = [
    { name: 'W', node: g.outputs[1]!.node },
    { name: 'b', node: g.outputs[2]!.node },
  ];
  return runPipeline(buildGraph('lin_sgd', g.inputs, [{ name: 'loss', node: g.outputs[0]!.node }], updates)).graph;
}

export function linEntry(entry: 'Lin.loss' | 'Lin.accuracy', batch: number): Graph {
  const r = lower(LIN, entry, { inputShapes: { x: [batch, 3], y: [batch] } });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return runPipeline(r.graph).graph;
}

/** n examples of 3 features; the class is whether x0 + x1 - x2 > 0 (linearly separable). */
export function synthetic(n: number, seed: number): { x: NDArray; y: NDArray } {
  const rng = new Mulberry32(seed);
  const x = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = Math.fround(rng.nextU32() / 2 ** 31 - 1);
    y[i] = x[i * 3]! + x[i * 3 + 1]! - x[i * 3 + 2]! > 0 ? 1 : 0;
  }
  return { x: new NDArray([n, 3], x), y: new NDArray([n], y) };
}

/** Writes a synthetic set to a fresh directory: train_x/y (n) and val_x/y (n / 2). */
export function writeSynthetic(n = 40): { dir: string; train: { x: string; y: string }; val: { x: string; y: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'dlc-train-'));
  const t = synthetic(n, 1);
  const v = synthetic(Math.floor(n / 2), 2);
  const files = { train: { x: join(dir, 'train_x.npy'), y: join(dir, 'train_y.npy') }, val: { x: join(dir, 'val_x.npy'), y: join(dir, 'val_y.npy') } };
  writeFileSync(files.train.x, writeNpy(t.x, 'f32'));
  writeFileSync(files.train.y, writeNpy(t.y, 'i32'));
  writeFileSync(files.val.x, writeNpy(v.x, 'f32'));
  writeFileSync(files.val.y, writeNpy(v.y, 'i32'));
  return { dir, ...files };
}
