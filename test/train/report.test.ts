import { describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../src/train/progress.js';
import { lossSvg, metricsCsv, type EpochMetrics } from '../../src/train/report.js';

const row = (epoch: number, train: number, val: number | null): EpochMetrics => ({ epoch, step: epoch * 10, train_loss: train, val_loss: val, val_accuracy: val === null ? null : 0.5, seconds: 1, examples_per_s: 100 });

describe('progress', () => {
  const info = { epoch: 1, epochs: 2, batches: 10, loss: 0.5, examplesPerS: 1234.4, etaS: 75 };

  it('redraws one line on a terminal, at most every 100 ms, and keeps epoch lines', () => {
    let t = 0;
    const out: string[] = [];
    const p = new Progress({ write: (s) => out.push(s), isTTY: true, columns: 200 }, () => t);
    p.step({ ...info, batch: 1 });
    t = 50;
    p.step({ ...info, batch: 2 }); // too soon: skipped
    t = 200;
    p.step({ ...info, batch: 3 });
    p.line('epoch 1/2  loss 0.5');
    expect(out).toEqual([
      '\r\x1b[2Kepoch 1/2  step  1/10  loss 0.5000  1234 ex/s  ETA 1m15s',
      '\r\x1b[2Kepoch 1/2  step  3/10  loss 0.5000  1234 ex/s  ETA 1m15s',
      '\r\x1b[2K',
      'epoch 1/2  loss 0.5\n',
    ]);
  });

  it('prints only whole lines elsewhere', () => {
    const out: string[] = [];
    const p = new Progress({ write: (s) => out.push(s), isTTY: false });
    p.step({ ...info, batch: 10 });
    p.line('epoch 1/2  loss 0.5');
    expect(out).toEqual(['epoch 1/2  loss 0.5\n']);
  });

  it('formats durations', () => {
    expect([0.25, 12, 75, 3700].map(formatDuration)).toEqual(['0.3s', '12s', '1m15s', '1h01m']);
  });
});

describe('report', () => {
  it('writes CSV with empty cells for what was not measured', () => {
    expect(metricsCsv([row(1, 2, null), row(2, 1, 1.5)])).toBe('epoch,step,train_loss,val_loss,val_accuracy,seconds,examples_per_s\n1,10,2,,,1,100\n2,20,1,1.5,0.5,1,100\n');
  });

  it('draws the training and validation curves', () => {
    const svg = lossSvg([row(1, 2, 2.5), row(2, 1, 1.5), row(3, 0.5, 1)], 'a <title>');
    expect(svg.match(/<polyline/g)!.length).toBe(2);
    expect(svg).toContain('a &lt;title>');
    expect(svg).toContain('validation loss');
    // The training curve falls: its y coordinates (down is larger) increase.
    const pts = /<polyline[^>]*points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => Number(p.split(',')[1]));
    expect(pts[0]!).toBeLessThan(pts[1]!);
    expect(pts[1]!).toBeLessThan(pts[2]!);
    expect(lossSvg([row(1, 2, null)], 't').match(/<polyline/g)!.length).toBe(1);
  });
});
