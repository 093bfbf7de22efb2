"""tinlap: find the same text published many times and hand back a clean corpus.

The Python API (``tinlap.api``): :func:`dedup`, :func:`clean`, :func:`explain` and
:class:`Index`, over the same code as the ``tinlap`` command.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# A library logs, the application decides where to: silent unless configured (tinlap's CLI
# does so with --log-level, --log-file, --log-format).
logging.getLogger("tinlap").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # for type checkers and editors; at run time loaded on first use (below)
    from tinlap.api import CleanResult, DedupResult, Index, clean, dedup, explain

__all__ = ["CleanResult", "DedupResult", "Index", "__version__", "clean", "dedup", "explain"]


def __getattr__(name: str) -> Any:
    """``tinlap.dedup`` and the rest, imported on first use: every layer imports this package
    for ``__version__``, and must not import the API (the top layer) with it."""
    if name in __all__:
        return getattr(importlib.import_module("tinlap.api"), name)
    raise AttributeError(f"module 'tinlap' has no attribute {name!r}")
