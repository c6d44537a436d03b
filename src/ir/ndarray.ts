/** @file A minimal float64 n-d array: the value type of the reference interpreter. */
import { numel, stridesOf, type Shape } from './types.js';

export class NDArray {
  readonly strides: number[];
  constructor(
    readonly shape: Shape,
    readonly data: Float64Array,
  ) {
    this.strides = stridesOf(shape);
  }

  static zeros(shape: Shape): NDArray {
    return new NDArray([...shape], new Float64Array(numel(shape)));
  }

  static fill(shape: Shape, value: number): NDArray {
    return new NDArray([...shape], new Float64Array(numel(shape)).fill(value));
  }

  static from(shape: Shape, values: ArrayLike<number>): NDArray {
    // Typed arrays convert natively; Float64Array.from walks an iterator and is much slower.
    const data = ArrayBuffer.isView(values) ? new Float64Array(values as unknown as ArrayLike<number>) : Float64Array.from(values);
    return new NDArray([...shape], data);
  }

  static scalar(v: number): NDArray {
    return new NDArray([], Float64Array.of(v));
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Element at a multi-index. */
  at(...idx: number[]): number {
    let off = 0;
    for (let i = 0; i < idx.length; i++) off += idx[i]! * this.strides[i]!;
    return this.data[off]!;
  }

  /** Nested JS arrays (for printing and tests). */
  toNested(): unknown {
    const rec = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return this.data[off];
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(rec(dim + 1, off + i * this.strides[dim]!));
      return out;
    };
    return rec(0, 0);
  }
}

/** Calls fn(flatIndex, multiIndex) over a shape in row-major order; the index array is reused. */
export function forEachIndex(shape: Shape, fn: (flat: number, idx: number[]) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    fn(f, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}
