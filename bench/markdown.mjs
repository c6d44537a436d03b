// Prints a results file (default results/latest.json) as Markdown, for bench/README.md:
//   node markdown.mjs [results/latest.json]
import { readFileSync } from 'node:fs';
import { WORKLOADS } from './data.mjs';
import { markdownTable } from './report.mjs';

const file = new URL(process.argv[2] ?? 'results/latest.json', `file://${process.cwd()}/`);
const r = JSON.parse(readFileSync(file, 'utf8'));
const m = r.machine;
const gpu = m.webgpu_adapter ? `${m.webgpu_adapter.description || m.webgpu_adapter.device}` : 'none';
console.log(`${r.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, ${m.os}, Node ${m.node}; WebGPU adapter: ${gpu}. dlc ${r.dlc.commit}${r.dlc.src_modified ? ' (with uncommitted changes in src/)' : ''}, dist built ${r.dlc.dist_built}. ${r.iterations} timed steps per system after ${r.warmup} warm-up (medians), ${Math.round(r.seconds / 60)} min in all${r.complete ? '' : ' (incomplete run)'}.`);
console.log('');
console.log('"dlc-js ÷ it" and "dlc-webgpu ÷ it" are dlc\'s time divided by that system\'s: below 1, dlc is faster.');
console.log('');
console.log(markdownTable(r.rows, WORKLOADS));
console.log('');
console.log('| target (issue 5) | status | measured |');
console.log('| --- | --- | --- |');
for (const t of r.targets) console.log(`| ${t.target} | ${t.status} | ${t.detail} |`);
const off = r.systems.filter((s) => !s.available);
if (off.length) console.log(`\nUnavailable: ${off.map((s) => `${s.system} ${s.backend} (${s.reason})`).join('; ')}.`);
