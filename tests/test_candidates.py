"""Exact groups, LSH banding and bucket pairing, and the sketch pre-filter."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.candidates import band_keys, exact_groups, lsh_pairs, sketch_filter
from tinlap.core.sketch import ShingleSets, minhash

SEED = 7


def shingle_set_of(sets: Sequence[np.ndarray]) -> ShingleSets:
    arrays = [np.unique(np.asarray(s, dtype=np.uint64)) for s in sets]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    return ShingleSets(np.concatenate(arrays).astype(np.uint64), offsets)


def pair_set(a: np.ndarray, b: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(a.tolist(), b.tolist(), strict=True))


# --- exact groups --------------------------------------------------------------------------------


def test_exact_groups_map_to_first_occurrence() -> None:
    rows = [(1, 2), (3, 4), (1, 2), (1, 5), (3, 4), (1, 2), (2, 1)]
    keys = np.array(rows, dtype=np.uint64)
    assert exact_groups(keys).tolist() == [0, 1, 0, 3, 1, 0, 6]
    assert exact_groups(np.zeros((0, 2), dtype=np.uint64)).tolist() == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 2**64 - 1]), st.sampled_from([0, 7, 2**63])), max_size=30
    )
)
def test_exact_groups_match_a_dict_reference(rows: list[tuple[int, int]]) -> None:
    first: dict[tuple[int, int], int] = {}
    expected = [first.setdefault(r, i) for i, r in enumerate(rows)]
    got = exact_groups(np.array(rows, dtype=np.uint64).reshape(-1, 2))
    assert got.dtype == np.int64 and got.tolist() == expected


# --- band keys -----------------------------------------------------------------------------------


def test_band_keys_rows2_pack_two_values_exactly() -> None:
    rng = np.random.default_rng(SEED)
    sig = rng.integers(0, 2**32, size=(5, 16), dtype=np.uint32)
    keys = band_keys(sig, 6, 2)  # uses the first 12 columns only
    assert keys.shape == (5, 6) and keys.dtype == np.uint64
    for band in range(6):
        hi, lo = sig[:, 2 * band].astype(np.uint64), sig[:, 2 * band + 1].astype(np.uint64)
        assert np.array_equal(keys[:, band], (hi << np.uint64(32)) | lo)


def test_band_keys_rows3_equal_iff_band_equal() -> None:
    rng = np.random.default_rng(SEED)
    base = rng.integers(0, 2**32, size=(1, 12), dtype=np.uint32)
    sig = np.repeat(base, 13, axis=0)
    for i in range(12):  # doc i + 1 differs from doc 0 in column i only
        sig[i + 1, i] ^= np.uint32(1 << (i % 32))
    keys = band_keys(sig, 4, 3)
    assert keys.shape == (13, 4)
    for i in range(12):
        same = keys[i + 1] == keys[0]
        assert not same[i // 3] and same.sum() == 3


def test_band_keys_need_enough_values() -> None:
    with pytest.raises(ValueError, match="needs 130"):
        band_keys(np.zeros((2, 128), dtype=np.uint32), 65, 2)


# --- LSH pairs -----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), max_size=25))
def test_lsh_pairs_are_unique_ordered_and_complete(rows: list[list[int]]) -> None:
    keys = np.array(rows, dtype=np.uint64).reshape(-1, 3)
    a, b = lsh_pairs(keys, np.ones(len(rows), dtype=np.int64))
    assert a.dtype == np.int64 and b.dtype == np.int64
    got = list(zip(a.tolist(), b.tolist(), strict=True))
    assert len(got) == len(set(got)) and all(x < y for x, y in got)
    expected = {
        (i, j)
        for i, j in combinations(range(len(rows)), 2)
        if any(rows[i][band] == rows[j][band] for band in range(3))
    }
    assert set(got) == expected


def test_identical_documents_become_candidates() -> None:
    rng = np.random.default_rng(SEED)
    sets = [rng.integers(0, 2**64, size=200, dtype=np.uint64) for _ in range(6)]
    sig = minhash(shingle_set_of([*sets, sets[2], sets[4]]), 128)
    a, b = lsh_pairs(band_keys(sig, 64, 2), np.full(8, 200))
    assert pair_set(a, b) == {(2, 6), (4, 7)}


def test_no_pairs_when_no_bucket_is_shared() -> None:
    a, b = lsh_pairs(np.arange(10, dtype=np.uint64).reshape(5, 2), np.ones(5, dtype=np.int64))
    assert len(a) == len(b) == 0


@pytest.mark.parametrize("k", [200, 201, 300])
def test_big_bucket_pairs_only_within_size_sorted_window(k: int) -> None:
    rng = np.random.default_rng(SEED)
    n = k + 7
    sizes = rng.integers(1, 50, size=n)  # many ties: the order must be stable
    members = np.sort(rng.permutation(n)[:k])  # rows of the big bucket (key 0)
    keys = np.arange(n, dtype=np.uint64).reshape(n, 1) + np.uint64(1)  # others: singletons
    keys[members, 0] = 0
    a, b = lsh_pairs(keys, sizes, max_bucket=200, window=50)
    got = pair_set(a, b)
    if k <= 200:
        assert len(got) == k * (k - 1) // 2
        return
    # Members in row order, stably sorted by decreasing size; each paired with the next 50.
    order = members[np.argsort(-sizes[members], kind="stable")].tolist()
    expected = {
        (min(order[i], order[i + s]), max(order[i], order[i + s]))
        for s in range(1, 51)
        for i in range(k - s)
    }
    assert len(got) == sum(k - s for s in range(1, 51))  # linear in k, not quadratic
    assert got == expected


def synthetic_pairs(
    rng: np.random.Generator, n_pairs: int, short: int, ratio: float, containment: float
) -> list[np.ndarray]:
    """[short_0, long_0, short_1, long_1, ...]: ``containment`` of each short doc is in its long."""
    out: list[np.ndarray] = []
    for _ in range(n_pairs):
        long_size, inside = int(short * ratio), round(containment * short)
        pool = rng.integers(0, 2**64, size=short + long_size, dtype=np.uint64)
        out += [
            pool[:short],
            np.concatenate([pool[:inside], pool[short : short + long_size - inside]]),
        ]
    return out


def test_lsh_finds_contained_copies_at_jaccard_0_2_but_not_unrelated_docs() -> None:
    rng = np.random.default_rng(SEED)
    # Short doc of 400 shingles, 60% of them inside a doc 2.5x longer: Jaccard 240/1160 ≈ 0.21.
    related = synthetic_pairs(rng, 60, 400, 2.5, 0.6)
    unrelated = [
        rng.integers(0, 2**64, size=int(rng.integers(300, 1000)), dtype=np.uint64)
        for _ in range(60)
    ]
    sets = shingle_set_of(related + unrelated)
    sig = minhash(sets, 128)
    a, b = lsh_pairs(band_keys(sig, 64, 2), sets.sizes)
    got = pair_set(a, b)
    wanted = {(2 * i, 2 * i + 1) for i in range(60)}
    assert len(got & wanted) >= 0.8 * len(wanted)  # theory: 1 - (1 - 0.21²)^64 ≈ 0.94
    assert len(got - wanted) <= 2  # unrelated pairs: essentially never


# --- sketch filter -------------------------------------------------------------------------------


def test_sketch_filter_keeps_every_pair_with_containment_at_least_half() -> None:
    # Thresholds Jaccard 0.5, containment 0.4; the upper confidence bound must keep copies even
    # inside containers four times longer, where the Jaccard is only ~0.1.
    rng = np.random.default_rng(SEED)
    sets: list[np.ndarray] = []
    for ratio in (1.0, 1.5, 2.0, 3.0, 4.0):
        for containment in (0.5, 0.7, 1.0):
            sets += synthetic_pairs(rng, 40, int(rng.integers(50, 700)), ratio, containment)
    unrelated = synthetic_pairs(rng, 100, 300, 1.5, 0.0)
    shingles = shingle_set_of(sets + unrelated)
    sig = minhash(shingles, 128)
    a = np.arange(0, len(sets) + len(unrelated), 2)
    keep = sketch_filter(sig, shingles.sizes, a, a + 1, 0.5, 0.4)
    related = len(sets) // 2
    assert keep[:related].all()
    assert not keep[related:].any()  # it does discard hopeless pairs
    assert sketch_filter(sig, shingles.sizes, a[:0], a[:0], 0.5, 0.5).tolist() == []


def test_sketch_filter_passes_on_either_threshold() -> None:
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 9, 9, 9]], dtype=np.uint32)
    sizes = np.array([100, 100, 10])
    a, b = np.array([0, 0]), np.array([1, 2])
    # Pair (0, 1): J≈0.5. Pair (0, 2): J≈0.25 → |∩|≈0.2·110=22 > 10: containment of doc 2 ≈ 2.2.
    one = {"z": 0, "min_shared": 1}
    assert sketch_filter(sig, sizes, a, b, 0.4, 5.0, **one).tolist() == [True, False]
    assert sketch_filter(sig, sizes, a, b, 0.9, 1.0, **one).tolist() == [False, True]
    assert sketch_filter(sig, sizes, a, b, 0.9, 5.0, **one).tolist() == [False, False]
    # One shared MinHash value is chance: the default asks for two.
    assert sketch_filter(sig, sizes, a, b, 0.9, 1.0, z=0).tolist() == [False, False]


def test_containment_pass_pairs_rare_buckets_of_unlike_sizes_only() -> None:
    from tinlap.core.candidates import containment_keys, containment_pairs

    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32, size=(60, 16), dtype=np.uint32)
    sizes = np.full(60, 100, dtype=np.int64)
    sig[1, :6] = sig[0, :6]  # 1 (size 300) shares 6 values with 0 (size 100): a contained pair
    sizes[1] = 300
    sig[3, :6] = sig[2, :6]  # 2 and 3 alike in size: left to the 2-row bands
    sig[10:60, 7] = 12345  # a value 50 documents share: a common phrase
    sizes[10:60:2] = 500
    a, b = containment_pairs(containment_keys(sig, 16), sizes, max_members=20, min_ratio=1.5)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1)]
    a, b = containment_pairs(containment_keys(sig, 16), sizes, max_members=50, min_ratio=1.5)
    assert (0, 1) in set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(a) == 1 + 25 * 25  # the 50-member bucket now counts: its unlike-size pairs
