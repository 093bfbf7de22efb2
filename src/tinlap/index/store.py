"""The incremental index: check new documents against everything seen before.

A folder holding one SQLite database (WAL mode). SQLite was chosen over LMDB by measurement
(``benchmarks/index_stores.py``, results in ``benchmarks/results/index-*.md``): on the index's
workload at 100k documents LMDB added 10-20% faster in two runs of three, lookups cost the
same (~0.17 ms per 64-key query), SQLite takes half the disk, ships with Python, and gives what
the index must guarantee for free: one atomic transaction per add (a crash leaves the index as
before or after that add), one writer at a time (a second one waits, then fails with a clear
message) and any number of concurrent readers.

Tables: ``meta`` (the matching settings frozen at create, a fingerprint of the text
normalisation, counters), ``docs`` (per document: id, 128-bit exact key, cleaned length, the
cleaned text compressed with zstd and the index's dictionary, and the id of the indexed
document it copies, if any), ``dictionaries`` (the zstd dictionary, trained on the first
texts added) and ``buckets`` (32-bit LSH band key -> document, the candidate lookup).

What verification needs of an indexed document is its shingle set, and that is a function of
its cleaned text: the set is rebuilt from the stored text when the document is a candidate
(~0.1 ms), instead of being stored (4 KB a document on VNTC, more than everything else
together). Band keys are stored in 32 bits: 64 keys a document are most of the rest. Two
different band keys then share a stored key with probability 2^-32, so a check at N indexed
documents meets about N / 1,000,000 extra candidates: verified exactly like the others, they
cost time, never a wrong match.

A check runs the dedup path on the new text (repair, single-document cleaning, normalise,
shingles, MinHash, band keys), looks its band keys and exact key up, verifies every candidate
exactly, and applies ``cluster.decide``'s rule: the new document copies an indexed one when
their Jaccard >= the near threshold or when the share of the *new* document's shingles found in
the indexed one >= the containment threshold. The indexed document always wins (it came first),
so the index behaves like ``tinlap dedup --keep first``. Learned boilerplate needs the whole
corpus, so the index cleans with the single-document rules only.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
import zstandard

from tinlap import __version__
from tinlap.config import DedupConfig
from tinlap.core.batch import SketchedBatch, shingle_texts, sketch_records
from tinlap.core.candidates import band_keys, lsh_pairs
from tinlap.core.decide import Decision
from tinlap.core.match import Corpus, MatchResult
from tinlap.core.rules import CopyRule
from tinlap.core.sketch import GOLDEN, ShingleSets, mix64
from tinlap.core.verify import score_sets
from tinlap.records import Record

FORMAT = 2  # 1: shingle sets stored, 64-bit band keys
DB_NAME = "index.sqlite"
MAX_MATCHES = 10  # matches reported per document, best first
_CHUNK = 2000  # documents sketched and decided at a time inside one add
_TEXT_LEVEL = 3  # zstd level of stored texts
_DICTIONARY_BYTES = 256 << 10  # a dictionary this size is trained once texts allow it
_DICTIONARY_SAMPLES = 1000  # texts needed to train one (fewer: stored without a dictionary)
# Rows of ~1 KB (a compressed article) waste a sixth of a 4 KB page; 16 KB pages hold the same
# index in 9% less space (20,000 VNTC articles: 2.21 -> 2.02 KB a document).
_PAGE_SIZE = 16384
_NEVER = 1 << 62  # a seq beyond every stored one
# A fixed text whose sketch is stored at create: if normalisation, cleaning or hashing ever
# change, the fingerprint changes and an old index is refused instead of silently mismatching.
_PROBE = (
    "Tin liên quan\nThủ tướng Chính phủ hòa giải: Quý khách hoà nhã, thuỷ thủ Thủy\u200b "
    "qúy 2024 COVID-19. Giá xăng tăng 1.000 đồng/lít từ 15h chiều nay!\nChia sẻ 12"
)
# Added to the probe when characters can be units (shingles auto or chars), so an index made
# before them (words) keeps its fingerprint.
_PROBE_UNSPACED = "新华社北京电，iPhone发布会。ｶﾞイドを発表した！ ภาษาไทย กำลัง ខ្មែរ។ မြန်မာ။"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs(
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    exact BLOB,            -- 16-byte key of the normalised text, NULL when nothing to match
    length INTEGER NOT NULL,
    size INTEGER NOT NULL,
    duplicate_of INTEGER,   -- seq of the best indexed match when it was added, else NULL
    added REAL NOT NULL,
    text BLOB NOT NULL      -- zstd cleaned text: verification rebuilds the shingle set from it
);
CREATE INDEX docs_exact ON docs(exact) WHERE exact IS NOT NULL;
CREATE TABLE dictionaries(id INTEGER PRIMARY KEY, data BLOB NOT NULL);  -- id: zstd's dict id
CREATE TABLE buckets(key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(key, seq))
    WITHOUT ROWID;          -- key: a 32-bit band key, band number mixed in
"""


class IndexProblem(Exception):
    """Base of the index's errors; the message is meant for the user as is."""


class IndexSettingsError(IndexProblem):
    """The index was built with other settings (or another normalisation) than asked for."""


class IndexBusyError(IndexProblem):
    """Another writer holds the index for longer than we were willing to wait."""


class DuplicateIdError(IndexProblem):
    """A document with this id is already in the index."""


# ---------------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """What decides matches, frozen into the index at create."""

    shingle_size: int = 5
    shingles: str = "auto"  # an index made before this setting existed reads as "words"
    char_shingle_size: int = 4
    num_perm: int = 128
    bands: int = 64
    rows: int = 2
    max_bucket: int = 200
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.4  # the defaults of DedupConfig (config.py says why)
    certain_containment: float = 0.7
    min_sentence_coverage: float = 0.6
    clean: bool = True

    def __post_init__(self) -> None:
        self.config()  # the same validation as a dedup run
        if self.max_bucket < 1:
            raise ValueError(f"max bucket must be >= 1, got {self.max_bucket}")

    def config(self) -> DedupConfig:
        """The dedup configuration that sketches exactly as this index does."""
        return DedupConfig(
            shingle_size=self.shingle_size,
            shingles=self.shingles,
            char_shingle_size=self.char_shingle_size,
            num_perm=self.num_perm,
            bands=self.bands,
            rows=self.rows,
            max_bucket=self.max_bucket,
            jaccard_threshold=self.jaccard_threshold,
            containment_threshold=self.containment_threshold,
            certain_containment=self.certain_containment,
            min_sentence_coverage=self.min_sentence_coverage,
            clean=self.clean,
            learn_boilerplate=False,
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def mismatches(self, config: DedupConfig) -> list[str]:
        """Settings of ``config`` that would match differently from this index."""
        names = ("shingle_size", "shingles", "char_shingle_size", "num_perm", "bands", "rows")
        names += ("clean",)
        names += ("jaccard_threshold", "containment_threshold")
        names += ("certain_containment", "min_sentence_coverage")
        if self.shingles == config.shingles == "words":  # no character units on either side
            names = tuple(n for n in names if n != "char_shingle_size")
        return [
            f"{n.replace('_', '-')}: index {getattr(self, n)!r}, this run {getattr(config, n)!r}"
            for n in names
            if getattr(self, n) != getattr(config, n)
        ]


# ---------------------------------------------------------------------------------- sketches


@dataclass(frozen=True, slots=True)
class Sketches:
    """What matching needs of a batch of documents (row i = document i)."""

    keys: np.ndarray  # (n, 2) uint64 exact keys
    shingles: ShingleSets
    buckets: np.ndarray  # (n, bands) int64 bucket keys, band number mixed in
    lengths: np.ndarray  # cleaned text length in characters
    texts: Callable[[Iterable[int]], dict[int, str]]  # cleaned texts of chosen documents

    @property
    def sizes(self) -> np.ndarray:
        return self.shingles.sizes


def bucket_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Band keys with their band number mixed in, one key column for every band, as signed
    32-bit values in int64 (SQLite stores them in 4 bytes; the module docstring says why)."""
    keys = band_keys(signatures, bands, rows)
    mixed = mix64(keys ^ (np.arange(1, bands + 1, dtype=np.uint64) * GOLDEN))
    return (mixed >> np.uint64(32)).astype(np.int64) - (1 << 31)


def sketch_texts(texts: list[str], settings: IndexSettings) -> Sketches:
    """Repair, clean, normalise and sketch texts exactly as a dedup run's batch stage does."""
    return sketches_of(sketch_batch(texts, settings), settings)


def sketch_batch(texts: list[str], settings: IndexSettings) -> SketchedBatch:
    """The sketching half of ``sketch_texts``: plain data, so worker processes can do it."""
    records = [Record(str(i), text, "") for i, text in enumerate(texts)]
    return sketch_records(records, settings.config())


def sketches_of(sk: SketchedBatch, settings: IndexSettings) -> Sketches:
    cleaned = sk.cleaned
    return Sketches(
        keys=sk.keys,
        shingles=sk.shingles,
        buckets=bucket_keys(sk.signatures, settings.bands, settings.rows),
        lengths=sk.lengths,
        texts=lambda docs: {d: cleaned[d] for d in docs},
    )


def _fingerprint(settings: IndexSettings) -> str:
    probes = [_PROBE] if settings.shingles == "words" else [_PROBE, _PROBE_UNSPACED]
    sk = sketch_texts(probes, settings)
    digest = xxhash.xxh3_64()
    for part in (sk.keys, sk.shingles.hashes, sk.buckets, sk.lengths):
        digest.update(np.ascontiguousarray(part).tobytes())
    for text in sk.texts(range(len(probes))).values():
        digest.update(text.encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed (or earlier same-batch) document that the checked document copies."""

    id: str
    jaccard: float
    containment: float  # share of the checked document's shingles found in this one
    reason: str  # "exact" | "near" | "contained"
    batch: bool = False  # an earlier document of the same add, not an indexed one

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "jaccard": self.jaccard,
            "containment": self.containment,
            "reason": self.reason,
            "batch": self.batch,
        }


@dataclass(slots=True)
class Verdict:
    """The answer for one checked or added document."""

    id: str
    matchable: bool  # False: no shingles after cleaning, so it can copy nothing
    matches: list[Match] = field(default_factory=list)  # qualifying documents, best first
    added: bool = False
    error: str | None = None  # why it could not be added (e.g. its id is already indexed)

    @property
    def duplicate(self) -> bool:
        return bool(self.matches)

    @property
    def duplicate_of(self) -> str | None:
        return self.matches[0].id if self.matches else None

    def to_dict(self) -> dict[str, Any]:
        best = self.matches[0] if self.matches else None
        return {
            "id": self.id,
            "duplicate": self.duplicate,
            "duplicate_of": self.duplicate_of,
            "reason": best.reason if best else None,
            "jaccard": best.jaccard if best else None,
            "containment": best.containment if best else None,
            "matchable": self.matchable,
            "added": self.added,
            "error": self.error,
            "matches": [m.to_dict() for m in self.matches],
        }


@dataclass(frozen=True, slots=True)
class _Stored:
    """An indexed candidate: its cleaned text, and the shingle set rebuilt from it."""

    seq: int
    id: str
    exact: bytes | None
    text: str
    shingles: np.ndarray


# -------------------------------------------------------------------------------------- texts


class _TextCodec:
    """Stored texts: zstd, with the index's dictionary once one is trained.

    News articles are short, and zstd compresses a short text alone poorly: a dictionary
    trained on the first texts added (1,000 at least) takes VNTC articles from ~1,420 to
    ~1,030 bytes.
    Frames name their dictionary (zstd's dictionary id), so texts stored before it was trained
    stay readable. The dictionary is written in the transaction of the add that trained it:
    a reader that sees a text sees its dictionary.
    """

    def __init__(self) -> None:
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # decompressors are not thread-safe: one per thread
        self._compressor = zstandard.ZstdCompressor(level=_TEXT_LEVEL)

    def begin_add(self, con: sqlite3.Connection) -> None:
        """Compress with what the database holds now (a rolled-back dictionary is forgotten)."""
        row = con.execute("SELECT id, data FROM dictionaries ORDER BY rowid DESC").fetchone()
        self._compressor = zstandard.ZstdCompressor(level=_TEXT_LEVEL)
        if row is not None:
            self._compressor = zstandard.ZstdCompressor(
                level=_TEXT_LEVEL, dict_data=self._dictionary(row[0], row[1])
            )

    def train_if_due(self, con: sqlite3.Connection, texts: list[str]) -> None:
        """Train the dictionary once, from ``texts`` and the latest stored texts."""
        if con.execute("SELECT 1 FROM dictionaries").fetchone() is not None:
            return
        (stored,) = con.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()
        if int(stored) + len(texts) < _DICTIONARY_SAMPLES:
            return
        samples = [t.encode() for t in texts]
        if len(samples) < _DICTIONARY_SAMPLES:
            need = _DICTIONARY_SAMPLES - len(samples)
            rows = con.execute("SELECT text FROM docs ORDER BY seq DESC LIMIT ?", (need,))
            samples += [self.decompress(con, blob).encode() for (blob,) in rows]
        if len(samples) < _DICTIONARY_SAMPLES:
            return
        try:
            trained = zstandard.train_dictionary(_DICTIONARY_BYTES, samples, level=_TEXT_LEVEL)
        except zstandard.ZstdError:
            return  # too little varied text to learn from: go on without, try next add
        data = trained.as_bytes()
        con.execute("INSERT INTO dictionaries VALUES (?, ?)", (trained.dict_id(), data))
        self.begin_add(con)

    def compress(self, text: str) -> bytes:
        return self._compressor.compress(text.encode())

    def decompress(self, con: sqlite3.Connection, blob: bytes) -> str:
        dict_id = zstandard.get_frame_parameters(blob).dict_id
        cache: dict[int, zstandard.ZstdDecompressor] = self._local.__dict__.setdefault("d", {})
        decompressor = cache.get(dict_id)
        if decompressor is None:
            if dict_id:
                (data,) = con.execute(
                    "SELECT data FROM dictionaries WHERE id = ?", (dict_id,)
                ).fetchone()
                decompressor = zstandard.ZstdDecompressor(dict_data=self._dictionary(dict_id, data))
            else:
                decompressor = zstandard.ZstdDecompressor()
            cache[dict_id] = decompressor
        return decompressor.decompress(blob).decode()

    def _dictionary(self, dict_id: int, data: bytes) -> zstandard.ZstdCompressionDict:
        with self._lock:
            if dict_id not in self._dictionaries:
                self._dictionaries[dict_id] = zstandard.ZstdCompressionDict(data)
            return self._dictionaries[dict_id]


# -------------------------------------------------------------------------------------- index


class Index:
    """An open index. Reads may run from many threads (one connection each); writes are
    serialised by a lock in this process and by SQLite's write lock across processes."""

    def __init__(self, path: Path, *, wait: float = 30.0) -> None:
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        if not self.db_path.is_file():
            raise IndexProblem(f"{self.path}: no index here (make one with: tinlap index create)")
        self.wait = wait
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._texts = _TextCodec()
        try:
            self.settings = self._check_meta()
            self.rule = CopyRule.of(self.settings.config())
        except BaseException:
            self.close()
            raise

    def _check_meta(self) -> IndexSettings:
        """The frozen settings, once the index proved to be one this tinlap can use."""
        try:
            meta = self._meta(self._reader())
        except sqlite3.DatabaseError as err:
            raise IndexProblem(f"{self.path}: not a readable tinlap index ({err})") from None
        try:
            if int(meta.get("format", -1)) != FORMAT:
                raise ValueError(f"format {meta.get('format', 'unknown')}")
            stored = json.loads(meta["settings"])
            stored.setdefault("shingles", "words")  # made before characters could be units
            settings = IndexSettings(**stored)
        except (KeyError, TypeError, ValueError) as err:
            raise IndexProblem(
                f"{self.path}: not an index this tinlap {__version__} reads ({err!r}; made by "
                f"tinlap {meta.get('tinlap_version', 'unknown')}, or its create was interrupted)"
            ) from None
        if meta.get("fingerprint") != _fingerprint(settings):
            raise IndexSettingsError(
                f"{self.path}: built by tinlap {meta.get('tinlap_version')} whose text "
                f"normalisation or cleaning differs from this tinlap {__version__}'s; "
                "rebuild the index"
            )
        return settings

    # ---- lifecycle

    @classmethod
    def create(cls, path: Path, settings: IndexSettings) -> Index:
        """Create an empty index in ``path`` (a new or empty folder)."""
        path = Path(path)
        if (path / DB_NAME).exists():
            raise IndexProblem(f"{path}: an index already exists here")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise IndexProblem(f"{path}: not an empty folder")
        path.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path / DB_NAME, isolation_level=None)
        try:
            con.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # before the first table
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("BEGIN")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            meta = {
                "format": str(FORMAT),
                "tinlap_version": __version__,
                "created": _now_iso(),
                "settings": json.dumps(settings.to_dict()),
                "fingerprint": _fingerprint(settings),
                "documents": "0",
                "duplicates": "0",
                "adds": "0",
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            con.execute("COMMIT")
        finally:
            con.close()
        return cls(path)

    def close(self) -> None:
        with self._conn_lock:
            for con in self._connections:
                con.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(
            self.db_path, isolation_level=None, timeout=self.wait, check_same_thread=False
        )
        con.execute("PRAGMA synchronous=NORMAL")  # with WAL: atomic and consistent after a crash
        con.execute("PRAGMA cache_size=-65536")
        con.execute("PRAGMA mmap_size=1073741824")
        with self._conn_lock:
            self._connections.append(con)
        return con

    def _reader(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con

    @staticmethod
    def _meta(con: sqlite3.Connection) -> dict[str, str]:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())

    # ---- reading

    def check_config(self, config: DedupConfig) -> None:
        """Refuse a dedup configuration that would match differently from this index."""
        problems = self.settings.mismatches(config)
        if problems:
            raise IndexSettingsError(
                f"{self.path} was built with other settings ({'; '.join(problems)}); "
                "run with the index's settings (tinlap index stats shows them) or use another index"
            )

    def check(self, texts: list[str]) -> list[Verdict]:
        """Which indexed documents each text copies (read-only; texts are not compared with
        each other)."""
        sk = sketch_texts(texts, self.settings)
        return self.check_sketches(sk, [f"#{i}" for i in range(len(texts))])

    def check_sketches(self, sk: Sketches, ids: list[str]) -> list[Verdict]:
        con = self._reader()
        con.execute("BEGIN")  # one snapshot for every lookup
        try:
            return self._decide(con, sk, ids, within_batch=False, only_new=False, batch_from=_NEVER)
        finally:
            con.execute("COMMIT")

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """The stored facts of one document, or None."""
        row = (
            self._reader()
            .execute(
                "SELECT d.seq, d.length, d.size, o.id, d.added, d.text FROM docs d "
                "LEFT JOIN docs o ON o.seq = d.duplicate_of WHERE d.id = ?",
                (doc_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        seq, length, size, original, added, text = row
        return {
            "id": doc_id,
            "seq": seq,
            "length": length,
            "shingles": size,
            "duplicate_of": original,
            "added": _iso(added),
            "text": self._texts.decompress(self._reader(), text),
        }

    def stats(self) -> dict[str, Any]:
        meta = self._meta(self._reader())
        files = [self.db_path, self.db_path.with_name(DB_NAME + "-wal")]
        return {
            "path": str(self.path.resolve()),
            "format": FORMAT,
            "tinlap_version": meta.get("tinlap_version"),
            "created": meta.get("created"),
            "last_add": meta.get("last_add"),
            "documents": int(meta["documents"]),
            "duplicates": int(meta["duplicates"]),
            "adds": int(meta["adds"]),
            "bytes_on_disk": sum(f.stat().st_size for f in files if f.exists()),
            "settings": self.settings.to_dict(),
        }

    # ---- writing

    def add(self, docs: list[tuple[str, str]], *, only_new: bool = False) -> list[Verdict]:
        """Add (id, text) documents in one transaction; see :meth:`add_records`."""
        records = (Record(doc_id, text, "") for doc_id, text in docs)
        return list(self.add_records(records, only_new=only_new))

    def add_records(
        self, records: Iterable[Record], *, only_new: bool = False
    ) -> Iterator[Verdict]:
        """Add documents in input order, all in one transaction, yielding each one's verdict.

        Each document is checked against the index and against the earlier documents of this
        add (as if added one by one). With ``only_new`` duplicates are reported, not added. The
        add commits when the iterator is exhausted; an exception (or a crash) before that
        leaves the index exactly as it was, so verdicts are final only once it completes.
        """
        chunks = (
            (chunk, sketch_batch([r.text for r in chunk], self.settings))
            for chunk in add_chunks(records)
        )
        return self.add_sketched(chunks, only_new=only_new)

    def add_sketched(
        self, chunks: Iterable[tuple[list[Record], SketchedBatch]], *, only_new: bool = False
    ) -> Iterator[Verdict]:
        """``add_records`` of records already sketched (``sketch_batch`` of their texts), in
        chunks of ``add_chunks``: the sketching, most of an add's work, can then run in
        other processes (``tinlap index add -j N``) while this one decides and writes."""
        with self._write_lock:
            con = self._writer()
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise IndexBusyError(
                    f"{self.path}: another writer has held the index for {self.wait:g} s "
                    f"({err}); try again when its add has finished"
                ) from None
            try:
                self._texts.begin_add(con)
                first_seq = next_seq = self._next_seq(con)
                counts = {"documents": 0, "duplicates": 0}
                for chunk, batch in chunks:
                    sk = sketches_of(batch, self.settings)
                    verdicts = self._add_chunk(
                        con, chunk, sk, only_new, first_seq, next_seq, counts
                    )
                    next_seq += sum(v.added for v in verdicts)
                    yield from verdicts
                self._bump(con, counts)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def _writer(self) -> sqlite3.Connection:
        con = getattr(self, "_write_con", None)
        if con is None:
            con = self._write_con = self._connect()
        return con

    @staticmethod
    def _next_seq(con: sqlite3.Connection) -> int:
        (top,) = con.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()
        return int(top) + 1

    def _bump(self, con: sqlite3.Connection, counts: dict[str, int]) -> None:
        con.executemany(
            "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?",
            [(counts["documents"], "documents"), (counts["duplicates"], "duplicates"), (1, "adds")],
        )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('last_add', ?)", (_now_iso(),))

    def _add_chunk(
        self,
        con: sqlite3.Connection,
        chunk: list[Record],
        sk: Sketches,
        only_new: bool,
        first_seq: int,
        next_seq: int,
        counts: dict[str, int],
    ) -> list[Verdict]:
        ids = [r.id for r in chunk]
        taken = _existing_ids(con, ids)
        verdicts = self._decide(
            con, sk, ids, within_batch=True, only_new=only_new, batch_from=first_seq, taken=taken
        )
        now = time.time()
        texts = sk.texts(i for i, v in enumerate(verdicts) if v.added)
        self._texts.train_if_due(con, list(texts.values()))
        doc_rows, bucketed, bucket_seqs = [], [], []
        seq = next_seq
        for i, verdict in enumerate(verdicts):
            if not verdict.added:
                continue
            size = int(sk.sizes[i])
            original = verdict.matches[0] if verdict.matches else None
            doc_rows.append(
                (
                    seq,
                    verdict.id,
                    sk.keys[i].tobytes() if size else None,
                    int(sk.lengths[i]),
                    size,
                    original.id if original else None,
                    now,
                    self._texts.compress(texts[i]),
                )
            )
            if size:
                bucketed.append(i)
                bucket_seqs.append(seq)
            counts["documents"] += 1
            counts["duplicates"] += verdict.duplicate
            seq += 1
        con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, (SELECT seq FROM docs WHERE id = ?), ?, ?)",
            doc_rows,
        )
        # Bucket rows in key order: the B-tree is then filled front to back, not at random.
        keys = sk.buckets[bucketed].ravel()
        seqs = np.repeat(np.array(bucket_seqs, dtype=np.int64), sk.buckets.shape[1])
        order = np.argsort(keys, kind="stable")
        rows = zip(keys[order].tolist(), seqs[order].tolist(), strict=True)
        con.executemany("INSERT OR IGNORE INTO buckets VALUES (?, ?)", rows)
        return verdicts

    # ---- matching

    def _decide(
        self,
        con: sqlite3.Connection,
        sk: Sketches,
        ids: list[str],
        *,
        within_batch: bool,
        only_new: bool,
        batch_from: int,
        taken: set[str] | None = None,
    ) -> list[Verdict]:
        """Verdicts in order; with ``within_batch`` each document is also compared with the
        earlier ones of ``sk`` that were added, and ``added`` is decided."""
        settings = self.settings
        n = len(ids)
        sizes = sk.sizes
        stored = self._candidates(con, sk)
        earlier: list[list[int]] = [[] for _ in range(n)]
        if within_batch and n > 1:
            matchable = np.flatnonzero(sizes > 0)
            a, b = lsh_pairs(sk.buckets[matchable], sizes[matchable], settings.max_bucket)
            for x, y in zip(matchable[a].tolist(), matchable[b].tolist(), strict=True):
                earlier[y].append(x)
            first_of_key: dict[bytes, int] = {}
            for i in matchable.tolist():
                first = first_of_key.setdefault(sk.keys[i].tobytes(), i)
                if first != i:
                    earlier[i].append(first)
        # Every qualifying pair first (against stored documents: ref = seq >= 0; against an
        # earlier document j of this batch: ref = -1 - j), then the sentence check of the
        # borderline ones, then the decisions in order.
        found: list[list[tuple[tuple[bool, float, float, int], Match, int]]] = []
        for i in range(n):
            q, key = sk.shingles.of(i), sk.keys[i].tobytes()
            scored = [
                (self._score(q, key, s.shingles, s.exact, s.id, s.seq, s.seq >= batch_from), s.seq)
                for s in stored[i]
            ]
            scored += [
                (
                    self._score(
                        q, key, sk.shingles.of(j), sk.keys[j].tobytes(), ids[j], _NEVER + j, True
                    ),
                    -1 - j,
                )
                for j in sorted(set(earlier[i]))
            ]
            found.append([(*r, ref) for r, ref in scored if r is not None])
        old = {s.seq: s.text for candidates in stored for s in candidates}
        rejected = self._sentence_rejections(sk, found, old)

        added = np.zeros(n, dtype=bool)
        verdicts = []
        for i in range(n):
            verdict = Verdict(ids[i], bool(sizes[i] > 0))
            ranked = sorted(
                (
                    (order, match)
                    for order, match, ref in found[i]
                    if (i, ref) not in rejected and (ref >= 0 or added[-1 - ref])
                ),
                key=lambda pair: pair[0],
            )
            verdict.matches = [m for _, m in ranked[:MAX_MATCHES]]
            if within_batch:
                if taken and ids[i] in taken:
                    verdict.error = f"id {ids[i]!r} is already in the index; not added"
                elif not (only_new and verdict.duplicate):
                    verdict.added = added[i] = True
            verdicts.append(verdict)
        return verdicts

    def _sentence_rejections(
        self,
        sk: Sketches,
        found: list[list[tuple[tuple[bool, float, float, int], Match, int]]],
        old: dict[int, str],
    ) -> set[tuple[int, int]]:
        """Pairs (i, ref) that qualify only by a borderline containment (below
        ``certain_containment``) and whose sentences say no, as dedup's sentence check does:
        the new document must reproduce ``min_sentence_coverage`` of its sentence text."""
        borderline = [
            (i, ref)
            for i, pairs in enumerate(found)
            for _, match, ref in pairs
            if self.rule.borderline(match.jaccard, match.containment)
        ]
        if not borderline:
            return set()
        new = sk.texts({i for i, _ in borderline} | {-1 - r for _, r in borderline if r < 0})
        return {
            (i, ref)
            for i, ref in borderline
            if not self.rule.confirms(new[i], old[ref] if ref >= 0 else new[-1 - ref])
        }

    def _score(
        self,
        q: np.ndarray,
        key: bytes,
        target: np.ndarray,
        target_key: bytes | None,
        target_id: str,
        rank: int,
        batch: bool,
    ) -> tuple[tuple[bool, float, float, int], Match] | None:
        """Exact scores of the new set ``q`` against one earlier set, with its sort key (best
        first); None unless it qualifies. ``rank`` orders earlier documents (first = best)."""
        if len(target) == 0:
            return None
        jaccard, containment, _ = score_sets(q, target)
        rule = self.rule
        if not rule.qualifies(jaccard, containment):
            return None
        exact = key == target_key
        reason = rule.reason(jaccard, exact)
        # cluster.decide's preference (containment, then Jaccard, then the earliest), after
        # an exact copy, as dedup's exact groups go first.
        return (not exact, -containment, -jaccard, rank), Match(
            target_id, jaccard, containment, reason, batch
        )

    def _candidates(self, con: sqlite3.Connection, sk: Sketches) -> list[list[_Stored]]:
        """Indexed documents sharing a band key (at most ``max_bucket`` per key, the earliest)
        or the exact key with each document."""
        cap = self.settings.max_bucket
        bands = sk.buckets.shape[1]
        lookup = (
            " UNION ".join(
                [f"SELECT * FROM (SELECT seq FROM buckets WHERE key = ? LIMIT {cap})"] * bands
            )
            + " UNION SELECT * FROM (SELECT seq FROM docs WHERE exact = ? LIMIT 1)"
        )
        per_doc: list[list[int]] = []
        for i in range(len(sk.sizes)):
            if sk.sizes[i] == 0:
                per_doc.append([])
                continue
            params = [*sk.buckets[i].tolist(), sk.keys[i].tobytes()]
            per_doc.append([s for (s,) in con.execute(lookup, params)])
        wanted = sorted({s for seqs in per_doc for s in seqs})
        found: list[tuple[int, str, bytes | None, str]] = []
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            for seq, doc_id, exact, blob in con.execute(
                f"SELECT seq, id, exact, text FROM docs WHERE seq IN ({marks})", part
            ):
                found.append((seq, doc_id, exact, self._texts.decompress(con, blob)))
        settings = self.settings
        sets = shingle_texts(
            [f[3] for f in found],
            settings.shingle_size,
            settings.shingles,
            settings.char_shingle_size,
        )
        rows = {f[0]: _Stored(*f, sets.of(k)) for k, f in enumerate(found)}
        return [[rows[s] for s in seqs] for seqs in per_doc]


def add_chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    """The chunks an add sketches and decides at a time (``Index.add_sketched`` takes these)."""
    it = iter(records)
    while chunk := [r for _, r in zip(range(_CHUNK), it, strict=False)]:
        yield chunk


def _existing_ids(con: sqlite3.Connection, ids: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        taken.update(i for (i,) in con.execute(f"SELECT id FROM docs WHERE id IN ({marks})", part))
    return taken


def _now_iso() -> str:
    return _iso(time.time())


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ------------------------------------------------------------------------ dedup --against DIR


def match_against(
    corpus: Corpus,
    config: DedupConfig,
    path: Path,
    texts: Callable[[Iterable[int]], dict[int, str]],
) -> MatchResult:
    """``tinlap dedup --against DIR``: remove only the new documents that copy indexed ones.

    Documents of the run are not compared with each other, and nothing is added to the index.
    Decisions name indexed documents as originals (``MatchResult.original_ids``).
    """
    with Index(path) as index:
        index.check_config(config)
        sk = Sketches(
            keys=corpus.keys,
            shingles=corpus.shingles,
            buckets=bucket_keys(corpus.signatures, config.bands, config.rows),
            lengths=corpus.lengths,
            texts=texts,
        )
        verdicts = index.check_sketches(sk, corpus.ids)
        documents = int(index.stats()["documents"])
    originals: dict[str, int] = {}
    decisions = []
    for doc, verdict in enumerate(verdicts):
        if verdict.matches:
            best = verdict.matches[0]
            original = originals.setdefault(best.id, len(originals))
            decisions.append(Decision(doc, original, best.jaccard, best.containment, best.reason))
    stats = {
        "documents": len(corpus.ids),
        "matchable": int((corpus.shingles.sizes > 0).sum()),
        "indexed_documents": documents,
        "copies_of_indexed_documents": len(decisions),
    }
    return MatchResult(decisions, stats, original_ids=list(originals))
