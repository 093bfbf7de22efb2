"""Sentence alignment: how much of a document's sentence text another one reproduces, edits and all.

A copy, in the sense tinlap's users mean, reproduces most of the shorter text *sentence by
sentence*. Shingle containment measures that well when it is high; in the grey zone below
``certain_containment`` it also admits partial reuse (two outlets quoting one press release),
and it *under*-counts real reposts: outlets edit every few sentences (a word swapped, "cho biết"
→ "cho hay", "TP.HCM" spelled out, a clause added), and one changed word removes up to five
of a sentence's word 5-grams. So grey-zone pairs are decided on the sentences themselves.
A sentence of x counts as reproduced in y when it is

* **exact**: equal to a sentence of y (on the matching key);
* **contained**: found verbatim inside y's text, across y's sentence breaks;
* **edited**: character-level similarity ≥ ``min_similarity`` (2·LCS / total length, rapidfuzz)
  to a sentence of y, to two adjacent sentences of y (a sentence split in two), or to a stretch
  inside a longer sentence / sentence pair of y (a clause added around it) or anywhere in y's
  text (its sentence breaks fall elsewhere) — *and* no figure was replaced (``_conflict``):
  templated bulletins (lottery, weather, prices, exchange rates) share their wording and
  differ only in their numbers, and must not align.

Coverage is the share of x's sentence text (key characters) so reproduced; sentences under
``min_tokens`` units (bylines, dates, credits) carry too little text for a similarity to mean
anything and count on neither side. Units are ``normalise.key_units``: words, and each character
of the scripts written without spaces (a Han character is a syllable, as a Vietnamese word is;
a Thai, Lao, Khmer or Myanmar one is a letter with its marks). Those scripts end sentences with
their own marks (。！？ ។ ။), or, in Thai and Lao, with a space between two of their letters.
Everything runs on ``normalise.matching_key`` (recomposed to one character per letter,
``_letters``), so tone placement, Unicode form, case, quotes and invisible characters are equal
on both sides already and the similarity only sees real edits; digits are kept ("10/3" and
"10-3" are both "10 3").

Cost: exact and verbatim matches are hash / substring look-ups. Character similarity (native,
bit-parallel) is only computed for sentence pairs that pass two filters: shared words (a unit
of y must hold ``min_shared`` of the sentence's distinct tokens: one numpy product per pair of
documents) and length (a whole-unit match at similarity s needs min/max ≥ s/(2−s), a bound, not
a heuristic; longer units are tried as a stretch, after an LCS upper bound). Measured on the
dev sets: 4-12 ms per direction, and only grey-zone directions pay it.

Pure: no I/O, no state besides ``matching_key``'s cache.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from tinlap.core.arrays import unique
from tinlap.core.normalise import TONE_MARKS, key_units, matching_key

Status = Literal["exact", "contained", "edited", "unmatched", "short"]

# Sentence ends: . ! ? … followed by whitespace, and line breaks. A full stop inside a number,
# a date or an abbreviation ("1.100", "21.2.2006", "TP.HCM") has no space after it: no end.
# Chinese and Japanese full stops, exclamation and question marks (full and half width), the
# Khmer khan and bariyoosan and the Myanmar section mark end a sentence with or without a space;
# Thai and Lao mark sentence (and clause) ends with a space between two of their letters.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])\s+|\n+|(?<=[。！？｡．\u17d4\u17d5\u104b])\s*|(?<=[\u0e00-\u0eff])\s+(?=[\u0e00-\u0eff])"
)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class SentenceMatch:
    """How sentence ``index`` of x (its matching ``key``) was found in y.

    ``weight`` is its key length (0 for ``short`` sentences, which do not count). ``target`` is
    the y text it aligned to (a sentence, two adjacent sentences, or a stretch of those, on the
    key), ``y_first``/``y_last`` the y sentence indices of that unit (inclusive, -1: none).
    """

    index: int
    key: str
    weight: int
    status: Status
    similarity: float = 0.0
    target: str | None = None
    y_first: int = -1
    y_last: int = -1


@dataclass(frozen=True, slots=True)
class Alignment:
    """Result of ``aligned_coverage``: shares of x's sentence weight, and every sentence."""

    coverage: float  # exact + contained + edited
    exact: float
    contained: float
    edited: float
    weight: int  # key characters of x's counted (non-short) sentences
    sentences: tuple[SentenceMatch, ...]


def split_sentences(text: str) -> list[str]:
    """Raw sentences of ``text`` (empty ones dropped)."""
    return [s for s in _SENTENCE_END.split(text) if s and not s.isspace()]


def sentence_keys(text: str) -> list[list[str]]:
    """Units (``normalise.key_units``) of each sentence of ``text`` (empty ones dropped)."""
    out = []
    for sentence in split_sentences(text):
        tokens = key_units(matching_key(sentence))
        if tokens:
            out.append(tokens)
    return out


def _numbers(key: str) -> frozenset[str]:
    """Digit runs of a key, by value: "22.800MW", "22 800 mw" and "22,800" all give {22, 800};
    "10/02/2017" and "10.2.2017" both give {10, 2, 2017} (a leading zero is style, not a
    different figure)."""
    return frozenset(run.lstrip("0") or "0" for run in _NUMBER.findall(key))


def _conflict(x_numbers: frozenset[str], y_numbers: frozenset[str]) -> bool:
    """True when a figure was *replaced*: each side has a number the other lacks.

    The signature of a templated bulletin (same wording, other figures) and of another day's
    report. A figure only one side has is an addition or a cut ("50 người" → "hàng trăm
    người", a parenthesis dropped): an edit like any other word, paid for by the similarity.
    Figures are compared as sets, as the definition of a copy has them (``../shared/data``):
    a number met twice on one side is no new figure, so a live-score line glued to a sentence
    ("0-0") does not outweigh a line-up and statistics copied figure for figure; the price is
    that a replaced figure which also occurs elsewhere in the sentence goes unseen.
    """
    return not (x_numbers <= y_numbers or y_numbers <= x_numbers)


def _token_bounds(text: str, start: int, end: int) -> str:
    """``text[start:end]`` widened to whole tokens (so a cut number is read whole)."""
    start = text.rfind(" ", 0, start) + 1
    stop = text.find(" ", end)
    return text[start : len(text) if stop < 0 else stop]


@dataclass(frozen=True, slots=True)
class _Sentences:
    """A text's sentence keys and their token incidence (sentence row, token id), computed once
    per text: a document meets several others in the grey zone."""

    texts: tuple[str, ...]  # the sentences as written, for people (``sentence_texts``)
    keys: tuple[str, ...]
    vocab: dict[str, int]
    rows: np.ndarray
    cols: np.ndarray
    distinct: np.ndarray  # distinct units per sentence
    units: tuple[int, ...]  # units per sentence


def sentence_texts(text: str) -> list[str]:
    """The sentences of ``text`` as written, numbered as an alignment numbers them
    (``SentenceMatch.index``, ``y_first``, ``y_last``): for showing a ``SentenceMatch`` to
    people in the text's own spelling rather than its key. Free after an alignment of
    ``text`` (the same cached table)."""
    return list(_sentences(text).texts)


# A key token ends with its tone marks (``normalise.canonical_tokens``); ``_letters`` puts them
# back on the syllable's last vowel (after its circumflex, breve or horn) for NFC to compose.
_TONE_AFTER_VOWEL = re.compile(
    f"([aeiouy][\u0302\u0306\u031b]*)([^aeiouy{TONE_MARKS}]*?)([{TONE_MARKS}]+)$"
)


def _letters(key: str) -> str:
    """``key`` with one character per letter, as readers count them: the matching key is
    decomposed (``ư`` is u + horn, a tone mark follows its syllable), which would make a
    character similarity count every diacritic of Vietnamese as a letter of its own, and an
    edit near them cost more than an edit elsewhere. Equal keys stay equal."""
    return " ".join(map(_token_letters, key.split(" ")))


@lru_cache(maxsize=1 << 16)
def _token_letters(token: str) -> str:
    """One key token recomposed (a language's syllables are few: cached)."""
    if token and token[-1] in TONE_MARKS:
        token = _TONE_AFTER_VOWEL.sub(r"\1\3\2", token)
    return unicodedata.normalize("NFC", token)


@lru_cache(maxsize=4096)
def _sentences(text: str) -> _Sentences:
    keyed = [(s, _letters(k)) for s in split_sentences(text) if (k := matching_key(s))]
    keys = tuple(k for _, k in keyed)
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    distinct = []
    units = []
    for row, key in enumerate(keys):
        tokens = key_units(key)
        ids = {vocab.setdefault(t, len(vocab)) for t in tokens}
        rows += [row] * len(ids)
        cols += ids
        distinct.append(len(ids))
        units.append(len(tokens))
    return _Sentences(
        tuple(s for s, _ in keyed),
        keys,
        vocab,
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(distinct, dtype=np.float32),
        tuple(units),
    )


def clear_sentence_cache() -> None:
    """Drop the cached sentence tables of the texts aligned so far (up to 4,096 of them, some
    hundreds of MB for long articles): for a caller that meets each text once (the report,
    page after page), keeping them would only cost memory."""
    _sentences.cache_clear()


def aligned_coverage(
    x: str,
    y: str,
    min_similarity: float = 0.85,
    min_tokens: int = 5,
    min_shared: float = 0.5,
    max_candidates: int = 4,
) -> Alignment:
    """Share of ``x``'s sentence text reproduced in ``y``, exactly or lightly edited.

    ``min_similarity``: character similarity above which a sentence is "lightly edited" rather
    than rewritten (0.85 allows about one changed word in seven). ``min_tokens``: x sentences of
    fewer units are ``short`` and left out. ``min_shared``: the share of an x sentence's
    distinct units a y unit must hold before any similarity is computed. ``max_candidates``:
    only the units sharing most words are compared, which bounds the native work per sentence.
    """
    params = (min_similarity, min_tokens, min_shared, max_candidates)
    final = tuple(sorted(_matches(x, y, *params), key=lambda m: m.index))
    share: Counter[str] = Counter()
    for r in final:
        share[r.status] += r.weight
    total = sum(share.values())
    denom = total or 1
    return Alignment(
        coverage=(share["exact"] + share["contained"] + share["edited"]) / denom,
        exact=share["exact"] / denom,
        contained=share["contained"] / denom,
        edited=share["edited"] / denom,
        weight=total,
        sentences=final,
    )


def reproduces(
    x: str,
    y: str,
    share: float,
    min_similarity: float = 0.85,
    min_tokens: int = 5,
    min_shared: float = 0.5,
    max_candidates: int = 4,
) -> bool:
    """``aligned_coverage(x, y, ...).coverage >= share``, stopping as soon as the answer is
    certain: a rewrite of the same event is settled once its unmatched sentences outweigh
    ``1 - share`` of the text, without searching the rest (the costly part, heaviest first)."""
    params = (min_similarity, min_tokens, min_shared, max_candidates)
    xs = _sentences(x)
    total = sum(len(k) for k, n in zip(xs.keys, xs.units, strict=True) if n >= min_tokens)
    denom = total or 1
    matched, remaining = 0, total
    for m in _matches(x, y, *params):
        remaining -= m.weight
        if m.status in ("exact", "contained", "edited"):
            matched += m.weight
            if matched / denom >= share:
                return True
        elif (matched + remaining) / denom < share:
            return False
    return matched / denom >= share


def _matches(
    x: str, y: str, min_similarity: float, min_tokens: int, min_shared: float, max_candidates: int
) -> Iterator[SentenceMatch]:
    """Every sentence of ``x`` as found in ``y``: the look-ups first (short, exact, verbatim),
    then the sentences that need a similarity search, heaviest first."""
    xs, ys = _sentences(x), _sentences(y)
    x_keys, y_keys = xs.keys, ys.keys
    y_exact = {k: i for i, k in reversed(list(enumerate(y_keys)))}
    y_text = f" {' '.join(y_keys)} "
    cutoff = 100.0 * min_similarity
    whole_ratio = min_similarity / (2.0 - min_similarity)

    pending: list[int] = []
    for i, key in enumerate(x_keys):
        weight = len(key)
        if xs.units[i] < min_tokens:
            yield SentenceMatch(i, key, 0, "short")
        elif key in y_exact:
            first = y_exact[key]
            yield SentenceMatch(i, key, weight, "exact", 1.0, key, first, first)
        elif f" {key} " in y_text:
            yield SentenceMatch(i, key, weight, "contained", 1.0, key)
        else:
            pending.append(i)
    if not pending:
        return
    if not y_keys:
        for i in pending:
            yield SentenceMatch(i, x_keys[i], len(x_keys[i]), "unmatched")
        return

    # Units of y a sentence may align to: each sentence, and each pair of adjacent sentences
    # (a sentence split in two, or a clause moved over a sentence break).
    units: list[tuple[str, int, int]] = [(k, i, i) for i, k in enumerate(y_keys)]
    units += [(f"{y_keys[i]} {y_keys[i + 1]}", i, i + 1) for i in range(len(y_keys) - 1)]
    candidates = _shared_token_candidates(xs, ys, pending, min_shared)
    for row in sorted(range(len(pending)), key=lambda r: -len(x_keys[pending[r]])):
        i = pending[row]
        found = candidates[row][:max_candidates]
        yield _best_edit(i, x_keys[i], units, found, cutoff, whole_ratio, y_text)


def _shared_token_candidates(
    xs: _Sentences, ys: _Sentences, pending: list[int], min_shared: float
) -> list[np.ndarray]:
    """For each pending x sentence, the y units holding >= ``min_shared`` of its distinct
    tokens, most shared first (stable). Units: y sentence i (row i), then the pair (i, i+1)
    (row n + i).

    One dense product over y's vocabulary (a few thousand words at most for a news article):
    native work, no Python loop over sentence pairs. Tokens only x has cannot be shared and
    are dropped; they still count in the sentence's distinct tokens.
    """
    to_y = np.array([ys.vocab.get(t, -1) for t in xs.vocab], dtype=np.int64)
    row_of = np.full(len(xs.keys), -1, dtype=np.int64)
    row_of[pending] = np.arange(len(pending))
    xr, xc = row_of[xs.rows], to_y[xs.cols] if len(xs.cols) else xs.cols
    ok = (xr >= 0) & (xc >= 0)
    # Columns: only the tokens both sides have (the rest cannot be shared).
    both = unique(xc[ok])
    column = np.full(len(ys.vocab), -1, dtype=np.int64)
    column[both] = np.arange(len(both))
    xm = np.zeros((len(pending), len(both)), dtype=np.float32)
    ym = np.zeros((len(ys.keys), len(both)), dtype=np.float32)
    xm[xr[ok], column[xc[ok]]] = 1.0
    yc = column[ys.cols]
    ym[ys.rows[yc >= 0], yc[yc >= 0]] = 1.0
    um = np.concatenate([ym, np.maximum(ym[:-1], ym[1:])])
    shared = xm @ um.T
    need = min_shared * xs.distinct[pending][:, None]
    shared[shared < need] = 0.0
    order = np.argsort(-shared, axis=1, kind="stable")
    counts = (shared > 0).sum(axis=1)
    return [order[r, : counts[r]] for r in range(len(pending))]


def _best_edit(
    index: int,
    key: str,
    units: list[tuple[str, int, int]],
    candidates: np.ndarray,
    cutoff: float,
    whole_ratio: float,
    y_text: str,
) -> SentenceMatch:
    """The first candidate unit (most shared words first) that the sentence aligns to as a
    light edit with its figures intact, else ``unmatched``.

    Whole-unit similarity (``fuzz.ratio``) is tried first on units of comparable length; only
    if none fits is the sentence looked for as a stretch of a longer unit
    (``partial_ratio_alignment``, the costly call), and only where its LCS with the whole unit
    (an upper bound of its LCS with any stretch of it) leaves that possible; then, by the same
    bound and if some unit shares most of its words, as a stretch of ``y_text``, all of y's
    sentence keys: what the definition of a copy accepts ("a stretch of its text"), wherever
    y's sentence breaks fall.
    """
    numbers = _numbers(key)
    length = len(key)
    longer = []
    for u in candidates.tolist():
        text, first, last = units[u]
        if min(length, len(text)) >= whole_ratio * max(length, len(text)):
            score = fuzz.ratio(key, text, score_cutoff=cutoff)
            if score and not _conflict(numbers, _numbers(text)):
                return SentenceMatch(index, key, length, "edited", score / 100, text, first, last)
        elif len(text) > length:
            longer.append(u)
    need = cutoff / 100.0 * length
    for u in longer:
        text, first, last = units[u]
        if LCSseq.similarity(key, text) < need:
            continue
        alignment = fuzz.partial_ratio_alignment(key, text, score_cutoff=cutoff)
        if alignment is None or not alignment.score:
            continue
        target = _token_bounds(text, alignment.dest_start, alignment.dest_end)
        if _conflict(numbers, _numbers(target)):
            continue  # a figure replaced by another: a templated bulletin, not a copy
        similarity = alignment.score / 100
        return SentenceMatch(index, key, length, "edited", similarity, target, first, last)
    # Last, a stretch anywhere in y's text: a sentence whose match straddles y's sentence
    # breaks differently (a caption glued to it, two sentences merged and trimmed). Only for a
    # sentence that shares most of its words with some unit of y: a stretch this similar
    # does, and the search over a whole text is the costliest call here.
    if len(candidates) and len(y_text) > length and LCSseq.similarity(key, y_text) >= need:
        alignment = fuzz.partial_ratio_alignment(key, y_text, score_cutoff=cutoff)
        if alignment is not None and alignment.score:
            target = _token_bounds(y_text, alignment.dest_start, alignment.dest_end).strip()
            if not _conflict(numbers, _numbers(target)):
                return SentenceMatch(index, key, length, "edited", alignment.score / 100, target)
    return SentenceMatch(index, key, length, "unmatched")


def coverage(x: str, y: str) -> float:
    """Share of ``x``'s sentence text (by key length) reproduced in ``y``, edits allowed."""
    return aligned_coverage(x, y).coverage


__all__ = [
    "Alignment",
    "SentenceMatch",
    "aligned_coverage",
    "clear_sentence_cache",
    "coverage",
    "reproduces",
    "sentence_keys",
    "sentence_texts",
    "split_sentences",
]
