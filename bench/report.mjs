// Printing the results table and the targets of issue 5.

export const label = (r) => `${r.system} ${r.backend}`;

const fmt = (v, digits = 2) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));
const ratio = (a, b) => (a && b ? a / b : null);

/** One table per workload: ms/step, dlc ÷ peer for both dlc backends, dispatches per step. */
export function printTable(rows, workloads) {
  const lines = [];
  const head = ['system', 'ms/step', 'dlc-js ÷ it', 'dlc-webgpu ÷ it', 'dispatches/step', 'notes'];
  for (const w of workloads) {
    const rs = rows.filter((r) => r.workload === w.id);
    if (!rs.length) continue;
    const ms = (system, backend) => rs.find((r) => r.system === system && r.backend === backend)?.ms_per_step;
    const dj = ms('dlc', 'js');
    const dw = ms('dlc', 'webgpu');
    const table = rs.map((r) => [
      label(r),
      r.error ? '—' : fmt(r.ms_per_step),
      r.error || r.system === 'dlc' ? '' : fmt(ratio(dj, r.ms_per_step), 3),
      r.error || r.system === 'dlc' ? '' : fmt(ratio(dw, r.ms_per_step), 3),
      r.dispatches_per_step ?? '',
      r.error ? `error: ${r.error}` : r.note || '',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)));
    const row = (cells) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
    lines.push('', `${w.id}  ${w.title}`, row(head), ...table.map(row));
  }
  return lines.join('\n');
}

/** A Markdown version of all rows (for bench/README.md). */
export function markdownTable(rows, workloads) {
  const out = ['| workload | system | ms/step | dlc-js ÷ it | dlc-webgpu ÷ it | dispatches/step |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const w of workloads) {
    const rs = rows.filter((r) => r.workload === w.id);
    const ms = (system, backend) => rs.find((r) => r.system === system && r.backend === backend)?.ms_per_step;
    for (const r of rs) {
      const peer = r.system !== 'dlc' && !r.error;
      out.push(`| ${w.id} | ${label(r)} | ${r.error ? `— (${r.error})` : fmt(r.ms_per_step)} | ${peer ? fmt(ratio(ms('dlc', 'js'), r.ms_per_step), 3) : ''} | ${peer ? fmt(ratio(ms('dlc', 'webgpu'), r.ms_per_step), 3) : ''} | ${r.dispatches_per_step ?? ''} |`);
    }
  }
  return out.join('\n');
}

const DISPATCH_TARGETS = { W2: { max: 17, jax: 34, tfjs: 53 }, W5: { max: 580, jax: 1169, tfjs: 1477 }, W6: { max: 43, jax: 87, tfjs: 136 } };

/** The targets of issue 5 (reported, never asserted): a list of { target, status, detail }. */
export function evaluateTargets(rows) {
  const ran = new Set(rows.map((r) => r.workload));
  const get = (w, system, backend) => rows.find((r) => r.workload === w && r.system === system && r.backend === backend && !r.error);
  const out = [];
  for (const [w, t] of Object.entries(DISPATCH_TARGETS)) {
    if (!ran.has(w)) continue;
    const d = get(w, 'dlc', 'webgpu');
    const j = get(w, 'jax-js', 'webgpu');
    const f = get(w, 'tfjs', 'webgpu');
    const peers = `jax-js ${j?.dispatches_per_step ?? '—'} (issue: ${t.jax}), TF.js ${f?.dispatches_per_step ?? '—'} (issue: ${t.tfjs})`;
    out.push(d ? { target: `${w} dlc-webgpu dispatches/step <= ${t.max}`, status: d.dispatches_per_step <= t.max ? 'met' : 'missed', detail: `${d.dispatches_per_step}; ${peers}` } : { target: `${w} dispatches <= ${t.max}`, status: 'not measured', detail: peers });
  }
  for (const w of ['W2', 'W3', 'W4', 'W5', 'W6'].filter((x) => ran.has(x))) {
    const d = get(w, 'dlc', 'webgpu');
    for (const [system, name] of [['tfjs', 'TF.js webgpu'], ['jax-js', 'jax-js webgpu']]) {
      const p = get(w, system, 'webgpu');
      const target = `${w} dlc-webgpu faster than ${name}`;
      if (!d || !p) out.push({ target, status: 'not measured', detail: `${d ? '' : 'dlc-webgpu '}${p ? '' : name} missing` });
      else out.push({ target, status: d.ms_per_step < p.ms_per_step ? 'met' : 'missed', detail: `${fmt(d.ms_per_step)} vs ${fmt(p.ms_per_step)} ms (${fmt(p.ms_per_step / d.ms_per_step)}x)` });
    }
    const j = get(w, 'dlc', 'js');
    const c = get(w, 'tfjs', 'cpu');
    const target = `${w} dlc-js >= 5x faster than TF.js cpu`;
    if (!j || !c) out.push({ target, status: 'not measured', detail: '' });
    else out.push({ target, status: c.ms_per_step / j.ms_per_step >= 5 ? 'met' : 'missed', detail: `${fmt(j.ms_per_step)} vs ${fmt(c.ms_per_step)} ms (${fmt(c.ms_per_step / j.ms_per_step)}x)` });
  }
  return out;
}

export function printTargets(targets) {
  const w = Math.max(...targets.map((t) => t.target.length));
  return ['', 'targets (issue 5; reported, not asserted)', ...targets.map((t) => `  ${t.target.padEnd(w)}  ${t.status.padEnd(12)}  ${t.detail}`)].join('\n');
}
