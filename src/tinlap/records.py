"""The units every stage passes along: an input document and an input problem.

Kept deliberately small: stages are pure functions over these, so they must pickle cheaply
to worker processes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson
import zstandard

# ``map``'s shape: apply a function to tasks, results in task order. Executors provide one; the
# I/O layer takes one (HTML extraction) instead of importing an executor.
MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]

Severity = Literal["error", "warning"]
# Full messages kept in memory per (severity, kind); the rest are counted (and spooled).
KEEP_MESSAGES = 20


@dataclass(slots=True)
class Record:
    """One input document.

    ``path`` and ``line`` locate it for messages (``line`` is the 1-based line of a JSONL
    file, the 1-based row of a Parquet file, 0 for a whole .txt file). ``fields`` carries the
    record's other columns so the kept corpus can be written back in the input's shape.
    """

    id: str
    text: str
    path: str
    line: int = 0
    fields: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the input, located by file and line.

    ``error``: the record could not be processed and is not in the output (it was never a
    document). ``warning``: the record was processed, possibly repaired (e.g. invalid UTF-8
    replaced, a duplicate id renamed).
    """

    path: str
    line: int
    severity: Severity
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class StrictInputError(Exception):
    """Raised on the first input error when the run was asked to be strict."""


@dataclass(slots=True)
class ProblemLog:
    """Collects problems in bounded memory: exact counts per (severity, kind), the first
    ``keep`` messages of each kind in full, and, with ``spool``, every problem as a JSON line in
    a zstd-compressed temporary file (:meth:`write_jsonl` copies them out as problems.jsonl).

    5 million malformed lines cost a few counters and 20 messages, not gigabytes, and
    summary.json adds up whatever the input. With ``strict``, the first error stops the run.
    """

    keep: int = KEEP_MESSAGES
    strict: bool = False
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    spool: bool = False
    _file: IO[bytes] | None = None
    _writer: Any = None

    def add(self, problem: Problem) -> None:
        if self.strict and problem.severity == "error":
            stopped = Problem(
                problem.path,
                problem.line,
                problem.severity,
                problem.kind,
                problem.message.removesuffix("; skipped") + " (--strict: stopped here)",
            )
            raise StrictInputError(str(stopped))
        key = (problem.severity, problem.kind)
        self.counts[key] += 1
        if self.counts[key] <= self.keep:
            self.problems.append(problem)
        if self.spool:
            self._spool_lines([_problem_json(problem)])

    def _spool_lines(self, lines: Iterable[bytes]) -> None:
        if self._writer is None:
            self._file = tempfile.TemporaryFile(prefix="tinlap-problems-")  # noqa: SIM115
            self._writer = zstandard.ZstdCompressor(level=3).stream_writer(
                self._file, closefd=False
            )
        for line in lines:
            self._writer.write(line)

    def spooled(self) -> bytes:
        """Every problem so far, zstd-compressed JSON lines (b"" when none or not spooling)."""
        if self._writer is None or self._file is None:
            return b""
        self._writer.flush(zstandard.FLUSH_FRAME)
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0, 2)
        return data

    def merge(self, problems: Iterable[Problem], counts: Iterable[tuple[str, str, int]]) -> None:
        """Add another log's kept messages and counts (e.g. a worker task's), the messages still
        capped at ``keep`` per kind; their spool goes through :meth:`merge_spooled`."""
        for problem in problems:
            if self.counts[(problem.severity, problem.kind)] < self.keep:
                self.problems.append(problem)
        for severity, kind, n in counts:
            self.counts[(severity, kind)] += n

    def merge_spooled(self, data: bytes) -> None:
        """Append another log's :meth:`spooled` problems to this log's spool."""
        if data and self.spool:
            with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as r:
                self._spool_lines(iter(lambda: r.read(1 << 16), b""))

    def write_jsonl(self, path: Path) -> int:
        """Write every spooled problem to ``path`` (one JSON object a line), streaming."""
        data_file = None
        if self._writer is not None and self._file is not None:
            self._writer.flush(zstandard.FLUSH_FRAME)
            self._file.seek(0)
            data_file = self._file
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as out:
            if data_file is not None:
                with zstandard.ZstdDecompressor().stream_reader(
                    data_file, read_across_frames=True, closefd=False
                ) as r:
                    shutil.copyfileobj(r, out, 1 << 20)
                data_file.seek(0, 2)
        tmp.replace(path)
        return self.n_errors + self.n_warnings

    def messages_by_kind(self) -> dict[str, list[str]]:
        """The kept messages (the first ``keep`` of each kind), grouped by severity:kind."""
        grouped: dict[str, list[str]] = {}
        for p in self.problems:
            grouped.setdefault(f"{p.severity}:{p.kind}", []).append(str(p))
        return dict(sorted(grouped.items()))

    def error(self, path: str, line: int, kind: str, message: str) -> None:
        self.add(Problem(path, line, "error", kind, message))

    def warning(self, path: str, line: int, kind: str, message: str) -> None:
        self.add(Problem(path, line, "warning", kind, message))

    def extend(self, other: ProblemLog) -> None:
        self.merge(other.problems, [(sev, kind, n) for (sev, kind), n in other.counts.items()])
        self.merge_spooled(other.spooled())

    @property
    def n_errors(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "error")

    @property
    def n_warnings(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "warning")

    def summary(self) -> dict[str, Any]:
        return {
            "errors": self.n_errors,
            "warnings": self.n_warnings,
            "by_kind": {f"{sev}:{kind}": n for (sev, kind), n in sorted(self.counts.items())},
            "first_messages_by_kind": self.messages_by_kind(),
            "all_in": "problems.jsonl" if self.spool else None,
        }


def _problem_json(p: Problem) -> bytes:
    fields = {"path": p.path, "line": p.line, "severity": p.severity, "kind": p.kind}
    return orjson.dumps({**fields, "message": p.message}) + b"\n"
