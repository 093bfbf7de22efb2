"""Exact verification of candidate pairs on their shingle sets.

LSH only proposes; nothing is believed until its Jaccard and containment are computed on the
real shingle sets. This is vectorised over many pairs at once: the smaller set of each pair is
looked up in the larger one with a single ``np.searchsorted`` over a packed, globally sorted
array, then confirmed on the full 64-bit hashes, so the scores are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tinlap.core.sketch import ShingleSets

_DOC_BITS = 24  # packed key: local document index (24 bits) | top 40 bits of the shingle hash
_HASH_SHIFT = np.uint64(_DOC_BITS)


@dataclass(frozen=True, slots=True)
class PairScores:
    """Exact overlap of each pair (a, b): |A ∩ B|, Jaccard and both containments."""

    a: np.ndarray  # int64 document indices
    b: np.ndarray
    intersection: np.ndarray  # int64
    jaccard: np.ndarray  # float64
    containment_a: np.ndarray  # share of A's shingles found in B
    containment_b: np.ndarray  # share of B's shingles found in A

    def __len__(self) -> int:
        return len(self.a)

    def rows(self) -> Iterator[tuple[int, int, float, float, float]]:
        """(a, b, jaccard, containment_a, containment_b) per pair, as Python numbers."""
        return zip(
            self.a.tolist(),
            self.b.tolist(),
            self.jaccard.tolist(),
            self.containment_a.tolist(),
            self.containment_b.tolist(),
            strict=True,
        )


def verify(
    sets: ShingleSets, a: np.ndarray, b: np.ndarray, max_queries: int = 4_000_000
) -> PairScores:
    """Exact scores for the pairs (a[i], b[i]); work is chunked to ~``max_queries`` lookups."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    sizes = sets.sizes
    inter = np.zeros(len(a), dtype=np.int64)
    small_first = sizes[a] <= sizes[b]
    q_doc = np.where(small_first, a, b)  # the set whose elements are looked up
    t_doc = np.where(small_first, b, a)  # the set they are looked up in
    # Process pairs grouped by target so the packed lookups walk memory in order.
    order = np.lexsort((q_doc, t_doc))
    q_doc, t_doc = q_doc[order], t_doc[order]
    cost = np.cumsum(sizes[q_doc])
    begin = 0
    while begin < len(a):
        end = int(np.searchsorted(cost, (cost[begin - 1] if begin else 0) + max_queries, "right"))
        end = max(end, begin + 1)
        inter[order[begin:end]] = _intersections(sets, q_doc[begin:end], t_doc[begin:end])
        begin = end
    size_a, size_b = sizes[a], sizes[b]
    union = size_a + size_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        cont_a = np.where(size_a > 0, inter / np.maximum(size_a, 1), 0.0)
        cont_b = np.where(size_b > 0, inter / np.maximum(size_b, 1), 0.0)
    return PairScores(a, b, inter, jaccard, cont_a, cont_b)


def score_sets(q: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """(Jaccard, containment of q in t, of t in q) of two sorted shingle-hash arrays: one pair,
    as the index scores each stored candidate without building a corpus of two."""
    if len(q) == 0 or len(t) == 0:
        return 0.0, 0.0, 0.0
    pos = np.minimum(np.searchsorted(q, t), len(q) - 1)
    inter = int(np.count_nonzero(q[pos] == t))
    return inter / (len(q) + len(t) - inter), inter / len(q), inter / len(t)


def _gather(sets: ShingleSets, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated shingle hashes of ``docs`` and, for each element, its position in ``docs``."""
    sizes = sets.sizes[docs]
    owner = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
    first = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(sizes, out=first[1:])
    src = sets.offsets[docs][owner] + (np.arange(int(first[-1]), dtype=np.int64) - first[owner])
    return sets.hashes[src], owner


def _intersections(sets: ShingleSets, q_doc: np.ndarray, t_doc: np.ndarray) -> np.ndarray:
    targets, local_t = np.unique(t_doc, return_inverse=True)
    if len(targets) >= 1 << _DOC_BITS:  # pragma: no cover - chunks are far smaller than this
        raise ValueError("too many target documents in one verification chunk")
    # Targets' sets, packed as (local index | top hash bits): sorted, since each set is sorted.
    t_hashes, t_owner = _gather(sets, targets)
    packed = (t_owner.astype(np.uint64) << np.uint64(64 - _DOC_BITS)) | (t_hashes >> _HASH_SHIFT)
    # Queries: every element of each pair's smaller set, tagged with that pair's target.
    q_hashes, pair_of = _gather(sets, q_doc)
    q_packed = (local_t[pair_of].astype(np.uint64) << np.uint64(64 - _DOC_BITS)) | (
        q_hashes >> _HASH_SHIFT
    )
    if len(packed) == 0 or len(q_packed) == 0:
        return np.zeros(len(q_doc), dtype=np.int64)
    pos = np.searchsorted(packed, q_packed)
    hit = np.zeros(len(q_packed), dtype=bool)
    # Confirm on the full hash, walking on while the packed key still matches: several hashes of
    # one target can share their top bits (rare for random hashes; always for small values).
    active = np.arange(len(q_packed))
    while len(active):
        p = pos[active]
        inside = p < len(packed)
        active, p = active[inside], p[inside]
        same = packed[p] == q_packed[active]
        active, p = active[same], p[same]
        found = t_hashes[p] == q_hashes[active]
        hit[active[found]] = True
        active = active[~found]
        pos[active] += 1
    return np.bincount(pair_of, weights=hit, minlength=len(q_doc)).astype(np.int64)
