"""Records from Arrow record batches: the one reading of tabular input (Parquet, Arrow IPC,
CSV/TSV), so every table format finds its text and id columns, repairs invalid UTF-8 and
reports its problems the same way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from tinlap.io.formats import Source
from tinlap.io.streams import STREAM_ERRORS, decode
from tinlap.records import ProblemLog, Record

TEXT_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())
LIMIT = "limit per document (max_record_bytes, and 1/32 of a worker's --memory-limit share)"


def table_records(
    source: Source,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    size: str,
    problems: ProblemLog,
    text_field: str,
    id_field: str,
    max_bytes: int,
    *,
    what: str,
) -> Iterator[Record]:
    """The records of a table read batch by batch (``size`` describes it in messages, ``what``
    names its format). A read that fails midway keeps the rows before it, and says so."""
    path = str(source.path)
    if not has_text_column(schema, text_field, size, path, problems):
        return
    others = [name for name in schema.names if name != text_field]
    has_id = id_field in others
    row = 0
    try:
        for batch in batches:
            if not has_id and not row and batch.num_rows:
                problems.warning(
                    path,
                    1,
                    "missing_id",
                    f'no {id_field!r} column; used "{source.path.name}:ROW" as ids',
                )
            texts = texts_of(batch.column(text_field))
            fields = fields_of(batch, others, path, row + 1, problems)
            for text, record_fields in zip(texts, fields, strict=True):
                row += 1
                text = table_text(text, path, row, text_field, max_bytes, problems)
                if text is None:
                    continue
                doc_id = record_fields.get(id_field) if has_id else None
                doc_id = (
                    f"{source.path.name}:{row}" if doc_id is None or doc_id == "" else str(doc_id)
                )
                yield Record(doc_id, text, path, row, record_fields)
    except EOFError:
        problems.error(path, row, "truncated", f"compressed file ends early after row {row:,}")
        return
    except (*STREAM_ERRORS, pa.ArrowException, UnicodeDecodeError) as e:
        problems.error(
            path,
            row + 1,
            "unreadable",
            f"{what} read failed after row {row:,} ({e}); the rows before it were kept",
        )
        return
    if not row:
        problems.warning(path, 0, "empty_file", "file has no rows")


def warn_if_empty(text: str, path: str, line: int, problems: ProblemLog) -> None:
    if not text or text.isspace():
        problems.warning(path, line, "empty_text", "empty text; kept as an empty document")


def texts_of(column: pa.Array) -> list[Any]:
    """Python values of the text column; raw bytes when it holds invalid UTF-8 (decoded per row)."""
    try:
        return column.to_pylist()
    except UnicodeDecodeError:  # Arrow does not validate UTF-8 when reading Parquet
        return column.view(_binary_twin(column.type)).to_pylist()


def fields_of(
    batch: pa.RecordBatch, names: list[str], path: str, row: int, problems: ProblemLog
) -> list[dict[str, Any]]:
    try:
        return batch.select(names).to_pylist()
    except UnicodeDecodeError:
        problems.warning(
            path,
            row,
            "invalid_utf8",
            "invalid UTF-8 in a string column of rows "
            f"{row:,}-{row + batch.num_rows - 1:,}; bad bytes replaced with U+FFFD",
        )
    columns = [_repaired_strings(batch.column(name)) for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _repaired_strings(column: pa.Array) -> list[Any]:
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column.to_pylist()
    raw = column.view(_binary_twin(column.type)).to_pylist()
    return [None if value is None else value.decode(errors="replace") for value in raw]


def _binary_twin(kind: pa.DataType) -> pa.DataType:
    return pa.large_binary() if pa.types.is_large_string(kind) else pa.binary()


def has_text_column(
    schema: pa.Schema, text_field: str, size: str, path: str, problems: ProblemLog
) -> bool:
    if text_field not in schema.names:
        columns = ", ".join(map(repr, schema.names[:10])) or "none"
        problems.error(
            path,
            0,
            "missing_text",
            f"no {text_field!r} column (columns: {columns}); file ({size}) skipped",
        )
        return False
    kind = schema.field(text_field).type
    if kind not in TEXT_TYPES:
        problems.error(
            path,
            0,
            "text_not_string",
            f"column {text_field!r} has type {kind}, not string; file ({size}) skipped",
        )
        return False
    return True


def table_text(
    text: str | bytes | None, path: str, row: int, field: str, max_bytes: int, problems: ProblemLog
) -> str | None:
    if text is None:
        problems.error(path, row, "missing_text", f"{field!r} is null; skipped")
        return None
    if len(text) > max_bytes:
        problems.error(
            path,
            row,
            "too_large",
            f"text is over the {max_bytes:,}-character {LIMIT}; skipped",
        )
        return None
    if isinstance(text, bytes):
        text = decode(text, path, row, problems, "text")
    warn_if_empty(text, path, row, problems)
    return text
