"""Progress bars on a terminal, silence when piped or asked to be quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def tqdm_progress(desc: str, total: int | None, unit: str, quiet: bool) -> Iterator[tqdm]:
    """A tqdm bar on stderr, disabled unless stderr is a terminal (logs stay clean)."""
    bar = tqdm(
        desc=desc,
        total=total,
        unit=unit,
        unit_scale=True,
        dynamic_ncols=True,
        disable=quiet or not sys.stderr.isatty(),
        file=sys.stderr,
        leave=False,
    )
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def progress(
    desc: str, *, total: int | None = None, unit: str = "doc", quiet: bool = False
) -> Iterator[tqdm]:
    """A bar for the applications' own long loops (the report's pages)."""
    with tqdm_progress(desc, total, unit, quiet) as bar:
        yield bar
