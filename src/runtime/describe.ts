/**
 * @file What a bundle tells its users about itself: README.md (the inputs, outputs and parameters
 * with dtypes and shapes, the backends, how to load and run it) and index.d.ts (the types of a
 * call's inputs and outputs), both from a manifest. Written by `dlc build`; imports nothing.
 */
import type { Manifest, ManifestBuffer } from './manifest.js';

const typeText = (b: ManifestBuffer) => `${b.dtype}[${b.shape.join(', ')}]`;
const buffer = (m: Manifest, name: string, role: ManifestBuffer['role']) => m.buffers.find((b) => b.name === name && b.role === role)!;
const key = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name));

/** README.md of a bundle whose programs are `ms` (one per backend, the same function). */
export function bundleReadme(ms: readonly Manifest[], source: string, weights: string | undefined): string {
  const m = ms[0]!;
  const rows = (names: readonly string[], role: ManifestBuffer['role']) =>
    names.map((n) => {
      const b = buffer(m, n, role);
      return `| \`${n}\` | \`${typeText(b)}\` | ${b.range ? `${b.range.use}: ${b.range.lo}..${b.range.hi - 1}` : ''} |`;
    });
  const example = m.inputs.map((n) => `${key(n)}: new ${buffer(m, n, 'input').dtype === 'f32' ? 'Float32Array' : 'Int32Array'}(${buffer(m, n, 'input').shape.reduce((a, d) => a * d, 1)})`).join(', ');
  return [
    `# ${m.name}`,
    '',
    `A program compiled by \`dlc build\` from \`${source}\`${weights ? `, with the trained weights of \`${weights}\`` : ' (no weights: parameters start from their initializers)'}.`,
    `Backends: ${ms.map((x) => `${x.backend} (\`${x.backend}/\`)`).join(', ')}; precision ${m.precision}.`,
    '',
    '## Inputs',
    '',
    '| name | type | values |',
    '| --- | --- | --- |',
    ...rows(m.inputs, 'input'),
    '',
    '## Outputs',
    '',
    '| name | type | |',
    '| --- | --- | --- |',
    ...rows(m.outputs, 'output'),
    '',
    `## Parameters (${m.params.length})`,
    '',
    ...m.params.map((n) => `- \`${n}\`: \`${typeText(buffer(m, n, 'param'))}\``),
    '',
    '## Use',
    '',
    '```js',
    "import { loadProgram } from 'dlc/runtime';",
    "const program = await loadProgram('path/or/url/of/this/directory'); // WebGPU when available, else JS",
    `const outputs = await program.run({ ${example} });`,
    '```',
    '',
    'Every file is listed with its size and SHA-256 in bundle.json and each manifest.json; the loader',
    'refuses a bundle whose files were changed. index.d.ts has the types of the inputs and outputs.',
    '',
  ].join('\n');
}

/** index.d.ts of a bundle: the inputs and outputs of a call, with their dtypes and shapes. */
export function bundleTypes(m: Manifest): string {
  const field = (n: string, role: 'input' | 'output') => {
    const b = buffer(m, n, role);
    const t = role === 'input' ? (b.dtype === 'f32' ? 'Float32Array | Float64Array | readonly number[]' : 'Int32Array | readonly number[]') : b.dtype === 'f32' ? (m.precision === 'f64' ? 'Float64Array' : 'Float32Array') : 'Int32Array';
    return `  /** ${typeText(b)}${b.range ? `: ${b.range.use}, ${b.range.lo}..${b.range.hi - 1}` : ''}, row-major (${b.shape.reduce((a, d) => a * d, 1)} values). */\n  readonly ${key(n)}: ${t};`;
  };
  return [
    `// The inputs and outputs of \`${m.name}\`, written by dlc build.`,
    "// import type { Inputs, Outputs } from './model/index.js';",
    '// const out = (await program.run(inputs)) as Outputs;   // inputs: Inputs',
    '// (type aliases, not interfaces, so that an Inputs value is a record of inputs by name)',
    'export type Inputs = {',
    ...m.inputs.map((n) => field(n, 'input')),
    '};',
    'export type Outputs = {',
    ...m.outputs.map((n) => field(n, 'output')),
    '};',
    '',
  ].join('\n');
}
