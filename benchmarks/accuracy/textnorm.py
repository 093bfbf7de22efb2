"""Sentences and their normalised keys, as the edit-tolerant oracle reads text.

Independent of tinlap on purpose (an oracle must not share the blind spots of the code it
judges): its own sentence splitter, its own normalisation, its own tone canonicalisation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\ufeff\u00ad\u2060\u2061"))
# A sentence ends at a line break, or at . ! ? … (runs of them, closing quotes/brackets allowed)
# followed by whitespace or the end: "1.100", "TP.HCM" and "10.5%" are not split.
SENTENCE_END = re.compile(r"\n|[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?:\s+|$)")
NOT_WORD = re.compile(r"[\W_]+")
DIGITS = re.compile(r"\d+")
MIN_SYLLABLES = 5  # shorter sentences (headings, bylines, captions) carry no weight

# Vietnamese tone marks as combining characters (NFD): huyền, sắc, ngã, hỏi, nặng.
TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
VOWELS = frozenset("aăâeêioôơuưy")
MARKED = frozenset("ăâêôơư")  # vowels with a shape mark: they take the tone


def _place_tone(base: str, tone: str) -> str:
    """Put `tone` on the vowel the modern rule gives, from the toneless syllable alone.

    Deterministic in `base`, so every placement style of the input (hòa/hoà, thủy/thuỷ) ends
    up the same; the length in characters (NFC) does not depend on where the tone sits.
    """
    start = 0
    if base[:2] == "qu" or (base[:2] == "gi" and len(base) > 2 and base[2] in VOWELS):
        start = 2  # the u of qu- and the i of gi- are part of the initial consonant
    idx = [i for i in range(start, len(base)) if base[i] in VOWELS]
    if not idx:
        idx = [i for i in range(len(base)) if base[i] in VOWELS]
        if not idx:
            return base + tone  # not a Vietnamese syllable: keep the mark, canonically last
    nucleus = idx[: next((k for k in range(1, len(idx)) if idx[k] != idx[k - 1] + 1), len(idx))]
    marked = [i for i in nucleus if base[i] in MARKED]
    if marked:
        pos = marked[-1]  # ươ -> ơ, uô -> ô, ê, â ...
    elif len(nucleus) == 1:
        pos = nucleus[0]
    elif nucleus[-1] + 1 < len(base):  # closed syllable: the last vowel (hoàng, thuyết)
        pos = nucleus[-1]
    elif len(nucleus) == 2 and base[nucleus[0] : nucleus[1] + 1] in ("oa", "oe", "uy"):
        pos = nucleus[1]  # hoà, khoẻ, thuỷ
    elif len(nucleus) == 3:
        pos = nucleus[1]  # oai, uya, oay
    else:
        pos = nucleus[0]  # ái, hào, mùa
    return unicodedata.normalize("NFC", base[: pos + 1] + tone + base[pos + 1 :])


@lru_cache(maxsize=1 << 20)
def syllable(token: str) -> str:
    """One casefolded token with its tone placed canonically (NFC)."""
    decomposed = unicodedata.normalize("NFD", token)
    tone = next((ch for ch in decomposed if ch in TONES), "")
    if not tone:
        return unicodedata.normalize("NFC", decomposed)
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONES))
    return _place_tone(base, tone)


@dataclass(slots=True)
class Sentence:
    """A normalised sentence: key text (syllables joined by one space) and its numbers."""

    key: str
    syllables: int
    numbers: frozenset[str]

    @property
    def weight(self) -> int:
        return len(self.key)


def numbers_of(key: str) -> frozenset[str]:
    """The numbers a normalised text states, as values: 10/3 and 10-3 both give {10, 3},
    05 is 5 (digit runs without leading zeros; 22.800 is {22, 800} on both sides)."""
    return frozenset(n.lstrip("0") or "0" for n in DIGITS.findall(key))


def sentences(text: str) -> list[Sentence]:
    """Split and normalise: NFC, casefold, invisible characters out, tones canonical,
    everything that is not a letter or digit to one space."""
    out = []
    text = unicodedata.normalize("NFC", text.translate(ZERO_WIDTH)).casefold()
    for piece in SENTENCE_END.split(text):
        tokens = [syllable(t) for t in NOT_WORD.sub(" ", piece).split()]
        if tokens:
            key = " ".join(tokens)
            out.append(Sentence(key, len(tokens), numbers_of(key)))
    return out
