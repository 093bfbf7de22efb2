"""Boilerplate learned from the corpus: lines that recur across many documents of one source.

Single-document rules catch the usual headers; every site also has chrome of its own (menus,
house bylines, cookie notices, footers) that repeats across its pages. A first pass counts, per
source (site), in how many documents each normalised line occurs; a line seen in at least
``threshold(n)`` of the source's ``n`` documents is chrome there:

    threshold(n) = max(min_docs, ceil(fraction * n))

so a line must recur both absolutely (``min_docs``, default 5: a story reposted twice on one
site is not chrome) and relatively (``fraction``, default 2%: on a 100k-page site, 2,000 pages).
Pages are counted as *distinct articles*, not as documents: chrome is what a site puts around
different articles, so each page counts once per article fingerprint (the key of its longest
line, almost always body text). A story the site published six times under six URLs counts
once, and its paragraphs stay; copies are dedup's business, not the cleaner's.
A one-word line ("Video", but also a table header such as "Đội") must reach 20% of the pages,
and lines with no letter (numbers, table cells) or over 300 characters are never chrome. A
source with fewer than 20 documents learns nothing: so few pages say nothing about a template.

Unlike CCNet, which drops every repeated line including its first occurrence, a page's head
(the lines before its first body paragraph) loses only lines that sit in the head of many pages
(site name, menu): a page's title that shows up in other pages' "related" lists is removed from
those lists, not from its own page. Chrome also has a place: before the article body,
after it, or as a block inside it; a lone recurring line between two paragraphs (a Q&A
"Trả lời:", a recipe's "Nguyên liệu:") is the article's own format and stays. And a document
is never emptied: if every line but the title would go (a page that is itself a copy of
another), nothing goes.

Memory is bounded for any corpus size: lines are counted in a count-min sketch (fixed size),
and only the lines whose sketch estimate reaches the threshold are counted exactly, in a second
look at the per-batch line keys (kept on disk, 8 bytes per distinct line per document).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np
import xxhash

from tinlap.core.sketch import GOLDEN, mix64
from tinlap.records import Record

RULE = "learned_boilerplate"


_LETTER = re.compile(r"[^\W\d_]")
MIN_SOURCE_DOCS = 20  # fewer pages than this say nothing about a site's template
MAX_LINE_CHARS = 300  # chrome is short; skipping long lines keeps both passes cheap
SINGLE_WORD_FRACTION = 0.2  # a one-word line ("Video", "Đội") must be on 20% of a site's pages


def line_key(line: str) -> tuple[int, bool] | None:
    """64-bit key of a line that may be chrome, and whether it is a single word; else None.

    Case folded and whitespace collapsed, digits kept (callers pass NFC text). Lines longer
    than ``MAX_LINE_CHARS`` and lines without a letter (numbers, table cells such as "10") are
    never chrome.
    """
    if len(line) > MAX_LINE_CHARS:
        return None
    words = line.casefold().split()
    if not words or not _LETTER.search(line):
        return None
    return xxhash.xxh3_64_intdigest(" ".join(words).encode("utf-8")), len(words) == 1


# Templated chrome: lines whose varying parts are numbers, dates, times and names (a byline with
# its timestamp, "Thứ Hai, 12/3/2024 08:15 (GMT+7)", "123 lượt xem", "Thích 45 | Chia sẻ"). No
# two are identical, so each is also counted under a template key: dates, times and digit runs
# masked, and in byline-shaped lines (with a date or time, or a byline cue) the capitalised
# word runs (names, weekdays) too. A template is chrome under the same thresholds as a line.
MAX_TEMPLATE_WORDS = 14  # bylines, stamps and counters are short; longer lines are prose
MIN_TEMPLATE_WORDS = 3  # "8Hải Phòng", "10/2", "2-1": table cells, not templates
_T_DATE = re.compile(
    r"(?<![\d.,])(?:\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?|\d{4}-\d{2}-\d{2})(?!\d|[.,]\d)"
)
_T_TIME = re.compile(r"\d{1,2}\s*[:h]\s*\d{2}(?::\d{2})?")
_T_DIGITS = re.compile(r"\d[\d.,]*")
_DIGIT = re.compile(r"\d")
# A name: two to four capitalised words ("Trần Lưu", "Thứ Hai", "Nguyễn Thị Minh Anh").
_T_NAME = re.compile(r"(?<!\w)[^\W\d_]*[A-ZĐÀ-ỸÁ]\w*(?:\s+[A-ZĐÀ-Ỹ]\w*){1,3}(?!\w)")
_BYLINE_CUE = re.compile(r"\||•|^(?:bài|ảnh|theo|tác giả|phóng viên|pv|by)\b", re.IGNORECASE)


def template_key(line: str) -> int | None:
    """64-bit key of a line's template, or None when the line has nothing that varies."""
    if len(line) > MAX_LINE_CHARS:
        return None
    # Splitting stops after the limit: a paragraph is not cut into all its words to be refused.
    n_words = len(line.split(None, MAX_TEMPLATE_WORDS))
    if not MIN_TEMPLATE_WORDS <= n_words <= MAX_TEMPLATE_WORDS:
        return None
    has_digit = _DIGIT.search(line) is not None  # a line without \d has nothing to mask
    byline = _BYLINE_CUE.search(line) is not None
    if not has_digit and not byline:
        return None
    masked = _T_TIME.sub("\x01", _T_DATE.sub("\x02", line)) if has_digit else line
    dated = "\x01" in masked or "\x02" in masked
    if dated or byline:
        masked = _T_NAME.sub("\x03", masked)
    masked = _T_DIGITS.sub("\x04", masked)
    if masked == line:
        return None
    words = masked.casefold().split()
    if not _LETTER.search(masked) and not (dated and "\x03" in masked):
        return None  # "12 | 34", "10/2 - 2-1": table cells; a name and a stamp is a byline
    return xxhash.xxh3_64_intdigest(("\x00template " + " ".join(words)).encode("utf-8"))


def source_of(record: Record, source_field: str | None) -> str:
    """The site a document belongs to, for per-source counting.

    In order: ``source_field`` if given, else a ``url`` field's host, else a ``source`` field,
    else the folder of a .txt document's id, else the input file.
    """
    fields = record.fields or {}
    for name in (source_field, "url", "source"):
        if name and fields.get(name) not in (None, ""):
            value = str(fields[name])
            if name == "url" or "://" in value:
                host = urlsplit(value).hostname
                if host:
                    return host.removeprefix("www.")
            return value
    if record.fields is None and "/" in record.id:  # a .txt document: its folder
        return record.id.rsplit("/", 1)[0]
    return record.path


@dataclass(slots=True)
class DocLines:
    """The distinct line keys of a batch of documents (for the learning pass)."""

    sources: list[str]
    keys: np.ndarray  # uint64, per-source combined keys; each document's keys are distinct
    single: np.ndarray  # bool: the line is a single word (must recur more to count as chrome)
    head: np.ndarray  # bool: the line came before the document's first body paragraph
    fingerprints: np.ndarray  # uint64: the article fingerprint of the document owning each key
    owners: np.ndarray  # int64: which document of the batch each key belongs to


def doc_lines(texts: Sequence[str], sources: Sequence[str]) -> DocLines:
    """Line keys of a batch: the per-document work of the learning pass."""
    keys: list[int] = []
    single: list[bool] = []
    head: list[bool] = []
    owners: list[int] = []
    fingerprint = np.zeros(len(texts), dtype=np.uint64)
    for i, text in enumerate(texts):
        seen: set[int] = set()
        lines = text.split("\n")
        longest = max(lines, key=len, default="")
        fingerprint[i] = xxhash.xxh3_64_intdigest(longest.encode("utf-8"))
        in_head = True
        title = True
        for line in lines:
            if not line.strip():
                continue
            in_head = in_head and not _is_body(line)
            found = line_key(line)
            if found is not None and found[0] not in seen:
                seen.add(found[0])
                keys.append(found[0])
                single.append(found[1])
                head.append(in_head)
                owners.append(i)
            template = None if title else template_key(line)  # the title is no instance
            title = False
            if template is not None and template not in seen:
                seen.add(template)
                keys.append(template)
                single.append(False)
                head.append(in_head)
                owners.append(i)
    owner_arr = np.asarray(owners, dtype=np.int64)
    src = np.array([xxhash.xxh3_64_intdigest(s.encode("utf-8")) for s in sources], dtype=np.uint64)
    return DocLines(
        list(sources),
        _combine_per_doc(np.asarray(keys, dtype=np.uint64), src[owner_arr]),
        np.asarray(single, dtype=bool),
        np.asarray(head, dtype=bool),
        fingerprint[owner_arr],
        owner_arr,
    )


def _combine_per_doc(keys: np.ndarray, sources: np.ndarray) -> np.ndarray:
    return mix64(keys ^ mix64(sources))


class CountMinSketch:
    """Fixed-size approximate counter (never under-counts): memory does not grow with the corpus."""

    def __init__(self, width_bits: int = 22, depth: int = 4) -> None:
        self.width_mask = np.uint64((1 << width_bits) - 1)
        self.table = np.zeros((depth, 1 << width_bits), dtype=np.uint32)
        self.seeds = [np.uint64(int(GOLDEN) * (r + 1) & 0xFFFFFFFFFFFFFFFF) for r in range(depth)]

    def _slots(self, keys: np.ndarray, row: int) -> np.ndarray:
        return (mix64(keys ^ self.seeds[row]) & self.width_mask).astype(np.int64)

    def add(self, keys: np.ndarray) -> None:
        for row in range(len(self.seeds)):
            np.add.at(self.table[row], self._slots(keys, row), 1)

    def estimate(self, keys: np.ndarray) -> np.ndarray:
        est = np.full(len(keys), np.iinfo(np.uint32).max, dtype=np.uint32)
        for row in range(len(self.seeds)):
            np.minimum(est, self.table[row][self._slots(keys, row)], out=est)
        return est


@dataclass(slots=True)
class ChromeModel:
    """What the learning pass found: chrome line keys per source, and how it decided."""

    min_docs: int = 5
    fraction: float = 0.02
    docs_per_source: Counter[str] = field(default_factory=Counter)
    chrome: frozenset[int] = frozenset()  # combined (source, line) keys
    head_chrome: frozenset[int] = frozenset()  # chrome that also sits in the head of many pages

    def rule_for(self, source: str) -> LearnedRule:
        return LearnedRule(self, xxhash.xxh3_64_intdigest(source.encode("utf-8")))

    def summary(self) -> dict[str, object]:
        return {
            "min_docs": self.min_docs,
            "fraction": self.fraction,
            "sources": len(self.docs_per_source),
            "chrome_lines": len(self.chrome),
            "head_chrome_lines": len(self.head_chrome),
        }


class LearnedRule:
    """The line rule that applies a ``ChromeModel`` to one document of a known source."""

    name = RULE
    may_drop_title = True

    def __init__(self, model: ChromeModel, source_hash: int) -> None:
        self.model = model
        self.source = np.uint64(source_hash)

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        idx = [i for i, s in enumerate(lines) if s]
        if not idx or not self.model.chrome:
            return
        found = [line_key(lines[i]) for i in idx]
        keys = np.array([f[0] if f else 0 for f in found], dtype=np.uint64)
        source = np.full(len(keys), self.source, dtype=np.uint64)
        combined = _combine_per_doc(keys, source)
        chrome = self.model.chrome
        hits = [
            f is not None and k in chrome for f, k in zip(found, combined.tolist(), strict=True)
        ]
        if chrome:
            # A line that is not chrome itself may fit one of the site's chrome templates; the
            # title (first line) never counts as a template's instance.
            templates = [
                template_key(lines[i]) if n and not hits[n] else None for n, i in enumerate(idx)
            ]
            tkeys = np.array([t or 0 for t in templates], dtype=np.uint64)
            tcombined = _combine_per_doc(tkeys, source).tolist()
            for n, t in enumerate(templates):
                if t is not None and tcombined[n] in chrome:
                    hits[n] = True
                    combined[n] = tcombined[n]
        # In the head (before the first body paragraph) only the site's head chrome goes: the
        # page's own title stays even when other pages list it in their "most read" boxes.
        body = [i for i, hit in zip(idx, hits, strict=True) if not hit and _is_body(lines[i])]
        body_start = body[0] if body else len(lines)
        head_chrome = self.model.head_chrome
        hits = [
            hit and (i > body_start or k in head_chrome)
            for i, hit, k in zip(idx, hits, combined.tolist(), strict=True)
        ]
        hits = _at_the_edges(lines, idx, hits, dropped)
        remaining = [i for i, hit in zip(idx, hits, strict=True) if not hit and dropped[i] is None]
        if not remaining or (len(remaining) == 1 and not _is_body(lines[remaining[0]])):
            return  # nothing but a title would be left: the page is a copy, not chrome
        for i, hit in zip(idx, hits, strict=True):
            if hit and dropped[i] is None:
                dropped[i] = self.name


BODY_WORDS = 15  # a line this long that is not chrome is article text


_SENTENCE_CLOSERS = tuple('.!?…"”»)')


def _is_body(line: str) -> bool:
    """A paragraph of the article: long, and ending like a sentence (a long menu does not)."""
    return (
        line.rstrip().endswith(_SENTENCE_CLOSERS)
        and len(line.split(None, BODY_WORDS)) >= BODY_WORDS
    )


def _at_the_edges(
    lines: Sequence[str], idx: list[int], hits: list[bool], dropped: list[str | None]
) -> list[bool]:
    """Keep only the hits that sit where chrome sits: before the article body, after it, or in
    a block of chrome inside it. A lone recurring line between two paragraphs is the article's
    own format (a Q&A "Trả lời:", a recipe's "Nguyên liệu:", a table header), not site chrome.
    """
    # The page's first line that is not chrome is its title even when it reads like a
    # paragraph (a long headline, a title run into its lead): a byline right after it sits
    # before the body, not inside it.
    own = [i for i, hit in zip(idx, hits, strict=True) if not hit and dropped[i] is None]
    body = [i for i in own[1:] if _is_body(lines[i])]
    if not body:
        return hits
    first, last = body[0], body[-1]
    out = list(hits)
    for k, i in enumerate(idx):
        if not hits[k] or not first < i < last:
            continue
        neighbours = [idx[m] for m in (k - 1, k + 1) if 0 <= m < len(idx)]
        in_block = any(hits[idx.index(j)] or dropped[j] is not None for j in neighbours)
        out[k] = in_block
    return out


class Spill(Protocol):
    """Where the learner parks each batch's line keys until ``finish`` (memory or disk)."""

    def put(self, arrays: dict[str, np.ndarray]) -> None: ...

    def items(self) -> Iterator[dict[str, np.ndarray]]: ...


class MemorySpill:
    """Batches kept in memory: for corpora that fit it, and for tests."""

    def __init__(self) -> None:
        self._batches: list[dict[str, np.ndarray]] = []

    def put(self, arrays: dict[str, np.ndarray]) -> None:
        self._batches.append(arrays)

    def items(self) -> Iterator[dict[str, np.ndarray]]:
        return iter(self._batches)


class ChromeLearner:
    """Builds a ``ChromeModel`` from batches of ``DocLines``, parking their keys in ``spill``
    (the engines hand it a folder on disk, so memory holds only the count-min sketch)."""

    def __init__(
        self, spill: Spill | None = None, min_docs: int = 5, fraction: float = 0.02
    ) -> None:
        self.spill = spill if spill is not None else MemorySpill()
        self.model = ChromeModel(min_docs=min_docs, fraction=fraction)
        self.sketch = CountMinSketch()

    def add(self, batch: DocLines) -> None:
        self.sketch.add(batch.keys)
        self.model.docs_per_source.update(batch.sources)
        sources = np.array(batch.sources, dtype=object)
        self.spill.put(
            {
                "keys": batch.keys,
                "single": batch.single,
                "head": batch.head,
                "fingerprints": batch.fingerprints,
                "src": sources[batch.owners].astype(str),
            }
        )

    def finish(self) -> ChromeModel:
        """Exact counts of distinct articles for the sketch's candidates, then the thresholds."""
        pairs: list[np.ndarray] = []
        head_pairs: list[np.ndarray] = []
        need: dict[int, int] = {}
        for data in self.spill.items():
            keys, single, head = data["keys"], data["single"], data["head"]
            src, fingerprints = data["src"], data["fingerprints"]
            n_docs = np.array([self.model.docs_per_source[s] for s in src.tolist()], dtype=np.int64)
            thresholds = np.maximum(self.model.min_docs, np.ceil(self.model.fraction * n_docs))
            strict = np.ceil(SINGLE_WORD_FRACTION * n_docs)
            thresholds = np.where(single, np.maximum(thresholds, strict), thresholds)
            # A source too small to tell a template from chance learns nothing.
            thresholds = np.where(n_docs < MIN_SOURCE_DOCS, 1 << 62, thresholds).astype(np.int64)
            candidate = self.sketch.estimate(keys) >= thresholds
            need.update(zip(keys[candidate].tolist(), thresholds[candidate].tolist(), strict=True))
            pairs.append(np.stack([keys[candidate], fingerprints[candidate]], axis=1))
            in_head = candidate & head
            head_pairs.append(np.stack([keys[in_head], fingerprints[in_head]], axis=1))
        distinct, distinct_in_head = _distinct_articles(pairs), _distinct_articles(head_pairs)
        self.model.chrome = frozenset(k for k, n in distinct.items() if n >= need[k])
        self.model.head_chrome = frozenset(
            k for k, n in distinct_in_head.items() if k in self.model.chrome and n >= need[k]
        )
        return self.model


def _distinct_articles(pairs: list[np.ndarray]) -> dict[int, int]:
    """For each line key, the number of distinct article fingerprints it was seen with."""
    if not pairs:
        return {}
    unique_pairs = np.unique(np.concatenate(pairs), axis=0)
    lines, counts = np.unique(unique_pairs[:, 0], return_counts=True)
    return dict(zip(lines.tolist(), counts.tolist(), strict=True))


def learn(
    batches: Iterable[DocLines],
    spill: Spill | None = None,
    min_docs: int = 5,
    fraction: float = 0.02,
) -> ChromeModel:
    """Convenience: learn a model from an iterable of batches."""
    learner = ChromeLearner(spill, min_docs, fraction)
    for batch in batches:
        learner.add(batch)
    return learner.finish()
