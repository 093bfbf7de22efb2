"""Bounded memory on hostile input (issue 13, item 7): small files that expand to gigabytes,
millions of bad lines, a document beyond a worker's memory share.

Each run is a subprocess whose peak RSS (its own and its children's, ``resource.getrusage``)
must stay far below what the input would cost if held whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import zstandard

from tinlap.records import KEEP_MESSAGES, ProblemLog

_PEAK = """
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:]).returncode
peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 0)
print(peak * 1024, rc)
"""
MiB = 2**20


def _run_measured(tmp_path: Path, *args: str) -> tuple[int, int]:
    """Run ``tinlap ARGS`` in a subprocess; its peak RSS in bytes and its exit code."""
    tinlap = [sys.executable, "-c", "from tinlap.apps.cli import main; main()"]
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *tinlap, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=True,
    )
    peak, rc = done.stdout.split()
    return int(peak), int(rc)


def _zst_of_repeats(path: Path, chunk: bytes, times: int, tail: bytes = b"") -> Path:
    with path.open("wb") as fh, zstandard.ZstdCompressor(level=3).stream_writer(fh) as out:
        for _ in range(times):
            out.write(chunk)
        out.write(tail)
    return path


def test_zst_bomb_of_spaces_stays_in_bounded_memory(tmp_path: Path) -> None:
    """1 GiB of spaces in a ~30 KB .jsonl.zst: read in bounded pieces (was 1.27 GB peak RSS)."""
    good = orjson.dumps({"id": "ok", "text": "một bài báo ngắn"}) + b"\n"
    bomb = _zst_of_repeats(tmp_path / "bomb.jsonl.zst", b" " * MiB, 1024, b"\n" + good)
    assert bomb.stat().st_size < 100_000
    peak, rc = _run_measured(tmp_path, "dedup", bomb.name, "-o", "out", "-j", "1", "-q")
    assert peak < 400 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["documents_read"] == 1  # the record after the bomb is still read
    assert summary["input_problems"]["by_kind"] == {"error:too_large": 1}
    (message,) = summary["input_problems"]["messages"]
    assert "bomb.jsonl.zst:1:" in message and "1,073,741,825 bytes" in message
    assert rc == 0


def test_millions_of_bad_lines_keep_counts_not_messages(tmp_path: Path) -> None:
    """300,000 malformed lines from a tiny file: exact counts, 20 messages in summary.json,
    every one in problems.jsonl, memory flat (5 M lines peaked at 2.3 GB before)."""
    n = 300_000
    bad = _zst_of_repeats(tmp_path / "bad.jsonl.zst", b"x\n" * 1000, n // 1000)
    peak, rc = _run_measured(tmp_path, "dedup", bad.name, "-o", "out", "-j", "1", "-q")
    assert peak < 300 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    problems = summary["input_problems"]
    assert problems["by_kind"] == {"error:malformed_json": n}
    assert len(problems["messages"]) == KEEP_MESSAGES
    assert len(problems["first_messages_by_kind"]["error:malformed_json"]) == KEEP_MESSAGES
    assert problems["all_in"] == "problems.jsonl"
    with (tmp_path / "out" / "problems.jsonl").open("rb") as fh:
        lines = fh.readlines()
    assert len(lines) == n
    assert orjson.loads(lines[-1])["line"] == n
    assert rc == 4  # nothing was read: see test_cli's exit code tests


def test_problem_log_memory_is_bounded_per_kind() -> None:
    log = ProblemLog(spool=True)
    for i in range(50_000):
        log.error("f.jsonl", i + 1, "malformed_json", "bad")
        log.warning("f.jsonl", i + 1, "invalid_utf8", "repaired")
    assert len(log.problems) == 2 * KEEP_MESSAGES
    assert log.n_errors == log.n_warnings == 50_000
    merged = ProblemLog(spool=True)
    merged.extend(log)
    merged.extend(log)
    assert len(merged.problems) == 2 * KEEP_MESSAGES and merged.n_errors == 100_000
    with zstandard.ZstdDecompressor().stream_reader(merged.spooled(), read_across_frames=True) as r:
        assert r.read().count(b"\n") == 200_000


def test_document_beyond_the_worker_memory_share_is_an_error(tmp_path: Path) -> None:
    """A 16 MB document took 600 MB; with --memory-limit 600M (216 MiB for the one worker, so
    documents up to 1/32 of it) it is skipped as too_large, naming file and line."""
    words = [
        "tin",
        "tức",
        "thời",
        "sự",
        "hôm",
        "nay",
        "Hà",
        "Nội",
        "mưa",
        "lớn",
        "ngập",
        "đường",
        "phố",
    ]
    text = " ".join(words[i % len(words)] + str(i % 97) for i in range(2_000_000))
    rows = [{"id": "small", "text": "một bài báo ngắn"}, {"id": "big", "text": text}]
    (tmp_path / "big.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    peak, rc = _run_measured(
        tmp_path, "dedup", "big.jsonl", "-o", "out", "-j", "1", "-q", "--memory-limit", "600M"
    )
    assert peak < 300 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["documents_read"] == 1
    (message,) = summary["input_problems"]["messages"]
    assert message.startswith("big.jsonl:2: error: line is ") and "--memory-limit" in message
    assert rc == 0
