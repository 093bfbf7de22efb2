"""A static HTML report of a dedup output: one folder, opened from disk, nothing from the network.

Someone who just removed 30% of a corpus needs to see why, and an auditor needs the doubtful
calls first. The report shows the totals and what each stage removed, the similarity of the
verified pairs and the cluster sizes against the thresholds, the removals nearest a threshold
(``near_thresholds``), every cluster in a searchable list that sorts and filters by reason,
lowest scores and size, and cluster pages with each removed document beside its kept original
(shared passages ``<mark>``-ed, boilerplate ``<del>``-ed) and the copy's sentences as the
sentence check aligns them (``explain``'s own evidence: exact, edited with the edit shown,
unmatched).

A and B mean what they mean for ``tinlap explain REMOVED KEPT``: A is the removed copy, B the
kept original. Every count is said through ``wording.count`` ("1 cluster", "84,132 documents").

Layout of the report folder::

    index.html, report.css, report.js   totals, stages, plots (inline SVG), the near-threshold
                            table, the cluster list
    data/pages/NNNNNN.js    list page n: ``TINLAP.page(n, rows)``
    data/ids/NNNN.js        id lookup shards: ``TINLAP.ids([[id, cluster number], ...])``
    data/facets.js          what the list sorts and filters on, one call per list page:
                            ``TINLAP.facets(first number, sizes, reason masks, lowest Jaccards,
                            lowest containments)`` (mask: 1 exact, 2 near, 4 contained)
    clusters/NNNNNNN.html   the page of cluster number N (1-based, in clusters.parquet order)
    near/NNNN.html          the page of the n-th removal nearest a threshold

Data files are scripts, not JSON: ``fetch`` is blocked on ``file://`` pages, ``<script src>``
is not, so ``report.js`` loads a list page (or an id shard) by adding a script tag when it is
needed. An id goes to shard ``crc32(utf-8 id) % shards``, which the browser computes too, so
looking an id up reads one small file however large the output.

Scale. ``clusters.parquet`` is streamed in row batches, so memory holds one list page, the id
shard buffers (flushed at a fixed total) and the ids of the clusters chosen for pages of their
own, whatever the number of clusters. Those pages need the texts, i.e. a pass over the inputs,
and a file each, so about ``max_details`` clusters get one (default 10,000): all of them when
the output has no more, else the first max(1, ⌊max_details / list pages⌋) of every list page,
so that every part of the list has examples. Each shows at most ``MAX_SHOWN`` removed
documents. Texts found are parked in an SQLite file in a
temporary folder until their cluster's page is written, never held in memory all at once.
Sorting and filtering read ``data/facets.js`` (about 20 bytes a cluster) in the browser; a sorted
page of ``VIEW_SIZE`` rows then loads the list pages that hold them. The near-threshold
selection keeps two bounded heaps while the clusters stream by (``NearThresholds``).
"""

from __future__ import annotations

import heapq
import math
import os
import secrets
import shutil
import sqlite3
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import numpy as np
import orjson
import pyarrow.parquet as pq

from tinlap import __version__
from tinlap.apps.explain import Explanation, Piece, explain, lines, sentence_views
from tinlap.apps.progress import progress
from tinlap.apps.retrieve import DedupOutput, Document, OutputError
from tinlap.core.clean import Removal
from tinlap.core.rules import REASONS, CopyRule
from tinlap.core.sentences import clear_sentence_cache
from tinlap.io.write import add_to_manifest
from tinlap.records import ProblemLog
from tinlap.wording import count, noun, number

PAGE_SIZE = 500  # clusters per list page
VIEW_SIZE = 100  # clusters per page of a sorted or filtered list (report.js)
MAX_DETAILS = 10_000
NEAR_SHOWN = 200  # removals listed nearest the thresholds
MAX_RECHECKS = 20_000  # sentence-checked removals whose coverage the report recomputes
MAX_SHOWN = 20  # removed documents shown side by side on a cluster page
PREVIEW = 8  # removed ids listed (and searchable by substring) in the cluster list
IDS_PER_SHARD = 4096  # target entries per id lookup shard
_FLUSH_IDS = 50_000  # buffered id entries before the shards are appended to
_BATCH_ROWS = 8192
_COLUMNS = ["id", "cluster_id", "kept", "jaccard", "containment", "reason"]
_SIZE_BINS = [(2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100)]
_SIZE_BINS += [(101, 1000), (1001, 1 << 62)]


@dataclass(frozen=True, slots=True)
class ReportStats:
    clusters: int
    pages: int
    details: int  # clusters with a page of their own
    texts_found: int
    near: int = 0  # removals listed nearest a threshold


@dataclass(slots=True)
class _Cluster:
    """One cluster as it streams by: counts, and the first few removed members."""

    number: int
    id: str
    size: int = 0
    reasons: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("exact", "near", "contained"), 0)
    )
    min_jaccard: float | None = None
    min_containment: float | None = None
    removed: list[tuple[str, str, float, float]] = field(default_factory=list)

    def add(self, doc_id: str, kept: bool, jaccard: float, containment: float, reason: str) -> None:
        self.size += 1
        if kept:
            return
        self.reasons[reason] += 1
        self.min_jaccard = jaccard if self.min_jaccard is None else min(self.min_jaccard, jaccard)
        c = self.min_containment
        self.min_containment = containment if c is None else min(c, containment)
        if len(self.removed) < MAX_SHOWN:
            self.removed.append((doc_id, reason, jaccard, containment))

    @property
    def mask(self) -> int:
        """Reasons its documents were removed for: 1 exact, 2 near, 4 contained (REASONS)."""
        r = self.reasons
        return (r["exact"] > 0) | (r["near"] > 0) << 1 | (r["contained"] > 0) << 2

    def row(self, detail: bool) -> list[Any]:
        """The cluster's entry in a list page (report.js reads it by position)."""
        return [
            self.number,
            self.id,
            self.size,
            self.reasons["exact"],
            self.reasons["near"],
            self.reasons["contained"],
            self.min_jaccard,
            self.min_containment,
            [r[0] for r in self.removed[:PREVIEW]],
            detail,
        ]


# ------------------------------------------------------------------ decisions near a threshold

# The thresholds a removal's decision can turn on: CopyRule field names, in margin-code order.
MARGIN_FIELDS = ("jaccard", "containment", "certain_containment", "min_sentence_coverage")
MARGIN_NAMES = ("Jaccard", "containment", "certain containment", "sentence coverage")


def score_margins(
    rule: CopyRule, jaccard: np.ndarray, containment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far each removal's scores sit from the nearest threshold its decision turned on.

    Returns ``(margin, which, checked)`` per removal: ``margin`` = score − threshold (≥ 0 while
    the recorded scores still support the removal; negative: the thresholds changed since),
    ``which`` an index into ``MARGIN_FIELDS``, ``checked`` whether the sentence check decided it
    (``CopyRule.borderline``), in which case its sentence coverage is one more margin, known
    only from the texts (``with_coverage``). The thresholds are the rule's own:

    * a pair is a copy while its Jaccard *or* its containment reaches its threshold, so the
      removal stands on the larger of the two excesses;
    * at or above ``certain_containment`` the scores decided without reading the text: how far
      above is a margin too (just above, the pair escaped the sentence check).
    """
    j = np.asarray(jaccard, dtype=np.float64)
    c = np.asarray(containment, dtype=np.float64)
    by_j, by_c = j - rule.jaccard, c - rule.containment
    margin = np.maximum(by_j, by_c)
    which = np.where(by_j >= by_c, 0, 1)
    checked = np.asarray(rule.borderline(j, c), dtype=bool)
    if rule.certain_containment > 0:  # 0: the check is off, nothing turns on it
        by_cc = np.where(checked, np.inf, c - rule.certain_containment)
        closer = by_cc < margin
        margin, which = np.where(closer, by_cc, margin), np.where(closer, 2, which)
    return margin, which, checked


@dataclass(frozen=True, slots=True)
class NearDecision:
    """One removal and how near a threshold its decision was (``score_margins``)."""

    removed: str
    kept: str
    number: int  # its cluster's number
    reason: str
    jaccard: float
    containment: float
    margin: float
    which: int  # index into MARGIN_FIELDS
    checked: bool  # decided by the sentence check
    coverage: float | None = None  # sentence coverage, recomputed for checked removals

    def with_coverage(self, coverage: float | None, rule: CopyRule) -> NearDecision:
        """The coverage margin joins the score margins: the nearest one counts."""
        if coverage is None:
            return self
        by_coverage = coverage - rule.min_sentence_coverage
        if by_coverage < self.margin:
            return replace(self, coverage=coverage, margin=by_coverage, which=3)
        return replace(self, coverage=coverage)

    def describe(self, rule: CopyRule) -> str:
        """ "containment 0.412, 0.012 above 0.4" (the nearest threshold and the distance)."""
        field_name, name = MARGIN_FIELDS[self.which], MARGIN_NAMES[self.which]
        threshold = getattr(rule, field_name)
        value = (self.jaccard, self.containment, self.containment, self.coverage)[self.which]
        side = "above" if self.margin >= 0 else "below"
        return f"{name} {value:.4f}, {abs(self.margin):.4f} {side} {threshold}"


class NearThresholds:
    """The removals nearest a threshold, chosen in bounded memory while clusters stream by.

    Two heaps: the ``shown`` smallest score margins among all non-exact removals, and the
    ``rechecks`` sentence-checked removals nearest a score threshold, whose coverage margin can
    only be known from their texts. ``select`` adds the coverage margins and keeps the
    ``shown`` nearest of both: exact when no more than ``rechecks`` removals were checked.
    """

    def __init__(self, rule: CopyRule, shown: int = NEAR_SHOWN, rechecks: int = MAX_RECHECKS):
        self.rule = rule
        self.shown, self.rechecks = shown, rechecks
        self._scored: list[tuple[float, int, NearDecision]] = []  # max-heaps: (-margin, -seq)
        self._checked: list[tuple[float, int, NearDecision]] = []
        self._seq = 0
        self.n_checked = 0  # sentence-checked removals seen
        self.bound = math.inf  # a removal of this score margin or more cannot enter ``_scored``

    def offer(
        self,
        removed: str,
        kept: str,
        number: int,
        reason: str,
        jaccard: float,
        containment: float,
        margin: float,
        which: int,
        checked: bool,
    ) -> None:
        """One non-exact removal with its ``score_margins``; kept if near enough so far."""
        self.n_checked += checked
        if not self.shown or margin != margin:  # NaN: scores missing from clusters.parquet
            return
        self._seq += 1
        take_checked = checked and _room(self._checked, margin, self.rechecks)
        if not (take_checked or _room(self._scored, margin, self.shown)):
            return
        d = NearDecision(
            removed, kept, number, reason, jaccard, containment, margin, which, checked
        )
        if take_checked:
            _push(self._checked, d, self._seq, self.rechecks)
        _push(self._scored, d, self._seq, self.shown)
        if len(self._scored) == self.shown:
            self.bound = -self._scored[0][0]

    @property
    def wanted(self) -> set[str]:
        """Ids whose texts ``select`` needs (and the near pages show)."""
        if not self.shown:
            return set()
        return {i for _, _, d in self._scored + self._checked for i in (d.removed, d.kept)}

    def to_check(self) -> list[NearDecision]:
        """The checked candidates whose sentence coverage ``select`` needs."""
        if not self.shown:
            return []
        chosen = {d.removed: d for _, _, d in self._scored + self._checked if d.checked}
        return sorted(chosen.values(), key=lambda d: (d.number, d.removed))

    def select(self, coverage: dict[str, float | None]) -> list[NearDecision]:
        """The ``shown`` removals nearest a threshold, nearest first; ``coverage`` by removed
        id for the checked ones (None: texts not found)."""
        if not self.shown:
            return []
        found = {d.removed: d for _, _, d in self._scored + self._checked}
        final = [d.with_coverage(coverage.get(d.removed), self.rule) for d in found.values()]
        final.sort(key=lambda d: (d.margin, d.number, d.removed))
        return final[: self.shown]


def _room(heap: list[tuple[float, int, NearDecision]], margin: float, cap: int) -> bool:
    return cap > 0 and (len(heap) < cap or -margin > heap[0][0])


def _push(heap: list[tuple[float, int, NearDecision]], d: NearDecision, seq: int, cap: int) -> None:
    """Keep the ``cap`` smallest margins (earliest first among equals) in a max-heap."""
    if cap <= 0:
        return
    entry = (-d.margin, -seq, d)
    if len(heap) < cap:
        heapq.heappush(heap, entry)
    elif entry[:2] > heap[0][:2]:
        heapq.heapreplace(heap, entry)


# ------------------------------------------------------------------------------------ build


def write_report(
    output: DedupOutput,
    target: Path,
    *,
    max_details: int = MAX_DETAILS,
    near: int = NEAR_SHOWN,
    workers: int = 1,
    quiet: bool = True,
    problems: ProblemLog | None = None,
) -> ReportStats:
    """Write the report of ``output`` to the folder ``target`` (replaced if it is a report).

    ``near``: how many removals nearest a threshold to list, each with a page (0: none).
    Built in a temporary folder beside ``target`` and renamed into place when complete.
    """
    problems = problems if problems is not None else ProblemLog()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    try:
        for folder in ("data/pages", "data/ids", "clusters", "near"):
            (build / folder).mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix=".tinlap-report-", dir=build) as work:
            stats = _build(output, build, Path(work), max_details, near, workers, quiet, problems)
        if target.exists():
            shutil.rmtree(target)
        os.replace(build, target)
        add_to_manifest(target)  # tinlap's own file in OUT: the next run there replaces it
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return stats


def _check_target(target: Path) -> None:
    """Never delete a folder that is not an earlier report."""
    is_report = (target / "index.html").is_file() and (target / "data" / "pages").is_dir()
    if target.exists() and any(target.iterdir()) and not is_report:
        raise OutputError(f"{target}: exists and is not a tinlap report; choose another --to")


def _build(
    output: DedupOutput,
    build: Path,
    work: Path,
    max_details: int,
    n_near: int,
    workers: int,
    quiet: bool,
    problems: ProblemLog,
) -> ReportStats:
    # Unbuffered reads in small batches: Arrow then holds a page of a column, not a row group.
    parquet = pq.ParquetFile(output.clusters, pre_buffer=False, buffer_size=1 << 20)
    n_clusters = sum(
        batch.column(0).true_count
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=["kept"])
    )
    n_pages = max(1, math.ceil(n_clusters / PAGE_SIZE))
    per_page = min(PAGE_SIZE, max(1, max_details // n_pages)) if max_details else 0
    shards = max(1, math.ceil(parquet.metadata.num_rows / IDS_PER_SHARD))
    rule = CopyRule.of(output.config)
    near = NearThresholds(rule, n_near)
    details_file = work / "details.jsonl"
    wanted: set[str] = set()
    sizes: Counter[int] = Counter()
    n_details = 0
    ids = _IdShards(build / "data" / "ids", shards)
    page: list[_Cluster] = []
    with open(details_file, "wb") as details, open(build / "data" / "facets.js", "wb") as facets:
        for cluster in _clusters(parquet, ids, near, quiet):
            detail = (cluster.number - 1) % PAGE_SIZE < per_page
            page.append(cluster)
            sizes[cluster.size] += 1
            if detail:
                n_details += 1
                wanted.add(cluster.id)
                wanted.update(r[0] for r in cluster.removed)
                entry = [cluster.number, cluster.id, cluster.size, cluster.removed]
                details.write(orjson.dumps(entry) + b"\n")
            if len(page) == PAGE_SIZE:
                _write_page(build, facets, cluster.number // PAGE_SIZE, page, per_page)
                page = []
        if page or n_clusters == 0:
            _write_page(build, facets, n_pages, page, per_page)
    ids.close()
    wanted |= near.wanted

    with closing(_TextStore(work / "texts.sqlite")) as texts:
        with progress("find texts", total=len(wanted), unit="doc", quiet=quiet) as bar:
            for doc in output.find(wanted, workers=workers, quiet=quiet, problems=problems):
                texts.put(doc)
                bar.update(1)
        nearest = _near_thresholds(near, texts, quiet)
        _write_cluster_pages(build, details_file, texts, output, n_details, quiet)
        for rank, d in enumerate(nearest, 1):
            has_page = (d.number - 1) % PAGE_SIZE < per_page
            page_html = _near_page(rank, d, len(nearest), has_page, texts, output, rule)
            (build / "near" / f"{rank:04d}.html").write_text(page_html, encoding="utf-8")
            clear_sentence_cache()

    meta = {
        "pages": n_pages,
        "pageSize": PAGE_SIZE,
        "viewSize": VIEW_SIZE,
        "shards": shards,
        "clusters": n_clusters,
    }
    _write_index(build, output, meta, sizes, n_details, problems, nearest, near.n_checked)
    for asset in ("report.css", "report.js"):
        (build / asset).write_bytes(files("tinlap.apps").joinpath("assets", asset).read_bytes())
    return ReportStats(n_clusters, n_pages, n_details, texts.count, len(nearest))


def _near_thresholds(near: NearThresholds, texts: _TextStore, quiet: bool) -> list[NearDecision]:
    """``near.select`` with the sentence coverage of its checked candidates, recomputed by the
    rule itself (``CopyRule.text_coverage``) from the texts found."""
    coverage: dict[str, float | None] = {}
    candidates = near.to_check()
    with progress("sentence checks", total=len(candidates), unit="pair", quiet=quiet) as bar:
        for d in candidates:
            removed, kept = texts.get(d.removed), texts.get(d.kept)
            found = removed is not None and kept is not None
            coverage[d.removed] = (
                near.rule.text_coverage(removed.cleaned, kept.cleaned) if found else None
            )
            clear_sentence_cache()
            bar.update(1)
    return near.select(coverage)


def _clusters(
    parquet: pq.ParquetFile, ids: _IdShards, near: NearThresholds, quiet: bool
) -> Iterator[_Cluster]:
    """Clusters in file order (clusters.parquet is sorted by cluster_id, kept row first);
    every row's id goes to the lookup shards on the way, every removal to ``near``."""
    current: _Cluster | None = None
    n = 0
    with progress("list clusters", total=parquet.metadata.num_rows, unit="row", quiet=quiet) as bar:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=_COLUMNS):
            columns = [batch.column(name).to_pylist() for name in _COLUMNS]
            margins, which, checked = (
                x.tolist()
                for x in score_margins(
                    near.rule,
                    batch.column("jaccard").to_numpy(zero_copy_only=False),
                    batch.column("containment").to_numpy(zero_copy_only=False),
                )
            )
            for i, (doc_id, cluster_id, kept, jaccard, containment, reason) in enumerate(
                zip(*columns, strict=True)
            ):
                if current is None or cluster_id != current.id:
                    if current is not None:
                        yield current
                    n += 1
                    current = _Cluster(n, cluster_id)
                current.add(doc_id, kept, jaccard, containment, reason)
                ids.add(doc_id, n)
                # Only a checked removal (counted) or one nearer than the worst kept is offered.
                if not kept and reason != "exact" and (checked[i] or margins[i] < near.bound):
                    near.offer(
                        doc_id, cluster_id, n, reason, jaccard, containment,
                        margins[i], which[i], checked[i],
                    )  # fmt: skip
            bar.update(batch.num_rows)
    if current is not None:
        yield current


def _write_page(
    build: Path, facets: IO[bytes], n: int, clusters: list[_Cluster], per_page: int
) -> None:
    """List page ``n`` and its clusters' facets (appended to ``data/facets.js``)."""
    rows = [c.row((c.number - 1) % PAGE_SIZE < per_page) for c in clusters]
    payload = orjson.dumps(rows).decode()
    (build / "data" / "pages" / f"{n:06d}.js").write_text(
        f"TINLAP.page({n},{payload});\n", encoding="utf-8"
    )
    if clusters:
        scores = np.array(
            [(c.min_jaccard, c.min_containment) for c in clusters], dtype=np.float64
        )  # None → NaN, written as null
        columns = [
            np.array([c.size for c in clusters], dtype=np.int64),
            np.array([c.mask for c in clusters], dtype=np.int64),
            np.round(scores[:, 0], 4),  # four decimals: what the list filters on (it shows 3)
            np.round(scores[:, 1], 4),
        ]
        payload = orjson.dumps(columns, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
        facets.write(b"TINLAP.facets(%d,%s);\n" % (clusters[0].number, payload))


class _IdShards:
    """The id lookup files: each id with its cluster number, appended in bounded memory."""

    def __init__(self, folder: Path, shards: int) -> None:
        self.folder = folder
        self.shards = shards
        self.buffers: dict[int, list[tuple[str, int]]] = {}
        self.buffered = 0

    def add(self, doc_id: str, number: int) -> None:
        shard = zlib.crc32(doc_id.encode("utf-8")) % self.shards
        self.buffers.setdefault(shard, []).append((doc_id, number))
        self.buffered += 1
        if self.buffered >= _FLUSH_IDS:
            self.close()

    def close(self) -> None:
        """Append what is buffered (each flush adds one ``TINLAP.ids(...)`` call to a shard)."""
        for shard, entries in self.buffers.items():
            with open(self.folder / f"{shard:04d}.js", "ab") as fh:
                fh.write(b"TINLAP.ids(" + orjson.dumps(entries) + b");\n")
        self.buffers.clear()
        self.buffered = 0


class _TextStore:
    """Documents found in the inputs, on disk until their cluster's page is written."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, doc BLOB)")
        self.count = 0

    def put(self, doc: Document) -> None:
        removed = [[r.line, r.text, r.rule] for r in doc.removed]
        blob = orjson.dumps([doc.text, doc.cleaned, removed, doc.where])
        self.db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?)", (doc.id, blob))
        self.count += 1

    def get(self, doc_id: str) -> Document | None:
        row = self.db.execute("SELECT doc FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        text, cleaned, removed, where = orjson.loads(row[0])
        return Document(doc_id, text, cleaned, tuple(Removal(*r) for r in removed), where)

    def close(self) -> None:
        self.db.close()


# ------------------------------------------------------------------------------ cluster pages


def _write_cluster_pages(
    build: Path, details_file: Path, texts: _TextStore, output: DedupOutput, total: int, quiet: bool
) -> None:
    with (
        open(details_file, "rb") as fh,
        progress("cluster pages", total=total, unit="page", quiet=quiet) as bar,
    ):
        entries = (orjson.loads(line) for line in fh)
        previous: int | None = None
        current = next(entries, None)
        while current is not None:
            following = next(entries, None)
            n = current[0]
            page = _cluster_page(current, texts, output, previous, following and following[0])
            (build / "clusters" / f"{n:07d}.html").write_text(page, encoding="utf-8")
            clear_sentence_cache()  # this cluster's texts are not aligned again
            previous, current = n, following
            bar.update(1)


def _cluster_page(
    entry: list[Any],
    texts: _TextStore,
    output: DedupOutput,
    previous: int | None,
    following: int | None,
) -> str:
    n, kept_id, size, removed = entry
    kept = texts.get(kept_id)
    links = [f'<a href="../index.html#page={(n - 1) // PAGE_SIZE + 1}">← all clusters</a>']
    if previous is not None:
        links.append(f'<a href="{previous:07d}.html">‹ cluster {number(previous)}</a>')
    if following is not None:
        links.append(f'<a href="{following:07d}.html" id="next">cluster {number(following)} ›</a>')
    more = size - 1 - len(removed)
    parts = [
        _head(f"Cluster {n}: {kept_id}", "../"),
        f'<nav class="crumbs">{" · ".join(links)}</nav>',
        f"<h1>Cluster {number(n)} <code>{escape(kept_id)}</code></h1>",
        f'<p class="sub">{count(size, "document")}: this one kept (B below), '
        f"{number(size - 1)} removed as its copies (A)"
        + (
            f"; the first {number(len(removed))} are shown (all are in clusters.parquet)"
            if more
            else ""
        )
        + ".</p>",
        _LEGEND,
    ]
    for doc_id, reason, jaccard, containment in removed:
        doc = texts.get(doc_id)
        parts.append(_pair_html(doc_id, doc, kept_id, kept, reason, jaccard, containment, output))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _near_page(
    rank: int,
    d: NearDecision,
    total: int,
    has_page: bool,
    texts: _TextStore,
    output: DedupOutput,
    rule: CopyRule,
) -> str:
    """The page of the ``rank``-th removal nearest a threshold: the pair as on a cluster page."""
    links = ['<a href="../index.html#near">← decisions nearest the thresholds</a>']
    if rank > 1:
        links.append(f'<a href="{rank - 1:04d}.html">‹ {number(rank - 1)}</a>')
    if rank < total:
        links.append(f'<a href="{rank + 1:04d}.html" id="next">{number(rank + 1)} ›</a>')
    cluster = (
        f'<a href="../clusters/{d.number:07d}.html">cluster {number(d.number)}</a>'
        if has_page
        else f'cluster {number(d.number)} (<a href="../index.html#q={quote(d.removed)}">in the '
        "list</a>)"
    )
    pair = _pair_html(
        d.removed,
        texts.get(d.removed),
        d.kept,
        texts.get(d.kept),
        d.reason,
        d.jaccard,
        d.containment,
        output,
    )
    return "\n".join(
        [
            _head(f"Near a threshold {rank}: {d.removed}", "../"),
            f'<nav class="crumbs">{" · ".join(links)}</nav>',
            f"<h1>Near a threshold: {number(rank)} of {number(total)}</h1>",
            f'<p class="sub">{escape(d.describe(rule))}; in {cluster}.</p>',
            _LEGEND,
            pair,
            "</main></body></html>\n",
        ]
    )


_LEGEND = (
    '<p class="legend"><b>A</b> is the removed copy, <b>B</b> the kept original (as in '
    "<code>tinlap explain A B --output-dir OUT</code>). In the texts: <mark>shared with the "
    'other text</mark> <span class="only">only in this text</span> <del>line removed as '
    "boilerplate</del> (the rule that removed it beside it). In the sentences of A: "
    '<span class="s-badge exact">exact</span> in B, <span class="s-badge contained">verbatim'
    '</span> inside a sentence of B, <span class="s-badge edited">edited</span> (<del>B\'s '
    "words</del> <ins>A's words</ins>), "
    '<span class="s-badge unmatched">unmatched</span>.</p>'
)


def _pair_html(
    doc_id: str,
    doc: Document | None,
    kept_id: str,
    kept: Document | None,
    reason: str,
    jaccard: float,
    containment: float,
    output: DedupOutput,
) -> str:
    """Removed document A beside its kept original B, explained by ``explain(A, B)``."""
    head = (
        f'<section class="pair"><h2><span class="badge {escape(reason)}">'
        f"{escape(reason)}</span> A removed <code>{escape(doc_id)}</code></h2>"
    )
    if kept is None or doc is None:
        missing = " and ".join(
            f"<code>{escape(i)}</code>" for i, d in ((doc_id, doc), (kept_id, kept)) if d is None
        )
        return (
            f'{head}<p class="scores">Jaccard {jaccard:.3f} · containment {containment:.3f}</p>'
            f'<p class="missing">Text of {missing} not found in the inputs listed in summary.json '
            "(moved or changed since the run?).</p></section>"
        )
    x = explain(doc, kept, output.config)
    s = x.scores
    scores = (
        f"Jaccard {s.jaccard:.3f} · containment {s.containment_a_in_b:.3f} "
        f"({s.containment_a_in_b:.1%} of A is in B) · {s.containment_b_in_a:.1%} of B is in A"
    )
    if abs(s.jaccard - jaccard) > 1e-9 or abs(s.containment_a_in_b - containment) > 1e-9:
        scores += (
            f' <span class="warn">clusters.parquet says Jaccard {jaccard:.3f}, containment '
            f"{containment:.3f}: the inputs changed since the run</span>"
        )
    return (
        f'{head}<p class="scores">{scores}</p><p class="why">{escape(x.decision.why)}</p>'
        f"{_sentences_html(x)}"
        '<div class="sides">'
        f"{_doc_html('A · removed copy', x, doc, True)}"
        f"{_doc_html('B · kept original', x, kept, False)}"
        "</div></section>"
    )


_OPENING_WORDS = 10  # words shown of a sentence found unedited (A's full text is beside)
_STATUS = {
    "exact": "exact",
    "contained": "verbatim",
    "edited": "edited",
    "unmatched": "unmatched",
    "short": "short",
}


def _sentences_html(x: Explanation) -> str:
    """The copy's sentences as the sentence check aligns them (``explain``'s ``TextCheck``)."""
    check, certain = x.decision.text_check, x.config.certain_containment
    if check is None:
        return (
            '<p class="note">Identical after normalisation: every sentence is in the other '
            "text.</p>"
        )
    al, names = check.alignment, "AB"
    copy, original = names[check.copy], names[check.original]
    if check.decisive:
        title = f"Sentence check (the decision rested on it; a copy needs {check.required:.0%})"
    else:
        title = (
            f"Sentences (not needed by the decision: containment ≥ {certain} decides on the scores)"
        )
    summary = (
        f"{title}: {al.coverage:.0%} of {copy}'s sentence text is in {original}: exact "
        f"{al.exact:.0%}, verbatim inside a sentence {al.contained:.0%}, lightly edited "
        f"{al.edited:.0%}."
    )
    counts = Counter(m.status for m in al.sentences)
    tally = ", ".join(
        count(counts[status], f"{_STATUS[status]} sentence")
        for status in ("exact", "contained", "edited", "unmatched", "short")
        if counts[status]
    )
    docs = (x.a, x.b)
    items = []
    for v in sentence_views(check, docs[check.copy].cleaned, docs[check.original].cleaned):
        label = _STATUS[v.status]
        if v.edit is not None:
            label += f" {v.similarity:.0%}"
            body = " ".join(_diff_html(op, words) for op, words in v.edit)
        elif v.status == "unmatched":
            body = escape(v.text)
        else:  # found as it is (or too short to count): its opening, A's text below has it all
            words = v.text.split()
            body = escape(" ".join(words[:_OPENING_WORDS])) + (
                " …" if len(words) > _OPENING_WORDS else ""
            )
        items.append(
            f'<li class="s {v.status}"><span class="s-badge {v.status}">{label}</span> {body}</li>'
        )
    return (
        f'<details class="sentences" open><summary>{escape(summary)} <span class="note">'
        f"({tally}; compared on their matching keys: case, tone style and punctuation are no "
        "edit; sentences found as they are show their opening words only)</span></summary>"
        f'<ol class="sentences">{"".join(items)}</ol></details>'
    )


def _diff_html(op: str, words: str) -> str:
    text = escape(words)
    return {"equal": text, "removed": f"<del>{text}</del>", "added": f"<ins>{text}</ins>"}[op]


def _doc_html(role: str, x: Explanation, doc: Document, is_a: bool) -> str:
    side = x.side_a if is_a else x.side_b
    body = []
    for pieces in lines(doc, side):
        if not pieces:
            body.append('<div class="gap"></div>')
        elif pieces[0].kind == "boilerplate":
            text, rule = escape(pieces[0].text), escape(pieces[0].rule or "")
            body.append(f'<p class="bp"><del>{text}</del> <span class="rule">{rule}</span></p>')
        else:
            body.append(f"<p>{''.join(map(_piece_html, pieces))}</p>")
    return (
        f'<article class="doc"><header><span class="role">{role}</span> '
        f"<code>{escape(doc.id)}</code><small>{escape(doc.where)}</small></header>"
        f'<div class="text">{"".join(body)}</div></article>'
    )


def _piece_html(piece: Piece) -> str:
    text = escape(piece.text)
    if piece.kind == "shared":
        return f"<mark>{text}</mark>"
    if piece.kind == "only":
        return f'<span class="only">{text}</span>'
    return text


def _head(title: str, root: str) -> str:
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · tinlap report</title>"
        f'<link rel="stylesheet" href="{root}report.css"></head><body><main>'
    )


# ------------------------------------------------------------------------------------ index


def _write_index(
    build: Path,
    output: DedupOutput,
    meta: dict[str, int],
    sizes: Counter[int],
    n_details: int,
    problems: ProblemLog,
    nearest: list[NearDecision],
    n_checked: int,
) -> None:
    s = output.summary
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        _head(f"{output.path.name}", ""),
        "<h1>tinlap report</h1>",
        f'<p class="sub"><code>{escape(str(output.path.resolve()))}</code> · dedup by tinlap '
        f"{escape(str(s.get('tinlap_version', '?')))} · report by tinlap {__version__}, "
        f"{generated}</p>",
        _totals_html(s),
        "<h2>What each stage removed</h2>",
        _stages_html(s, output),
        "<h2>Similarity of verified pairs, and cluster sizes</h2>",
        _plots_html(s, output, sizes),
        _near_html(nearest, n_checked, CopyRule.of(output.config)),
        _list_html(meta, n_details, problems),
        "<h2>Settings</h2>",
        _settings_html(s),
        f"<script>window.TINLAP_META = {orjson.dumps(meta).decode()};</script>",
        '<script src="report.js"></script>',
        "</main></body></html>\n",
    ]
    (build / "index.html").write_text("\n".join(parts), encoding="utf-8")


def _n(value: Any) -> str:
    """A count from summary.json ("?" when it lacks one)."""
    return number(value) if isinstance(value, int) else "?"


def _count(value: Any, unit: str) -> str:
    return count(value if isinstance(value, int) else None, unit)


def _totals_html(s: dict[str, Any]) -> str:
    read, removed = s.get("documents_read", 0), s.get("documents_removed", 0)
    share = f" ({removed / read:.1%})" if read else ""
    clusters = s.get("clusters")
    cards = [
        (_n(read), f"{noun(read, 'document')} read", ""),
        (_n(s.get("documents_kept")), "kept", "kept"),
        (f"{_n(removed)}{share}", "removed as copies", "removed"),
        (_n(clusters), noun(clusters, "cluster"), ""),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><b>{value}</b><span>{label}</span></div>'
            for value, label, cls in cards
        )
        + "</div>"
    )


def _stages_html(s: dict[str, Any], output: DedupOutput) -> str:
    c = output.config
    problems = s.get("input_problems", {})
    by_kind = ", ".join(
        f"{k.split(':', 1)[1]} {number(v)}" for k, v in problems.get("by_kind", {}).items()
    )
    rules = s.get("cleaning", {}).get("lines_removed_by_rule", {})
    by_reason = s.get("removed_by_reason", {})
    rows = [
        (
            "read",
            _count(problems.get("errors", 0), "record"),
            f"unreadable input, reported by file and line ({by_kind or 'none'}); warnings: "
            f"{_n(problems.get('warnings', 0))}",
        ),
        (
            "clean",
            _count(sum(rules.values()), "line"),
            ", ".join(
                f"{rule} {number(n)}" for rule, n in sorted(rules.items(), key=lambda kv: -kv[1])
            )
            or "none",
        ),
        ("exact", _count(by_reason.get("exact"), "document"), "identical after normalisation"),
        (
            "near",
            _count(by_reason.get("near"), "document"),
            f"Jaccard ≥ {c.jaccard_threshold} with a kept document",
        ),
        (
            "contained",
            _count(by_reason.get("contained"), "document"),
            f"≥ {c.containment_threshold:.0%} of their shingles inside a kept document",
        ),
    ]
    table = "".join(
        f"<tr><th>{stage}</th><td class=num>{amount}</td><td>{escape(what)}</td></tr>"
        for stage, amount, what in rows
    )
    m = s.get("matching", {})
    funnel = " → ".join(
        [f"{_count(m.get('lsh_candidate_pairs'), 'candidate pair')} from LSH"]
        + [
            f"{_n(m.get(key))} {label}"
            for key, label in (
                ("pairs_after_sketch_filter", "after the sketch filter"),
                ("verified_pairs", "verified exactly"),
                ("verified_duplicate_pairs", "over a threshold"),
            )
        ]
    )
    seconds = ", ".join(
        f"{k.replace('_', ' ')} {v:.1f} s" for k, v in s.get("seconds_per_stage", {}).items()
    )
    return (
        f'<table class="stages">{table}</table><p class="note">Pairs: {funnel}. '
        f"Time: {escape(seconds) or '?'}.</p>"
    )


def _plots_html(s: dict[str, Any], output: DedupOutput, sizes: Counter[int]) -> str:
    c = output.config
    histogram = s.get("matching", {}).get("verified_pairs_histogram")
    plots = []
    if histogram:
        plots.append(
            _histogram_svg("Jaccard of verified pairs", histogram["jaccard"], c.jaccard_threshold)
        )
        plots.append(
            _histogram_svg(
                "Containment of verified pairs (larger side)",
                histogram["containment"],
                c.containment_threshold,
            )
        )
    else:
        plots.append(
            '<p class="note">This output has no similarity histogram (made by an '
            "older tinlap, or with --against).</p>"
        )
    last = max(
        (i for i, (lo, hi) in enumerate(_SIZE_BINS) if any(lo <= k <= hi for k in sizes)), default=3
    )
    bins = _SIZE_BINS[: max(last, 3) + 1]
    counts = [sum(n for k, n in sizes.items() if lo <= k <= hi) for lo, hi in bins]
    labels = [
        str(lo) if lo == hi else (f"{lo}+" if hi >= 1 << 62 else f"{lo}–{hi}") for lo, hi in bins
    ]
    plots.append(_histogram_svg("Cluster sizes (documents)", counts, None, labels))
    return '<div class="plots">' + "".join(plots) + "</div>"


def _histogram_svg(
    title: str, counts: list[int], threshold: float | None, labels: list[str] | None = None
) -> str:
    """Bars on a log scale; for similarities (no ``labels``) the x axis is [0, 1] and the
    threshold is drawn, with the side that makes copies shaded."""
    width, height, left, right, top, bottom = 440, 240, 48, 12, 30, 42
    pw, ph = width - left - right, height - top - bottom
    peak = max(counts, default=0)
    scale = math.log10(peak + 1) or 1.0

    def y(v: float) -> float:
        return top + ph - ph * math.log10(v + 1) / scale

    out = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><text class="title" x="{left}" y="18">{escape(title)}</text>'
    ]
    if threshold is not None:
        x0 = left + pw * threshold
        out.append(
            f'<rect class="zone" x="{x0:.1f}" y="{top}" width="{left + pw - x0:.1f}" '
            f'height="{ph}"/>'
        )
    power = 1
    while power <= peak:
        label = f"{power:,}".replace(",000,000", "M").replace(",000", "k")
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y(power):.1f}" '
            f'y2="{y(power):.1f}"/><text class="tick" x="{left - 6}" y="{y(power) + 4:.1f}" '
            f'text-anchor="end">{label}</text>'
        )
        power *= 10
    bw = pw / max(len(counts), 1)
    gap = 0.15 * bw if labels else 0.0
    for i, n in enumerate(counts):
        if n:
            what = labels[i] if labels else f"{i / len(counts):.2f}–{(i + 1) / len(counts):.2f}"
            out.append(
                f'<rect class="bar" x="{left + i * bw + gap:.1f}" y="{y(n):.1f}" '
                f'width="{bw - 2 * gap:.2f}" height="{top + ph - y(n):.1f}"><title>{what}: '
                f"{n:,}</title></rect>"
            )
    ticks = (
        [(left + (i + 0.5) * bw, label) for i, label in enumerate(labels)]
        if labels
        else [(left + pw * v / 5, f"{v / 5:.1f}") for v in range(6)]
    )
    out += [
        f'<text class="tick" x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{t}</text>'
        for x, t in ticks
    ]
    out.append(f'<line class="axis" x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}"/>')
    if threshold is not None:
        x0 = left + pw * threshold
        out.append(
            f'<line class="threshold" x1="{x0:.1f}" x2="{x0:.1f}" y1="{top - 4}" '
            f'y2="{top + ph}"/><text class="tick threshold-label" x="{x0 + 4:.1f}" '
            f'y="{top + 8}">≥ {threshold}: copy</text>'
        )
    unit = "documents per cluster" if labels else "pairs per 0.01, log scale"
    out.append(
        f'<text class="tick" x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">'
        f"{'clusters, log scale' if labels else unit}</text></svg>"
    )
    return "".join(out)


def _near_html(nearest: list[NearDecision], n_checked: int, rule: CopyRule) -> str:
    """The removals nearest a threshold, nearest first, each linked to its page."""
    head = (
        '<h2 id="near">Decisions nearest the thresholds</h2><p class="note">The removals whose '
        "scores sit closest to a threshold their decision turned on: Jaccard "
        f"{rule.jaccard} or containment {rule.containment} (a pair is a copy while either "
        f"holds: the larger margin counts), certain containment {rule.certain_containment} "
        "(at or above it the scores decide; below it the sentence check reads the texts), and "
        f"sentence coverage {rule.min_sentence_coverage} for the removals the sentence check "
        "decided. Margin = score − threshold. A is the removed copy, B its kept original. Pairs "
        "kept apart are not recorded in clusters.parquet; the histograms above show their "
        "scores, and <code>tinlap explain</code> judges any pair.</p>"
    )
    if not nearest:
        return head + '<p class="note">No removal other than exact copies.</p>'
    rows = "".join(
        f'<tr><td class="num"><a href="near/{rank:04d}.html">{number(rank)}</a></td>'
        f"<td><code>{escape(d.removed)}</code> → <code>{escape(d.kept)}</code></td>"
        f'<td><span class="badge {escape(d.reason)}">{escape(d.reason)}</span></td>'
        f'<td class="num">{d.jaccard:.3f}</td><td class="num">{d.containment:.3f}</td>'
        f'<td class="num">{"–" if d.coverage is None else f"{d.coverage:.3f}"}</td>'
        f'<td class="num">{d.margin:+.4f}</td><td>{escape(MARGIN_NAMES[d.which])} '
        f"{getattr(rule, MARGIN_FIELDS[d.which])}</td></tr>"
        for rank, d in enumerate(nearest, 1)
    )
    if n_checked == 0:
        recheck = "the sentence check decided none of the removals"
    elif n_checked <= MAX_RECHECKS:
        recheck = (
            f"sentence coverage recomputed for the {count(n_checked, 'removal')} the sentence "
            "check decided"
        )
    else:
        recheck = (
            f"sentence coverage recomputed for the {number(MAX_RECHECKS)} of "
            f"{number(n_checked)} removals the sentence check decided that sit nearest a score "
            "threshold"
        )
    return (
        f'{head}<p class="note">The {count(len(nearest), "removal")} nearest a threshold '
        f"({recheck}; <code>--near</code> sets how many are listed).</p>"
        '<table class="near"><thead><tr><th class="num">#</th><th>A removed → B kept</th>'
        '<th>reason</th><th class="num">Jaccard</th><th class="num">containment</th>'
        '<th class="num">sentence coverage</th><th class="num">margin</th><th>nearest '
        f"threshold</th></tr></thead><tbody>{rows}</tbody></table>"
    )


_SORTS = (
    ("number", "cluster order"),
    ("size", "documents"),
    ("minj", "lowest Jaccard"),
    ("minc", "lowest containment"),
)


def _list_html(meta: dict[str, int], n_details: int, problems: ProblemLog) -> str:
    n = meta["clusters"]
    pages_note = (
        "Every cluster has a page of its own"
        if n_details == n
        else f"Pages of their own: {number(n_details)} of {count(n, 'cluster')} (the first ones "
        "of every list page; see --max-details); for the others, <code>tinlap explain REMOVED "
        "KEPT --output-dir OUT</code> shows the same"
    )
    missing = [p for p in problems.problems if p.kind == "missing_input"]
    warn = "".join(f'<p class="warn">{escape(str(p))}</p>' for p in missing)
    sorts = "".join(f'<option value="{key}">{label}</option>' for key, label in _SORTS)
    reasons = "".join(f'<option value="{r}">{r}</option>' for r in REASONS)

    def bounds(name: str, label: str, step: str, low: str, high: str) -> str:
        return (
            f'<label>{label} <input id="{name}min" type="number" step="{step}" min="{low}" '
            f'max="{high}" placeholder="from" aria-label="{label}, from"> – <input '
            f'id="{name}max" type="number" step="{step}" min="{low}" max="{high}" '
            f'placeholder="to" aria-label="{label}, to"></label>'
        )

    def header(key: str, label: str) -> str:
        button = f'<button type="button" class="sort" data-sort="{key}">{label}</button>'
        return f'<th class="num">{button}</th>'

    return "\n".join(
        [
            '<h2 id="clusters">Clusters</h2>',
            '<form id="search" class="search"><input id="q" type="search" aria-label="search ids"'
            ' placeholder="Search ids: an exact id, or part of one"><button type="submit">Search'
            '</button><button type="button" id="clear">Clear</button></form>',
            '<form id="view" class="view"><label>Sort by <select id="sort">'
            f'{sorts}</select></label><select id="dir" aria-label="order"><option value="asc">'
            'ascending</option><option value="desc">descending</option></select>'
            '<label>Removed as <select id="reason"><option value="">any reason</option>'
            f"{reasons}</select></label>"
            + bounds("s", "Documents", "1", "2", "")
            + bounds("j", "Lowest Jaccard", "0.01", "0", "1")
            + bounds("c", "Lowest containment", "0.01", "0", "1")
            + '<button type="submit">Apply</button><button type="button" id="reset">All '
            "clusters</button></form>",
            '<nav class="pager"><button id="first" title="first page">«</button><button id="prev"'
            ' title="previous page">‹</button><span>page <input id="pageno" type="number" min="1"'
            f' value="1"> of <span id="pagecount">{number(meta["pages"])}</span></span><button '
            'id="next" title="next page">›</button><button id="last" title="last page">»</button>'
            "</nav>",
            '<p id="status" class="note">Loading…</p>',
            '<table class="clusters"><thead><tr>'
            + header("number", "#").replace(' class="num"', "")
            + "<th>kept document · removed copies</th>"
            + header("size", "documents")
            + "<th>removed as</th>"
            + header("minj", "lowest Jaccard")
            + header("minc", "lowest containment")
            + '</tr></thead><tbody id="rows"></tbody></table>',
            f'<p class="note">{pages_note}. Sorting and filtering cover every cluster: click a '
            "column to sort by it (again to reverse); a cluster is “removed as” a reason when "
            "one of its documents was; the lowest scores are those of its least similar removed "
            f"copy. Sorted or filtered lists show {number(meta['viewSize'])} clusters a page.</p>"
            f"{warn}",
            '<noscript><p class="warn">The cluster list needs JavaScript; the cluster pages are in'
            " clusters/.</p></noscript>",
        ]
    )


def _settings_html(s: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
        for k, v in s.get("config", {}).items()
    )
    inputs = "".join(f"<li><code>{escape(p)}</code></li>" for p in s.get("inputs", []))
    return (
        f"<details><summary>Configuration of the run and its inputs</summary>"
        f'<table class="settings">{rows}</table><ul>{inputs}</ul></details>'
    )
