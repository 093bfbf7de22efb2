"""core/arrays.py gives np.unique's result (by sorting, which is what makes it fast)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinlap.core.arrays import unique

values = hnp.arrays(
    np.uint64, st.integers(0, 300), elements=st.sampled_from([0, 1, 7, 2**40, 2**63 + 5])
) | hnp.arrays(np.int64, st.integers(0, 300))


@given(values)
def test_unique_is_numpys(v: np.ndarray) -> None:
    assert np.array_equal(unique(v), np.unique(v))
