"""Logging: nothing new on stderr by default; --log-format json writes one event a line
(stage start and end with seconds, progress, problems, the run's end)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinlap.apps.cli import main
from tinlap.engines import progress

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"


@pytest.fixture
def broken_input(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(SAMPLE.read_text("utf-8") + "{not json\n", encoding="utf-8")
    return path


def test_json_log_file(
    tmp_path: Path, broken_input: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)
    log = tmp_path / "run.log"
    result = CliRunner().invoke(
        main,
        ["--log-format", "json", "--log-file", str(log), "dedup", str(broken_input),
         "-o", str(tmp_path / "out"), "-q", "-j", "1"],
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert all({"time", "level", "logger", "event", "message"} <= e.keys() for e in events)
    kinds = [e["event"] for e in events]
    assert kinds.count("stage_start") == kinds.count("stage_end") >= 3
    ends = [e for e in events if e["event"] == "stage_end"]
    assert {e["stage"] for e in ends} >= {"read, clean, sketch", "write"}
    assert all(isinstance(e["seconds"], float) for e in ends)
    assert any(e["event"] == "progress" and e["done"] >= 1 for e in events)
    problem = next(e for e in events if e["event"] == "problem")
    assert problem["level"] == "ERROR" and problem["kind"] == "malformed_json"
    assert problem["line"] == 82 and problem["path"] == str(broken_input)
    end = events[-1]
    assert end["event"] == "run_end" and end["documents_read"] == 81
    assert not logging.getLogger("tinlap").handlers[1:]  # released after the command


def test_default_stderr_unchanged(tmp_path: Path, broken_input: Path) -> None:
    result = CliRunner().invoke(
        main, ["dedup", str(broken_input), "-o", str(tmp_path / "out"), "-j", "1"]
    )
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("tinlap: ") and "malformed JSON" in lines[0]
    assert lines[1].startswith("Read 81 documents") and len(lines) == 2


def test_level_filters(tmp_path: Path, broken_input: Path) -> None:
    log = tmp_path / "run.log"
    result = CliRunner().invoke(
        main,
        ["--log-level", "warning", "--log-file", str(log), "clean", str(broken_input),
         "-o", str(tmp_path / "out"), "-q", "-j", "1"],
    )
    assert result.exit_code == 0, result.output
    text = log.read_text("utf-8")
    assert "ERROR tinlap.engines:" in text and "stage" not in text
