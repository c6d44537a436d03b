/**
 * @file A picture of the arena's memory plan (SVG): the schedule runs left to right (one column
 * per kernel), bytes bottom to top, and each temporary is a rectangle over the kernels it is live
 * and the bytes it holds. A dashed line marks the lower bound; the top of the picture is the peak.
 */
import type { MemoryReport } from './report.js';

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A color per buffer, spread around the hue circle. */
function color(i: number): string {
  return `hsl(${(i * 137.508) % 360}, 60%, 62%)`;
}

export function memorySvg(m: MemoryReport, title: string, kernels: number): string {
  const W = 960;
  const H = 480;
  const left = 80;
  const top = 40;
  const right = 20;
  const bottom = 40;
  const cols = Math.max(kernels, 1);
  const height = Math.max(m.peak, m.lowerBound, 1);
  const x = (k: number) => left + (k / cols) * (W - left - right);
  const y = (b: number) => H - bottom - (b / height) * (H - top - bottom);
  const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${escape(title)}: peak ${kb(m.peak)} (${m.planner}), lower bound ${kb(m.lowerBound)}, no reuse ${kb(m.naive)}</text>`,
    `<line x1="${left}" y1="${y(0)}" x2="${W - right}" y2="${y(0)}" stroke="black"/>`,
    `<line x1="${left}" y1="${y(0)}" x2="${left}" y2="${y(height)}" stroke="black"/>`,
    `<text x="${left - 6}" y="${y(0)}" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${y(height) + 4}" text-anchor="end">${kb(height)}</text>`,
    `<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle">kernel (schedule order, 0..${cols - 1})</text>`,
  ];
  m.arena.forEach((b, i) => {
    const x0 = x(b.first);
    const x1 = x(b.last + 1);
    const y0 = y(b.offset + b.bytes);
    const y1 = y(b.offset);
    out.push(
      `<rect x="${x0.toFixed(2)}" y="${y0.toFixed(2)}" width="${Math.max(x1 - x0, 0.5).toFixed(2)}" height="${Math.max(y1 - y0, 0.5).toFixed(2)}" fill="${color(i)}" stroke="#333" stroke-width="0.5"><title>${escape(b.name)}: ${kb(b.bytes)} at byte ${b.offset}, kernels ${b.first}..${b.last}</title></rect>`,
    );
  });
  out.push(`<line x1="${left}" y1="${y(m.lowerBound).toFixed(2)}" x2="${W - right}" y2="${y(m.lowerBound).toFixed(2)}" stroke="red" stroke-dasharray="6 4"><title>lower bound ${kb(m.lowerBound)}</title></line>`);
  out.push('</svg>', '');
  return out.join('\n');
}
