"""Where two texts agree: the passages they share, as character spans of each text.

An explanation has to point at the text a person reads, while tinlap matches on units (key
tokens: case folded, punctuation gone, tone marks moved; or characters of the scripts written
without spaces). So the alignment runs on exactly those units (``normalise.unit_pieces`` of
each whitespace token, as the shingles do) and maps every unit back to the stretch of the text
it came from (its whitespace token, or its character); the marks then land on the user's own
text.

A unit is *shared* when some n-gram covering it (the shingle starting at each unit: ``n`` units
from a word, ``char_n`` from a character, as in ``sketch.shingle_sets``) is also an n-gram of
the other text: the same evidence the Jaccard and containment scores count. A stretch is shared
when any of its units is. Maximal runs of shared stretches become the shared spans; maximal
runs of the others, the spans only in that text. Whitespace and tokens with no key (a lone
dash, a pipe) at the edge of a run belong to neither. Texts in which no shingle fits have a
single shingle of all their units (as in ``sketch.shingle_sets``): they share everything with
an identical text and nothing with any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tinlap.core.normalise import Piece, token_hash, unit_pieces
from tinlap.core.sketch import GOLDEN

Span = tuple[int, int]  # [start, end) character offsets
_RAW_TOKEN = re.compile(r"\S+")


@lru_cache(maxsize=1 << 17)
def _pieces(raw: str, shingles: str) -> tuple[tuple[Piece, tuple[int, ...]], ...]:
    return tuple(
        (p, tuple(token_hash(u) for u in p.units)) for p in unit_pieces(raw, shingles) if p.units
    )


@dataclass(frozen=True, slots=True)
class KeyTokens:
    """The units of a text, each with the character span of the stretch it came from."""

    hashes: np.ndarray  # uint64, one per unit (the fingerprints dedup shingles)
    raw: np.ndarray  # int64: index of the stretch each unit came from
    starts: np.ndarray  # int64, per stretch that has units
    ends: np.ndarray
    chars: np.ndarray | None = None  # bool per unit: a character unit (None: all are words)

    def __len__(self) -> int:
        return len(self.hashes)


def key_tokens(text: str, shingles: str = "words") -> KeyTokens:
    """Units of ``text`` under ``shingles`` (``SHINGLE_UNITS``); stretches without any unit
    are left out."""
    hashes: list[int] = []
    raw: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    chars: list[bool] = []
    for m in _RAW_TOKEN.finditer(text):
        for piece, found in _pieces(m.group(), shingles):
            hashes.extend(found)
            raw.extend([len(starts)] * len(found))
            chars.extend([piece.chars] * len(found))
            starts.append(m.start() + piece.start)
            ends.append(m.start() + piece.end)
    return KeyTokens(
        np.array(hashes, dtype=np.uint64),
        np.array(raw, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        np.array(chars, dtype=bool) if any(chars) else None,
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


def align(
    a: str, b: str, n: int = 5, *, shingles: str = "words", char_n: int | None = None
) -> Alignment:
    """Shared and one-sided spans of texts ``a`` and ``b`` on the shingles dedup counts:
    unit ``n``-grams from words, ``char_n``-grams (default ``n``) from characters."""
    return align_tokens(key_tokens(a, shingles), key_tokens(b, shingles), n, char_n)


def align_tokens(a: KeyTokens, b: KeyTokens, n: int, char_n: int | None = None) -> Alignment:
    """``align`` on already tokenised texts (a caller scoring the pair tokenises once)."""
    (starts_a, width_a), (starts_b, width_b) = _grams(a, n, char_n), _grams(b, n, char_n)
    if not (len(starts_a) and len(starts_b)):
        same = np.array_equal(a.hashes, b.hashes) and len(a) > 0
        return Alignment(_side(a, np.full(len(a), same)), _side(b, np.full(len(b), same)))
    grams_a = _ngrams(a.hashes, starts_a, width_a)
    grams_b = _ngrams(b.hashes, starts_b, width_b)
    return Alignment(
        _side(a, _covered(starts_a[np.isin(grams_a, grams_b)], width_a, len(a), starts_a)),
        _side(b, _covered(starts_b[np.isin(grams_b, grams_a)], width_b, len(b), starts_b)),
    )


def _grams(tokens: KeyTokens, n: int, char_n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(start, width) of every n-gram that fits: ``n`` units from a word, ``char_n`` from a
    character."""
    width = np.full(len(tokens), n, dtype=np.int64)
    if tokens.chars is not None:
        width[tokens.chars] = char_n or n
    starts = np.flatnonzero(np.arange(len(tokens)) + width <= len(tokens))
    return starts, width[starts]


def _ngrams(hashes: np.ndarray, starts: np.ndarray, width: np.ndarray) -> np.ndarray:
    """A hash of each n-gram (equal n-grams, equal hashes; widths are mixed in by length)."""
    h = np.zeros(len(starts), dtype=np.uint64)
    for k in range(int(width.max(initial=0))):
        inside = k < width
        pos = np.where(inside, starts + k, 0)
        h = np.where(inside, h * GOLDEN + hashes[pos], h)
    return h


def _covered(hit: np.ndarray, width: np.ndarray, length: int, starts: np.ndarray) -> np.ndarray:
    """Units inside at least one of the n-grams starting at ``hit`` (widths by ``starts``)."""
    delta = np.zeros(length + 1, dtype=np.int64)
    delta[hit] += 1
    np.subtract.at(delta, hit + width[np.searchsorted(starts, hit)], 1)
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
