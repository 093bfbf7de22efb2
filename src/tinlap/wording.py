"""Counts in messages: "1 cluster", "84,132 documents", the same way everywhere.

Every message a person reads (the command line's closing lines and errors, the HTML report)
says a count through ``count``, so none says "1 clusters" or "84132 documents". English
nouns only; an irregular plural is passed in (``count(n, "copy", "copies")``). The report's
script (``apps/assets/report.js``) has the browser-side twin, with the same output.

Imports no tinlap layer, so any layer may use it.
"""

from __future__ import annotations

from numbers import Integral


def number(n: int | float) -> str:
    """``n`` with thousands separators: 84132 → "84,132" (floats keep their decimals)."""
    return f"{n:,}"


def noun(n: int | None, singular: str, plural: str | None = None) -> str:
    """The form of the noun that goes with ``n``: singular for exactly 1, else the plural
    (``singular + "s"`` unless given)."""
    return singular if n == 1 else (plural or singular + "s")


def count(n: int | None, singular: str, plural: str | None = None) -> str:
    """``n`` and its noun: "1 cluster", "84,132 documents", "0 documents". None (a count a
    summary lacks) reads "? documents"."""
    if n is None:
        return f"? {noun(n, singular, plural)}"
    if not isinstance(n, Integral):
        raise TypeError(f"count() needs an integer, not {n!r}")
    return f"{number(n)} {noun(n, singular, plural)}"


__all__ = ["count", "noun", "number"]
