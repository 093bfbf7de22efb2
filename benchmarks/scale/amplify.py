"""Amplify the VNTC news corpus into a large, realistic near-duplicate benchmark corpus.

VNTC has 84k articles; scale benchmarks need millions of documents that behave like a news
crawl. Repeating VNTC verbatim would turn every extra document into an exact duplicate, and
random text has none of the statistics of real Vietnamese (token frequencies, lengths,
paragraphs, punctuation). So the corpus is built from VNTC itself, read at run time from
``../shared/data/vntc.jsonl.zst`` (no text is copied into the project), in two kinds:

* **Distinct documents** (~75%): a VNTC article, taken in turn (the corpus is cycled through),
  its sentences after the first shuffled (paragraph sizes kept) and ~40% of its words replaced
  by words drawn from the corpus's own unigram distribution. Two distinct documents built from
  the same article then each keep one of its 5-grams with probability ~0.6^5, so they share
  well under 1% of their word 5-grams (Jaccard ~0.003): a deduplicator must keep them all, however
  many times the base corpus is cycled. Lengths and paragraphing are the base's.
* **Reposts** (~25%): copies of a distinct document emitted shortly before, in families of
  geometric size (mean ~3 copies, at most 50), each republished by one of ~200 invented sites
  with random perturbations of the kinds scraped news really shows: light word edits (1-3%),
  trimmed first/last paragraphs, an appended paragraph of another story, Unicode re-encodings
  (NFD, old/new tone placement such as hòa/hoà and thủy/thuỷ, zero-width spaces) and the site's
  chrome (header/menu lines; "Tin liên quan" headlines and copyright/licence footer lines). All
  chrome strings are generated here; none are taken from real sites.

Speed: documents are generated in blocks, in token space. The corpus is tokenised once (Arrow
splits and dictionary-encodes it in C) into word ids; a block's distinct documents are one
vectorised gather + replacement over all of its tokens, reposts are a few array operations
each, and the text is assembled by joining pre-escaped JSON fragments of each word, so no
per-character (or, mostly, per-word) Python runs and no JSON encoder is needed. Compression
runs in zstd's own worker thread, outside the GIL.

Memory is flat in ``--docs`` (~0.6 GB resident, 0.75 GB at the peak of start-up): the tokenised
corpus (~200 MB of word ids) and the vocabulary are fixed, copies are emitted from a
small pool of pending families shortly after their original, and each block's records are
written out at once, to many zstd-compressed JSONL parts (so that readers can parallelise); only
the truth (9 bytes a document) is kept until the end.
``truth.parquet`` gives every record's ``family`` (the sequence number of the family's
original, on the original and on its copies; -1 for a distinct document nobody copied) and
``kind`` (distinct / original / copy). Everything is deterministic given ``--seed``.

    .venv/bin/python benchmarks/scale/amplify.py --docs 1000000 --out /work/scale/amp-1M
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import sys
import time
import unicodedata
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "vntc.jsonl.zst"

DISTINCT_REPLACE = 0.40  # share of a distinct document's words replaced by corpus words
COPY_SHARE = 0.25  # share of the output that are reposts
MEAN_COPIES = 3.0  # geometric family size (copies per original), before the cap
MAX_COPIES = 50
PENDING_TARGET = 256  # copies kept in reserve: bounds memory and how far copies trail originals
RECENT_POOL = 512  # recent distinct documents that lend appended paragraphs and headlines
WORD_POOL = 1 << 20  # corpus positions sampled once: replacement words are drawn from these
N_SITES = 200
BLOCK = 2048  # documents generated together
PROGRESS_EVERY = 100_000
LOAD_CHUNK = 4096  # articles tokenised together at start-up

# Chances of each perturbation of a repost, drawn independently.
P_TRIM, P_EXTEND, P_EDIT = 0.35, 0.30, 0.50
P_TONE, P_ZERO_WIDTH, P_NFD = 0.30, 0.20, 0.15
P_HEADER, P_FOOTER, P_RELATED = 0.60, 0.60, 0.50  # P_RELATED: of the pages with a footer
MIN_KEPT = 0.55  # trimming keeps at least this share of the tokens
MAX_EXTRA = 0.40  # an appended paragraph is at most this long, relative to the document

KIND_NAMES = ("distinct", "original", "copy")
KIND_DISTINCT, KIND_ORIGINAL, KIND_COPY = range(3)

SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
ZERO_WIDTH = "\u200b".encode()
LINE_START = np.arange(64) == 0  # paragraph-start flags of a short line, sliced to its length
LINE_REST = np.zeros(64, dtype=bool)

# ------------------------------------------------------------------------- tone placement

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def _tone_table() -> dict[str, str]:
    """Old <-> new tone placement for the open syllables ending in oa, oe, uy (hòa <-> hoà)."""
    table: dict[str, str] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in TONE_MARKS:
            old = unicodedata.normalize("NFC", first + tone) + second
            new = first + unicodedata.normalize("NFC", second + tone)
            for a, b in ((old, new), (old.upper(), new.upper())):
                table[a], table[b] = b, a
    return table


TONE_SWAP = _tone_table()
# Only at the end of a word (hoàng, ngoài and khuya are not open syllables) and never after q,
# where u belongs to the onset and both styles agree (quý).
TONE_PATTERN = re.compile("(?<![qQ])(?:" + "|".join(TONE_SWAP) + r")(?!\w)")


def toggle_tone_style(text: str) -> str:
    return TONE_PATTERN.sub(lambda m: TONE_SWAP[m.group(0)], text)


# ------------------------------------------------------------------------------- vocabulary


class Vocabulary:
    """Word ids for every whitespace token of the corpus and of the generated chrome.

    ``freeze`` renumbers the words by corpus frequency (so that the pieces of common words sit
    together in memory, which makes the text assembly markedly faster) and then holds, per id,
    the word's JSON-escaped UTF-8 followed by a space or by an escaped newline (what the text
    assembly joins), whether it ends a sentence, the id of its other tone style and its URL
    slug.
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.pieces = np.empty(0, dtype=object)
        self.ends_sentence = np.zeros(0, dtype=bool)
        self.tone = np.zeros(0, dtype=np.int32)
        self.slug_parts = np.empty(0, dtype=object)

    def __len__(self) -> int:
        return len(self.words)

    def add(self, word: str) -> int:
        found = self.ids.get(word)
        if found is None:
            found = self.ids[word] = len(self.words)
            self.words.append(word)
        return found

    def encode(self, line: str) -> np.ndarray:
        return np.array([self.add(w) for w in line.split()], dtype=np.int32)

    def freeze(self, tokens: np.ndarray) -> None:
        """Complete the vocabulary, renumbering the word ids in ``tokens`` (in place)."""
        for word in list(self.words):  # tone variants join the vocabulary first
            if TONE_PATTERN.search(word):
                self.add(toggle_tone_style(word))
        order = np.argsort(-np.bincount(tokens, minlength=len(self.words)), kind="stable")
        renumber = np.empty(len(order), dtype=np.int32)
        renumber[order] = np.arange(len(order), dtype=np.int32)
        self.words = [self.words[i] for i in order.tolist()]
        self.ids = {word: i for i, word in enumerate(self.words)}
        self.tone = np.arange(len(self.words), dtype=np.int32)
        for i, word in enumerate(self.words):
            if TONE_PATTERN.search(word):
                self.tone[i] = self.ids[toggle_tone_style(word)]
        escaped = [orjson.dumps(w)[1:-1] for w in self.words]
        self.pieces = np.array(
            [e + b" " for e in escaped] + [e + b"\\n" for e in escaped], dtype=object
        )
        self.ends_sentence = np.array([bool(SENTENCE_END.search(w)) for w in self.words])
        # URL slug of every word: accents stripped, lowercase ASCII; "" if nothing is left.
        folded = pc.utf8_normalize(
            pc.replace_substring(pc.replace_substring(pa.array(self.words), "đ", "d"), "Đ", "D"),
            "NFD",
        )
        bare = pc.replace_substring_regex(folded, r"\p{Mn}+", "")  # the accents, split off
        slugged = pc.replace_substring_regex(pc.utf8_lower(bare), r"[^a-z0-9]+", "-")
        self.slug_parts = np.array(pc.utf8_trim(slugged, "-").to_pylist(), dtype=object)
        for at in range(0, len(tokens), 1 << 22):
            tokens[at : at + (1 << 22)] = renumber[tokens[at : at + (1 << 22)]]

    def slugs(self, ids: np.ndarray, offsets: np.ndarray, words: int = 10) -> list[str]:
        """URL slugs of the documents ``ids[offsets[i]:offsets[i + 1]]``: their first words."""
        at = offsets[:-1, None] + np.arange(words)
        beyond = at >= offsets[1:, None]
        parts = self.slug_parts[ids[np.minimum(at, len(ids) - 1)]]
        parts[beyond] = ""
        return ["-".join(filter(None, row)) or "bai-viet" for row in parts.tolist()]


# ----------------------------------------------------------------------------------- corpus


def read_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh), 1 << 20)


def ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of range(s, s + n) for each (s, n)."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths - starts, lengths)


@dataclass
class Corpus:
    """The source articles as word ids, cut into sentences.

    ``tokens`` are all words of all articles; sentence ``s`` is ``tokens[sent_off[s]:
    sent_off[s + 1]]`` and starts a paragraph if ``sent_para[s]``; article ``d`` is sentences
    ``doc_sent[d]:doc_sent[d + 1]``.
    """

    tokens: np.ndarray
    sent_off: np.ndarray
    sent_para: np.ndarray
    doc_sent: np.ndarray

    def __len__(self) -> int:
        return len(self.doc_sent) - 1

    @classmethod
    def load(cls, path: Path, vocab: Vocabulary) -> Corpus:
        token_parts: list[np.ndarray] = []
        para_parts: list[np.ndarray] = []
        doc_lengths: list[np.ndarray] = []
        texts: list[str] = []

        def tokenise() -> None:
            paragraphs = pc.split_pattern(pa.array(texts, type=pa.large_string()), "\n")
            doc_of = np.repeat(np.arange(len(texts)), pc.list_value_length(paragraphs).to_numpy())
            trimmed = pc.utf8_trim_whitespace(paragraphs.flatten())
            keep = pc.greater(pc.utf8_length(trimmed), 0)
            words = pc.utf8_split_whitespace(trimmed.filter(keep))  # no empty words now
            encoded = words.flatten().dictionary_encode()
            lookup = np.array([vocab.add(w) for w in encoded.dictionary.to_pylist()], np.int32)
            ids = lookup[encoded.indices.to_numpy()]
            para_lengths = pc.list_value_length(words).to_numpy()
            para = np.zeros(len(ids), dtype=bool)
            para[np.cumsum(para_lengths) - para_lengths] = True
            doc_of = doc_of[keep.to_numpy(zero_copy_only=False)]
            lengths = np.bincount(doc_of, weights=para_lengths, minlength=len(texts))
            token_parts.append(ids)
            para_parts.append(para)
            doc_lengths.append(lengths.astype(np.int64))
            texts.clear()

        for line in read_lines(path):
            texts.append(orjson.loads(line).get("text") or "")
            if len(texts) == LOAD_CHUNK:
                tokenise()
        if texts:
            tokenise()
        if not token_parts or not sum(len(t) for t in token_parts):
            raise SystemExit(f"no words in {path}")
        tokens = np.concatenate(token_parts)
        para = np.concatenate(para_parts)
        lengths = np.concatenate(doc_lengths)
        token_parts.clear()
        para_parts.clear()
        pa.default_memory_pool().release_unused()
        return cls.from_tokens(tokens, para, lengths[lengths > 0], vocab)

    @classmethod
    def from_tokens(
        cls, tokens: np.ndarray, para: np.ndarray, doc_lengths: np.ndarray, vocab: Vocabulary
    ) -> Corpus:
        vocab.freeze(tokens)
        starts = para.copy()
        starts[1:] |= vocab.ends_sentence[tokens[:-1]]
        sent_off = np.flatnonzero(starts)
        doc_tok = np.concatenate([[0], np.cumsum(doc_lengths)])
        doc_sent = np.searchsorted(sent_off, doc_tok)
        sent_off = np.append(sent_off, len(tokens)).astype(np.int64)
        return cls(tokens, sent_off, para[sent_off[:-1]], doc_sent)

    def distinct(
        self, bases: np.ndarray, pool: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct documents from articles ``bases``: word ids, paragraph starts, offsets.

        Sentences after each article's first are shuffled (a paragraph keeps its number of
        sentences) and ``DISTINCT_REPLACE`` of the words are replaced by draws from ``pool``.
        """
        counts = self.doc_sent[bases + 1] - self.doc_sent[bases]
        sentences = ragged_arange(self.doc_sent[bases], counts)
        doc_of = np.repeat(np.arange(len(bases)), counts)
        key = rng.random(len(sentences))
        key[np.cumsum(counts) - counts] = -1.0  # the title/lead sentence stays first
        shuffled = sentences[np.lexsort((key, doc_of))]
        lengths = self.sent_off[shuffled + 1] - self.sent_off[shuffled]
        ids = self.tokens[ragged_arange(self.sent_off[shuffled], lengths)]
        para = np.zeros(len(ids), dtype=bool)
        para[(np.cumsum(lengths) - lengths)[self.sent_para[sentences]]] = True
        u = rng.random(len(ids))
        hit = u < DISTINCT_REPLACE
        draws = (u[hit] * (len(pool) / DISTINCT_REPLACE)).astype(np.int64)  # u | hit: uniform
        ids[hit] = pool[np.minimum(draws, len(pool) - 1)]
        doc_tokens = np.bincount(doc_of, weights=lengths, minlength=len(bases)).astype(np.int64)
        return ids, para, np.concatenate([[0], np.cumsum(doc_tokens)])


# -------------------------------------------------------------------------------- the sites

NAME_A = ["Tin", "Báo", "Nhật Báo", "Thời Báo", "Bản Tin", "Điểm Tin", "Trang Tin", "Tuần Báo"]
NAME_B = [
    "Phố Biển",
    "Sông Hồng",
    "Miền Tây",
    "Bình Minh",
    "Ánh Dương",
    "Quê Hương",
    "Đất Việt",
    "Sao Khuê",
    "Hải Đăng",
    "Trường Sơn",
    "Cửu Long",
    "Hoa Sen",
    "Thủ Đô",
    "Duyên Hải",
    "Tây Nguyên",
    "Ngày Mới",
]
SLOGANS = [
    "Tin nhanh mỗi ngày",
    "Cập nhật tin tức 24 giờ",
    "Thông tin chính xác, kịp thời",
    "Tiếng nói của bạn đọc",
    "Đọc nhanh, hiểu đúng",
    "Nhịp sống mỗi ngày",
]
SECTIONS = [
    "Thời sự",
    "Thế giới",
    "Kinh tế",
    "Xã hội",
    "Pháp luật",
    "Giáo dục",
    "Sức khỏe",
    "Văn hóa",
    "Giải trí",
    "Thể thao",
    "Công nghệ",
    "Du lịch",
    "Xe",
    "Bạn đọc",
    "Đời sống",
    "Nhà đất",
    "Ảnh",
    "Video",
]
SEPARATORS = ["|", "-", "•", "/"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Thanh", "Đức", "Ngọc", "Hữu", "Kim", "Xuân"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Lan", "Long", "Mai", "Nam", "Phúc", "Tâm"]
STREETS = ["Lý Thường Kiệt", "Trần Hưng Đạo", "Lê Lợi", "Hai Bà Trưng", "Nguyễn Huệ", "Quang Trung"]
CITIES = ["Hà Nội", "TP Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế", "Nha Trang"]
RELATED_TITLES = ["Tin liên quan:", "Tin liên quan", "TIN LIÊN QUAN", "Xem thêm:", "Đọc thêm:"]


@dataclass(frozen=True)
class Site:
    """An invented news site: its domain and the fixed chrome lines of every page it serves."""

    domain: str
    header: tuple[str, ...]
    footer: tuple[str, ...]
    related: str
    bullet: str


def make_sites(rng: np.random.Generator, n: int = N_SITES) -> list[Site]:
    def pick(items: list[str]) -> str:
        return items[int(rng.integers(len(items)))]

    sites = []
    for i in range(n):
        shape = rng.random()
        name = f"{pick(NAME_A)} {pick(NAME_B)}"
        if shape < 0.6:
            domain = f"bao{i}.vn"
        elif shape < 0.85:
            domain = f"tintuc{i}.com.vn"
        else:
            domain = f"{pick(['nhipsong', 'dongchay', 'gocnhin', 'bantin'])}{i}.net.vn"
        sep = f" {pick(SEPARATORS)} "
        menu = ["Trang chủ", *rng.choice(SECTIONS, size=int(rng.integers(6, 11)), replace=False)]
        header = [sep.join(menu)]
        if rng.random() < 0.6:
            header.insert(0, f"{name} - {pick(SLOGANS)}")
        if rng.random() < 0.3:
            header.append(sep.join(["Đăng nhập", "Đăng ký", "Liên hệ quảng cáo"]))
        year = int(rng.integers(1995, 2016))
        footer = [
            f"© {year} - 2024 {name}. Giữ bản quyền nội dung."
            if rng.random() < 0.5
            else f"Bản quyền thuộc về {name}. Ghi rõ nguồn {domain} khi phát hành lại thông tin.",
            f"Giấy phép số {int(rng.integers(10, 600))}/GP-BTTTT cấp ngày "
            f"{int(rng.integers(1, 29))}/{int(rng.integers(1, 13))}/{year + 1}.",
        ]
        if rng.random() < 0.7:
            footer.append(f"Tổng biên tập: {pick(SURNAMES)} {pick(MIDDLE)} {pick(GIVEN)}")
        if rng.random() < 0.7:
            footer.append(
                f"Tòa soạn: số {int(rng.integers(1, 300))} {pick(STREETS)}, {pick(CITIES)}. "
                f"Điện thoại: 0{int(rng.integers(20, 300))} {int(rng.integers(10**6, 10**7))}. "
                f"Email: toasoan@{domain}"
            )
        if rng.random() < 0.4:
            footer.insert(0, sep.join(["Chia sẻ", "Facebook", "Zalo", "Gửi email", "In bài"]))
        bullet = pick(["-", "•", "+", ""])
        sites.append(Site(domain, tuple(header), tuple(footer), pick(RELATED_TITLES), bullet))
    return sites


@dataclass
class Lines:
    """Whole lines as word ids with paragraph starts, ready to join a document."""

    ids: np.ndarray
    para: np.ndarray

    @classmethod
    def of(cls, lines: tuple[str, ...] | list[str], vocab: Vocabulary) -> Lines:
        parts = [vocab.encode(line) for line in lines]
        parts = [p for p in parts if len(p)]
        para = [np.arange(len(p)) == 0 for p in parts]
        return cls(np.concatenate(parts), np.concatenate(para))


@dataclass
class Chrome:
    """A site's chrome as word ids."""

    domain: str
    header: Lines
    footer: Lines
    related: Lines
    bullet: np.ndarray  # starts each related headline (may be empty)


def chrome_of(site: Site, vocab: Vocabulary) -> Chrome:
    return Chrome(
        site.domain,
        Lines.of(site.header, vocab),
        Lines.of(site.footer, vocab),
        Lines.of([site.related], vocab),
        vocab.encode(site.bullet),
    )


# -------------------------------------------------------------------------------- documents


@dataclass
class Family:
    """A distinct document waiting for its reposts (its words are set once it is generated)."""

    number: int
    remaining: int
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    para: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # paragraphs
    slug: str = ""


@dataclass(slots=True)
class Doc:
    """One output document of a block, before assembly."""

    number: int
    ids: np.ndarray
    para: np.ndarray
    url: str = ""
    zero_width: bool = False
    nfd: bool = False


def insert_zero_width(text: bytes, rng: np.random.Generator) -> bytes:
    """Zero-width spaces after some words and inside others (escaped JSON text in and out)."""
    spaces = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == 0x20)
    if not len(spaces):
        return text
    k = int(rng.binomial(len(spaces), 1 / 40)) + 1
    chosen = np.unique(spaces[rng.integers(0, len(spaces), k)]).tolist()
    inside = (rng.random(len(chosen)) < 0.4).tolist()
    out: list[bytes] = []
    prev = 0
    for pos, within in zip(chosen, inside, strict=True):
        cut = pos
        lead = text[pos + 1]
        if within and lead != 0x5C:  # after the next word's first character (not an escape)
            cut = pos + 2 + (lead >= 0xC0) + (lead >= 0xE0) + (lead >= 0xF0)
        out += (text[prev:cut], ZERO_WIDTH)
        prev = cut
    out.append(text[prev:])
    return b"".join(out)


class Generator:
    """The document stream: plans each block (which slots are copies of which original),
    generates its distinct documents in one vectorised pass, then its reposts, then joins
    every document's text from the vocabulary's escaped pieces."""

    def __init__(self, corpus: Corpus, vocab: Vocabulary, sites: list[Site], seed: int) -> None:
        self.corpus, self.vocab = corpus, vocab
        self.rng = np.random.default_rng(seed)
        self.chrome = [chrome_of(s, vocab) for s in sites]
        self.pool = corpus.tokens[self.rng.integers(0, len(corpus.tokens), WORD_POOL)]
        self.next_base = 0
        self.pending: list[Family] = []
        self.pending_copies = 0
        self.copies = 0
        self.distinct = 0
        self.recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=RECENT_POOL)

    # ---- one block

    def block(self, start: int, stop: int) -> tuple[list[bytes], list[tuple[int, int, int]]]:
        """Records ``start``..``stop - 1`` as JSONL lines, with (number, family, kind) each."""
        rng = self.rng
        size = stop - start
        sites = rng.integers(0, len(self.chrome), size).tolist()
        picks = rng.random(size).tolist()
        plan: list[Family | None] = []  # the family a copy slot copies; None: a distinct doc
        new: list[Family | None] = []  # for distinct slots: the family it founds, if any
        truth: list[tuple[int, int, int]] = []
        for i in range(size):
            n = start + i
            if self.copies < COPY_SHARE * (n + 1) and self.pending:
                j = int(picks[i] * len(self.pending))
                fam = self.pending[j]
                plan.append(fam)
                fam.remaining -= 1
                self.pending_copies -= 1
                if fam.remaining == 0:
                    self.pending[j] = self.pending[-1]
                    self.pending.pop()
                self.copies += 1
                truth.append((n, fam.number, KIND_COPY))
            else:
                plan.append(None)
                founded = None
                if self.pending_copies < PENDING_TARGET:
                    copies = min(int(rng.geometric(1 / MEAN_COPIES)), MAX_COPIES)
                    founded = Family(n, copies)
                    self.pending.append(founded)
                    self.pending_copies += copies
                new.append(founded)
                self.distinct += 1
                truth.append((n, n if founded else -1, KIND_ORIGINAL if founded else KIND_DISTINCT))

        n_distinct = len(new)
        bases = (self.next_base + np.arange(n_distinct)) % len(self.corpus)
        self.next_base = (self.next_base + n_distinct) % len(self.corpus)
        ids, para, off = self.corpus.distinct(bases, self.pool, rng)
        slugs = self.vocab.slugs(ids, off)
        docs: list[Doc] = []
        d = 0
        for i, fam in enumerate(plan):
            n = start + i
            chrome = self.chrome[sites[i]]
            if fam is None:
                a, b = int(off[d]), int(off[d + 1])
                slug = slugs[d]
                doc = Doc(n, ids[a:b], para[a:b], f"https://{chrome.domain}/{slug}-{n}.html")
                founded = new[d]
                if founded is not None:
                    founded.ids, founded.para = doc.ids.copy(), doc.para.copy()
                    founded.starts, founded.slug = np.flatnonzero(doc.para), slug
                self.recent.append((doc.ids, doc.para))
                d += 1
            else:
                doc = self.repost(n, fam, chrome)
            docs.append(doc)
        return self.assemble(docs), truth

    # ---- reposts

    def repost(self, n: int, fam: Family, chrome: Chrome) -> Doc:
        """A copy of ``fam``'s original as ``chrome``'s site republishes it, perturbed."""
        u = self.rng.random(20).tolist()
        ids, para, starts = fam.ids, fam.para, fam.starts
        total = len(ids)
        if u[0] < P_TRIM and len(starts) >= 3:  # drop the first or last paragraph(s)
            k = 2 if len(starts) >= 6 and u[1] < 0.3 else 1
            if u[2] < 0.4 and total - starts[k] >= MIN_KEPT * total:
                ids, para = ids[starts[k] :], para[starts[k] :]
            elif u[2] >= 0.4 and starts[-k] >= MIN_KEPT * total:
                ids, para = ids[: starts[-k]], para[: starts[-k]]
        if u[3] < P_EXTEND:  # append a paragraph of another recent story
            donor_ids, donor_para = self.recent[int(u[4] * len(self.recent))]
            cuts = np.append(np.flatnonzero(donor_para), len(donor_ids))
            j = int(u[5] * (len(cuts) - 1))
            if cuts[j + 1] - cuts[j] <= MAX_EXTRA * total:
                ids = np.concatenate([ids, donor_ids[cuts[j] : cuts[j + 1]]])
                para = np.concatenate([para, donor_para[cuts[j] : cuts[j + 1]]])
        if u[6] < P_EDIT:
            ids, para = self.edit(ids, para, 0.01 + 0.02 * u[7])
        if u[8] < P_TONE:
            ids = self.vocab.tone[ids]
        ids_parts, para_parts = [ids], [para]
        if u[9] < P_HEADER:
            ids_parts.insert(0, chrome.header.ids)
            para_parts.insert(0, chrome.header.para)
        if u[10] < P_FOOTER:
            if u[11] < P_RELATED:  # "Tin liên quan": openings of three recent stories
                ids_parts.append(chrome.related.ids)
                para_parts.append(chrome.related.para)
                for pick, length in zip(u[12:15], u[15:18], strict=True):
                    other = self.recent[int(pick * len(self.recent))][0]
                    head = other[: 7 + int(length * 8)]  # 7-14 words
                    ids_parts += (chrome.bullet, head)
                    if len(chrome.bullet):
                        para_parts += (LINE_START[: len(chrome.bullet)], LINE_REST[: len(head)])
                    else:
                        para_parts.append(LINE_START[: len(head)])
            ids_parts.append(chrome.footer.ids)
            para_parts.append(chrome.footer.para)
        doc = Doc(n, np.concatenate(ids_parts), np.concatenate(para_parts))
        doc.url = f"https://{chrome.domain}/{fam.slug}-{n}.html"
        doc.zero_width, doc.nfd = u[18] < P_ZERO_WIDTH, u[19] < P_NFD
        return doc

    def edit(self, ids: np.ndarray, para: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
        """Change ``rate`` of the words: 70% substituted, 15% deleted, 15% followed by a new one.

        Returns new arrays (the family's own are never written to)."""
        k = max(1, round(len(ids) * rate))
        r = self.rng.random(3 * k)
        spots, op = (r[:k] * len(ids)).astype(np.int64), r[k : 2 * k]
        counts = np.ones(len(ids), dtype=np.int64)
        counts[spots[(op >= 0.70) & (op < 0.85) & ~para[spots]]] = 0  # paragraph starts stay
        counts[spots[op >= 0.85]] = 2
        new_ids, new_para = np.repeat(ids, counts), np.repeat(para, counts)
        last = np.cumsum(counts) - 1  # where each old word's last copy lands
        inserted = last[counts == 2]
        replaced = last[spots[(op < 0.70) & (counts[spots] > 0)]]
        changed = np.concatenate([inserted, replaced])
        new_para[inserted] = False
        new_ids[changed] = self.pool[(r[2 * k : 2 * k + len(changed)] * len(self.pool)).astype(int)]
        return new_ids, new_para

    # ---- text

    def assemble(self, docs: list[Doc]) -> list[bytes]:
        """JSONL lines: every word's escaped piece (with its space or newline) joined."""
        ids = np.concatenate([doc.ids for doc in docs])
        para = np.concatenate([doc.para for doc in docs])
        ends = np.cumsum([len(doc.ids) for doc in docs])
        newline = np.zeros(len(ids), dtype=bool)
        newline[:-1] = para[1:]
        newline[ends - 1] = False
        pieces = self.vocab.pieces[ids + newline * len(self.vocab)].tolist()
        lines = []
        a = 0
        for doc, b in zip(docs, ends.tolist(), strict=True):
            text = b"".join(pieces[a:b])[:-1]
            a = b
            if doc.zero_width:
                text = insert_zero_width(text, self.rng)
            if doc.nfd:
                text = unicodedata.normalize("NFD", text.decode()).encode()
            lines.append(
                b'{"id":"s%08d","url":"%s","text":"%s"}\n' % (doc.number, doc.url.encode(), text)
            )
        return lines


# ----------------------------------------------------------------------------------- output


class PartWriter:
    """JSONL lines into DIR/part-NNNNN.jsonl.zst, at most ``per_file`` lines a part.

    One zstd frame per part. The compressor runs in zstd's own worker thread (``threads=1``),
    outside the GIL, so the generator's thread only hands it the bytes.
    """

    def __init__(self, out: Path, per_file: int, level: int = 3) -> None:
        self.out, self.per_file = out, per_file
        self.cctx = zstandard.ZstdCompressor(level=level, threads=1)
        self.parts = 0
        self.in_part = 0
        self.bytes_written = 0
        self.fh: io.BufferedWriter | None = None
        self.stream: zstandard.ZstdCompressionWriter | None = None

    def write(self, lines: list[bytes]) -> None:
        while lines:
            if self.stream is None:
                self.fh = (self.out / f"part-{self.parts:05d}.jsonl.zst").open("wb")
                self.stream = self.cctx.stream_writer(self.fh, closefd=False)
            take = lines[: self.per_file - self.in_part]
            lines = lines[len(take) :]
            self.stream.write(b"".join(take))
            self.in_part += len(take)
            if self.in_part == self.per_file:
                self.close()

    def close(self) -> None:
        if self.stream is None or self.fh is None:
            return
        self.stream.close()
        self.bytes_written += self.fh.tell()
        self.fh.close()
        self.stream, self.fh = None, None
        self.parts += 1
        self.in_part = 0


# ------------------------------------------------------------------------------------- main


def rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(source: Path, out: Path, docs: int, per_file: int, seed: int) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("part-*.jsonl.zst"):
        stale.unlink()
    t0, cpu0 = time.perf_counter(), time.process_time()
    vocab = Vocabulary()
    sites = make_sites(np.random.default_rng([seed, 1]))
    for site in sites:  # chrome words join the vocabulary before it is frozen
        for line in (*site.header, *site.footer, site.related, site.bullet):
            vocab.encode(line)
    corpus = Corpus.load(source, vocab)
    gen = Generator(corpus, vocab, sites, seed)
    setup = time.perf_counter() - t0
    print(
        f"corpus: {len(corpus):,} articles, {len(corpus.tokens):,} words, "
        f"vocabulary {len(vocab):,}; set up in {setup:.1f} s",
        file=sys.stderr,
    )

    writer = PartWriter(out, per_file)
    family = np.full(docs, -1, dtype=np.int64)
    kind = np.zeros(docs, dtype=np.int8)
    t1, cpu1, main1 = time.perf_counter(), time.process_time(), time.thread_time()
    for start in range(0, docs, BLOCK):
        stop = min(start + BLOCK, docs)
        lines, truth = gen.block(start, stop)
        writer.write(lines)
        rows = np.array(truth, dtype=np.int64)
        family[rows[:, 0]], kind[rows[:, 0]] = rows[:, 1], rows[:, 2]
        if stop // PROGRESS_EVERY > start // PROGRESS_EVERY or stop == docs:
            elapsed = time.perf_counter() - t1
            print(
                f"{stop:>12,} docs  {stop / elapsed:>8,.0f} docs/s  "
                f"copies {gen.copies / stop:.3f}  pending families {len(gen.pending):>4}  "
                f"RSS {rss_mb():,.0f} MB",
                file=sys.stderr,
            )
    writer.close()
    wall, cpu = time.perf_counter() - t1, time.process_time() - cpu1
    main_cpu = time.thread_time() - main1

    # Originals whose copies never came (the stream ended first) are plain distinct documents.
    copied = np.zeros(docs, dtype=bool)
    copied[family[kind == KIND_COPY]] = True
    lonely = (kind == KIND_ORIGINAL) & ~copied
    family[lonely], kind[lonely] = -1, KIND_DISTINCT
    kinds = pa.DictionaryArray.from_arrays(pa.array(kind), pa.array(KIND_NAMES))
    table = pa.table(
        {
            "id": pa.array([f"s{n:08d}" for n in range(docs)]),
            "family": pa.array(family),
            "kind": kinds.cast(pa.string()),
        }
    )
    pq.write_table(table, out / "truth.parquet", compression="zstd")

    summary: dict[str, object] = {
        "docs": docs,
        "distinct": gen.distinct,
        "copies": gen.copies,
        "families": int((kind == KIND_ORIGINAL).sum()),
        "parts": writer.parts,
        "files_of": per_file,
        "seed": seed,
        "source": str(source),
        "setup_s": round(setup, 1),
        "generate_s": round(wall, 1),
        "docs_per_s": round(docs / wall),
        "docs_per_cpu_s": round(docs / cpu),  # all threads: generator + zstd worker
        "docs_per_main_cpu_s": round(docs / main_cpu),  # the generator's thread alone
        "peak_rss_mb": round(peak_rss_mb()),
        "total_s": round(time.perf_counter() - t0, 1),
        "total_cpu_s": round(time.process_time() - cpu0, 1),
        "compressed_bytes": writer.bytes_written,
    }
    (out / "amplify.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), file=sys.stderr)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--docs", type=int, required=True, help="records to write")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--files-of", type=int, default=50_000, help="records per part file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="VNTC .jsonl.zst")
    args = parser.parse_args()
    if args.docs <= 0 or args.files_of <= 0:
        parser.error("--docs and --files-of must be positive")
    generate(args.source, args.out, args.docs, args.files_of, args.seed)


if __name__ == "__main__":
    main()
