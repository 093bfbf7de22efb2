"""np.unique against tinlap's sort-based core.arrays, on the shapes tinlap deduplicates.

    .venv/bin/python benchmarks/arrays.py

Same run, same process, best of 5; prints one line per case with the ratio.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from tinlap.core.arrays import unique


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    cases = {
        "1.7 M packed pairs (uint64, wide range)": rng.integers(0, 2**62, 1_700_000).astype(
            np.uint64
        ),
        "200 k document numbers (int64, few distinct)": rng.integers(0, 20_000, 200_000),
        "1 k token ids (int64)": rng.integers(0, 300, 1_000),
    }
    print(f"numpy {np.__version__}")
    for name, values in cases.items():
        a = best(lambda v=values: np.unique(v))
        b = best(lambda v=values: unique(v))
        print(f"{name}: np.unique {a * 1e3:.2f} ms, sorted {b * 1e3:.2f} ms ({a / b:.1f}x)")


if __name__ == "__main__":
    main()
