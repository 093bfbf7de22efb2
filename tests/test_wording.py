"""What people read: counts ("1 cluster", "84,132 documents") and every --help text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from tinlap.apps.cli import main
from tinlap.wording import count, noun, number


def test_count_says_one_in_the_singular_and_separates_thousands() -> None:
    assert count(1, "cluster") == "1 cluster"
    assert count(84132, "document") == "84,132 documents"
    assert count(0, "document") == "0 documents"
    assert count(2, "copy", "copies") == "2 copies" and count(1, "copy", "copies") == "1 copy"
    assert count(1_000_000, "pair") == "1,000,000 pairs"
    assert count(np.int64(1), "shard") == "1 shard"  # numpy counts, as Arrow returns them
    assert count(None, "document") == "? documents"  # a count a summary lacks
    assert noun(1, "cluster") == "cluster" and noun(3, "cluster") == "clusters"
    assert number(84132) == "84,132"
    with pytest.raises(TypeError):
        count(1.5, "document")  # type: ignore[arg-type]


def test_cli_closing_lines(tmp_path: Path) -> None:
    text = "Một câu chuyện dài về dự án điện gió ven biển được hoàn thành đúng hạn. " * 6
    docs = [{"id": "a", "text": text}, {"id": "b", "text": text}]
    inputs = write_jsonl(tmp_path / "in.jsonl", docs)
    dedup = CliRunner().invoke(main, ["dedup", str(inputs), "-o", str(tmp_path / "o"), "-j", "1"])
    assert dedup.exit_code == 0, dedup.output
    assert "Read 2 documents: kept 1, removed 1 (exact 1, near 0, contained 0) in 1 cluster" in (
        dedup.stderr
    )
    clean = CliRunner().invoke(main, ["clean", str(inputs), "-o", str(tmp_path / "c"), "-j", "1"])
    assert clean.exit_code == 0, clean.output
    assert re.search(r"Cleaned 2 documents: removed 0 lines \(", clean.stderr)


def _commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(main))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "tinlap")
def test_help_texts(path: tuple[str, ...]) -> None:
    """No escaped percent signs, doubled dots, click's bracketed show_default strings or bare
    type names as metavars; every option explained; every command shows an example."""
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "%%" not in text and "...." not in text
    assert "default: (" not in text  # show_default="..." renders as "(...)"
    for metavar in ("TEXT", "INTEGER", "FLOAT", "RANGE", "FILENAME"):
        assert not re.search(rf"--[\w-]+ {metavar}\b", text), metavar
    command = dict(COMMANDS)[path]
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"
        if isinstance(param, click.Option) and "--overwrite" in param.opts:
            assert "(exit code 5)" in (param.help or "")  # a refused folder: README's code
    if path != ("index", "stats"):  # takes nothing but the index's folder
        assert re.search(r"(Examples?:|Start with:|\n    tinlap )", text), text
