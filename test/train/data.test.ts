import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NDArray, writeNpy } from '../../src/index.js';
import { checkAgainstInputs, checkValues, loadDataset, parseDataSpec, takeBatch, TrainError } from '../../src/train/data.js';
import { epochOrder } from '../../src/train/prng.js';
import { linStep, writeSynthetic } from './helpers.js';

function diag(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof TrainError) return { code: e.diagnostic.code, message: e.diagnostic.message };
    throw e;
  }
  throw new Error('expected a TrainError');
}

describe('data order', () => {
  it('is a permutation, a pure function of (seed, epoch), different across epochs and seeds', () => {
    const a = epochOrder(100, 7, 3);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...epochOrder(100, 7, 3)]).toEqual([...a]);
    expect([...epochOrder(100, 7, 4)]).not.toEqual([...a]);
    expect([...epochOrder(100, 8, 3)]).not.toEqual([...a]);
  });
});

describe('datasets', () => {
  const files = writeSynthetic(40);
  const spec = { x: files.train.x, y: files.train.y };

  it('parses --data specs, with commas or repeated flags', () => {
    expect(parseDataSpec(['x=a.npy,y=b.npy'], '--data')).toEqual({ x: 'a.npy', y: 'b.npy' });
    expect(parseDataSpec(['x=a.npy', 'y=b.npy'], '--data')).toEqual({ x: 'a.npy', y: 'b.npy' });
    expect(diag(() => parseDataSpec(['x:a.npy'], '--data')).code).toBe('DL0601');
    expect(diag(() => parseDataSpec(['x=a.npy,x=b.npy'], '--data')).message).toContain('twice');
  });

  it('loads, batches in the given order and checks against the step inputs', () => {
    const ds = loadDataset(spec, '--data');
    expect(ds.n).toBe(40);
    checkAgainstInputs(ds, linStep(8).inputs, '`lin`');
    const b = takeBatch(ds, [5, 2], 0, 2);
    const x = ds.columns.find((c) => c.name === 'x')!.array;
    expect(b.get('x')!.shape).toEqual([2, 3]);
    expect([...b.get('x')!.data]).toEqual([...x.data.subarray(15, 18), ...x.data.subarray(6, 9)]);
  });

  it('refuses arrays with different first axes, naming both', () => {
    const d = diag(() => loadDataset({ x: files.train.x, y: files.val.y }, '--data'));
    expect(d.code).toBe('DL0602');
    expect(d.message).toMatch(/`x` has 40.*`y` has 20/);
  });

  it('refuses a missing or unknown name, a wrong row shape and float labels', () => {
    const inputs = linStep(8).inputs;
    expect(diag(() => checkAgainstInputs(loadDataset({ x: files.train.x }, '--data'), inputs, '`lin`')).message).toContain('does not give `y`');
    expect(diag(() => checkAgainstInputs(loadDataset({ ...spec, z: files.train.y }, '--data'), inputs, '`lin`')).message).toContain('no parameter `z`');
    const wide = join(files.dir, 'wide.npy');
    writeFileSync(wide, writeNpy(NDArray.zeros([40, 4]), 'f32'));
    const d = diag(() => checkAgainstInputs(loadDataset({ x: wide, y: files.train.y }, '--data'), inputs, '`lin`'));
    expect(d.code).toBe('DL0606');
    expect(d.message).toContain('should have shape [3]');
    const floaty = join(files.dir, 'floaty.npy');
    writeFileSync(floaty, writeNpy(NDArray.zeros([40]), 'f32'));
    expect(diag(() => checkAgainstInputs(loadDataset({ x: files.train.x, y: floaty }, '--data'), inputs, '`lin`')).message).toContain('floating-point');
    expect(diag(() => loadDataset({ x: join(files.dir, 'nope.npy') }, '--data')).message).toContain('no such file');
  });
});

describe('label values', () => {
  it('are checked over the whole file before training, naming the example', () => {
    const files = writeSynthetic(40);
    const bad = join(files.dir, 'bad_y.npy');
    const y = new Float64Array(40);
    y[37] = 2; // two classes: 0..1
    writeFileSync(bad, writeNpy(new NDArray([40], y), 'i32'));
    const d = diag(() => checkValues(loadDataset({ x: files.train.x, y: bad }, '--data'), linStep(8)));
    expect(d.code).toBe('DL0605');
    expect(d.message).toBe(`--data y: example 37 of ${bad} is 2, but as class labels of a one_hot over 2 classes (as in cross_entropy) its values must be in 0..1`);
    checkValues(loadDataset({ x: files.train.x, y: files.train.y }, '--data'), linStep(8));
  });
});
