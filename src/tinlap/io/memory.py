"""Documents given in memory: Python objects in, Records out, and the kept rows back in the
caller's own type.

The Python API takes an iterable of dicts (or of strings), a ``pyarrow.Table``, a pandas or a
polars DataFrame, or a Hugging Face ``datasets.Dataset``. pandas, polars and datasets are never
imported here: an object is recognised by its type's module, and only its own methods are
called. A row becomes a Record exactly as a JSONL line or a Parquet row does (same checks, same
problem kinds, ids made unique with ``read.unique_ids``), so a run decides the same on a table
in memory as on that table written to a file.

Each record remembers its row (``position``); the kept rows are the input's own rows, every
other column untouched, with the output text in the text column.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tinlap.config import DedupConfig
from tinlap.io.read import unique_ids
from tinlap.io.streams import open_binary
from tinlap.records import ProblemLog, Record

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath

KINDS = ("records", "strings", "arrow", "pandas", "polars", "datasets")
_MISSING: Any = object()


@dataclass(slots=True)
class MemoryInput:
    """Documents in memory: ``kind`` (one of KINDS) and the object itself (lists materialised)."""

    kind: str
    data: Any

    @property
    def label(self) -> str:
        """How problems name this input, in place of a file name."""
        return {
            "records": "<dicts>",
            "strings": "<strings>",
            "arrow": "<pyarrow.Table>",
            "pandas": "<pandas.DataFrame>",
            "polars": "<polars.DataFrame>",
            "datasets": "<datasets.Dataset>",
        }[self.kind]


def is_paths(data: Any) -> bool:
    """``data`` names files like the CLI's INPUT: a str or Path, or a list of ``Path`` objects
    (a list of str is a list of documents)."""
    if isinstance(data, str | os.PathLike):
        return True
    return (
        isinstance(data, list | tuple)
        and bool(data)
        and all(isinstance(item, os.PathLike) for item in data)
    )


def memory_input(data: Any) -> MemoryInput:
    """Recognise an in-memory input; a TypeError names what is accepted otherwise."""
    module = type(data).__module__.split(".", 1)[0]
    name = type(data).__name__
    if isinstance(data, pa.Table):
        return MemoryInput("arrow", data)
    if isinstance(data, pa.RecordBatch):
        return MemoryInput("arrow", pa.Table.from_batches([data]))
    if module == "pandas" and name == "DataFrame":
        return MemoryInput("pandas", data)
    if module == "polars" and name == "DataFrame":
        return MemoryInput("polars", data)
    if module == "polars" and name == "LazyFrame":
        return MemoryInput("polars", data.collect())
    if module == "datasets" and name == "Dataset":
        return MemoryInput("datasets", data)
    if module == "datasets":
        raise TypeError(
            f"a datasets.{name} is not supported: give a datasets.Dataset (for a DatasetDict, "
            "one split such as ds['train']; an IterableDataset can be materialised with "
            "datasets.Dataset.from_generator)"
        )
    if isinstance(data, Mapping | bytes) or not isinstance(data, Iterable):
        raise TypeError(
            f"cannot deduplicate a {type(data).__qualname__}: give an iterable of dicts or of "
            "strings, a pyarrow.Table, a pandas or polars DataFrame, a datasets.Dataset, or "
            "paths (a str or Path, or a list of Path)"
        )
    rows = list(data)
    kind = "strings" if rows and all(isinstance(row, str) for row in rows) else "records"
    return MemoryInput(kind, rows)


# -------------------------------------------------------------------------------------- reading


def _columns(source: MemoryInput, names: list[str]) -> dict[str, list[Any]]:
    """Python values of the columns ``names`` that exist (NaN as None for pandas)."""
    data = source.data
    if source.kind == "arrow":
        present = [n for n in names if n in data.column_names]
        return {n: data.column(n).to_pylist() for n in present}
    if source.kind == "pandas":
        present = [n for n in names if n in data.columns]
        return {n: [_nan_as_none(v) for v in data[n].tolist()] for n in present}
    if source.kind == "polars":
        present = [n for n in names if n in data.columns]
        return {n: data.get_column(n).to_list() for n in present}
    if source.kind == "datasets":
        present = [n for n in names if n in data.column_names]
        if not present:
            return {}
        table = data.select_columns(present).with_format("arrow")[:]
        return {n: table.column(n).to_pylist() for n in present}
    raise AssertionError(source.kind)  # pragma: no cover


def _column_names(source: MemoryInput) -> list[str]:
    data = source.data
    if source.kind in ("arrow", "datasets"):
        return list(data.column_names)
    return [str(c) for c in data.columns]


def _nan_as_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def to_records(
    source: MemoryInput, config: DedupConfig, problems: ProblemLog
) -> tuple[list[Record], list[int]]:
    """The records of ``source`` and the row each came from (rows that are no document, e.g. a
    null text, are errors in ``problems``, as a bad line of a file is)."""
    label = source.label
    text_field, id_field = config.text_field, config.id_field
    if source.kind == "strings":
        rows: Iterable[tuple[Any, Any, dict[str, Any] | None]] = (
            (text, str(i), None) for i, text in enumerate(source.data)
        )
    elif source.kind == "records":
        rows = _dict_rows(source.data, label, text_field, id_field, problems)
    else:
        rows = _table_rows(source, config, label, problems)
    records: list[Record] = []
    positions: list[int] = []
    for i, (text, doc_id, fields) in enumerate(rows):
        if text is _MISSING:  # not a row at all (already reported)
            continue
        line = i + 1
        text = _text(text, label, line, text_field, config.max_record_bytes, problems)
        if text is None:
            continue
        records.append(Record(doc_id if doc_id is not None else str(i), text, label, line, fields))
        positions.append(i)
    return list(unique_ids(records, problems)), positions


def _dict_rows(
    rows: list[Any], label: str, text_field: str, id_field: str, problems: ProblemLog
) -> Iterable[tuple[Any, str | None, dict[str, Any] | None]]:
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.error(
                label, i + 1, "not_object", f"row is a {type(row).__name__}, not a dict; skipped"
            )
            yield _MISSING, None, None
            continue
        fields = {k: v for k, v in row.items() if k != text_field}
        yield row.get(text_field, None), _id(row.get(id_field)), fields


def _table_rows(
    source: MemoryInput, config: DedupConfig, label: str, problems: ProblemLog
) -> Iterable[tuple[Any, str | None, dict[str, Any]]]:
    names = _column_names(source)
    if config.text_field not in names:
        shown = ", ".join(map(repr, names[:10])) or "none"
        raise ValueError(f"{label}: no {config.text_field!r} column (columns: {shown})")
    # What a record's fields are used for: the site of a document (chrome.source_of).
    wanted = [config.text_field, config.id_field]
    wanted += [n for n in dict.fromkeys((config.source_field, "url", "source")) if n]
    columns = _columns(source, list(dict.fromkeys(wanted)))
    texts = columns.pop(config.text_field)
    ids = columns.pop(config.id_field, None)
    if ids is None and texts:
        problems.warning(
            label, 1, "missing_id", f"no {config.id_field!r} column; used row numbers (0-based)"
        )
    for i, text in enumerate(texts):
        fields = {name: values[i] for name, values in columns.items()}
        yield text, None if ids is None else _id(ids[i]), fields


def _id(value: Any) -> str | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if type(value) is str else str(value)


def _text(
    text: Any, label: str, line: int, field: str, max_chars: int, problems: ProblemLog
) -> str | None:
    if text is None:
        problems.error(label, line, "missing_text", f"no {field!r} value; skipped")
        return None
    if not isinstance(text, str):
        problems.error(
            label,
            line,
            "text_not_string",
            f"{field!r} is a {type(text).__name__}, not a string; skipped",
        )
        return None
    if len(text) > max_chars:
        problems.error(
            label,
            line,
            "too_large",
            f"text is over the {max_chars:,}-character limit (max_record_bytes); skipped",
        )
        return None
    if not text or text.isspace():
        problems.warning(label, line, "empty_text", "empty text; kept as an empty document")
    return text


def text_size(records: list[Record]) -> int:
    """The records' text in bytes, about (what the engine choice is made on)."""
    return sum(len(r.text) for r in records) * 3 // 2  # Vietnamese: ~1.5 UTF-8 bytes a char


# -------------------------------------------------------------------------------------- writing


def rows_with_texts(
    source: MemoryInput, positions: list[int], texts: list[str], text_field: str
) -> Any:
    """The rows ``positions`` of ``source`` in its own type, every other column as it was and
    ``texts`` in the text column (added for dicts that had none)."""
    data, kind = source.data, source.kind
    if kind == "strings":
        return list(texts)
    if kind == "records":
        return [{**data[p], text_field: t} for p, t in zip(positions, texts, strict=True)]
    if kind == "arrow":
        return _arrow_rows(data, positions, texts, text_field)
    if kind == "pandas":
        out = data.iloc[positions].copy()
        out[text_field] = texts
        return out
    if kind == "polars":
        import polars as pl  # the input is a polars DataFrame: polars is installed

        out = data[positions] if positions else data.clear()
        kind_of_text = data.schema[text_field]
        return out.with_columns(pl.Series(text_field, texts, dtype=kind_of_text))
    if kind == "datasets":
        from datasets import Dataset  # the input is a Dataset: datasets is installed
        from datasets.table import InMemoryTable

        table = data.with_format("arrow")[positions] if positions else data.data.table.slice(0, 0)
        table = _arrow_rows(table, list(range(table.num_rows)), texts, text_field)
        return Dataset(InMemoryTable(table), info=data.info.copy(), split=data.split)
    raise AssertionError(kind)  # pragma: no cover


def _arrow_rows(table: pa.Table, positions: list[int], texts: list[str], field: str) -> pa.Table:
    taken = table.take(pa.array(positions, pa.int64()))
    index = taken.schema.get_field_index(field)
    column = taken.schema.field(index)
    return taken.set_column(index, column, pa.array(texts, type=column.type))


def kept_table(folder: InputPath, fmt: str, files: list[str]) -> pa.Table:
    """A written kept corpus as one table: ``files`` (summary.json's ``kept_files``: one, or
    the numbered files of a split, compressed or not) of ``folder``, local or remote."""
    if fmt == "txt":
        path = folder / files[0]
        ids, texts = [], []
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            ids.append(file.relative_to(path).as_posix())
            texts.append(file.read_text(encoding="utf-8"))
        return pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    tables = []
    for name in files:
        with open_binary(folder / name) as f:  # gzip and zstd undone by their magic bytes
            tables.append(pq.read_table(f) if fmt == "parquet" else pj.read_json(f))
    return pa.concat_tables(tables, promote_options="permissive")
