/**
 * @file Several `train` steps alternating over one state (`dlc train --steps critic:5,gen:1`): a
 * GAN's critic and generator steps, each with its own optimizer, compiled together with
 * makeExecutables so that parameters of one name are one tensor. The schedule repeats; each run of a
 * step that takes data parameters consumes the next batch of the epoch, and a step without data
 * parameters (it draws its own noise) runs right after the step before it, consuming none.
 */
import { error } from '../diagnostics/diagnostic.js';
import type { Graph, Node } from '../ir/graph.js';
import { NDArray } from '../ir/ndarray.js';
import { makeExecutables, type Executable, type ExecBackend } from '../exec.js';
import { TrainError } from './data.js';
import type { Session, StateInfo } from './session.js';

/** One entry of a schedule: run the train step `name` `count` times in a row. */
export interface ScheduleEntry {
  readonly name: string;
  readonly count: number;
}

/** `critic:5,gen:1` (a name alone counts once). */
export function parseSchedule(spec: string): ScheduleEntry[] {
  const entries = spec.split(',').map((part) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new TrainError(error('DL0601', `--steps ${spec}: \`${part}\` is not NAME or NAME:COUNT`, { help: 'e.g. --steps critic:5,gen:1 (train declarations of the file, each run COUNT times per round)' }));
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (!(count >= 1)) throw new TrainError(error('DL0601', `--steps ${spec}: \`${m[1]}\` must run at least once per round`, {}));
    return { name: m[1]!, count };
  });
  return entries;
}

/** The inputs every data-consuming step reads, each name once (to check a dataset against). */
export function unionInputs(graphs: readonly Graph[]): Node[] {
  const seen = new Map<string, Node>();
  for (const g of graphs) for (const i of g.inputs) if (!seen.has(String(i.attrs['name']))) seen.set(String(i.attrs['name']), i);
  return [...seen.values()];
}

const lossName = (g: Graph) => (g.outputs.find((o) => o.name === 'loss') ?? g.outputs[0])!.name;

export interface ScheduleSession extends Session {
  /** The mean loss of each step over the runs since the last call, by train name (then reset). */
  takeLosses(): Map<string, number>;
}

/**
 * One Session over the steps of a schedule: `run(batch)` runs the next data-consuming step of the
 * round on the batch, then every step without data parameters that follows it in the round; it
 * returns the loss of the step that took the batch. The state is the union of the steps' states.
 */
export async function makeScheduleSession(steps: readonly { name: string; graph: Graph }[], schedule: readonly ScheduleEntry[], opts: { backend: ExecBackend; seed: number }): Promise<ScheduleSession> {
  const index = new Map(steps.map((s, i) => [s.name, i]));
  const exes: Executable[] = await makeExecutables(steps.map((s) => s.graph), { backend: opts.backend, seed: opts.seed });
  const round = schedule.flatMap((e) => Array.from({ length: e.count }, () => index.get(e.name)!));
  const takesData = (i: number) => steps[i]!.graph.inputs.length > 0;
  if (!round.some(takesData)) throw new TrainError(error('DL0601', 'no step of --steps takes data parameters, so an epoch has no batches', { help: 'the first step (the critic, say) takes the real examples, e.g. critic_loss(x: f32[B, 2])' }));
  const state = new Map<string, StateInfo>();
  for (const s of steps) for (const p of s.graph.params) state.set(String(p.attrs['name']), { dtype: p.type.dtype, shape: p.type.shape });
  const sums = new Map<string, { sum: number; n: number }>();
  let at = 0;
  const runStep = async (i: number, inputs: ReadonlyMap<string, NDArray>): Promise<number> => {
    const g = steps[i]!.graph;
    const mine = new Map([...inputs].filter(([k]) => g.inputs.some((x) => String(x.attrs['name']) === k)));
    const name = lossName(g);
    const loss = (await exes[i]!.run(mine, [name])).get(name)!.data[0]!;
    const s = sums.get(steps[i]!.name) ?? { sum: 0, n: 0 };
    sums.set(steps[i]!.name, { sum: s.sum + loss, n: s.n + 1 });
    if (!Number.isFinite(loss)) throw new TrainError(error('DL0604', `the loss of \`${steps[i]!.name}\` became ${loss}`, { help: 'lower its learning rate, or clip gradients (clip_norm in the train declaration)' }));
    return loss;
  };
  return {
    backend: opts.backend,
    graph: steps[round.find(takesData)!]!.graph,
    state,
    async run(inputs, names) {
      // Steps without data before the next data-consuming one run first (a round may start with them).
      while (!takesData(round[at]!)) {
        await runStep(round[at]!, new Map());
        at = (at + 1) % round.length;
      }
      const g = steps[round[at]!]!.graph;
      const loss = await runStep(round[at]!, inputs);
      at = (at + 1) % round.length;
      while (!takesData(round[at]!)) {
        await runStep(round[at]!, new Map());
        at = (at + 1) % round.length;
      }
      return new Map(names.map((n) => [n, n === lossName(g) || n === 'loss' ? NDArray.from([], [loss]) : NDArray.from([], [NaN])]));
    },
    async getState() {
      const out = new Map<string, NDArray>();
      for (const e of exes) for (const [k, t] of await e.getState()) if (!out.has(k)) out.set(k, NDArray.from(t.shape, t.data));
      return out;
    },
    async setState(values) {
      // One state: setting a name through one executable sets it for all.
      for (const e of exes) {
        const own = new Set([...(await e.getState()).keys()]);
        const mine = new Map([...values].filter(([k]) => own.has(k)).map(([k, v]) => [k, { dtype: state.get(k)?.dtype ?? 'f32', shape: v.shape, data: v.data }]));
        if (mine.size) e.setState(mine, { partial: true });
      }
    },
    takeLosses() {
      const out = new Map([...sums].map(([k, v]) => [k, v.sum / v.n]));
      sums.clear();
      return out;
    },
  };
}
