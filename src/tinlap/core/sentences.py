"""Sentence coverage: how much of a document's sentence text another document reproduces.

A copy, in the sense tinlap's users mean (RESEARCH.md, "Where copy begins"), reproduces most of
the shorter text *sentence by sentence*. Shingle containment measures the same thing well when
it is high, but in the band just above the threshold it also admits partial reuse: two outlets
quoting the same regulation or press release share many 5-grams without one reproducing the
other. For those borderline pairs only, tinlap checks the sentences themselves:

* a sentence of ``n`` or more key tokens is reproduced when at least ``sentence_share`` of its
  distinct n-grams occur in the other document (anywhere, across its sentence boundaries, so
  re-punctuated or lightly edited sentences still count);
* a shorter sentence is reproduced when it occurs in the other document as a whole sentence;
* coverage = reproduced sentence weight / total weight, a sentence weighing its key length.
"""

from __future__ import annotations

import re

from tinlap.core.normalise import matching_key

# Sentence ends: . ! ? … followed by a space or the end, and line breaks. A full stop inside a
# number or date ("21.2.2006", "3.000") is not an end.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentence_keys(text: str) -> list[list[str]]:
    """Key tokens of each sentence of ``text`` (empty sentences dropped)."""
    out = []
    for sentence in _SENTENCE_END.split(text):
        tokens = matching_key(sentence).split()
        if tokens:
            out.append(tokens)
    return out


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def coverage(x: str, y: str, n: int = 5, sentence_share: float = 0.8) -> float:
    """Share of ``x``'s sentence text (by key length) reproduced in ``y``."""
    xs, ys = sentence_keys(x), sentence_keys(y)
    y_tokens = [t for sentence in ys for t in sentence]
    y_grams = _ngrams(y_tokens, n)
    y_sentences = {tuple(s) for s in ys}
    total = reproduced = 0
    for tokens in xs:
        weight = sum(map(len, tokens)) + len(tokens) - 1
        total += weight
        if len(tokens) >= n:
            grams = _ngrams(tokens, n)
            if sum(g in y_grams for g in grams) >= sentence_share * len(grams):
                reproduced += weight
        elif tuple(tokens) in y_sentences:
            reproduced += weight
    return reproduced / total if total else 0.0
