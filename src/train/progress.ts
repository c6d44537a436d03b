/**
 * @file Progress of a training run. On a terminal: one line redrawn in place (at most ~10 times a
 * second) with epoch, step, running loss, examples per second and the time left; the finished
 * epoch's line stays. Elsewhere (a pipe, a log file, CI): one plain line per finished epoch.
 */

export interface ProgressSink {
  /** Writes text (no newline added). */
  write(s: string): void;
  readonly isTTY: boolean;
  /** Terminal width, for cutting the live line. */
  readonly columns?: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60), r = Math.round(s % 60);
  if (m < 60) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatLoss(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

export interface StepInfo {
  readonly epoch: number; // 1-based
  readonly epochs: number;
  readonly batch: number; // 1-based, within the epoch
  readonly batches: number;
  readonly loss: number; // running mean over the epoch
  readonly examplesPerS: number;
  readonly etaS: number;
}

export class Progress {
  private last = -Infinity;
  private live = false;
  constructor(
    private readonly sink: ProgressSink,
    private readonly now: () => number = () => performance.now(),
  ) {}

  step(i: StepInfo): void {
    if (!this.sink.isTTY) return;
    const t = this.now();
    if (i.batch !== i.batches && t - this.last < 100) return;
    this.last = t;
    const width = String(i.batches).length;
    let line = `epoch ${i.epoch}/${i.epochs}  step ${String(i.batch).padStart(width)}/${i.batches}  loss ${formatLoss(i.loss)}  ${Math.round(i.examplesPerS)} ex/s  ETA ${formatDuration(i.etaS)}`;
    const cols = this.sink.columns ?? 0;
    if (cols > 10 && line.length >= cols) line = line.slice(0, cols - 1);
    this.sink.write(`\r\x1b[2K${line}`);
    this.live = true;
  }

  /** A line that stays (an epoch's summary, a note); clears the live line first. */
  line(s: string): void {
    if (this.live) this.sink.write('\r\x1b[2K');
    this.live = false;
    this.sink.write(s + '\n');
  }
}
