/**
 * @file What a training run leaves in its run directory besides weights: metrics.csv and
 * metrics.json (one row per epoch) and loss.svg (training and validation loss by epoch).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EpochMetrics {
  /** 1-based. */
  readonly epoch: number;
  /** Steps run in total at the end of this epoch. */
  readonly step: number;
  /** Mean training loss over the epoch's batches (as the step computed it, before its update). */
  readonly train_loss: number;
  readonly val_loss: number | null;
  readonly val_accuracy: number | null;
  /** Seconds the epoch's steps took (validation excluded). */
  readonly seconds: number;
  readonly examples_per_s: number;
  /** With `--steps`: each train step's mean loss over its runs in the epoch, by name. */
  readonly step_losses?: Readonly<Record<string, number>>;
}

const COLUMNS: Exclude<keyof EpochMetrics, 'step_losses'>[] = ['epoch', 'step', 'train_loss', 'val_loss', 'val_accuracy', 'seconds', 'examples_per_s'];

export function metricsCsv(rows: readonly EpochMetrics[]): string {
  const cell = (v: number | null) => (v === null ? '' : String(v));
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** A number for an axis label: few digits, no trailing zeros. */
function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The loss curve as a standalone SVG: training loss (and validation loss when measured) against the epoch. */
export function lossSvg(rows: readonly EpochMetrics[], title: string): string {
  const W = 640, H = 400, L = 64, R = 20, T = 36, B = 48;
  const series = [
    { name: 'training loss', color: '#1f77b4', pts: rows.map((r) => [r.epoch, r.train_loss] as const) },
    { name: 'validation loss', color: '#d62728', pts: rows.filter((r) => r.val_loss !== null).map((r) => [r.epoch, r.val_loss!] as const) },
  ].filter((s) => s.pts.length);
  const ys = series.flatMap((s) => s.pts.map((p) => p[1])).filter(Number.isFinite);
  const xmax = Math.max(1, ...rows.map((r) => r.epoch));
  const ymin = Math.min(0, ...ys), ymax = Math.max(...ys, ymin + 1e-9);
  const x = (e: number) => L + ((e - (xmax > 1 ? 1 : 0)) / (xmax > 1 ? xmax - 1 : 1)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - ymin) / (ymax - ymin)) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (const t of ticks(ymin, ymax)) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`);
  }
  for (const t of ticks(xmax > 1 ? 1 : 0, xmax, Math.min(10, xmax)).filter((t) => Number.isInteger(t))) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">epoch</text>`);
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">loss</text>`);
  series.forEach((s, k) => {
    const pts = s.pts.filter((p) => Number.isFinite(p[1])).map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.5" fill="${s.color}"/>`);
    out.push(`<line x1="${W - R - 150}" x2="${W - R - 130}" y1="${T + 10 + 16 * k}" y2="${T + 10 + 16 * k}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R - 124}" y="${T + 14 + 16 * k}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface RunSummary {
  readonly train: string;
  readonly file: string;
  readonly backend: string;
  readonly seed: number;
  readonly batch: number;
  readonly epochs_requested: number;
  readonly examples: number;
  readonly steps_per_epoch: number;
  /** Examples left out of every epoch (n mod batch): the last partial batch is dropped. */
  readonly dropped_per_epoch: number;
  readonly stopped: 'completed' | 'early-stopping' | 'interrupted';
  readonly best_epoch: number | null;
  readonly epochs: readonly EpochMetrics[];
}

export function writeReport(dir: string, summary: RunSummary): void {
  writeFileSync(join(dir, 'metrics.csv'), metricsCsv(summary.epochs));
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(join(dir, 'loss.svg'), lossSvg(summary.epochs, `${summary.train} (${summary.file})`));
}
