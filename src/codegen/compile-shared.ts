/**
 * @file Programs over one state: several graphs (a GAN's critic and generator steps, a training
 * step next to the evaluation of its loss) compiled so that each parameter and optimizer state of
 * a name sits at the same offset of one state space, and each program's own inputs, outputs and
 * constants in a region of their own. Executors built on one memory (`makeExecutables`) then run
 * them in turn over one state, with nothing copied between them.
 */
import type { Graph } from '../ir/graph.js';
import { formatType, numel, sameType, type TensorType } from '../ir/types.js';
import { ALIGN, elementBytes, type Precision } from '../kernel/memory.js';
import { compileGraph, type CodegenOptions, type CompiledProgram } from './compile.js';

export class SharedStateError extends Error {}

const aligned = (bytes: number) => Math.ceil(Math.max(bytes, 4) / ALIGN) * ALIGN;

/** Compiles the graphs for one state space; every manifest's state space is the whole of it. */
export function compileShared(graphs: readonly Graph[], opts: CodegenOptions): CompiledProgram[] {
  const precision: Precision = opts.backend === 'webgpu' ? 'f32' : (opts.precision ?? 'f32');
  const fixed = new Map<string, number>();
  const types = new Map<string, { type: TensorType; program: string }>();
  let at = 0;
  for (const g of graphs) {
    for (const p of g.params) {
      const name = String(p.attrs['name']);
      const have = types.get(name);
      if (have) {
        if (!sameType(have.type, p.type)) throw new SharedStateError(`\`${name}\` is ${formatType(have.type)} in ${have.program} but ${formatType(p.type)} in ${g.name}: programs that share a state must agree on it`);
        continue;
      }
      types.set(name, { type: p.type, program: g.name });
      fixed.set(name, at);
      at += aligned(numel(p.type.shape) * elementBytes(p.type.dtype, precision));
    }
  }
  const compiled: CompiledProgram[] = [];
  let base = at;
  for (const g of graphs) {
    const c = compileGraph(g, { ...opts, memory: { ...opts.memory, stateLayout: { fixed, base } } });
    compiled.push(c);
    base = Math.max(base, c.manifest.state.bytes);
  }
  return compiled.map((c) => ({ ...c, manifest: { ...c.manifest, state: { bytes: base } } }));
}
