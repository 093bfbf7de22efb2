"""The input formats: a name, the file suffixes that mean it, and how its records are read.

A new input format is one module in ``io/`` with a reader function and a ``register(...)``
call, plus its import in ``io/read.py`` (where the built-in ones register): discovery, the
``--format`` choices and the dispatch all come from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tinlap.records import ProblemLog, Record

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath


@dataclass(frozen=True)
class Source:
    """One input file, with its format decided once so readers never guess."""

    path: InputPath  # a local Path, or a remote UPath (s3://, gs://, hf://...)
    format: str  # a name of FORMATS
    root: InputPath | None  # for rooted formats (txt, html): the folder ids are relative to

# (source, problems, text_field, id_field, max_record_bytes) -> the file's records; everything
# unusable goes to ``problems``, located by file and line.
RecordReader = Callable[[Source, ProblemLog, str, str, int], Iterator[Record]]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    suffixes: tuple[str, ...]
    # None: HTML pages (html, warc), read through the one main-text extraction stream
    read: RecordReader | None
    rooted: bool = False  # a document's id is the file's path inside the folder given
    in_folders: bool = True  # picked up when a folder is walked (tables must be named)
    tabular: bool = False  # records with fields, so --html-field can name one
    # may come gzip- or zstd-compressed (.jsonl.zst); containers with their own compression
    # (Parquet, Arrow IPC) never are
    wrapped: bool = True


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Make ``fmt`` an input format (its name for ``--format``, its suffixes for discovery)."""
    FORMATS[fmt.name] = fmt
    return fmt


def by_suffix(suffix: str) -> str | None:
    """The format a file suffix (".jsonl") names, or None."""
    for fmt in FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt.name
    return None
