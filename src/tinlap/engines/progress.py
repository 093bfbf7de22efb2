"""Progress reports from the drivers, drawn by whoever runs them.

Engines never import a progress-bar library: they report through ``progress(...)``, which is
silent until an application installs a way to draw (the CLI installs tqdm bars on a terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


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


@contextmanager
def progress(
    desc: str, *, total: int | None = None, unit: str = "doc", quiet: bool = False
) -> Iterator[Bar]:
    """A progress report for one stage; ``quiet`` silences it."""
    with _factory[0](desc, total, unit, quiet) as bar:
        yield bar
