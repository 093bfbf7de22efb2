"""Write the kept corpus and the reports, never leaving a half-written file behind.

Everything is written under a hidden temporary name beside the target and renamed into place
only once complete, so a crash (or an exception) leaves either the previous output or none.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from types import TracebackType
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tinlap.config import DedupConfig
from tinlap.io.read import Source
from tinlap.records import ProblemLog, Record

_KEPT_NAMES = {"txt": "kept", "jsonl": "kept.jsonl", "parquet": "kept.parquet"}
_PARQUET_BATCH_ROWS = 10_000
_PARQUET_BATCH_CHARS = 64 * 2**20  # flush early on long documents to keep memory bounded
_PARQUET_COMPRESSION = "zstd"


class KeptWriter:
    """Streams kept documents to ``out_dir`` in the input's format, in bounded memory.

    Use as a context manager: a clean exit publishes the output, an exception discards it.
    ``dropped_columns`` names fields that Parquet output had to drop because they first
    appeared after the schema was fixed by the first batch.
    """

    def __init__(
        self,
        out_dir: Path,
        fmt: str,
        *,
        text_field: str = "text",
        id_field: str = "id",
        ids_as_text: bool = False,
    ) -> None:
        """``ids_as_text``: write the id column as text (needed for Parquet once any id was
        renamed ``id#2`` or invented as FILE:LINE, which an integer column cannot hold)."""
        if fmt not in _KEPT_NAMES:
            raise ValueError(f"unknown output format {fmt!r}: use one of {', '.join(_KEPT_NAMES)}")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / _KEPT_NAMES[fmt]
        self._tmp = _temp_name(self.path)
        sink_class = {"txt": _TxtSink, "jsonl": _JsonlSink, "parquet": _ParquetSink}[fmt]
        self._sink = sink_class(self._tmp, text_field, id_field)
        if ids_as_text and isinstance(self._sink, _ParquetSink):
            self._sink.ids_as_text = True
        self._count = 0
        self._closed = False

    @property
    def count(self) -> int:
        return self._count

    @property
    def dropped_columns(self) -> set[str]:
        return getattr(self._sink, "dropped", set())

    @property
    def widened_columns(self) -> set[str]:
        """Parquet columns rewritten as text because later records did not fit their type."""
        return getattr(self._sink, "widened", set())

    def write(self, record: Record, text: str) -> None:
        """Write ``record`` with ``text`` (cleaned or original) as its text."""
        if self._closed:
            raise ValueError("KeptWriter is closed")
        self._sink.write(record, text)
        self._count += 1

    def close(self) -> None:
        """Finish the output and move it into place."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sink.finish()
        except BaseException:
            _remove(self._tmp)
            raise
        _publish(self._tmp, self.path)

    def abort(self) -> None:
        """Throw the partial output away, keeping whatever was at the final path before."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sink.discard()
        finally:
            _remove(self._tmp)

    def __enter__(self) -> KeptWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _output_row(record: Record, text: str, text_field: str, id_field: str) -> dict[str, Any]:
    """The record in its input shape with the new text and its final (unique) id.

    The id field is only touched when the reader had to invent the id or rename a duplicate,
    so an integer id in the input stays an integer.
    """
    fields = record.fields
    if fields is None:
        return {id_field: record.id, text_field: text}
    row = {**fields, text_field: text}
    original = fields.get(id_field)
    if original is None and id_field not in fields:
        return {id_field: record.id, **row}
    if original is not record.id and (original is None or str(original) != record.id):
        row[id_field] = record.id
    return row


class _TxtSink:
    """One file per document at ``kept/<id>``; ids must stay inside the folder."""

    def __init__(self, tmp: Path, text_field: str, id_field: str) -> None:
        tmp.mkdir()
        self._root = tmp
        self._made: set[Path] = {tmp}

    def write(self, record: Record, text: str) -> None:
        target = self._root.joinpath(*_safe_parts(record.id))
        if target.parent not in self._made:
            self._mkdirs(target.parent, record.id)
        try:
            with target.open("xb") as f:
                f.write(text.encode())
        except (FileExistsError, IsADirectoryError) as e:
            raise ValueError(f"cannot write id {record.id!r} as a file: {e.strerror}") from None

    def _mkdirs(self, folder: Path, doc_id: str) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ValueError(
                f"cannot write id {doc_id!r}: a part of its folder is already a document"
            ) from None
        self._made.add(folder)

    def finish(self) -> None:
        """Nothing is buffered: each document was written whole."""

    discard = finish


def _safe_parts(doc_id: str) -> list[str]:
    """The id's path parts, refusing ids that would land outside the output folder."""
    parts = doc_id.split("/")
    if "\0" in doc_id or any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"id {doc_id!r} cannot be a file name under kept/ (absolute, empty part, '.' or '..')"
        )
    return parts


class _JsonlSink:
    def __init__(self, tmp: Path, text_field: str, id_field: str) -> None:
        self._file = tmp.open("xb", buffering=1 << 20)
        self._text_field = text_field
        self._id_field = id_field

    def write(self, record: Record, text: str) -> None:
        row = _output_row(record, text, self._text_field, self._id_field)
        self._file.write(_json(row))
        self._file.write(b"\n")

    def finish(self) -> None:
        self._file.close()

    discard = finish


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits from the stdlib fallback
        return json.dumps(value, ensure_ascii=False, default=str).encode()


class _ParquetSink:
    """Buffers rows into batches; the first batch fixes the schema for the whole file."""

    def __init__(self, tmp: Path, text_field: str, id_field: str) -> None:
        self._tmp = tmp
        self._text_field = text_field
        self._id_field = id_field
        self._rows: list[dict[str, Any]] = []
        self._chars = 0
        self._writer: pq.ParquetWriter | None = None
        self.dropped: set[str] = set()
        self.widened: set[str] = set()
        self.ids_as_text = False

    def write(self, record: Record, text: str) -> None:
        row = _output_row(record, text, self._text_field, self._id_field)
        if self.ids_as_text and row.get(self._id_field) is not None:
            row[self._id_field] = str(row[self._id_field])
        self._rows.append(row)
        self._chars += len(text)
        if len(self._rows) >= _PARQUET_BATCH_ROWS or self._chars >= _PARQUET_BATCH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._writer is None:
            table = _first_table(self._rows, self._id_field, self._text_field)
            self._writer = pq.ParquetWriter(
                self._tmp, table.schema, compression=_PARQUET_COMPRESSION
            )
        else:
            try:
                table = self._conform(self._rows, self._writer.schema)
            except _TypeClash as clash:
                self._widen_to_text(clash.name)
                table = self._conform(self._rows, self._writer.schema)
        self._writer.write_table(table)
        self._rows, self._chars = [], 0

    def _widen_to_text(self, name: str) -> None:
        """A later record does not fit a column's type: make that column text, rewriting what
        was already written (streamed batch by batch), rather than lose the output."""
        assert self._writer is not None
        schema = self._writer.schema
        field = schema.field(name)
        wider = schema.set(schema.get_field_index(name), field.with_type(pa.string()))
        self._writer.close()
        old = self._tmp.with_name(self._tmp.name + ".old")
        os.replace(self._tmp, old)
        self._writer = pq.ParquetWriter(self._tmp, wider, compression=_PARQUET_COMPRESSION)
        for batch in pq.ParquetFile(old).iter_batches():
            column = batch.column(name)
            text = pa.array([_as_text(v) for v in column.to_pylist()], type=pa.string())
            batch = batch.set_column(
                batch.schema.get_field_index(name), field.with_type(pa.string()), text
            )
            self._writer.write_table(pa.Table.from_batches([batch], schema=wider))
        old.unlink()
        self.widened.add(name)

    def _conform(self, rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
        """Later batches take the first batch's schema: missing columns null, new ones dropped."""
        extra = {key for row in rows for key in row}.difference(schema.names)
        self.dropped |= extra
        columns = [_column([row.get(f.name) for row in rows], f.name, f.type) for f in schema]
        return pa.Table.from_arrays(columns, schema=schema)

    def finish(self) -> None:
        if self._writer is None or self._rows:
            self._flush()
        self._writer.close()

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _first_table(rows: list[dict[str, Any]], id_field: str, text_field: str) -> pa.Table:
    """Columns in first-seen order over all rows (Arrow's from_pylist only looks at row 0)."""
    if not rows:
        return pa.table(
            {id_field: pa.array([], pa.string()), text_field: pa.array([], pa.string())}
        )
    names = list(dict.fromkeys(key for row in rows for key in row))
    columns = [_column([row.get(name) for row in rows], name) for name in names]
    return pa.table(dict(zip(names, columns, strict=True)))


def _column(values: list[Any], name: str, kind: pa.DataType | None = None) -> pa.Array:
    """An Arrow column, degrading mixed-type values to text rather than losing the rows."""
    try:
        column = pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if kind is not None and not _is_text(kind):
            return _cast_or_explain(values, name, kind)
        return pa.array([_as_text(v) for v in values], type=kind or pa.string())
    return column.cast(pa.string()) if pa.types.is_null(column.type) else column


class _TypeClash(Exception):
    """Later records hold values that do not fit a column's type (inferred from the first)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _cast_or_explain(values: list[Any], name: str, kind: pa.DataType) -> pa.Array:
    try:
        return pa.array([_as_text(v) for v in values]).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise _TypeClash(name) from None


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _json(value).decode()


# ------------------------------------------------------------------------------- atomic helpers


def write_json_atomic(path: Path, obj: Any) -> None:
    """Pretty UTF-8 JSON (non-ASCII kept readable), replacing ``path`` only once complete."""
    data = orjson.dumps(
        obj,
        default=_json_default,
        option=orjson.OPT_INDENT_2
        | orjson.OPT_NON_STR_KEYS
        | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_APPEND_NEWLINE,
    )
    with _atomic(Path(path)) as tmp:
        tmp.write_bytes(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_table_atomic(path: Path, table: pa.Table) -> None:
    """A Parquet file, replacing ``path`` only once complete."""
    with _atomic(Path(path)) as tmp:
        pq.write_table(table, tmp, compression=_PARQUET_COMPRESSION)


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    _publish(tmp, path)


def _temp_name(path: Path) -> Path:
    """Hidden, unique and in the same folder, so the final rename stays on one filesystem."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _publish(tmp: Path, path: Path) -> None:
    """Rename into place; a folder (txt output) replaces an existing one via a swap."""
    if not tmp.is_dir():
        os.replace(tmp, path)
        return
    old = None
    if path.exists() or path.is_symlink():
        old = _temp_name(path)
        path.rename(old)
    tmp.rename(path)
    if old is not None:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# Input formats that cannot be written back as they came: pages become JSONL rows (id, url,
# title, text), the shape of their records.
_OUTPUT_FOR_INPUT = {"html": "jsonl", "warc": "jsonl", "csv": "jsonl", "tsv": "jsonl"}


def output_format(config: DedupConfig, sources: list[Source]) -> str:
    """The kept corpus's format: as asked, else the first input's (JSONL for HTML and WARC)."""
    first = sources[0].format if sources else "jsonl"
    return config.output_format or _OUTPUT_FOR_INPUT.get(first, first)


class KeptCorpus:
    """The kept corpus of a run, written one document at a time (both engines write it so).

    A document the output format cannot hold (e.g. an id that is no safe .txt path) is an
    error naming its file and line, never a silent loss; columns widened to text are warned.
    """

    def __init__(self, out_dir: Path, fmt: str, config: DedupConfig, problems: ProblemLog) -> None:
        # Ids renamed id#2 or invented as FILE:LINE are text: a Parquet id column must hold them.
        renamed = (
            problems.counts[("warning", "duplicate_id")]
            + problems.counts[("warning", "missing_id")]
        )
        self.problems = problems
        self.writer = KeptWriter(
            out_dir,
            fmt,
            text_field=config.text_field,
            id_field=config.id_field,
            ids_as_text=renamed > 0,
        )

    @property
    def count(self) -> int:
        return self.writer.count

    def __enter__(self) -> KeptCorpus:
        self.writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.writer.__exit__(*exc)
        for name in sorted(self.writer.widened_columns):
            self.problems.warning(
                str(self.writer.path),
                0,
                "widened_column",
                f"column {name!r}: later records did not fit the first ones' type; "
                "written as text",
            )

    def write(self, record: Record, text: str) -> None:
        try:
            self.writer.write(record, text)
        except ValueError as err:
            self.problems.error(record.path, record.line, "unwritable", str(err))
