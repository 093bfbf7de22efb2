"""Sketches of a batch of documents: exact-key hashes, shingle sets and MinHash signatures.

Everything here works on whole batches as flat numpy arrays (no per-shingle Python), because
per-shingle Python work is what makes the usual MinHash tools slow.

* Shingles are n-grams of units (``normalise``: key tokens, or characters of the scripts written
  without spaces), hashed by a polynomial over the unit fingerprints followed by a 64-bit
  finaliser (splitmix64), so shingle hashes are uniform. A shingle starting at a word spans
  ``n`` units, one starting at a character ``char_n``: a Han character carries about a
  syllable, a Thai one less, so characters need their own length.
* MinHash is *one-permutation hashing* with rotation densification (Li, Owen & Zhang 2012;
  Shrivastava & Li 2014): each shingle is hashed once, its top bits choose one of K bins and the
  bin keeps its minimum. Two documents agree on a bin with probability ≈ their Jaccard, as with
  K independent permutations, at 1/K of the cost. Empty bins (short documents) borrow the next
  non-empty bin to the right, shifted by the distance so borrowed values stay distinguishable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from tinlap.core.normalise import TokenBatch

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
# 2^64 / golden ratio: the odd multiplier of tinlap's polynomial shingle hash and of every
# other place that spreads small integers (band numbers, sketch rows) over 64 bits.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PAD = np.uint64(0x2545F4914F6CDD1D)  # stands in for missing tokens of documents shorter than n
EMPTY = np.uint32(0xFFFFFFFF)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the whole word."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True, slots=True)
class ShingleSets:
    """Sorted, de-duplicated shingle hashes per document.

    CSR layout: document i owns ``hashes[offsets[i]:offsets[i + 1]]``.
    """

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len = n_docs + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def take(self, docs: np.ndarray) -> ShingleSets:
        """The sets of ``docs`` only, in that order (a copy of just what is needed)."""
        sizes = self.sizes[docs]
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        owner = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
        src = self.offsets[docs][owner] + (np.arange(int(offsets[-1])) - offsets[owner])
        return ShingleSets(self.hashes[src], offsets)

    @staticmethod
    def concat(parts: list[ShingleSets]) -> ShingleSets:
        """One CSR over several, documents in order."""
        sizes = np.concatenate([p.sizes for p in parts])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return ShingleSets(np.concatenate([p.hashes for p in parts]), offsets)


def exact_keys(tokens: TokenBatch) -> np.ndarray:
    """128-bit hash of each document's whole key token sequence, as an (n, 2) uint64 array.

    Equal rows mean equal matching keys (exact duplicates after normalisation).
    """
    out = np.empty((len(tokens), 2), dtype=np.uint64)
    data, offsets = tokens.hashes, tokens.offsets
    for i in range(len(tokens)):
        digest = xxhash.xxh3_128_digest(data[offsets[i] : offsets[i + 1]].tobytes())
        out[i] = np.frombuffer(digest, dtype=np.uint64)
    return out


def shingle_sets(tokens: TokenBatch, n: int, char_n: int | None = None) -> ShingleSets:
    """Unit n-gram shingles of each document, hashed, sorted and de-duplicated.

    A shingle starting at a word unit spans ``n`` units, one starting at a character unit
    (``tokens.chars``) ``char_n`` (default ``n``); only shingles that fit inside the document
    are cut. A document where none fits (but with some units) gets one shingle of all its
    units, so short texts can still match each other exactly; an empty document gets none.
    """
    lengths = np.diff(tokens.offsets)
    if len(tokens.hashes) == 0:
        return ShingleSets(np.zeros(0, dtype=np.uint64), np.zeros(len(lengths) + 1, dtype=np.int64))
    if tokens.chars is None or char_n in (None, n):
        counts = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
        doc_of = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
        first = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(counts, out=first[1:])
        starts = tokens.offsets[doc_of] + (
            np.arange(int(first[-1]), dtype=np.int64) - first[doc_of]
        )
        width = None
    else:
        starts, doc_of, width = _variable_starts(tokens, n, char_n or n)
        first = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_of, minlength=len(lengths)), out=first[1:])
    ends = tokens.offsets[doc_of + 1]

    h = np.zeros(len(starts), dtype=np.uint64)
    last = len(tokens.hashes) - 1
    for k in range(n if width is None else int(width.max())):
        pos = starts + k
        tok = np.where(pos < ends, tokens.hashes[np.minimum(pos, last)], _PAD)
        h = h * GOLDEN + tok if width is None else np.where(k < width, h * GOLDEN + tok, h)
    h = mix64(h)

    # Sort within documents (a loop of in-place slice sorts beats a two-key lexsort ~10x),
    # then drop repeats inside each document.
    for i in range(len(lengths)):
        h[first[i] : first[i + 1]].sort()
    keep = np.ones(len(h), dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (doc_of[1:] != doc_of[:-1])
    h, doc_of = h[keep], doc_of[keep]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_of, minlength=len(lengths)), out=offsets[1:])
    return ShingleSets(hashes=h, offsets=offsets)


def _variable_starts(
    tokens: TokenBatch, n: int, char_n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start unit, document, width) of every shingle when words and characters differ in
    length: each unit whose shingle fits before its document's end, and the first unit of a
    document where none fits."""
    assert tokens.chars is not None
    lengths = np.diff(tokens.offsets)
    unit_doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    unit_width = np.where(tokens.chars, char_n, n)
    fits = np.arange(len(unit_doc), dtype=np.int64) + unit_width <= tokens.offsets[unit_doc + 1]
    short = (np.bincount(unit_doc[fits], minlength=len(lengths)) == 0) & (lengths > 0)
    fits[tokens.offsets[:-1][short]] = True
    starts = np.flatnonzero(fits)
    return starts, unit_doc[starts], unit_width[starts]


def minhash(shingles: ShingleSets, num_perm: int) -> np.ndarray:
    """One-permutation MinHash signatures, (n_docs, num_perm) uint32; rows of empty docs are EMPTY.

    ``num_perm`` must be a power of two (bins are chosen by the shingle hash's top bits).
    """
    if num_perm & (num_perm - 1) or num_perm < 2:
        raise ValueError(f"num_perm must be a power of two, got {num_perm}")
    n_docs = len(shingles)
    bits = np.uint64(num_perm.bit_length() - 1)
    h = shingles.hashes
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), shingles.sizes)
    bins = (h >> (np.uint64(64) - bits)).astype(np.int64)
    # A value of 0xFFFFFFFF would read as EMPTY (a 1-shingle document would look empty): clamp it.
    values = np.minimum(h & np.uint64(0xFFFFFFFF), np.uint64(0xFFFFFFFE)).astype(np.uint32)
    sig = np.full(n_docs * num_perm, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, doc_of * num_perm + bins, values)
    sig = sig.reshape(n_docs, num_perm)
    return _densify(sig)


def _densify(sig: np.ndarray) -> np.ndarray:
    """Fill empty bins from the next non-empty bin to the right (circularly), offset by distance."""
    empty = sig == EMPTY
    rows = np.flatnonzero(empty.any(axis=1) & ~empty.all(axis=1))
    if len(rows) == 0:
        return sig
    k = sig.shape[1]
    sub = sig[rows]
    doubled = np.concatenate([sub, sub], axis=1)
    idx = np.where(doubled != EMPTY, np.arange(2 * k), 2 * k)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :k]
    dist = (nxt - np.arange(k)).astype(np.uint64)
    borrowed = np.take_along_axis(doubled, nxt, axis=1).astype(np.uint64)
    filled = ((borrowed + dist * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFE)).astype(np.uint32)
    sig[rows] = np.where(sub == EMPTY, filled, sub)
    return sig
