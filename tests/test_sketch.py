"""Shingle sets, exact keys and one-permutation MinHash against pure-Python references."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.normalise import TokenBatch, Tokeniser, matching_key
from tinlap.core.sketch import _PAD, EMPTY, GOLDEN, ShingleSets, exact_keys, minhash, shingle_sets

MASK = (1 << 64) - 1


def token_batch(docs: Sequence[Sequence[int]]) -> TokenBatch:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    flat = [t for d in docs for t in d]
    return TokenBatch(np.array(flat, dtype=np.uint64), offsets)


def shingle_set_of(sets: Sequence[Sequence[int]]) -> ShingleSets:
    arrays = [np.unique(np.asarray(list(s), dtype=np.uint64)) for s in sets]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint64)
    return ShingleSets(flat.astype(np.uint64), offsets)


def mix64(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def reference_shingles(tokens: Sequence[int], n: int) -> set[int]:
    """Pure-Python: distinct n-grams (one padded gram for a short doc), polynomial hash, mix."""
    if not tokens:
        return set()
    grams = {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)} or {tuple(tokens)}
    out = set()
    for gram in grams:
        h = 0
        for tok in list(gram) + [int(_PAD)] * (n - len(gram)):
            h = (h * int(GOLDEN) + tok) & MASK
        out.add(mix64(h))
    return out


def distinct_grams(tokens: Sequence[int], n: int) -> int:
    if not tokens:
        return 0
    return len({tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}) or 1


# A tiny token alphabet makes repeated n-grams inside a document common.
token_values = st.sampled_from([1, 2, 3, 2**63 + 5, 2**64 - 1])
docs = st.lists(st.lists(token_values, max_size=12), max_size=8)


@settings(max_examples=200, deadline=None)
@given(docs, st.integers(1, 5))
def test_shingle_sets_equal_pure_python_reference(doc_tokens: list[list[int]], n: int) -> None:
    sets = shingle_sets(token_batch(doc_tokens), n)
    assert len(sets) == len(doc_tokens)
    assert sets.hashes.dtype == np.uint64
    for i, tokens in enumerate(doc_tokens):
        got = sets.of(i)
        assert int(sets.sizes[i]) == distinct_grams(tokens, n)
        assert np.all(got[1:] > got[:-1])  # sorted and unique
        assert set(got.tolist()) == reference_shingles(tokens, n)


def reference_mixed(tokens: Sequence[int], chars: Sequence[bool], n: int, char_n: int) -> set[int]:
    """Pure-Python: the gram starting at each unit that fits (``n`` units from a word,
    ``char_n`` from a character); one padded gram from the first unit when none fits."""
    width = [char_n if c else n for c in chars]
    starts = [i for i in range(len(tokens)) if i + width[i] <= len(tokens)]
    if tokens and not starts:
        starts = [0]
    out = set()
    for i in starts:
        gram = list(tokens[i : i + width[i]])
        h = 0
        for tok in gram + [int(_PAD)] * (width[i] - len(gram)):
            h = (h * int(GOLDEN) + tok) & MASK
        out.add(mix64(h))
    return out


mixed_docs = st.lists(st.lists(st.tuples(token_values, st.booleans()), max_size=12), max_size=8)


@settings(max_examples=200, deadline=None)
@given(mixed_docs, st.integers(1, 5), st.integers(1, 6))
def test_word_and_character_shingles_equal_pure_python_reference(
    docs: list[list[tuple[int, bool]]], n: int, char_n: int
) -> None:
    batch = token_batch([[t for t, _ in d] for d in docs])
    chars = np.array([c for d in docs for _, c in d], dtype=bool)
    sets = shingle_sets(TokenBatch(batch.hashes, batch.offsets, chars), n, char_n)
    for i, doc in enumerate(docs):
        tokens, kinds = [t for t, _ in doc], [c for _, c in doc]
        got = sets.of(i)
        assert np.all(got[1:] > got[:-1])
        assert set(got.tolist()) == reference_mixed(tokens, kinds, n, char_n)


def test_short_and_empty_documents() -> None:
    sets = shingle_sets(token_batch([[7, 8], [], [7, 8, 9], [7]]), 3)
    assert sets.sizes.tolist() == [1, 0, 1, 1]
    assert len({sets.of(0)[0], sets.of(2)[0], sets.of(3)[0]}) == 3  # a b ≠ a b c ≠ a
    empty = shingle_sets(token_batch([[], []]), 5)
    assert empty.sizes.tolist() == [0, 0] and len(empty.hashes) == 0
    assert len(shingle_sets(token_batch([]), 5)) == 0


TEXTS = [
    "Thủ tướng Chính phủ vừa ký quyết định phê duyệt đề án phát triển kinh tế biển",
    "Hà Nội mưa to",
    "",
    "Công an tỉnh Quảng Ninh đang điều tra vụ việc, theo nguồn tin ngày 10/3",
]


def test_same_text_in_two_batches_gets_identical_shingles_and_signatures() -> None:
    tk = Tokeniser()
    a = tk.tokenise_batch(TEXTS)
    b = Tokeniser().tokenise_batch(["Một văn bản khác hẳn", *reversed(TEXTS), "x"])
    sa, sb = shingle_sets(a, 5), shingle_sets(b, 5)
    ma, mb = minhash(sa, 128), minhash(sb, 128)
    for i in range(len(TEXTS)):
        j = len(TEXTS) - i  # position of TEXTS[i] in the second batch
        assert np.array_equal(sa.of(i), sb.of(j))
        assert np.array_equal(ma[i], mb[j])
    assert np.array_equal(exact_keys(a), exact_keys(b)[len(TEXTS) : 0 : -1])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Hòa bình",
                "Hoà  bình!",
                "hòa bình",
                "Hòa bình 2",
                "",
                " ... ",
                "bình hòa",
                "Hòa",
                "HOÀ BÌNH",
            ]
        ),
        min_size=1,
        max_size=8,
    )
)
def test_exact_keys_equal_iff_matching_keys_equal(texts: list[str]) -> None:
    keys = exact_keys(Tokeniser().tokenise_batch(texts))
    assert keys.shape == (len(texts), 2) and keys.dtype == np.uint64
    for i in range(len(texts)):
        for j in range(len(texts)):
            same_key = matching_key(texts[i]) == matching_key(texts[j])
            assert bool((keys[i] == keys[j]).all()) == same_key


# --- MinHash -------------------------------------------------------------------------------------

RNG_SEED = 20240601


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.unique(rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False))


def test_identical_sets_identical_signatures_disjoint_sets_few_agreements() -> None:
    rng = np.random.default_rng(RNG_SEED)
    sets = [random_hashes(rng, size) for size in (1, 3, 40, 500, 1000)]
    others = [random_hashes(rng, size) for size in (1, 3, 40, 500, 1000)]
    sig = minhash(shingle_set_of([*sets, *sets, *others]), 128)
    k = len(sets)
    assert sig.shape == (3 * k, 128) and sig.dtype == np.uint32
    assert np.array_equal(sig[:k], sig[k : 2 * k])
    agreements = (sig[:k] == sig[2 * k :]).sum(axis=1)
    assert agreements.max() <= 2


@pytest.mark.parametrize("jaccard", [0.2, 0.5, 0.8])
def test_agreement_rate_estimates_jaccard(jaccard: float) -> None:
    rng = np.random.default_rng(RNG_SEED + int(jaccard * 10))
    pairs: list[np.ndarray] = []
    truths: list[float] = []
    for _ in range(12):
        union = int(rng.integers(300, 1000))
        pool = random_hashes(rng, union)
        rng.shuffle(pool)
        inter = round(jaccard * len(pool))
        only_a = int(rng.integers(0, len(pool) - inter + 1))
        pairs += [pool[: inter + only_a], np.concatenate([pool[:inter], pool[inter + only_a :]])]
        truths.append(inter / len(pool))
    sig = minhash(shingle_set_of(pairs), 128)
    rates = (sig[0::2] == sig[1::2]).mean(axis=1)
    errors = np.abs(rates - np.array(truths))
    assert errors.mean() <= 0.08
    assert abs(rates.mean() - np.mean(truths)) <= 0.05
    assert errors.max() <= 0.2


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=20), min_size=1, max_size=10),
    st.sampled_from([2, 8, 64, 128, 256]),
)
def test_densification_fills_every_bin_of_non_empty_documents(
    sets: list[list[int]], num_perm: int
) -> None:
    shingles = shingle_set_of(sets)
    sig = minhash(shingles, num_perm)
    for i, s in enumerate(sets):
        assert (sig[i] == EMPTY).all() if not s else not (sig[i] == EMPTY).any()
    # Equal sets agree everywhere (also on borrowed bins).
    again = minhash(shingle_set_of(list(reversed(sets))), num_perm)
    assert np.array_equal(sig, again[::-1])


def test_single_shingle_documents_including_an_all_ones_low_word() -> None:
    # The bin value is the low 32 bits of the shingle hash: 0xFFFFFFFF must not read as EMPTY.
    values = [0, 2**64 - 1, 0xFFFFFFFF, 0x12345678_FFFFFFFF, 2**63]
    sig = minhash(shingle_set_of([[v] for v in values] + [[]]), 128)
    assert not (sig[:-1] == EMPTY).any()
    assert (sig[-1] == EMPTY).all()
    assert len({row.tobytes() for row in sig[:-1]}) == len(values)


@pytest.mark.parametrize("num_perm", [0, 1, 3, 100, 127, 129])
def test_num_perm_must_be_a_power_of_two(num_perm: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        minhash(shingle_set_of([[1, 2, 3]]), num_perm)
