"""Accuracy on the real labelled dev sets (../shared/data/vlsp-dev, baomoi-dev).

``tinlap dedup`` (in-memory engine, default settings) on each set, scored as the data README
defines it: precision on the claimed edges (each removed document against its
``duplicate_of``; pairs labelled ambiguous are left out, an unlisted pair is not a copy),
recall on the labelled copy pairs that end in one cluster; baomoi-dev's copies split into
re-extractions of one page (bm-N / bmrx-N) and real multi-outlet copies. The floors are the
figures measured when the rule was last changed (README, "Accuracy") less a small margin:
a drop means the rule got worse on real reposts. Calibrate on these sets; don't tune to them.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
import zstandard

from tinlap.config import DedupConfig
from tinlap.engines.inmemory import run_dedup

_RX = re.compile(r"^bm(rx)?-(\d+)$")

# Issue 12's targets (recall 0.95 on both sets, precision 0.99), held; re-extraction and
# multi-outlet recall at the figures measured (README, "Accuracy") less a margin of 0.01.
FLOORS = {
    "vlsp-dev": {"precision": 0.99, "recall": 0.95},
    "baomoi-dev": {
        "precision": 0.99,
        "recall": 0.95,
        "re-extraction": 0.985,
        "multi-outlet": 0.85,
    },
}


def _kind(a: str, b: str) -> str:
    ma, mb = _RX.match(a), _RX.match(b)
    return "re-extraction" if ma and mb and ma.group(2) == mb.group(2) else "multi-outlet"


def score(out: Path, labels_path: Path) -> dict[str, float]:
    """Precision and recall of a dedup output against a dev set's labels."""
    labels = {}
    for line in labels_path.read_bytes().splitlines():
        r = orjson.loads(line)
        labels[(min(r["a"], r["b"]), max(r["a"], r["b"]))] = r["label"]
    rows = pq.read_table(out / "clusters.parquet").to_pylist()
    cluster = {r["id"]: r["cluster_id"] for r in rows}
    claimed = Counter(
        labels.get((min(r["id"], r["duplicate_of"]), max(r["id"], r["duplicate_of"])), "not-copy")
        for r in rows
        if not r["kept"]
    )
    together: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (a, b), label in labels.items():
        if label == "copy":
            kind = _kind(a, b)
            same = cluster.get(a) is not None and cluster.get(a) == cluster.get(b)
            total[kind] += 1
            together[kind] += same
    edges = claimed["copy"] + claimed["not-copy"]
    result = {
        "precision": claimed["copy"] / edges if edges else 1.0,
        "recall": sum(together.values()) / sum(total.values()),
    }
    result.update({k: together[k] / total[k] for k in total})
    return result


def load(path: Path) -> list[dict[str, str]]:
    with path.open("rb") as raw:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), "utf-8")
        return [orjson.loads(line) for line in text]


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_dev_set_accuracy(name: str, shared_dir: Path, tmp_path: Path) -> None:
    folder = shared_dir / "data" / name
    if not folder.exists():
        pytest.skip(f"dev set not found at {folder}: see ../shared/data/README.md")
    out = tmp_path / "out"
    run_dedup([str(folder / "docs.jsonl.zst")], out, DedupConfig(workers=1), quiet=True)
    got = score(out, folder / "labels.jsonl")
    print(name, {k: round(v, 4) for k, v in got.items()})
    for metric, floor in FLOORS[name].items():
        assert got[metric] >= floor, (name, metric, got)
