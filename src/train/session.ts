/**
 * @file One compiled program on a backend, seen by the training loop: run a step (or an
 * evaluation) on a batch, and read or replace its persistent state (parameters, optimizer
 * moments, the step counter) by name, through Executable.getState / setState (src/exec.ts).
 */
import type { Graph } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import type { DType } from '../ir/types.js';
import { makeExecutable, type ExecBackend } from '../exec.js';

export interface StateInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface Session {
  readonly backend: ExecBackend;
  readonly graph: Graph;
  /** The persistent tensors of the program, by name: model parameters and optimizer state. */
  readonly state: ReadonlyMap<string, StateInfo>;
  /** Runs one call (for a training step: one update of every state) and returns the outputs named. */
  run(inputs: ReadonlyMap<string, NDArray>, outputs: readonly string[]): Promise<Map<string, NDArray>>;
  /** Every persistent tensor's current values (copies). */
  getState(): Promise<Map<string, NDArray>>;
  /** Replaces the named tensors' values (others keep theirs); shapes must match. */
  setState(values: ReadonlyMap<string, NDArray>): Promise<void>;
}

function stateInfo(g: Graph): Map<string, StateInfo> {
  return new Map(g.params.map((p) => [String(p.attrs['name']), { dtype: p.type.dtype, shape: p.type.shape }]));
}

export interface SessionOptions {
  readonly backend: ExecBackend;
  readonly seed: number;
}

export async function makeSession(g: Graph, opts: SessionOptions): Promise<Session> {
  const state = stateInfo(g);
  const exe = await makeExecutable(g, { backend: opts.backend, seed: opts.seed });
  return {
    backend: opts.backend,
    graph: g,
    state,
    run: (inputs, names) => exe.run(inputs, names),
    getState: async () => new Map([...(await exe.getState())].map(([k, t]) => [k, NDArray.from(t.shape, t.data)])),
    setState: async (values) => {
      const tensors = new Map([...values].map(([k, v]) => [k, { dtype: state.get(k)?.dtype ?? 'f32', shape: v.shape, data: v.data }]));
      exe.setState(tensors, { partial: true });
    },
  };
}
