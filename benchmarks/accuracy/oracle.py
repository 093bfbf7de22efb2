"""The slow, independent oracle: sentence alignment between every pair of documents.

Deliberately shares no code with tinlap, so that tinlap's mistakes cannot hide in it.

Definition (see README.md, "The oracle"):

* A document is split into sentences on ``. ! ? …`` and newlines.
* Each sentence gets a *key*: zero-width characters removed, NFC, casefold, punctuation and
  symbols replaced by spaces, whitespace collapsed, and every syllable written as its toneless
  form plus a tone digit (so hòa = hoà, thủy = thuỷ, khỏe = khoẻ). Digits are kept.
* A sentence's weight is the number of characters of its key.
* Sentence s of x *is reproduced* in y if
  - s has at least 5 words and at least 80% of its distinct word 5-grams occur in y (5-grams of
    y's whole key stream, across y's sentence boundaries, so re-punctuated text still matches;
    an exact copy of the sentence has 100%), or
  - s has fewer than 5 words and its key is exactly one of y's sentence keys.
* coverage(x in y) = weight of x's reproduced sentences / weight of all of x's sentences.
* The pair is labelled by the coverage of the *shorter* document (by weight): ``copy`` at
  >= 0.6, ``partial`` at >= 0.3, else ``unrelated``.

Exactness: candidate pairs come from inverted indexes over keys and 5-grams with *prefix
filtering* (Bayardo et al., "Scaling up all pairs similarity search", 2007): a sentence with k
distinct 5-grams can reach 80% only in a document holding at least one of its
k - ceil(0.8 k) + 1 rarest 5-grams, so looking those up loses nothing. No hashing, no sampling.
`verify_against_brute_force` checks this claim on a sample.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

NGRAM = 5
COPY = 0.6  # coverage of the shorter document from which a pair is a copy
PARTIAL = 0.3  # ... and from which it is partial reuse
REPORT_FLOOR = 0.1  # pairs below this coverage in both directions are not stored at all

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\ufeff\u00ad\u2060"))
SENTENCE_SPLIT = re.compile(r"[.!?\u2026\n]+")
NOT_WORD = re.compile(r"[\W_]+")
# Vietnamese tone marks as combining characters (NFD): huyền, sắc, ngã, hỏi, nặng.
TONE_DIGIT = {"\u0300": "2", "\u0301": "1", "\u0303": "3", "\u0309": "4", "\u0323": "5"}


def syllable_key(token: str) -> str:
    """Toneless syllable plus a tone digit: every tone placement style gives the same key."""
    decomposed = unicodedata.normalize("NFD", token)
    if not any(ch in TONE_DIGIT for ch in decomposed):
        return token
    tone = ""
    kept = []
    for ch in decomposed:
        digit = TONE_DIGIT.get(ch)
        if digit is None:
            kept.append(ch)
        elif not tone:
            tone = digit
    return unicodedata.normalize("NFC", "".join(kept)) + tone


TOKEN_BITS = 24  # a 5-gram is packed into one int: five token ids of 24 bits (exact, no hash)


class Vocabulary:
    """Token keys as small ints, shared by all documents of one oracle run.

    Caching the raw token -> key id mapping makes the slow Unicode work happen once per
    distinct token instead of once per occurrence.
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.raw: dict[str, tuple[int, int]] = {}  # raw casefolded token -> (id, key length)

    def encode(self, raw_token: str) -> tuple[int, int]:
        hit = self.raw.get(raw_token)
        if hit is None:
            key = syllable_key(raw_token)
            tid = self.ids.setdefault(key, len(self.ids))
            if tid >= 1 << TOKEN_BITS:
                raise OverflowError("vocabulary too large for packed 5-grams")
            hit = self.raw[raw_token] = (tid, len(key))
        return hit

    def sentences(self, text: str) -> tuple[list[tuple[int, ...]], list[int]]:
        """Sentence keys as token-id tuples, and each sentence's weight (key characters)."""
        sentences, weights = [], []
        for piece in SENTENCE_SPLIT.split(text.translate(ZERO_WIDTH)):
            folded = unicodedata.normalize("NFC", piece).casefold()
            encoded = [self.encode(tok) for tok in NOT_WORD.sub(" ", folded).split()]
            if encoded:
                sentences.append(tuple(tid for tid, _ in encoded))
                weights.append(sum(n for _, n in encoded) + len(encoded) - 1)
        return sentences, weights


def ngrams(tokens: Sequence[int], n: int = NGRAM) -> set[int]:
    """Distinct word n-grams of token ids, each packed exactly into one int."""
    out = set()
    for i in range(len(tokens) - n + 1):
        g = 0
        for t in tokens[i : i + n]:
            g = (g << TOKEN_BITS) | t
        out.add(g)
    return out


@dataclass(slots=True)
class AlignedDoc:
    """A document prepared for alignment: sentence keys, weights and its 5-gram set."""

    id: str
    sentences: list[tuple[int, ...]]
    weights: list[int]
    total: int
    grams: set[int]
    keys: set[tuple[int, ...]]

    @classmethod
    def from_text(cls, doc_id: str, text: str, vocab: Vocabulary) -> AlignedDoc:
        sentences, weights = vocab.sentences(text)
        stream = [tok for s in sentences for tok in s]
        return cls(doc_id, sentences, weights, sum(weights), ngrams(stream), set(sentences))


def sentence_reproduced(sentence: tuple[int, ...], other: AlignedDoc) -> bool:
    """The per-sentence rule of the definition, applied directly (no index)."""
    if len(sentence) < NGRAM:
        return sentence in other.keys
    grams = ngrams(sentence)
    found = len(grams & other.grams)
    return found * 5 >= len(grams) * 4  # found / k >= 0.8, in integers


def coverage(x: AlignedDoc, y: AlignedDoc) -> float:
    """Share of x's sentence text (key characters) reproduced in y, by the definition."""
    if x.total == 0:
        return 0.0
    hit = sum(w for s, w in zip(x.sentences, x.weights, strict=True) if sentence_reproduced(s, y))
    return hit / x.total


def label_from(cov_xy: float, cov_yx: float, total_x: int, total_y: int) -> tuple[str, float]:
    """Label a pair by the coverage of its shorter document; returns (label, that coverage)."""
    if total_x < total_y:
        cov = cov_xy
    elif total_y < total_x:
        cov = cov_yx
    else:
        cov = max(cov_xy, cov_yx)
    if cov >= COPY:
        return "copy", cov
    if cov >= PARTIAL:
        return "partial", cov
    return "unrelated", cov


@dataclass(slots=True)
class PairLabel:
    """The oracle's verdict on one unordered pair (a < b by document index)."""

    a: int
    b: int
    label: str
    coverage: float  # coverage of the shorter document
    cov_ab: float
    cov_ba: float


@dataclass
class Oracle:
    """All-pairs sentence alignment over one sample of documents."""

    docs: list[AlignedDoc]
    index_of: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index_of = {d.id: i for i, d in enumerate(self.docs)}

    @classmethod
    def from_texts(cls, items: Iterable[tuple[str, str]]) -> Oracle:
        vocab = Vocabulary()
        return cls([AlignedDoc.from_text(doc_id, text, vocab) for doc_id, text in items])

    def contributions(self) -> dict[int, int]:
        """Reproduced weight of x in y, keyed x * n + y, for every ordered pair with any."""
        gram_postings: dict[int, list[int]] = defaultdict(list)
        key_postings: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            for g in doc.grams:
                gram_postings[g].append(i)
            for key in doc.keys:
                if len(key) < NGRAM:
                    key_postings[key].append(i)
        df = {g: len(p) for g, p in gram_postings.items()}

        n = len(self.docs)
        found: dict[int, int] = defaultdict(int)
        memo: dict[tuple[int, ...], list[int]] = {}  # sentence -> docs reproducing it
        for x, doc in enumerate(self.docs):
            for sentence, weight in zip(doc.sentences, doc.weights, strict=True):
                holders = memo.get(sentence)
                if holders is None:
                    holders = self._holders(sentence, gram_postings, key_postings, df)
                    memo[sentence] = holders
                for y in holders:
                    if y != x:
                        found[x * n + y] += weight
        return found

    def _holders(
        self,
        sentence: tuple[int, ...],
        gram_postings: dict[int, list[int]],
        key_postings: dict[tuple[int, ...], list[int]],
        df: dict[int, int],
    ) -> list[int]:
        """Every document in which `sentence` is reproduced (its own included)."""
        if len(sentence) < NGRAM:
            return key_postings.get(sentence, [])
        grams = ngrams(sentence)
        k = len(grams)
        need = (4 * k + 4) // 5  # ceil(0.8 k): the integer rule of sentence_reproduced
        prefix = sorted(grams, key=lambda g: (df.get(g, 0), g))[: k - need + 1]
        candidates: set[int] = set()
        for g in prefix:
            candidates.update(gram_postings.get(g, ()))
        return [y for y in candidates if len(grams & self.docs[y].grams) >= need]

    def label_pairs(self, floor: float = REPORT_FLOOR) -> list[PairLabel]:
        """Label every pair whose coverage reaches `floor` in either direction.

        Pairs not returned have coverage below `floor` both ways, hence are unrelated.
        """
        found = self.contributions()
        n = len(self.docs)
        pairs = set()
        for k, weight in found.items():
            x, y = divmod(k, n)
            if weight >= floor * self.docs[x].total:
                pairs.add((min(x, y), max(x, y)))
        out = []
        for a, b in sorted(pairs):
            da, db = self.docs[a], self.docs[b]
            cov_ab = found.get(a * n + b, 0) / da.total if da.total else 0.0
            cov_ba = found.get(b * n + a, 0) / db.total if db.total else 0.0
            if max(cov_ab, cov_ba) < floor:  # float rounding at the floor itself
                continue
            label, cov = label_from(cov_ab, cov_ba, da.total, db.total)
            out.append(PairLabel(a, b, label, cov, cov_ab, cov_ba))
        return out

    def judge(self, id_a: str, id_b: str) -> PairLabel:
        """Label one pair directly from the definition (no index): for edges and checks."""
        a, b = self.index_of[id_a], self.index_of[id_b]
        if a > b:
            a, b = b, a
        da, db = self.docs[a], self.docs[b]
        cov_ab, cov_ba = coverage(da, db), coverage(db, da)
        label, cov = label_from(cov_ab, cov_ba, da.total, db.total)
        return PairLabel(a, b, label, cov, cov_ab, cov_ba)


def verify_against_brute_force(oracle: Oracle, indices: Sequence[int]) -> list[str]:
    """Compare the indexed labels with a plain double loop over `indices`; return mismatches."""
    sub = Oracle([oracle.docs[i] for i in indices])
    indexed = {(p.a, p.b): p for p in sub.label_pairs(floor=0.0)}
    problems = []
    for i in range(len(sub.docs)):
        for j in range(i + 1, len(sub.docs)):
            direct = sub.judge(sub.docs[i].id, sub.docs[j].id)
            got = indexed.get((i, j))
            got_cov = (got.cov_ab, got.cov_ba) if got else (0.0, 0.0)
            if abs(got_cov[0] - direct.cov_ab) > 1e-9 or abs(got_cov[1] - direct.cov_ba) > 1e-9:
                problems.append(
                    f"{sub.docs[i].id} / {sub.docs[j].id}: index {got_cov}, "
                    f"direct {(direct.cov_ab, direct.cov_ba)}"
                )
    return problems
