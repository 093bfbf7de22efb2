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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from tinlap.core import unicode_classes
from tinlap.core.encoding import repair_encoding

# Combining marks that carry a Vietnamese tone: grave, acute, tilde, hook above, dot below.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_STRIP_TONES = str.maketrans("", "", TONE_MARKS)
# Soft hyphen, zero-width space/joiners, bidi marks, word joiner, BOM.
_COMMON_INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\ufeff"
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}«»“”‘’…"


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
    """Key-token fingerprints of a batch of documents, as flat arrays (CSR layout).

    Document ``i`` owns ``hashes[offsets[i]:offsets[i + 1]]``.
    """

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64, len = n_docs + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1


class Tokeniser:
    """Turns texts into key-token fingerprints, caching the work per distinct raw token.

    The cache is bounded (``max_cache`` entries) so a web-scale vocabulary cannot exhaust memory;
    when full it is dropped and refilled, which only costs time.
    """

    def __init__(self, max_cache: int = 2_000_000) -> None:
        self._cache: dict[str, tuple[int, ...]] = {}
        self._max_cache = max_cache

    def _lookup(self, raw: str) -> tuple[int, ...]:
        hashes = self._cache.get(raw)
        if hashes is None:
            if len(self._cache) >= self._max_cache:
                self._cache.clear()
            hashes = tuple(token_hash(t) for t in canonical_tokens(raw))
            self._cache[raw] = hashes
        return hashes

    def tokenise_batch(self, texts: Sequence[str]) -> TokenBatch:
        """Fingerprints of every key token of every text, in order."""
        # Lower-casing and trimming edge punctuation in Arrow first merges most spellings of a
        # word ("Hà", "hà", "Hà,") before the per-distinct-token Python work; the key is unchanged
        # because canonical_tokens case-folds and splits on punctuation anyway. Only ASCII is
        # lowered: Arrow's full Unicode lowering is not casefold (İ → i, not i̇; newer letters).
        raw_lists = pc.ascii_split_whitespace(pa.array(texts, pa.large_string()))
        raw_per_doc = np.diff(raw_lists.offsets.to_numpy())
        raw = pc.utf8_trim(pc.ascii_lower(raw_lists.flatten()), _EDGE_PUNCTUATION)
        encoded = pc.dictionary_encode(raw)
        vocabulary = encoded.dictionary.to_pylist()
        indices = encoded.indices.to_numpy(zero_copy_only=False)

        # Each distinct raw token maps to 0..k key tokens (punctuation alone: 0; "COVID-19": 2).
        expansions = [self._lookup(raw) for raw in vocabulary]
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

        # A document's output range ends where its last raw token's expansion ends.
        doc_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        doc_offsets[1:] = occ_begin[np.cumsum(raw_per_doc)]
        return TokenBatch(hashes=hashes, offsets=doc_offsets)


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
