"""Helpers for the end-to-end tests (test_pipeline.py, test_cli.py): inputs, runs, outputs."""

from __future__ import annotations

import gzip
import io
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import zstandard

from tinlap.config import DedupConfig
from tinlap.engines.inmemory import run_dedup
from tinlap.records import ProblemLog

SEED_SCRAPE = "000_f1cdcb0b2f19f625.txt"  # scrape with site boilerplate
SEED_CLEAN = "002_5681c2e147e64257.txt"  # cleaner, complete copy: the one to keep

# A short news story of four sentences, for tests that need one real-looking text.
STORY = (
    "Hà Nội sẽ thử nghiệm thu phí ô tô vào nội đô từ năm sau để giảm ùn tắc giao thông. "
    "Theo đề án vừa được trình, phí sẽ thu tự động qua thẻ định danh gắn trên xe. "
    "Các chuyên gia cho rằng cần mở rộng xe buýt và đường sắt đô thị trước khi thu phí. "
    "Người dân ở các quận trung tâm bày tỏ lo ngại về chi phí đi lại tăng thêm mỗi tháng."
)


# ------------------------------------------------------------------------------------ inputs


def jsonl_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jsonl_bytes(rows))
    return path


def write_txt_folder(folder: Path, docs: dict[str, str]) -> Path:
    """One .txt file per document; ids are paths relative to ``folder``."""
    for doc_id, text in docs.items():
        path = folder / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return folder


@cache
def vntc_head(path: Path, n: int) -> tuple[dict[str, Any], ...]:
    """The first ``n`` records of vntc.jsonl.zst (streamed; cached per session)."""
    rows = []
    with path.open("rb") as fh:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh), 1 << 20)
        for line in itertools.islice(reader, n):
            rows.append(orjson.loads(line))
    return tuple(rows)


@cache
def vntc_exact_sample(path: Path, head: int, groups: int) -> tuple[dict[str, Any], ...]:
    """The first ``head`` records plus every member of the first ``groups`` exact-duplicate
    groups of the whole file (VNTC's copies sit far apart: the same story filed under two
    topics), in file order."""
    by_text: dict[str, list[int]] = {}
    rows: list[dict[str, Any]] = []
    with path.open("rb") as fh:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh), 1 << 20)
        for i, line in enumerate(reader):
            row = orjson.loads(line)
            rows.append(row)
            by_text.setdefault(row["text"], []).append(i)
    wanted = set(range(head))
    dup_groups = sorted((v for v in by_text.values() if len(v) > 1), key=lambda v: v[0])
    for members in dup_groups[:groups]:
        wanted.update(members)
    return tuple(rows[i] for i in sorted(wanted))


def seed_texts(seeds_dir: Path) -> dict[str, str]:
    return {
        name: (seeds_dir / name).read_text(encoding="utf-8") for name in (SEED_SCRAPE, SEED_CLEAN)
    }


# ----------------------------------------------------------------------------------- running


def run(inputs: Sequence[str | Path], out: Path, **settings: Any) -> dict[str, Any]:
    """``run_dedup`` in-process, one worker unless told otherwise, quiet."""
    settings.setdefault("workers", 1)
    problems = settings.pop("problems", None) or ProblemLog()
    return run_dedup(
        [str(i) for i in inputs], out, DedupConfig(**settings), quiet=True, problems=problems
    )


# ----------------------------------------------------------------------------------- outputs


@dataclass
class Output:
    out: Path
    clusters: list[dict[str, Any]]  # rows of clusters.parquet
    kept: dict[str, Any]  # id -> text (jsonl/txt) or row (parquet)
    summary: dict[str, Any]

    @property
    def removed(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.clusters if not r["kept"]}

    @property
    def kept_rows(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.clusters if r["kept"]}

    def row(self, doc_id: str) -> dict[str, Any] | None:
        return next((r for r in self.clusters if r["id"] == doc_id), None)

    def cluster_of(self, doc_id: str) -> list[str]:
        row = self.row(doc_id)
        if row is None:
            return []
        return sorted(r["id"] for r in self.clusters if r["cluster_id"] == row["cluster_id"])


def load(out: Path, id_field: str = "id", text_field: str = "text") -> Output:
    import json

    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    kept: dict[str, Any] = {}
    files = summary.get("kept_files", [])
    if summary["output_format"] == "jsonl":
        for name in files:
            for line in read_bytes(out / name).splitlines():
                row = orjson.loads(line)
                assert row[id_field] not in kept, f"id {row[id_field]!r} twice in {name}"
                kept[str(row[id_field])] = row[text_field]
    elif summary["output_format"] == "parquet":
        for name in files:
            for row in pq.read_table(out / name).to_pylist():
                assert row[id_field] not in kept
                kept[str(row[id_field])] = row
    elif (out / "kept").is_dir():
        for path in sorted((out / "kept").rglob("*")):
            if path.is_file():
                kept[path.relative_to(out / "kept").as_posix()] = path.read_text(encoding="utf-8")
    else:
        raise AssertionError(f"no kept corpus in {out}: {sorted(p.name for p in out.iterdir())}")
    return Output(out, clusters, kept, summary)


def read_bytes(path: Path) -> bytes:
    """A file's bytes, gzip or zstd undone (by its name's suffix), every gzip member and zstd
    frame of it (the sharded engine's single kept file is one per write task)."""
    if path.name.endswith(".gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".zst"):
        with path.open("rb") as fh:
            return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read()
    return path.read_bytes()


def kept_bytes(out: Path) -> bytes:
    """The kept JSONL corpus of an output, decompressed, its split files joined in order."""
    summary = orjson.loads((out / "summary.json").read_bytes())
    return b"".join(read_bytes(out / name) for name in summary["kept_files"])


def check_invariants(output: Output, input_ids: Sequence[str], config: DedupConfig) -> None:
    """Every contract of clusters.parquet, the kept corpus and summary.json that always holds."""
    clusters, kept, summary = output.clusters, output.kept, output.summary
    ids = list(input_ids)
    assert len(set(ids)) == len(ids)

    # Every document is kept or removed, never both, never lost, nothing invented.
    removed = output.removed
    assert len(removed) == sum(1 for r in clusters if not r["kept"]), "an id removed twice"
    assert set(kept).isdisjoint(removed), set(kept) & set(removed)
    assert set(kept) | set(removed) == set(ids)
    assert len(kept) + len(removed) == len(ids)

    # Summary counts add up.
    assert summary["documents_read"] == len(ids)
    assert summary["documents_kept"] == len(kept)
    assert summary["documents_removed"] == len(removed)
    assert summary.get("documents_unwritable", 0) == 0
    assert summary["documents_read"] == summary["documents_kept"] + summary["documents_removed"]
    by_reason = summary["removed_by_reason"]
    assert set(by_reason) == {"exact", "near", "contained"}
    assert sum(by_reason.values()) == summary["documents_removed"]
    for reason, count in by_reason.items():
        assert count == sum(1 for r in removed.values() if r["reason"] == reason)

    # Clusters: one kept row each, named after it; removed rows point at their cluster's kept doc.
    kept_rows = output.kept_rows
    assert len(kept_rows) == sum(1 for r in clusters if r["kept"]), "a kept row twice"
    assert summary["clusters"] == len(kept_rows) == len({r["cluster_id"] for r in clusters})
    for doc_id, row in kept_rows.items():
        assert row["cluster_id"] == doc_id
        assert row["duplicate_of"] is None and row["reason"] is None
        assert doc_id in kept
    members: dict[str, int] = {}
    for row in clusters:
        members[row["cluster_id"]] = members.get(row["cluster_id"], 0) + 1
    assert all(n >= 2 for n in members.values()), "a cluster of one in clusters.parquet"
    for doc_id, row in removed.items():
        assert row["duplicate_of"] == row["cluster_id"], row
        assert row["duplicate_of"] in kept_rows, row
        assert row["duplicate_of"] != doc_id
        assert row["reason"] in ("exact", "near", "contained"), row
        assert 0.0 <= row["jaccard"] <= 1.0, row
        assert 0.0 <= row["containment"] <= 1.0, row
        assert row["jaccard"] <= row["containment"] + 1e-12, row  # |A∩B|/|A∪B| <= |A∩B|/|A|
        if row["reason"] == "exact":
            assert row["jaccard"] == row["containment"] == 1.0, row
        elif row["reason"] == "near":
            assert row["jaccard"] >= config.jaccard_threshold, row
        else:
            assert row["jaccard"] < config.jaccard_threshold, row
            assert row["containment"] >= config.containment_threshold, row


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
