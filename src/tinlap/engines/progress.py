"""Progress reports from the drivers, drawn by whoever runs them, and logged.

Engines never import a progress-bar library: they report through ``progress(...)``, which is
silent until an application installs a way to draw (the CLI installs tqdm bars on a terminal).
Every stage reported so is also a pair of events on the ``tinlap`` logger (``stage_start``;
``stage_end`` with its seconds and count), with ``progress`` events in between at most every
``PROGRESS_SECONDS``; nothing is printed unless the application configures logging.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

log = logging.getLogger("tinlap.engines")
PROGRESS_SECONDS = 10.0


class Bar(Protocol):
    def update(self, n: int = 1) -> None: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        del n


# (description, total or None, unit, quiet) -> a context manager giving a Bar.
ProgressFactory = Callable[[str, int | None, str, bool], AbstractContextManager[Bar]]


@contextmanager
def _silent(desc: str, total: int | None, unit: str, quiet: bool) -> Iterator[Bar]:
    del desc, total, unit, quiet
    yield _Silent()


_factory: list[ProgressFactory] = [_silent]


def set_progress(factory: ProgressFactory) -> None:
    """Install how progress is drawn in this process (the CLI calls it once at start)."""
    _factory[0] = factory


class _Logged:
    """A bar that also counts, and logs a ``progress`` event now and then."""

    def __init__(self, bar: Bar, stage: str, total: int | None, unit: str) -> None:
        self.bar, self.stage, self.total, self.unit = bar, stage, total, unit
        self.done = 0
        self.started = self.last = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        self.done += n
        now = time.perf_counter()
        if now - self.last >= PROGRESS_SECONDS and log.isEnabledFor(logging.INFO):
            self.last = now
            of = f"/{self.total}" if self.total is not None else ""
            event(
                "progress",
                f"{self.stage}: {self.done}{of} {self.unit}",
                stage=self.stage,
                done=self.done,
                total=self.total,
                unit=self.unit,
                seconds=round(now - self.started, 3),
            )


@contextmanager
def progress(
    desc: str, *, total: int | None = None, unit: str = "doc", quiet: bool = False
) -> Iterator[Bar]:
    """A progress report for one stage; ``quiet`` silences the drawing, not the events."""
    event("stage_start", f"{desc}: start", stage=desc, total=total, unit=unit)
    with _factory[0](desc, total, unit, quiet) as bar:
        logged = _Logged(bar, desc, total, unit)
        yield logged
    seconds = round(time.perf_counter() - logged.started, 3)
    event(
        "stage_end",
        f"{desc}: {logged.done} {unit} in {seconds} s",
        stage=desc,
        done=logged.done,
        unit=unit,
        seconds=seconds,
    )


def event(name: str, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """One event on the ``tinlap`` logger: ``message`` for people, ``fields`` for machines
    (the JSON log format writes them as keys)."""
    if log.isEnabledFor(level):
        log.log(level, message, extra={"event": name, "fields": fields})


def log_run(kind: str, summary: dict[str, Any], problems: Any) -> None:
    """The end of a run: its input problems (one ``problem`` event each, as kept in the
    summary) and a ``run_end`` event with its counts."""
    for problem in problems.problems[:1000]:
        level = logging.ERROR if problem.severity == "error" else logging.WARNING
        event(
            "problem",
            str(problem),
            level,
            path=problem.path,
            line=problem.line,
            severity=problem.severity,
            kind=problem.kind,
        )
    counts = {
        k: summary[k]
        for k in ("documents_read", "documents_kept", "documents_removed", "lines_removed")
        if k in summary
    }
    event("run_end", f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), **counts)
