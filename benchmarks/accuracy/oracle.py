"""The slow, independent, edit-tolerant oracle: sentence alignment between pairs of documents.

It deliberately shares no rule and no code with tinlap (an oracle that uses the rule of the
check it judges cannot see that check's misses). Definition (README.md, "The oracle"):

* Sentences and keys: ``textnorm.sentences`` (NFC, casefold, invisible characters out, tone
  placement canonical, punctuation to spaces). Sentences under 5 syllables carry no weight.
* A sentence s of x is *reproduced* in y when its key
  - equals one of y's sentence keys, or occurs verbatim (on word boundaries) in y's key text, or
  - reaches character similarity >= 0.85 (Indel: 2 * LCS / total length, rapidfuzz
    ``fuzz.ratio``) with one of y's sentences, or with a stretch of y's key text (rapidfuzz
    ``fuzz.partial_ratio_alignment``: windows of y as long as s), **and** with the same
    numbers: no number replaced by another, i.e. the numbers of one side are all among those
    of the other (a changed number is a different fact, and templated bulletins differ only
    there; a year added or dropped, "20h00" for "20 giờ", changes no fact).
* coverage(x in y) = weight (key characters) of x's reproduced sentences / weight of x.
* A pair is labelled by the coverage of its *shorter* document (by weight; on a tie the larger
  coverage): ``copy`` >= 0.6, ``ambiguous`` >= 0.3, else ``not-copy``.

Candidates: checking all n^2/2 pairs with rapidfuzz is too slow past a few thousand documents,
so pairs come from an inverted index of exact word bigrams (see ``Oracle.candidates``); every
candidate is then judged by the definition above, which never looks at bigrams. Whether the
index loses pairs is measured, not assumed: ``verify_against_brute_force`` judges every pair of
a sample directly.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from textnorm import MIN_SYLLABLES, Sentence, numbers_of, sentences

COPY = 0.6  # coverage of the shorter document from which a pair is a copy
AMBIGUOUS = 0.3  # ... and from which it is partial reuse (ambiguous)
SIMILARITY = 85.0  # rapidfuzz ratio (0-100) from which a lightly edited sentence counts
REPORT_FLOOR = 0.1  # candidate pairs under this coverage both ways are not stored
LABELS = ("copy", "ambiguous", "not-copy")

# Candidate index (a superset filter; the rule above decides):
CANDIDATE_FLOOR = 0.2  # a pair is judged if its bigram-estimated coverage reaches this
BIGRAM_SURVIVAL = 0.25  # an edited sentence keeps >= 1/4 of its anchor bigrams
ANCHOR_DF_SHARE = 0.01  # anchors: bigrams in at most 1% of the documents (at least ...)
ANCHOR_DF_MIN = 10  # ... 10 documents); commoner ones are function-word pairs
BLOCK = 20_000  # distinct sentences per join block (bounds memory)
TOKEN_BITS = 24


def label_of(cov: float) -> str:
    return "copy" if cov >= COPY else "ambiguous" if cov >= AMBIGUOUS else "not-copy"


@dataclass(slots=True)
class Doc:
    """A document as the oracle reads it: its sentences, weight and key text."""

    id: str
    sentences: list[Sentence]
    weight: int  # key characters of the sentences of >= MIN_SYLLABLES syllables
    stream: str  # every sentence key, joined by one space
    keys: frozenset[str]

    @classmethod
    def from_text(cls, doc_id: str, text: str) -> Doc:
        sents = sentences(text)
        weight = sum(s.weight for s in sents if s.syllables >= MIN_SYLLABLES)
        stream = " ".join(s.key for s in sents)
        return cls(doc_id, sents, weight, stream, frozenset(s.key for s in sents))

    @property
    def long(self) -> list[Sentence]:
        return [s for s in self.sentences if s.syllables >= MIN_SYLLABLES]


def _word_bounds(text: str, start: int, end: int) -> str:
    """The stretch text[start:end] widened to whole words (so numbers are not cut)."""
    while start > 0 and text[start - 1] != " ":
        start -= 1
    while end < len(text) and text[end] != " ":
        end += 1
    return text[start:end]


def same_numbers(a: frozenset[str], b: frozenset[str]) -> bool:
    """No number of one side replaced by a different one on the other: one set holds the other."""
    return a <= b or b <= a


def reproduced(s: Sentence, y: Doc) -> str:
    """How sentence s is reproduced in y: 'exact', 'edited', 'stretch' or '' (not)."""
    if s.key in y.keys or f" {s.key} " in f" {y.stream} ":
        return "exact"
    keys = [t.key for t in y.sentences]
    for _, _, i in process.extract(
        s.key, keys, scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=None
    ):
        if same_numbers(s.numbers, y.sentences[i].numbers):
            return "edited"
    if len(s.key) <= len(y.stream):
        al = fuzz.partial_ratio_alignment(s.key, y.stream, score_cutoff=SIMILARITY)
        if al is not None:
            stretch = _word_bounds(y.stream, al.dest_start, al.dest_end)
            if same_numbers(s.numbers, numbers_of(stretch)):
                return "stretch"
    return ""


def coverage(x: Doc, y: Doc, floor: float = 0.0) -> float:
    """Share of x's sentence weight reproduced in y; 0.0 once it cannot reach `floor`."""
    if x.weight == 0:
        return 0.0
    left, hit = x.weight, 0
    for s in sorted(x.long, key=lambda s: -s.weight):
        if (hit + left) < floor * x.weight:
            return 0.0
        left -= s.weight
        if reproduced(s, y):
            hit += s.weight
    return hit / x.weight


@dataclass(slots=True)
class PairLabel:
    """The oracle's verdict on one unordered pair (a < b by document index)."""

    a: int
    b: int
    label: str
    coverage: float  # coverage of the shorter document (the score)
    cov_ab: float | None  # a's coverage in b (None: not computed, b is the shorter)
    cov_ba: float | None


def judge_docs(a: int, b: int, da: Doc, db: Doc, floor: float = 0.0) -> PairLabel:
    """Label one pair by the definition: coverage of the shorter document (both on a tie)."""
    cov_ab = coverage(da, db, floor) if da.weight <= db.weight else None
    cov_ba = coverage(db, da, floor) if db.weight <= da.weight else None
    cov = max(c for c in (cov_ab, cov_ba) if c is not None)
    return PairLabel(a, b, label_of(cov), cov, cov_ab, cov_ba)


_POOL_DOCS: list[Doc] = []


def _judge_chunk(args: tuple[list[tuple[int, int]], float]) -> list[PairLabel]:
    pairs, floor = args
    return [judge_docs(a, b, _POOL_DOCS[a], _POOL_DOCS[b], floor) for a, b in pairs]


@dataclass
class Oracle:
    """Edit-tolerant sentence alignment over one set of documents."""

    docs: list[Doc]
    index_of: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index_of = {d.id: i for i, d in enumerate(self.docs)}

    @classmethod
    def from_texts(cls, items: Iterable[tuple[str, str]]) -> Oracle:
        return cls([Doc.from_text(doc_id, text) for doc_id, text in items])

    # ------------------------------------------------------------ candidates

    def candidates(self, floor: float = CANDIDATE_FLOOR) -> set[tuple[int, int]]:
        """Pairs worth judging, from an inverted index of exact word bigrams.

        A sentence s of x is *anchored* in y when y holds at least a quarter of s's anchor
        bigrams (its bigrams in at most 1% of the documents), or, for a sentence with no
        anchor, when y holds s as a sentence. A pair is a candidate when the anchored weight of
        its shorter document reaches `floor` (the rule needs 0.3 for ambiguous; the slack
        absorbs sentences edited past their anchors). Exact bigrams, no hashing or sampling.
        """
        n = len(self.docs)
        vocab: dict[str, int] = {}
        doc_grams, doc_ids = [], []
        sent_id: dict[str, int] = {}
        sent_tokens: list[np.ndarray] = []
        owners_s, owners_d = [], []
        for i, doc in enumerate(self.docs):
            toks = []
            for s in doc.sentences:
                ids = [vocab.setdefault(w, len(vocab)) for w in s.key.split()]
                toks += ids
                if s.syllables >= MIN_SYLLABLES:
                    k = sent_id.get(s.key)
                    if k is None:
                        k = sent_id[s.key] = len(sent_tokens)
                        sent_tokens.append(np.array(ids, dtype=np.int64))
                    owners_s.append(k)
                    owners_d.append(i)
            a = np.array(toks, dtype=np.int64)
            if len(a) >= 2:
                g = np.unique((a[:-1] << TOKEN_BITS) | a[1:])
                doc_grams.append(g)
                doc_ids.append(np.full(len(g), i, dtype=np.int64))
        if len(vocab) >= 1 << TOKEN_BITS:
            raise OverflowError("vocabulary too large for packed bigrams")
        if not sent_tokens:
            return set()
        grams = np.concatenate(doc_grams)
        gdocs = np.concatenate(doc_ids)
        order = np.argsort(grams, kind="stable")
        grams, gdocs = grams[order], gdocs[order]
        uniq, start, df = np.unique(grams, return_index=True, return_counts=True)
        df_max = max(ANCHOR_DF_MIN, math.ceil(ANCHOR_DF_SHARE * n))

        weights = np.array([len(k) for k in sent_id], dtype=np.float64)
        o_s, o_d = np.array(owners_s), np.array(owners_d)
        order = np.argsort(o_s, kind="stable")
        o_s, o_d = o_s[order], o_d[order]
        o_start = np.searchsorted(o_s, np.arange(len(sent_tokens)))
        o_cnt = np.bincount(o_s, minlength=len(sent_tokens))

        pair_keys, pair_w = [], []
        for lo in range(0, len(sent_tokens), BLOCK):
            sids, ys, bare = self._anchored(
                sent_tokens[lo : lo + BLOCK], lo, uniq, start, df, gdocs, df_max
            )
            # a sentence without anchors counts only where it occurs as a sentence: its owners
            c = o_cnt[bare]
            sids = np.concatenate([sids, np.repeat(bare, c)])
            ys = np.concatenate([ys, o_d[np.repeat(o_start[bare], c) + _ranges(c)]])
            # every owner x of the sentence gets its weight towards y
            c = o_cnt[sids]
            xs = o_d[np.repeat(o_start[sids], c) + _ranges(c)]
            ys = np.repeat(ys, c)
            ws = np.repeat(weights[sids], c)
            keep = xs != ys
            pk = xs[keep] * n + ys[keep]
            u, inv = np.unique(pk, return_inverse=True)
            pair_keys.append(u)
            pair_w.append(np.bincount(inv, weights=ws[keep]))
        u, inv = np.unique(np.concatenate(pair_keys), return_inverse=True)
        w = np.bincount(inv, weights=np.concatenate(pair_w))
        xs, ys = u // n, u % n
        doc_w = np.array([d.weight for d in self.docs], dtype=np.float64)
        shorter = doc_w[xs] <= doc_w[ys]
        ok = shorter & (w >= floor * doc_w[xs]) & (doc_w[xs] > 0)
        return {
            (min(a, b), max(a, b)) for a, b in zip(xs[ok].tolist(), ys[ok].tolist(), strict=True)
        }

    def _anchored(
        self,
        block: list[np.ndarray],
        lo: int,
        uniq: np.ndarray,
        start: np.ndarray,
        df: np.ndarray,
        gdocs: np.ndarray,
        df_max: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence, document) pairs where the sentence is anchored, for one block, and the
        sentences without any anchor."""
        parts = [np.unique((t[:-1] << TOKEN_BITS) | t[1:]) for t in block]
        sg = np.concatenate(parts)
        ss = np.repeat(np.arange(lo, lo + len(block)), [len(p) for p in parts])
        pos = np.searchsorted(uniq, sg)
        keep = df[pos] <= df_max
        sg_pos, ss = pos[keep], ss[keep]
        anchors = np.bincount(ss - lo, minlength=len(block))
        c = df[sg_pos]
        rep_s = np.repeat(ss, c)
        rep_d = gdocs[np.repeat(start[sg_pos], c) + _ranges(c)]
        key, hits = np.unique(rep_s * len(self.docs) + rep_d, return_counts=True)
        sids, ys = key // len(self.docs), key % len(self.docs)
        need = np.maximum(1, np.ceil(anchors * BIGRAM_SURVIVAL)).astype(np.int64)
        ok = hits >= need[sids - lo]
        sids, ys = sids[ok], ys[ok]
        return sids, ys, np.flatnonzero(anchors == 0) + lo

    # ------------------------------------------------------------ labels

    def label_pairs(self, floor: float = REPORT_FLOOR, workers: int = 2) -> list[PairLabel]:
        """Judge every candidate pair; return those whose score reaches `floor`."""
        pairs = sorted(self.candidates())
        out: list[PairLabel] = []
        if workers > 1 and len(pairs) > 2000:
            global _POOL_DOCS
            _POOL_DOCS = self.docs
            chunks = [(pairs[i : i + 500], floor) for i in range(0, len(pairs), 500)]
            with mp.get_context("fork").Pool(workers) as pool:
                for res in pool.imap_unordered(_judge_chunk, chunks):
                    out += res
            _POOL_DOCS = []
        else:
            out = [judge_docs(a, b, self.docs[a], self.docs[b], floor) for a, b in pairs]
        return sorted((p for p in out if p.coverage >= floor), key=lambda p: (p.a, p.b))

    def judge(self, id_a: str, id_b: str) -> PairLabel:
        """Label one pair directly from the definition (no index): for edges and checks."""
        a, b = sorted((self.index_of[id_a], self.index_of[id_b]))
        return judge_docs(a, b, self.docs[a], self.docs[b])


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for every c in counts, concatenated (offsets inside each repeated run)."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts)


def verify_against_brute_force(
    oracle: Oracle, indices: Sequence[int], floor: float = AMBIGUOUS
) -> list[str]:
    """Judge every pair of `indices` directly; report pairs reaching `floor` that the
    candidate index did not surface (the index's losses) or labelled differently."""
    sub = Oracle([oracle.docs[i] for i in indices])
    indexed = {(p.a, p.b): p for p in sub.label_pairs(floor=0.0, workers=1)}
    problems = []
    for i in range(len(sub.docs)):
        for j in range(i + 1, len(sub.docs)):
            direct = judge_docs(i, j, sub.docs[i], sub.docs[j], floor)
            got = indexed.get((i, j))
            if direct.coverage >= floor and (got is None or got.label != direct.label):
                problems.append(
                    f"{sub.docs[i].id} / {sub.docs[j].id}: direct {direct.label} "
                    f"{direct.coverage:.3f}, index {got.label if got else 'not a candidate'}"
                )
    return problems
