"""``--config``: options from a TOML file (flags override it), and an earlier run's
summary.json repeating that run's settings exactly."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tinlap.apps.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def _config(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())["config"]


def test_toml_then_flags_override(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(
        'jaccard = 0.7\nkeep = "first"\nno-learn = true\nmax_bucket = 150\n'
        'sentence_coverage = 0.5\nworkers = 1\nquiet = true\n'
        f'inputs = ["{SAMPLE.as_posix()}"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    _run("dedup", "--config", str(toml), "-o", str(out), "--jaccard", "0.8")
    config = _config(out)
    assert config["jaccard_threshold"] == 0.8  # the flag wins
    assert config["keep_policy"] == "first" and config["learn_boilerplate"] is False
    assert config["max_bucket"] == 150  # no option: straight into the configuration
    assert config["min_sentence_coverage"] == 0.5


def test_summary_round_trip(tmp_path: Path) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    _run(
        "dedup", str(SAMPLE), "-o", str(first), "-q", "-j", "1", "--containment", "0.7",
        "--keep", "id", "--shingle-size", "4", "--no-clean", "--keep-original-text",
        "--batch-size", "17",
    )
    _run("dedup", str(SAMPLE), "-o", str(again), "-q", "--config", str(first / "summary.json"))
    assert _config(again) == _config(first)
    assert (again / "clusters.parquet").read_bytes() == (first / "clusters.parquet").read_bytes()
    cleaned = tmp_path / "cleaned"
    _run("clean", str(SAMPLE), "-o", str(cleaned), "-q", "--config", str(first / "summary.json"))
    assert _config(cleaned) == {**_config(first), "clean": True}  # tinlap clean always cleans


def test_unknown_setting(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text("jacard = 0.7\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["dedup", str(SAMPLE), "-o", str(tmp_path / "o"), "--config", str(toml)]
    )
    assert result.exit_code == 2 and "unknown setting 'jacard'" in result.output
    toml.write_text("against = 'idx'\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["clean", str(SAMPLE), "-o", str(tmp_path / "o"), "--config", str(toml)]
    )
    assert result.exit_code == 2 and "not an option of tinlap clean" in result.output
