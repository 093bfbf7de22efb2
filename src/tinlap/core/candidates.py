"""Candidate pairs: exact-key groups, LSH buckets over MinHash bands, and a sketch pre-filter.

Containment is the news case (a story inside a longer repost), and a pair with containment
0.6 can have a Jaccard near 0.2 when one text is twice the other. Classic LSH settings
(14 bands x 8 rows, threshold ~0.72) almost never surface such pairs, so tinlap uses many short
bands (default 64 x 2: P(candidate) is 0.93 at Jaccard 0.2, 0.77 at 0.15) and relies on exact
verification to throw the extra candidates away.

That still misses a short text contained in a much longer one: containment 0.4 of a text in
one three times its size is Jaccard ~0.11, where 64 x 2 proposes the pair half the time. Such
pairs get a second, containment-oriented pass (the LSH Ensemble idea: for very different sizes
the Jaccard to reach is low, so bands must be shorter): every MinHash value is a 1-row band,
and a bucket yields the pairs of its members whose sizes differ by ``min_ratio`` or more (pairs
of like sizes are 64 x 2's) only when it is *rare* (at most ``max_members`` documents): a value
shared by many documents is a common phrase, not evidence of a copy, while a copy shares about
128·J values (14 at Jaccard 0.11), mostly story-specific ones. The sketch pre-filter (all 128
values) then drops the pairs that share a value or two by chance.
"""

from __future__ import annotations

import numpy as np

from tinlap.core.arrays import unique

_FNV = np.uint64(0x100000001B3)


def exact_groups(keys: np.ndarray) -> np.ndarray:
    """For each document, the index of the first document with the same exact key.

    ``keys`` is the (n, 2) uint64 array of ``sketch.exact_keys``; a document is its own group
    leader when no earlier document shares its key.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    view = np.ascontiguousarray(keys).view([("hi", np.uint64), ("lo", np.uint64)]).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    return first[inverse.ravel()].astype(np.int64)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 bucket keys; two documents share bucket i iff band i's rows all agree."""
    n, k = signatures.shape
    if bands * rows > k:
        raise ValueError(
            f"{bands} bands x {rows} rows needs {bands * rows} MinHash values, have {k}"
        )
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    if rows == 2:  # exact packing, no collisions
        return (sig[:, :, 0] << np.uint64(32)) | sig[:, :, 1]
    key = sig[:, :, 0].copy()
    for r in range(1, rows):
        key = (key * _FNV) ^ sig[:, :, r]
    return key


def containment_keys(signatures: np.ndarray, bands: int) -> np.ndarray:
    """(n, bands) uint64 keys of the containment pass: the first ``bands`` MinHash values,
    each a band of one row."""
    if bands > signatures.shape[1]:
        raise ValueError(f"{bands} containment bands need {bands} MinHash values")
    return np.ascontiguousarray(signatures[:, :bands]).astype(np.uint64)


def containment_bucket_pairs(
    order: np.ndarray,
    starts: np.ndarray,
    bucket_sizes: np.ndarray,
    sizes: np.ndarray,
    max_members: int,
    min_ratio: float,
) -> list[np.ndarray]:
    """Packed (min << 32 | max) pairs of the containment pass from the buckets of 1-row bands
    (the same layout as ``_bucket_pairs``): every pair of a bucket of 2..``max_members``
    members whose shingle counts differ by ``min_ratio`` or more; larger buckets yield none."""
    out: list[np.ndarray] = []
    rare = (bucket_sizes >= 2) & (bucket_sizes <= max_members)
    for k in np.unique(bucket_sizes[rare]):
        group_starts = starts[rare & (bucket_sizes == k)]
        members = order[group_starts[:, None] + np.arange(k)]
        i, j = np.triu_indices(k, 1)
        x, y = members[:, i].ravel(), members[:, j].ravel()
        sx, sy = sizes[x].astype(np.float64), sizes[y].astype(np.float64)
        apart = np.maximum(sx, sy) >= min_ratio * np.maximum(np.minimum(sx, sy), 1.0)
        x, y = x[apart], y[apart]
        lo, hi = np.minimum(x, y).astype(np.uint64), np.maximum(x, y).astype(np.uint64)
        out.append((lo << np.uint64(32)) | hi)
    return out


def containment_pairs(
    keys: np.ndarray, sizes: np.ndarray, max_members: int, min_ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (a < b, rows of ``keys``) of the containment pass (module docstring)."""
    chunks: list[np.ndarray] = []
    for col in np.ascontiguousarray(keys.T):  # a band's keys, contiguous
        # A bucket's pairs do not depend on its members' order: the fast unstable sort will do.
        order = np.argsort(col)
        sorted_keys = col[order]
        breaks = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        starts = np.concatenate(([0], breaks))
        bucket_sizes = np.diff(np.concatenate((starts, [len(col)])))
        chunks += containment_bucket_pairs(
            order, starts, bucket_sizes, sizes, max_members, min_ratio
        )
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return unpack_pairs(unique(np.concatenate(chunks)))


def lsh_pairs(
    keys: np.ndarray, sizes: np.ndarray, max_bucket: int = 200, window: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (a < b, as row indices of ``keys``) that share at least one bucket.

    A bucket of k <= ``max_bucket`` members yields all k(k-1)/2 pairs. A larger bucket (a phrase
    shared by hundreds of documents) would explode quadratically, so its members are sorted by
    size and each is paired with the next ``window`` members: copies have similar sizes more
    often than not, and the cost stays linear.
    """
    chunks: list[np.ndarray] = []
    for col in np.ascontiguousarray(keys.T):  # a band's keys, contiguous
        order = np.argsort(col)  # unstable is fast; big buckets put their members in id order
        sorted_keys = col[order]
        breaks = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(col)]))
        bucket_sizes = ends - starts
        chunks.extend(_bucket_pairs(order, starts, bucket_sizes, sizes, max_bucket, window))
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return unpack_pairs(unique(np.concatenate(chunks)))


def pack_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a << 32 | b) as uint64: pairs of ids below 2^32 as one sortable key."""
    return (np.asarray(a).astype(np.uint64) << np.uint64(32)) | np.asarray(b).astype(np.uint64)


def unpack_pairs(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(
        np.int64
    )


def unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs (a[i], b[i]), sorted."""
    return unpack_pairs(unique(pack_pairs(a, b)))


def _bucket_pairs(
    order: np.ndarray,
    starts: np.ndarray,
    bucket_sizes: np.ndarray,
    sizes: np.ndarray,
    max_bucket: int,
    window: int,
) -> list[np.ndarray]:
    """Packed (min << 32 | max) pairs from the buckets of one band, vectorised per bucket size."""
    out: list[np.ndarray] = []
    multi = bucket_sizes >= 2
    for k in np.unique(bucket_sizes[multi]):
        group_starts = starts[bucket_sizes == k]
        members = order[group_starts[:, None] + np.arange(k)]  # (n_buckets, k)
        if k <= max_bucket:
            i, j = np.triu_indices(k, 1)
            x, y = members[:, i].ravel(), members[:, j].ravel()
        else:
            members = np.sort(members, axis=1)  # ties of size broken by document number
            by_size = np.argsort(-sizes[members], axis=1, kind="stable")
            members = np.take_along_axis(members, by_size, axis=1)
            i, j = [], []
            for step in range(1, min(window, k - 1) + 1):
                i.append(np.arange(k - step))
                j.append(np.arange(step, k))
            ii, jj = np.concatenate(i), np.concatenate(j)
            x, y = members[:, ii].ravel(), members[:, jj].ravel()
        lo, hi = np.minimum(x, y).astype(np.uint64), np.maximum(x, y).astype(np.uint64)
        out.append((lo << np.uint64(32)) | hi)
    return out


def sketch_filter(
    signatures: np.ndarray,
    sizes: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    jaccard_threshold: float,
    containment_threshold: float,
    z: float = 4.5,
    min_shared: int = 2,
) -> np.ndarray:
    """Mask of pairs whose MinHash estimate could plausibly reach either threshold.

    A pair must also share ``min_shared`` MinHash values: one shared value is what chance gives
    two texts on one topic (the containment pass's 1-row bands propose such pairs); a pair of
    the 2-row bands always shares two. A contained copy at containment 0.4 shares about 128·J
    values, 5 at a size ratio of 10.

    Only *discards* pairs, never accepts one. The test is on an upper confidence bound:
    Ĵ + z·sqrt((Ĵ(1-Ĵ) + 1/K)/K), with K the number of bins that can be informative (at most
    the smaller document's shingle count, since short documents fill bins by densification).
    Containment of the smaller set follows from |A ∩ B| = J (|A| + |B|) / (1 + J).
    """
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    j_est = np.empty(len(a), dtype=np.float64)
    shared = np.empty(len(a), dtype=np.int64)
    step = 65536
    for s in range(0, len(a), step):
        same = signatures[a[s : s + step]] == signatures[b[s : s + step]]
        shared[s : s + step] = same.sum(axis=1)
    j_est[:] = shared / signatures.shape[1]
    sa, sb = sizes[a].astype(np.float64), sizes[b].astype(np.float64)
    smaller = np.maximum(np.minimum(sa, sb), 1.0)
    k = np.minimum(float(signatures.shape[1]), smaller)
    j_hi = np.minimum(j_est + z * np.sqrt((j_est * (1.0 - j_est) + 1.0 / k) / k), 1.0)
    c_hi = j_hi / (1.0 + j_hi) * (sa + sb) / smaller
    return ((j_hi >= jaccard_threshold) | (c_hi >= containment_threshold)) & (shared >= min_shared)
