"""Shared pieces: reading VNTC, running the tinlap CLI, reading its outputs, exact similarity."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow.parquet as pq
import zstandard

from tinlap.core.normalise import Tokeniser, repair_text
from tinlap.core.sketch import shingle_sets
from tinlap.core.verify import verify

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "vntc.jsonl.zst"
DEFAULT_WORK = ROOT / "benchmarks" / ".work" / "cleaning"
DEFAULT_TINLAP = ROOT / ".venv" / "bin" / "tinlap"
SOURCES = ("VNE", "NLD", "TT", "TN")
LEARNED = "learned_boilerplate"


@dataclass(slots=True)
class Doc:
    """One input document."""

    id: str
    source: str
    topic: str
    text: str


def read_jsonl(path: Path) -> list[Doc]:
    """A JSONL file (plain or zstd) of {"id", "source", "topic", "text"} records."""
    docs = []
    with path.open("rb") as raw:
        stream: Any = raw
        if path.suffix == ".zst":
            stream = zstandard.ZstdDecompressor().stream_reader(raw)
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            if line.strip():
                rec = orjson.loads(line)
                docs.append(
                    Doc(rec["id"], rec.get("source", ""), rec.get("topic", ""), rec["text"])
                )
    return docs


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for rec in records:
            fh.write(orjson.dumps(rec) + b"\n")


def doc_lines(text: str) -> list[str]:
    """The lines tinlap's cleaner sees (its line numbers index this list)."""
    return repair_text(text).split("\n")


def nonblank(text: str) -> int:
    return sum(1 for s in doc_lines(text) if s.strip())


@dataclass(slots=True)
class Run:
    """One finished tinlap run: its output folder, summary and wall time."""

    out: Path
    summary: dict[str, Any]
    seconds: float
    command: list[str]
    tree: str  # the tinlap source tree the run used (commit, uncommitted changes)


def tinlap_tree() -> str:
    """The last commit of src/ and whether the working tree's src/ differs from it."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return done.stdout

    head = git("log", "-1", "--format=%h", "--", "src").strip()  # last commit touching src/
    changed = [line[3:] for line in git("status", "--porcelain", "src").splitlines()]
    if not changed:
        return f"src/ at {head}"
    cleaning = [c for c in changed if c.endswith(("/clean.py", "/boilerplate.py"))]
    return f"src/ at {head} + uncommitted changes (" + (
        f"including {', '.join(sorted(cleaning))})"
        if cleaning
        else "clean.py and boilerplate.py as committed)"
    )


def run_tinlap(
    tinlap: Path,
    command: str,
    inputs: Path,
    out: Path,
    flags: Sequence[str],
    workers: int,
    reuse: bool,
    keep_corpus: bool = False,
) -> Run:
    """Run ``tinlap <command>`` (or reuse a finished run's folder); drop the kept corpus after."""
    argv = [str(tinlap), command, str(inputs), "-o", str(out), "-j", str(workers), "-q", *flags]
    done = out / "summary.json"
    meta = out / "run.json"
    stat = inputs.stat()
    signature = f"{stat.st_size}:{stat.st_mtime_ns}"  # a rebuilt input is a new run
    if reuse and done.exists() and meta.exists():
        info = json.loads(meta.read_text())
        if info.get("command") == argv and info.get("input") == signature:
            return Run(out, json.loads(done.read_text()), info["seconds"], argv, info["tree"])
    print("$", " ".join(argv), flush=True)
    tree = tinlap_tree()
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    seconds = round(time.perf_counter() - start, 1)
    if not keep_corpus:
        for name in ("kept.jsonl", "kept.parquet"):
            (out / name).unlink(missing_ok=True)
    meta.write_text(
        json.dumps({"command": argv, "seconds": seconds, "tree": tree, "input": signature})
    )
    return Run(out, json.loads(done.read_text()), seconds, argv, tree)


def removed_lines(out: Path) -> list[dict[str, Any]]:
    """Rows of ``removed_lines.parquet`` (id, 1-based line, text, rule)."""
    rows: list[dict[str, Any]] = pq.read_table(out / "removed_lines.parquet").to_pylist()
    return rows


def clusters(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(out / "clusters.parquet").to_pylist()
    return rows


def similarity(
    texts: Sequence[str], pairs: Sequence[tuple[int, int]], shingle: int = 5
) -> list[tuple[float, float, float]]:
    """Exact (Jaccard, containment of a in b, containment of b in a) of text pairs.

    Uses tinlap's own key and shingles, so the numbers are the ones its verification computes.
    """
    if not pairs:
        return []
    tokens = Tokeniser().tokenise_batch(list(texts))
    sets = shingle_sets(tokens, shingle)
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    scores = verify(sets, a, b)
    return [
        (float(j), float(ca), float(cb))
        for j, ca, cb in zip(
            scores.jaccard.tolist(),
            scores.containment_a.tolist(),
            scores.containment_b.tolist(),
            strict=True,
        )
    ]


def pct(part: float, whole: float, digits: int = 2) -> str:
    return f"{100 * part / whole:.{digits}f}%" if whole else "—"
