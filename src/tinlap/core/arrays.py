"""Distinct values of a 1-d array by sorting, for the hot paths.

NumPy 2.4's ``np.unique`` without ``return_index``/``return_inverse`` takes a hash-table path
that is slow on the wide-ranged 64-bit values tinlap deduplicates: 2.9 s for 1.7 M packed pairs
where a sort takes 0.04 s (70x), 9x on 200 k document numbers (``benchmarks/arrays.py``). With
an inverse or an index it sorts, and is used as is.
"""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: the sorted distinct values."""
    ordered = np.sort(np.asarray(values).ravel())
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    return ordered[starts]
