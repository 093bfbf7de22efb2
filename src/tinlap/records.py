"""The units every stage passes along: an input document and an input problem.

Kept deliberately small: stages are pure functions over these, so they must pickle cheaply
to worker processes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

# ``map``'s shape: apply a function to tasks, results in task order. Executors provide one; the
# I/O layer takes one (HTML extraction) instead of importing an executor.
MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]

Severity = Literal["error", "warning"]


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
    """Collects problems; keeps every error and the first ``keep`` warnings of each kind in full.

    Counts are always exact, so summary.json adds up even for a crawl with millions of warnings.
    With ``strict``, the first error stops the run instead.
    """

    keep: int = 1000
    strict: bool = False
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

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
        if problem.severity == "error" or self.counts[key] <= self.keep:
            self.problems.append(problem)

    def error(self, path: str, line: int, kind: str, message: str) -> None:
        self.add(Problem(path, line, "error", kind, message))

    def warning(self, path: str, line: int, kind: str, message: str) -> None:
        self.add(Problem(path, line, "warning", kind, message))

    def extend(self, other: ProblemLog) -> None:
        for problem in other.problems:
            self.problems.append(problem)
        self.counts.update(other.counts)

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
        }
