"""A trivial stand-in for `tinlap dedup`: exact duplicates only (same NFC text).

Two uses: testing the harness end to end without tinlap, and an "exact-only" baseline row in
the report (what any dedup tool must beat). Same output contract as tinlap's clusters.parquet.

    python benchmarks/accuracy/standin.py dedup INPUT.jsonl --output OUT
"""

from __future__ import annotations

import argparse
import hashlib
import io
import unicodedata
from collections import defaultdict
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard


def read_records(path: Path) -> list[tuple[str, str]]:
    """(id, text) of a .jsonl or .jsonl.zst file, in input order."""
    with path.open("rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.suffix == ".zst" else raw
        return [
            (str(rec["id"]), rec["text"])
            for rec in map(orjson.loads, io.TextIOWrapper(stream, encoding="utf-8"))
        ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["dedup"])
    parser.add_argument("input", type=Path)
    parser.add_argument("--output", "-o", type=Path, required=True)
    parser.add_argument("--workers", "-j", type=int, default=1)  # accepted, ignored
    args = parser.parse_args(argv)

    groups: dict[bytes, list[str]] = defaultdict(list)
    for doc_id, text in read_records(args.input):
        norm = " ".join(unicodedata.normalize("NFC", text).split())
        groups[hashlib.sha1(norm.encode()).digest()].append(doc_id)
    rows: dict[str, list[object]] = {
        k: []
        for k in ("id", "cluster_id", "kept", "duplicate_of", "jaccard", "containment", "reason")
    }
    for members in groups.values():
        if len(members) < 2:
            continue
        first = members[0]
        for doc_id in members:
            rows["id"].append(doc_id)
            rows["cluster_id"].append(first)
            rows["kept"].append(doc_id == first)
            rows["duplicate_of"].append(None if doc_id == first else first)
            rows["jaccard"].append(1.0)
            rows["containment"].append(1.0)
            rows["reason"].append("exact")
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("cluster_id", pa.string()),
            ("kept", pa.bool_()),
            ("duplicate_of", pa.string()),
            ("jaccard", pa.float64()),
            ("containment", pa.float64()),
            ("reason", pa.string()),
        ]
    )
    args.output.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows, schema=schema), args.output / "clusters.parquet")


if __name__ == "__main__":
    main()
