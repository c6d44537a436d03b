#!/usr/bin/env python3
"""Exports scikit-learn's copy of the UCI handwritten-digits set to .npy files in data/digits/.

Reads sklearn/datasets/data/digits.csv.gz either from an installed scikit-learn (found without
importing it, so its dependencies need not be installed) or straight from a scikit-learn wheel:

    pip download scikit-learn --no-deps -d /tmp/skl
    python3 scripts/export-digits.py --wheel /tmp/skl/scikit_learn-*.whl

Needs only numpy. Writes train_x.npy (float32 [1437, 64]), train_y.npy (int32 [1437]), val_x.npy
(float32 [360, 64]), val_y.npy (int32 [360]) and README.md with the provenance, the split and the
sha256 of each file. Pixels are the set's counts 0..16, divided by 16 into [0, 1]. The split is
stratified and seeded: 360 validation images shared among the classes in proportion to their
sizes, each class's picked by a seeded shuffle; 1437 train and 360 val; each part is then
shuffled (same seed).
"""
import argparse
import gzip
import hashlib
import importlib.util
import io
import os
import re
import sys
import zipfile

import numpy as np

SEED = 20240601
VAL_SIZE = 360
MEMBER = 'sklearn/datasets/data/digits.csv.gz'


def from_wheel(path):
    with zipfile.ZipFile(path) as z:
        version = next((re.match(r'scikit_learn-([^/]+)\.dist-info/', n).group(1) for n in z.namelist() if re.match(r'scikit_learn-[^/]+\.dist-info/', n)), 'unknown')
        return z.read(MEMBER), version, os.path.basename(path)


def from_installed():
    spec = importlib.util.find_spec('sklearn')
    if spec is None or not spec.submodule_search_locations:
        sys.exit('scikit-learn is not installed; pass --wheel PATH (pip download scikit-learn --no-deps -d /tmp/skl)')
    root = list(spec.submodule_search_locations)[0]
    version = 'unknown'
    site = os.path.dirname(root)
    for name in os.listdir(site):
        m = re.match(r'scikit_learn-(.+)\.dist-info$', name)
        if m:
            version = m.group(1)
    with open(os.path.join(root, 'datasets', 'data', 'digits.csv.gz'), 'rb') as f:
        return f.read(), version, 'installed scikit-learn'


def val_quota(y):
    """Validation images per class: VAL_SIZE shared in proportion to the class sizes (largest remainder)."""
    share = np.bincount(y, minlength=10) * VAL_SIZE / len(y)
    quota = np.floor(share).astype(int)
    for c in np.argsort(-(share - quota), kind='stable')[: VAL_SIZE - quota.sum()]:
        quota[c] += 1
    return quota


def split(y, seed):
    rng = np.random.default_rng(seed)
    quota = val_quota(y)
    train, val = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        k = int(quota[c])
        val.extend(idx[:k])
        train.extend(idx[k:])
    train, val = np.array(train), np.array(val)
    rng.shuffle(train)
    rng.shuffle(val)
    return train, val


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--wheel', help='a scikit-learn wheel to read digits.csv.gz from (default: the installed scikit-learn)')
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data', 'digits'))
    a = ap.parse_args()
    raw, version, source = from_wheel(a.wheel) if a.wheel else from_installed()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=',')
    assert table.shape == (1797, 65), table.shape
    x = (table[:, :64] / 16.0).astype('<f4')
    y = table[:, 64].astype('<i4')
    assert x.min() >= 0 and x.max() <= 1 and set(np.unique(y)) == set(range(10))
    train, val = split(y, SEED)
    os.makedirs(a.out, exist_ok=True)
    files = {'train_x.npy': x[train], 'train_y.npy': y[train], 'val_x.npy': x[val], 'val_y.npy': y[val]}
    sums = {}
    for name, arr in files.items():
        path = os.path.join(a.out, name)
        np.save(path, np.ascontiguousarray(arr))
        with open(path, 'rb') as f:
            sums[name] = hashlib.sha256(f.read()).hexdigest()
    counts = lambda idx: ', '.join(f'{c}: {int((y[idx] == c).sum())}' for c in range(10))
    with open(os.path.join(a.out, 'README.md'), 'w') as f:
        f.write(README.format(
            version=version, source=source, seed=SEED, ntrain=len(train), nval=len(val),
            train_counts=counts(train), val_counts=counts(val),
            sums='\n'.join(f'| {n} | {files[n].dtype.name} {list(files[n].shape)} | `{s}` |' for n, s in sums.items())))
    print(f'wrote {len(train)} train and {len(val)} val images to {os.path.normpath(a.out)} (scikit-learn {version})')


README = """# The handwritten-digits data set

1797 grayscale images of handwritten digits, 8×8 pixels, 10 classes (0–9): the test part of the
"Optical Recognition of Handwritten Digits" data set of the UCI Machine Learning Repository
(E. Alpaydin, C. Kaynak, 1998; https://doi.org/10.24432/C50P49), as scikit-learn ships it
(`sklearn.datasets.load_digits`). Exported from scikit-learn {version} ({source}) by
`scripts/export-digits.py`.

## Licences
- The data: Creative Commons Attribution 4.0 International (CC BY 4.0), as the UCI repository
  states for this data set. Cite: Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of
  Handwritten Digits [Dataset]. UCI Machine Learning Repository. https://doi.org/10.24432/C50P49
- scikit-learn, whose copy (`sklearn/datasets/data/digits.csv.gz`) this is: BSD 3-Clause.

## Files
| file | dtype, shape | sha256 |
| --- | --- | --- |
{sums}

- `*_x.npy`: each row is an image, row-major 8×8 flattened to 64 values. The set's pixel values
  are counts 0..16 (of 4×4 blocks of a 32×32 bitmap); here they are **divided by 16**, so they
  lie in [0, 1].
- `*_y.npy`: the digit, 0..9.

## Split
Stratified and fixed: 360 validation images (20%) are shared among the classes in proportion to
their sizes (largest remainder); for each class a shuffle seeded with {seed} (numpy
`default_rng`) picks which, the rest are training images; each part is then shuffled with the
same generator. {ntrain} train, {nval} validation images.

- train per class: {train_counts}
- val per class: {val_counts}

## Regenerating
Needs Python 3 and numpy (not scikit-learn's dependencies):

    pip download scikit-learn --no-deps -d /tmp/skl
    python3 scripts/export-digits.py --wheel /tmp/skl/scikit_learn-*.whl

(or `python3 scripts/export-digits.py` with scikit-learn installed). The same scikit-learn
version gives byte-identical files (compare the sha256 above).
"""

if __name__ == '__main__':
    main()
