"""A static HTML report of a dedup output: one folder, opened from disk, nothing from the network.

Someone who just removed 30% of a corpus needs to see why. The report shows the totals and
what each stage removed, the similarity of the verified pairs and the cluster sizes against
the thresholds, every cluster in a searchable, paginated list, and cluster pages with the
kept document beside each removed one (shared passages ``<mark>``-ed, boilerplate ``<del>``-ed).

Layout of the report folder::

    index.html, report.css, report.js   totals, stages, plots (inline SVG), the cluster list
    data/pages/NNNNNN.js    list page n: ``TINLAP.page(n, rows)``
    data/ids/NNNN.js        id lookup shards: ``TINLAP.ids([[id, cluster number], ...])``
    clusters/NNNNNNN.html   the page of cluster number N (1-based, in clusters.parquet order)

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
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from tinlap import __version__
from tinlap.apps.explain import Explanation, Piece, explain, lines
from tinlap.apps.progress import progress
from tinlap.apps.retrieve import DedupOutput, Document, OutputError
from tinlap.core.clean import Removal
from tinlap.io.write import add_to_manifest
from tinlap.records import ProblemLog

PAGE_SIZE = 500  # clusters per list page
MAX_DETAILS = 10_000
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


def write_report(
    output: DedupOutput,
    target: Path,
    *,
    max_details: int = MAX_DETAILS,
    workers: int = 1,
    quiet: bool = True,
    problems: ProblemLog | None = None,
) -> ReportStats:
    """Write the report of ``output`` to the folder ``target`` (replaced if it is a report).

    Built in a temporary folder beside ``target`` and renamed into place when complete.
    """
    problems = problems if problems is not None else ProblemLog()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    try:
        for folder in ("data/pages", "data/ids", "clusters"):
            (build / folder).mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix=".tinlap-report-", dir=build) as work:
            stats = _build(output, build, Path(work), max_details, workers, quiet, problems)
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
    details_file = work / "details.jsonl"
    wanted: set[str] = set()
    sizes: Counter[int] = Counter()
    n_details = 0
    ids = _IdShards(build / "data" / "ids", shards)
    page: list[list[Any]] = []
    with open(details_file, "wb") as details:
        for cluster in _clusters(parquet, ids, quiet):
            detail = (cluster.number - 1) % PAGE_SIZE < per_page
            page.append(cluster.row(detail))
            sizes[cluster.size] += 1
            if detail:
                n_details += 1
                wanted.add(cluster.id)
                wanted.update(r[0] for r in cluster.removed)
                entry = [cluster.number, cluster.id, cluster.size, cluster.removed]
                details.write(orjson.dumps(entry) + b"\n")
            if len(page) == PAGE_SIZE:
                _write_page(build, cluster.number // PAGE_SIZE, page)
                page = []
    if page or n_clusters == 0:
        _write_page(build, n_pages, page)
    ids.close()

    with closing(_TextStore(work / "texts.sqlite")) as texts:
        with progress("find texts", total=len(wanted), unit="doc", quiet=quiet) as bar:
            for doc in output.find(wanted, workers=workers, quiet=quiet, problems=problems):
                texts.put(doc)
                bar.update(1)
        _write_cluster_pages(build, details_file, texts, output, n_details, quiet)

    meta = {"pages": n_pages, "pageSize": PAGE_SIZE, "shards": shards, "clusters": n_clusters}
    _write_index(build, output, meta, sizes, n_details, problems)
    for asset in ("report.css", "report.js"):
        (build / asset).write_bytes(files("tinlap.apps").joinpath("assets", asset).read_bytes())
    return ReportStats(n_clusters, n_pages, n_details, texts.count)


def _clusters(parquet: pq.ParquetFile, ids: _IdShards, quiet: bool) -> Iterator[_Cluster]:
    """Clusters in file order (clusters.parquet is sorted by cluster_id, kept row first);
    every row's id goes to the lookup shards on the way."""
    current: _Cluster | None = None
    number = 0
    with progress("list clusters", total=parquet.metadata.num_rows, unit="row", quiet=quiet) as bar:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=_COLUMNS):
            columns = [batch.column(name).to_pylist() for name in _COLUMNS]
            for doc_id, cluster_id, kept, jaccard, containment, reason in zip(
                *columns, strict=True
            ):
                if current is None or cluster_id != current.id:
                    if current is not None:
                        yield current
                    number += 1
                    current = _Cluster(number, cluster_id)
                current.add(doc_id, kept, jaccard, containment, reason)
                ids.add(doc_id, number)
            bar.update(batch.num_rows)
    if current is not None:
        yield current


def _write_page(build: Path, n: int, rows: list[list[Any]]) -> None:
    payload = orjson.dumps(rows).decode()
    (build / "data" / "pages" / f"{n:06d}.js").write_text(
        f"TINLAP.page({n},{payload});\n", encoding="utf-8"
    )


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
            number = current[0]
            page = _cluster_page(current, texts, output, previous, following and following[0])
            (build / "clusters" / f"{number:07d}.html").write_text(page, encoding="utf-8")
            previous, current = number, following
            bar.update(1)


def _cluster_page(
    entry: list[Any],
    texts: _TextStore,
    output: DedupOutput,
    previous: int | None,
    following: int | None,
) -> str:
    number, kept_id, size, removed = entry
    kept = texts.get(kept_id)
    links = [f'<a href="../index.html#page={(number - 1) // PAGE_SIZE + 1}">← all clusters</a>']
    if previous is not None:
        links.append(f'<a href="{previous:07d}.html">‹ cluster {previous}</a>')
    if following is not None:
        links.append(f'<a href="{following:07d}.html" id="next">cluster {following} ›</a>')
    more = size - 1 - len(removed)
    parts = [
        _head(f"Cluster {number}: {kept_id}", "../"),
        f'<nav class="crumbs">{" · ".join(links)}</nav>',
        f"<h1>Cluster {number} <code>{escape(kept_id)}</code></h1>",
        f'<p class="sub">{size:,} documents: this one kept, {size - 1:,} removed as its copies'
        + (f"; the first {len(removed)} are shown (all are in clusters.parquet)" if more else "")
        + ".</p>",
        _LEGEND,
    ]
    for doc_id, reason, jaccard, containment in removed:
        doc = texts.get(doc_id)
        parts.append(_pair_html(kept_id, kept, doc_id, doc, reason, jaccard, containment, output))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


_LEGEND = (
    '<p class="legend"><mark>shared with the other text</mark> <span class="only">only in this '
    "text</span> <del>line removed as boilerplate</del> (the rule that removed it beside it)</p>"
)


def _pair_html(
    kept_id: str,
    kept: Document | None,
    doc_id: str,
    doc: Document | None,
    reason: str,
    jaccard: float,
    containment: float,
    output: DedupOutput,
) -> str:
    head = (
        f'<section class="pair"><h2><span class="badge {escape(reason)}">{escape(reason)}</span> '
        f"removed <code>{escape(doc_id)}</code></h2>"
    )
    if kept is None or doc is None:
        missing = " and ".join(
            f"<code>{escape(i)}</code>" for i, d in ((kept_id, kept), (doc_id, doc)) if d is None
        )
        return (
            f'{head}<p class="scores">Jaccard {jaccard:.3f} · containment {containment:.3f}</p>'
            f'<p class="missing">Text of {missing} not found in the inputs listed in summary.json '
            "(moved or changed since the run?).</p></section>"
        )
    x = explain(kept, doc, output.config)
    s = x.scores
    scores = (
        f"Jaccard {s.jaccard:.3f} · {s.containment_b_in_a:.1%} of B is in A · "
        f"{s.containment_a_in_b:.1%} of A is in B"
    )
    if abs(s.jaccard - jaccard) > 1e-9 or abs(s.containment_b_in_a - containment) > 1e-9:
        scores += (
            f' <span class="warn">clusters.parquet says Jaccard {jaccard:.3f}, containment '
            f"{containment:.3f}: the inputs changed since the run</span>"
        )
    return (
        f'{head}<p class="scores">{scores}</p><p class="why">{escape(x.decision.why)}</p>'
        '<div class="sides">'
        f"{_doc_html('A · kept', x, kept, True)}{_doc_html('B · removed', x, doc, False)}"
        "</div></section>"
    )


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
        _list_html(meta, n_details, problems),
        "<h2>Settings</h2>",
        _settings_html(s),
        f"<script>window.TINLAP_META = {orjson.dumps(meta).decode()};</script>",
        '<script src="report.js"></script>',
        "</main></body></html>\n",
    ]
    (build / "index.html").write_text("\n".join(parts), encoding="utf-8")


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _count(value: Any, unit: str) -> str:
    return f"{_n(value)} {unit}{'' if value == 1 else 's'}"


def _totals_html(s: dict[str, Any]) -> str:
    read, removed = s.get("documents_read", 0), s.get("documents_removed", 0)
    share = f" ({removed / read:.1%})" if read else ""
    cards = [
        (_n(read), "documents read", ""),
        (_n(s.get("documents_kept")), "kept", "kept"),
        (f"{_n(removed)}{share}", "removed as copies", "removed"),
        (_n(s.get("clusters")), "clusters", ""),
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
        f"{k.split(':', 1)[1]} {v:,}" for k, v in problems.get("by_kind", {}).items()
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
            ", ".join(f"{rule} {n:,}" for rule, n in sorted(rules.items(), key=lambda kv: -kv[1]))
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
        f"{_n(m.get(key))} {label}"
        for key, label in (
            ("lsh_candidate_pairs", "candidate pairs from LSH"),
            ("pairs_after_sketch_filter", "after the sketch filter"),
            ("verified_pairs", "verified exactly"),
            ("verified_duplicate_pairs", "over a threshold"),
        )
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


def _list_html(meta: dict[str, int], n_details: int, problems: ProblemLog) -> str:
    n = meta["clusters"]
    pages_note = (
        "every cluster has a page of its own"
        if n_details == n
        else f"{n_details:,} of {n:,} clusters have a page of their own (the first ones of every "
        "list page; see --max-details); for the others, <code>tinlap explain KEPT REMOVED "
        "--output-dir OUT</code> shows the same"
    )
    missing = [p for p in problems.problems if p.kind == "missing_input"]
    warn = "".join(f'<p class="warn">{escape(str(p))}</p>' for p in missing)
    return "\n".join(
        [
            '<h2 id="clusters">Clusters</h2>',
            '<form id="search" class="search"><input id="q" type="search" aria-label="search ids"'
            ' placeholder="Search ids: an exact id, or part of one"><button type="submit">Search'
            '</button><button type="button" id="clear">Clear</button></form>',
            '<nav class="pager"><button id="first" title="first page">«</button><button id="prev"'
            ' title="previous page">‹</button><span>page <input id="pageno" type="number" min="1"'
            f' value="1"> of {meta["pages"]:,}</span><button id="next" title="next page">›'
            '</button><button id="last" title="last page">»</button></nav>',
            '<p id="status" class="note">Loading…</p>',
            '<table class="clusters"><thead><tr><th>#</th><th>kept document · removed copies</th>'
            '<th class="num">documents</th><th>removed as</th><th class="num">lowest Jaccard</th>'
            '<th class="num">lowest containment</th></tr></thead><tbody id="rows"></tbody></table>',
            f'<p class="note">{pages_note}.</p>{warn}',
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
