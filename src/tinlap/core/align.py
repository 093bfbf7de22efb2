"""Where two texts agree: the passages they share, as character spans of each text.

An explanation has to point at the text a person reads, while tinlap matches on key tokens
(case folded, punctuation gone, tone marks moved). So the alignment runs on exactly those key
tokens (``canonical_tokens`` of each whitespace token, as the shingles do) and maps every key
token back to the whitespace token it came from; the marks then land on the user's own text.

A key token is *shared* when some key n-gram covering it (n = the shingle size) is also an
n-gram of the other text: the same evidence the Jaccard and containment scores count. A
whitespace token is shared when any of its key tokens is. Maximal runs of shared tokens become
the shared spans; maximal runs of the others, the spans only in that text. Whitespace and
tokens with no key (a lone dash, a pipe) at the edge of a run belong to neither. Texts shorter
than n key tokens have a single shingle of all their tokens (as in ``sketch.shingle_sets``):
they share everything with an identical text and nothing with any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tinlap.core.normalise import canonical_tokens, token_hash
from tinlap.core.sketch import GOLDEN

Span = tuple[int, int]  # [start, end) character offsets
_RAW_TOKEN = re.compile(r"\S+")


@lru_cache(maxsize=1 << 17)
def _raw_hashes(raw: str) -> tuple[int, ...]:
    return tuple(token_hash(t) for t in canonical_tokens(raw))


@dataclass(frozen=True, slots=True)
class KeyTokens:
    """The key tokens of a text, each with the character span of its whitespace token."""

    hashes: np.ndarray  # uint64, one per key token (the fingerprints dedup shingles)
    raw: np.ndarray  # int64: index of the whitespace token each key token came from
    starts: np.ndarray  # int64, per whitespace token that has key tokens
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


def key_tokens(text: str) -> KeyTokens:
    """Key tokens of ``text``; whitespace tokens without any key token are left out."""
    hashes: list[int] = []
    raw: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _RAW_TOKEN.finditer(text):
        found = _raw_hashes(m.group())
        if found:
            hashes.extend(found)
            raw.extend([len(starts)] * len(found))
            starts.append(m.start())
            ends.append(m.end())
    return KeyTokens(
        np.array(hashes, dtype=np.uint64),
        np.array(raw, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class Side:
    """One text of an aligned pair: its spans shared with the other text and its own."""

    shared: list[Span]
    only: list[Span]


@dataclass(frozen=True, slots=True)
class Alignment:
    a: Side
    b: Side


def align(a: str, b: str, n: int = 5) -> Alignment:
    """Shared and one-sided spans of texts ``a`` and ``b`` on word ``n``-grams of the key."""
    return align_tokens(key_tokens(a), key_tokens(b), n)


def align_tokens(a: KeyTokens, b: KeyTokens, n: int) -> Alignment:
    """``align`` on already tokenised texts (a caller scoring the pair tokenises once)."""
    if len(a) < n or len(b) < n:
        same = np.array_equal(a.hashes, b.hashes) and len(a) > 0
        return Alignment(_side(a, np.full(len(a), same)), _side(b, np.full(len(b), same)))
    grams_a, grams_b = _ngrams(a.hashes, n), _ngrams(b.hashes, n)
    return Alignment(
        _side(a, _covered(np.isin(grams_a, grams_b), len(a), n)),
        _side(b, _covered(np.isin(grams_b, grams_a), len(b), n)),
    )


def _ngrams(hashes: np.ndarray, n: int) -> np.ndarray:
    """A hash of each n-gram starting at 0 .. len - n (equal n-grams, equal hashes)."""
    count = len(hashes) - n + 1
    h = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        h = h * GOLDEN + hashes[k : k + count]
    return h


def _covered(hit: np.ndarray, length: int, n: int) -> np.ndarray:
    """Tokens inside at least one of the n-grams that start where ``hit`` is true."""
    delta = np.zeros(length + 1, dtype=np.int64)
    first = np.flatnonzero(hit)
    delta[first] += 1
    delta[first + n] -= 1
    return np.cumsum(delta[:length]) > 0


def _side(tokens: KeyTokens, shared: np.ndarray) -> Side:
    per_raw = np.zeros(len(tokens.starts), dtype=bool)
    per_raw[tokens.raw[shared]] = True
    return Side(_runs(per_raw, tokens, True), _runs(per_raw, tokens, False))


def _runs(per_raw: np.ndarray, tokens: KeyTokens, value: bool) -> list[Span]:
    """Character spans of the maximal runs of whitespace tokens whose flag equals ``value``."""
    mask = np.concatenate(([False], per_raw == value, [False]))
    edges = np.flatnonzero(mask[1:] != mask[:-1])
    first, last = edges[::2], edges[1::2] - 1
    return list(zip(tokens.starts[first].tolist(), tokens.ends[last].tolist(), strict=True))
