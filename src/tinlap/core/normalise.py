"""The matching key: hard-normalised tokens that shingles are cut from.

The key is never handed to users as their data (``repair_text`` makes the output text). It is
built so that copies differing only in encoding choices get identical tokens:

* compatibility decomposition (NFKD): NFC and NFD inputs, full-width forms and ligatures meet;
* case folded;
* zero-width and other format characters deleted (they hide inside syllables);
* punctuation, symbols, separators and controls become token breaks (so quotes and dashes of
  every style vanish alike, and NBSP splits like a space);
* Vietnamese tone marks moved to the end of their syllable, so every tone placement
  (hòa/hoà, thủy/thuỷ, typos such as qúy, baỏ, lựơng) yields the same token. The tone itself
  is kept, unlike stripping all accents, which would merge bán/bàn/bạn;
* digits kept, so templated bulletins that differ only in their numbers stay apart.

Shingles are cut from *units* (``SHINGLE_UNITS``). Under ``words`` a unit is a key token. Chinese,
Japanese, Thai, Lao, Khmer and Myanmar are written without spaces between words, so a whole
clause would be one token and a near-identical pair would share no shingle; under ``auto`` (the
default) every character of those scripts (``UNIT_SCRIPTS``), with its combining marks, is a
unit of its own, and the other key tokens stay words. The choice is made per character, not per
document or per run: the same text always gets the same units, whatever surrounds it, so two
documents are always compared in one shingle space (a per-document choice would put a copy and
its original in different spaces whenever a few edits moved a bilingual text across a
threshold), and a mixed corpus (or a Japanese article quoting English) needs no setting. Text
without those scripts gets exactly the units of ``words``. ``chars`` makes every character a
unit, of every script.

All of this is a function of one whitespace-separated raw token, so a corpus is tokenised in
bulk (``tokenise_batch``: Arrow splits and dictionary-encodes a whole batch in C) and the Python
work runs once per *distinct* raw token, cached across batches.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from tinlap.config import SHINGLE_UNITS
from tinlap.core import unicode_classes
from tinlap.core.encoding import repair_encoding

# Combining marks that carry a Vietnamese tone: grave, acute, tilde, hook above, dot below.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_STRIP_TONES = str.maketrans("", "", TONE_MARKS)
# Soft hyphen, zero-width space/joiners, bidi marks, word joiner, BOM.
_COMMON_INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\ufeff"
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}«»“”‘’…"

# Scripts written without spaces between words, by Unicode block: their characters are units of
# their own under shingles=auto. Han includes the radicals and the ideographic iteration and
# number marks (々〆〇); Kana the prolonged sound mark and halfwidth forms.
UNIT_SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Han": (
        (0x2E80, 0x2FDF),
        (0x3005, 0x3007),
        (0x3021, 0x3029),
        (0x3038, 0x303B),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xF900, 0xFAFF),
        (0x20000, 0x3FFFF),
    ),
    "Kana": ((0x3031, 0x3035), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Thai": ((0x0E00, 0x0E7F),),
    "Lao": ((0x0E80, 0x0EFF),),
    "Khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Myanmar": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
}
# A regex character-class body of those scripts (for keys: already NFKD).
UNIT_SCRIPT_CLASS = "".join(
    f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
    for ranges in UNIT_SCRIPTS.values()
    for lo, hi in ranges
)
_UNIT_SCRIPT = re.compile(f"[{UNIT_SCRIPT_CLASS}]")
# Raw characters that can decompose (NFKD) into those scripts lie in them or in these blocks
# (a test checks all of Unicode): kanbun, enclosed CJK letters and months, CJK compatibility
# (㈱, ㌀), halfwidth CJK punctuation, enclosed ideographic supplement. A raw token with none of
# them has exactly the units of ``words``: a cheap test on the hot path.
_RAW_UNIT = re.compile(
    f"[{UNIT_SCRIPT_CLASS}\u3190-\u319f\u3200-\u33ff\uff61-\uff65\U0001f200-\U0001f2ff]"
)


def _class_of(predicate: Callable[[str], bool]) -> str:
    """A regex character-class body covering every code point whose category passes."""
    parts: list[str] = []
    start: int | None = None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and predicate(unicodedata.category(chr(cp)))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            lo, hi = re.escape(chr(start)), re.escape(chr(cp - 1))
            parts.append(lo if start == cp - 1 else f"{lo}-{hi}")
            start = None
    return "".join(parts)


def _classes() -> tuple[str, str]:
    """The character classes (format; punctuation, symbols, separators, controls)."""
    if unicodedata.unidata_version == unicode_classes.UNIDATA_VERSION:
        return unicode_classes.FORMAT, unicode_classes.SPLIT
    return _class_of(lambda c: c == "Cf"), _class_of(lambda c: c[0] in "PSZ" or c == "Cc")


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compiled once per process, from classes precomputed for this Unicode version."""
    fmt, split = _classes()
    # Format characters (Cf: ZWSP, ZWJ, BOM, soft hyphen, bidi marks) and the combining grapheme
    # joiner are deleted, not spaced: they sit inside words.
    # Punctuation, symbols, separators and controls split words; "_" counts as punctuation.
    return re.compile(f"[{fmt}\u034f]+"), re.compile(f"[{split}_]+")


def canonical_tokens(raw: str) -> list[str]:
    """The key tokens of one whitespace-free raw token (zero, one or several)."""
    text = unicodedata.normalize("NFKD", raw).casefold()
    # The common case: no format characters, no punctuation to split on. An alnum token can still
    # decompose into punctuation or spaces under NFKD (½ → 1⁄2, Ŀ → L·), so it must be NFKC too.
    if raw.isalnum() and unicodedata.is_normalized("NFKC", raw):
        parts = [text]
    else:
        delete, split = _patterns()
        parts = split.sub(" ", delete.sub("", text)).split()
    out = []
    for part in parts:
        tones = [c for c in part if c in TONE_MARKS]
        out.append(part.translate(_STRIP_TONES) + "".join(tones) if tones else part)
    return out


@lru_cache(maxsize=1 << 18)
def cached_tokens(raw: str) -> tuple[str, ...]:
    """``canonical_tokens``, memoised: the cleaner's headers and the sentence check key many
    short texts made of the same raw tokens."""
    return tuple(canonical_tokens(raw))


def _in_unit_script(text: str) -> bool:
    return _UNIT_SCRIPT.search(text) is not None


@lru_cache(maxsize=1 << 16)
def _kind(char: str) -> str:
    """``mark`` (decomposes to a combining mark first: it belongs to the character before it),
    ``unit`` (decomposes to a character of ``UNIT_SCRIPTS``, e.g. halfwidth katakana or ㌀), or
    ``word``."""
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed and unicodedata.category(decomposed[0])[0] == "M":
        return "mark"
    return "unit" if _in_unit_script(decomposed) else "word"


def _characters(token: str) -> list[str]:
    """A key token cut into characters, each with the combining marks that follow it."""
    out: list[str] = []
    for char in token:
        if out and unicodedata.category(char)[0] == "M":
            out[-1] += char
        else:
            out.append(char)
    return out


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch ``[start, end)`` of a raw token and the units it gives; ``chars``: they are
    characters (shingled as character n-grams), not words."""

    start: int
    end: int
    units: tuple[str, ...]
    chars: bool


def unit_pieces(raw: str, shingles: str = "auto") -> list[Piece]:
    """The units of one whitespace-free raw token under ``shingles`` (``SHINGLE_UNITS``), by
    stretch of the raw token (so ``explain`` can point at each one).

    Under ``auto`` and ``chars`` the raw token is cut before normalisation: each character of
    ``UNIT_SCRIPTS`` (with the marks after it) is a stretch of its own, the rest are stretches of
    word characters; each stretch is normalised like a whole token (``canonical_tokens``).
    Under ``auto`` a raw token without those scripts is one stretch of words, exactly as under
    ``words``; under ``chars`` word stretches are cut into characters after normalisation (so
    hòa and hoà still meet).
    """
    if shingles == "words" or (shingles == "auto" and not needs_units(raw)):
        return [Piece(0, len(raw), tuple(canonical_tokens(raw)), False)]
    stretches: list[list[int]] = []  # [start, end, is_unit]
    for i, char in enumerate(raw):
        kind = _kind(char)
        if stretches and (kind == "mark" or (kind == "word" and not stretches[-1][2])):
            stretches[-1][1] = i + 1
        else:
            stretches.append([i, i + 1, kind == "unit"])
    pieces = []
    for start, end, is_unit in stretches:
        tokens = canonical_tokens(raw[start:end])
        if is_unit or shingles == "chars":
            units = tuple(c for token in tokens for c in _characters(token))
            pieces.append(Piece(start, end, units, True))
        else:
            pieces.append(Piece(start, end, tuple(tokens), False))
    return pieces


def needs_units(raw: str) -> bool:
    """Whether ``raw`` holds a character of ``UNIT_SCRIPTS`` (or one that decomposes to one)."""
    return not raw.isascii() and _RAW_UNIT.search(raw) is not None and any(map(_is_unit, raw))


def _is_unit(char: str) -> bool:
    return _kind(char) == "unit"


def key_units(key: str) -> list[str]:
    """The units of a matching key under ``auto``: its words, and each character of
    ``UNIT_SCRIPTS`` with its marks. What the sentence check counts and compares."""
    if not _in_unit_script(key):
        return key.split()
    out: list[str] = []
    for token in key.split():
        if not _in_unit_script(token):
            out.append(token)
            continue
        word = ""
        for char in _characters(token):
            if _in_unit_script(char[0]):
                if word:
                    out.append(word)
                    word = ""
                out.append(char)
            else:
                word += char
        if word:
            out.append(word)
    return out


def matching_key(text: str) -> str:
    """The matching key of ``text``: its key tokens joined by single spaces."""
    return " ".join(tok for raw in text.split() for tok in cached_tokens(raw))


def token_hash(token: str) -> int:
    """64-bit fingerprint of one key token (stable across processes and runs)."""
    return xxhash.xxh3_64_intdigest(token.encode("utf-8"))


def repair_text(text: str) -> str:
    """Light repair for the *output* text: NFC, wrong encodings undone (mojibake, TCVN3, VNI:
    ``encoding.repair_encoding``, which costs a few substring scans on clean text), invisible
    format characters removed.

    Unlike the key this keeps case, punctuation and the outlet's tone style: it is the user's
    data. Encoding repair comes before the invisible characters go: U+00AD (soft hyphen) is a
    UTF-8 continuation byte in mojibake and the letter ư in TCVN3.
    """
    text = repair_encoding(unicodedata.normalize("NFC", text))
    # Scanning every character with the full Cf class is slow; substring tests for the usual
    # invisible characters are not, and the key deletes any other Cf character anyway.
    if any(c in text for c in _COMMON_INVISIBLE):
        delete, _ = _patterns()
        text = delete.sub("", text)
    return text


@dataclass(frozen=True, slots=True)
class TokenBatch:
    """Unit fingerprints of a batch of documents, as flat arrays (CSR layout).

    Document ``i`` owns ``hashes[offsets[i]:offsets[i + 1]]``. ``chars`` marks the units that
    are characters (shingled as character n-grams); None when every unit is a word, as for any
    text without the scripts of ``UNIT_SCRIPTS`` under ``auto``.
    """

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len = n_docs + 1
    chars: np.ndarray | None = None  # bool, one per unit

    def __len__(self) -> int:
        return len(self.offsets) - 1


class _Units(tuple[int, ...]):
    """The unit hashes of a raw token some of whose units are characters (``chars``)."""

    chars: tuple[bool, ...]


class Tokeniser:
    """Turns texts into unit fingerprints, caching the work per distinct raw token.

    The cache is bounded (``max_cache`` entries per ``shingles`` mode) so a web-scale vocabulary
    cannot exhaust memory; when full it is dropped and refilled, which only costs time.
    """

    def __init__(self, max_cache: int = 2_000_000) -> None:
        self._caches: dict[str, dict[str, tuple[int, ...]]] = {m: {} for m in SHINGLE_UNITS}
        self._max_cache = max_cache
        # Modes that have met a raw token with character units: only their batches are searched
        # for them (a Vietnamese corpus never is).
        self._with_chars: set[str] = set()

    def _lookup(self, raw: str, shingles: str) -> tuple[int, ...]:
        cache = self._caches[shingles]
        hashes = cache.get(raw)
        if hashes is None:
            if len(cache) >= self._max_cache:
                cache.clear()
            if shingles == "chars" or (shingles == "auto" and needs_units(raw)):
                self._with_chars.add(shingles)
                pieces = unit_pieces(raw, shingles)
                hashes = _Units(token_hash(u) for p in pieces for u in p.units)
                hashes.chars = tuple(p.chars for p in pieces for _ in p.units)
            else:  # exactly the words: the hot path of text without those scripts
                hashes = tuple(token_hash(t) for t in canonical_tokens(raw))
            cache[raw] = hashes
        return hashes

    def tokenise_batch(self, texts: Sequence[str], shingles: str = "auto") -> TokenBatch:
        """Fingerprints of every unit of every text, in order (``shingles``: ``SHINGLE_UNITS``)."""
        # Lower-casing and trimming edge punctuation in Arrow first merges most spellings of a
        # word ("Hà", "hà", "Hà,") before the per-distinct-token Python work; the key is unchanged
        # because canonical_tokens case-folds and splits on punctuation anyway. Only ASCII is
        # lowered: Arrow's full Unicode lowering is not casefold (İ → i, not i̇; newer letters).
        if shingles not in SHINGLE_UNITS:
            raise ValueError(
                f"shingles must be one of {', '.join(SHINGLE_UNITS)}, not {shingles!r}"
            )
        raw_lists = pc.ascii_split_whitespace(pa.array(texts, pa.large_string()))
        raw_per_doc = np.diff(raw_lists.offsets.to_numpy())
        raw = pc.utf8_trim(pc.ascii_lower(raw_lists.flatten()), _EDGE_PUNCTUATION)
        encoded = pc.dictionary_encode(raw)
        vocabulary = encoded.dictionary.to_pylist()
        indices = encoded.indices.to_numpy(zero_copy_only=False)

        # Each distinct raw token maps to 0..k units (punctuation alone: 0; "COVID-19": 2).
        expansions = [self._lookup(raw, shingles) for raw in vocabulary]
        lengths = np.fromiter(map(len, expansions), dtype=np.int64, count=len(expansions))
        flat = np.fromiter(
            (h for hs in expansions for h in hs), dtype=np.uint64, count=int(lengths.sum())
        )
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])

        occ_len = lengths[indices]
        total = int(occ_len.sum())
        occ_begin = np.zeros(len(occ_len) + 1, dtype=np.int64)
        np.cumsum(occ_len, out=occ_begin[1:])
        # Output position k belongs to occurrence j; its source is starts[idx[j]] + (k - begin[j]).
        occ_of = np.repeat(np.arange(len(indices), dtype=np.int64), occ_len)
        src = starts[indices][occ_of] + (np.arange(total, dtype=np.int64) - occ_begin[occ_of])
        hashes = flat[src]
        chars = None
        if shingles in self._with_chars:
            mixed = [i for i, e in enumerate(expansions) if type(e) is _Units]
            if mixed:
                flat_chars = np.zeros(len(flat), dtype=bool)
                for i in mixed:
                    units = cast(_Units, expansions[i])
                    flat_chars[starts[i] : starts[i] + lengths[i]] = units.chars
                chars = flat_chars[src]

        # A document's output range ends where its last raw token's expansion ends.
        doc_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        doc_offsets[1:] = occ_begin[np.cumsum(raw_per_doc)]
        return TokenBatch(hashes=hashes, offsets=doc_offsets, chars=chars)


if __name__ == "__main__":  # regenerate unicode_classes.py for this Python's Unicode version
    from pathlib import Path

    target = Path(__file__).with_name("unicode_classes.py")
    fmt = _class_of(lambda c: c == "Cf")
    split = _class_of(lambda c: c[0] in "PSZ" or c == "Cc")
    target.write_text(
        '"""Generated by ``python -m tinlap.core.normalise``: do not edit.\n\n'
        f"Regex class bodies of Unicode {unicodedata.unidata_version} categories, so that a "
        "process does not\nscan all of Unicode at start (0.3-1.4 s). ``normalise`` uses them "
        "only when the running\nPython's Unicode database is this version, and computes them "
        'itself otherwise.\n"""\n\n'
        f"UNIDATA_VERSION = {unicodedata.unidata_version!r}\n"
        f"FORMAT = {fmt!r}  # category Cf\n"
        f"SPLIT = {split!r}  # categories P*, S*, Z*, Cc\n"
    )
