"""Exact verification against brute-force Python set arithmetic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.sketch import ShingleSets
from tinlap.core.verify import PairScores, verify


def shingle_set_of(sets: Sequence[set[int]]) -> ShingleSets:
    arrays = [np.array(sorted(s), dtype=np.uint64) for s in sets]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint64)
    return ShingleSets(flat.astype(np.uint64), offsets)


def assert_exact(scores: PairScores, sets: Sequence[set[int]], a: list[int], b: list[int]) -> None:
    assert len(scores) == len(a)
    assert scores.a.tolist() == a and scores.b.tolist() == b
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        sx, sy = sets[x], sets[y]
        inter, union = len(sx & sy), len(sx | sy)
        assert scores.intersection[i] == inter, (x, y)
        assert scores.jaccard[i] == (inter / union if union else 0.0)
        assert scores.containment_a[i] == (inter / len(sx) if sx else 0.0)
        assert scores.containment_b[i] == (inter / len(sy) if sy else 0.0)


# Hash values from few 40-bit prefixes and few low words: many share their top 40 bits.
PREFIXES = [0, 1, 2**39, 2**40 - 1]
LOWS = [0, 1, 5, 2**23, 2**24 - 1]
CLASHING = [(p << 24) | lo for p in PREFIXES for lo in LOWS]
values = st.one_of(st.sampled_from(CLASHING), st.integers(0, 2**64 - 1), st.integers(0, 40))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sets(values, max_size=25), min_size=1, max_size=10),
    st.data(),
    st.sampled_from([1, 2, 7, 30, 4_000_000]),
)
def test_verify_equals_brute_force(
    sets: list[set[int]], data: st.DataObject, max_queries: int
) -> None:
    doc = st.integers(0, len(sets) - 1)
    pairs = data.draw(st.lists(st.tuples(doc, doc), max_size=30))
    pairs += [(y, x) for x, y in pairs[:5]]  # both orders
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    scores = verify(
        shingle_set_of(sets),
        np.array(a, dtype=np.int64),
        np.array(b, dtype=np.int64),
        max_queries=max_queries,
    )
    assert_exact(scores, sets, a, b)


def test_hashes_sharing_their_top_40_bits_are_told_apart() -> None:
    prefix = 0xABCDE12345 << 24
    target = {prefix | lo for lo in (1, 2, 3, 4, 9)} | {5, 2**63}
    queries = [
        {prefix | 4},  # the 4th of five hashes with one prefix
        {prefix | 9, prefix | 3, prefix | 1},
        {prefix | 5, prefix | 6},  # same prefix, not in the target
        {prefix | 2, 5, 2**63, 7},
    ]
    sets = [target, *queries]
    a, b = [0, 0, 0, 0, 2, 4], [1, 2, 3, 4, 0, 0]
    scores = verify(shingle_set_of(sets), np.array(a), np.array(b))
    assert scores.intersection.tolist() == [1, 3, 0, 3, 3, 3]
    assert_exact(scores, sets, a, b)


def test_identical_empty_and_self_pairs() -> None:
    rng = np.random.default_rng(3)
    big = set(rng.integers(0, 2**64, size=500, dtype=np.uint64).tolist())
    sets = [big, set(big), set(), set(), {1, 2, 3}]
    a, b = [0, 1, 2, 0, 4, 4], [1, 0, 3, 2, 4, 2]
    scores = verify(shingle_set_of(sets), np.array(a), np.array(b))
    assert scores.jaccard.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert scores.containment_a.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert_exact(scores, sets, a, b)
    none = verify(shingle_set_of(sets), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert len(none) == 0


def test_many_pairs_across_chunk_boundaries() -> None:
    rng = np.random.default_rng(11)
    pool = rng.integers(0, 2**64, size=300, dtype=np.uint64).tolist()
    sets = [
        set(rng.choice(pool, size=int(rng.integers(0, 120)), replace=False).tolist())
        for _ in range(60)
    ]
    a = rng.integers(0, 60, size=2000).tolist()
    b = rng.integers(0, 60, size=2000).tolist()
    shingles = shingle_set_of(sets)
    full = verify(shingles, np.array(a), np.array(b))
    assert_exact(full, sets, a, b)
    for max_queries in (1, 50, 997):
        chunked = verify(shingles, np.array(a), np.array(b), max_queries=max_queries)
        assert np.array_equal(chunked.intersection, full.intersection)
