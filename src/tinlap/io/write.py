"""Write the kept corpus and the reports, never leaving a half-written file behind.

Everything is written under a hidden temporary name beside the target and renamed into place
only once complete, so a crash (or an exception) leaves either the previous output or none.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from types import TracebackType
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

from tinlap import __version__
from tinlap.config import DedupConfig
from tinlap.io.read import Source
from tinlap.io.remote import REMOTE_OUTPUT
from tinlap.io.storage import OWNER, NotOurs, Storage, fsync_dir
from tinlap.records import ProblemLog, Record

KEPT_NAMES = "kept_names.parquet"  # txt output: id -> file of the ids that needed escaping
_PARQUET_BATCH_ROWS = 10_000
_PARQUET_BATCH_CHARS = 64 * 2**20  # flush early on long documents to keep memory bounded
_PARQUET_COMPRESSION = "zstd"
OUTPUT_FORMATS = ("txt", "jsonl", "parquet")
COMPRESSIONS = ("auto", "none", "gzip", "zstd")
_SUFFIX = {"none": "", "gzip": ".gz", "zstd": ".zst"}
_GZIP_LEVEL = 6  # gzip's own default of 9 is 3x slower for 1% less
_ZSTD_LEVEL = 3
# What a kept corpus may be named: kept/, kept.jsonl[.gz|.zst], kept.parquet, kept-00012.*.
KEPT_FILE = re.compile(r"^kept(-\d{5,})?(\.jsonl(\.gz|\.zst)?|\.parquet)?$")


class OutputOptionError(ValueError):
    """Output options that cannot go together (e.g. compressed or split .txt output)."""


def kept_name(fmt: str, compression: str = "none", index: int | None = None) -> str:
    """The name of a kept corpus file: ``kept.jsonl.zst``, or the ``index``-th of a split one,
    ``kept-00003.jsonl.zst``; ``kept`` (a folder) for txt output."""
    if fmt == "txt":
        return "kept"
    number = "" if index is None else f"-{index:05d}"
    return f"kept{number}.{fmt}{_SUFFIX[compression] if fmt == 'jsonl' else ''}"


class KeptWriter:
    """Streams kept documents to ``out_dir`` in the input's format, in bounded memory.

    Use as a context manager: a clean exit publishes the output, an exception discards it.
    ``compression`` (none, gzip, zstd) is the JSONL file's, or the Parquet column codec.
    With ``shard_size`` (bytes) the corpus is split into numbered files, each closed once it
    reaches that size (so at most one document and a compressor block over it), published one
    by one; a Parquet split keeps one schema over all its files. ``schema`` fixes a Parquet
    output's schema from the start (the workers of a parallel write share one).
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
        compression: str = "none",
        shard_size: int | None = None,
        schema: pa.Schema | None = None,
    ) -> None:
        """``ids_as_text``: write the id column as text (needed for Parquet once any id was
        renamed ``id#2`` or invented as FILE:LINE, which an integer column cannot hold)."""
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(
                f"unknown output format {fmt!r}: use one of {', '.join(OUTPUT_FORMATS)}"
            )
        if compression not in _SUFFIX:
            raise ValueError(f"unknown compression {compression!r}: none, gzip or zstd")
        if fmt == "txt" and (compression != "none" or shard_size):
            raise OutputOptionError(
                "txt output is one file per document: it is neither compressed nor split "
                "(use --output-format jsonl or parquet)"
            )
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.compression = compression
        self.shard_size = shard_size
        self._options = {"text_field": text_field, "id_field": id_field}
        self._ids_as_text = ids_as_text
        self._schema = schema
        self.files: list[str] = []  # published so far, in order
        self.dropped_columns: set[str] = set()
        self.widened_columns: set[str] = set()
        self._count = 0
        self._closed = False
        self._open()

    def _open(self) -> None:
        index = len(self.files) if self.shard_size else None
        self.path = self.out_dir / kept_name(self.fmt, self.compression, index)
        self._tmp = _temp_name(self.path)
        if self.fmt == "txt":
            self._sink: _TxtSink | _JsonlSink | _ParquetSink = _TxtSink(self._tmp)
        elif self.fmt == "jsonl":
            self._sink = _JsonlSink(self._tmp, compression=self.compression, **self._options)
        else:
            self._sink = _ParquetSink(
                self._tmp,
                codec=self.compression,
                schema=self._schema,
                ids_as_text=self._ids_as_text,
                batch_chars=_batch_chars(self.shard_size),
                **self._options,
            )
        self._in_file = 0

    @property
    def count(self) -> int:
        return self._count

    @property
    def renamed(self) -> dict[str, str]:
        """Ids written under an escaped file name (txt output), id -> name under kept/."""
        return self._sink.renamed if isinstance(self._sink, _TxtSink) else {}

    def write(self, record: Record, text: str) -> None:
        """Write ``record`` with ``text`` (cleaned or original) as its text."""
        if self._closed:
            raise ValueError("KeptWriter is closed")
        self._sink.write(record, text)
        self._count += 1
        self._in_file += 1
        if self.shard_size and self._sink.size() >= self.shard_size:
            self._finish_file()
            self._open()

    def _finish_file(self) -> None:
        """Complete the current file and move it into place."""
        sink = self._sink
        try:
            sink.finish()
        except BaseException:
            _remove(self._tmp)
            raise
        if isinstance(sink, _ParquetSink):
            self.dropped_columns |= sink.dropped
            widened = sink.widened - self.widened_columns
            for name in self.files:  # earlier files of a split take the wider column too
                widen_columns(self.out_dir / name, widened, self.compression)
            self.widened_columns |= sink.widened
            self._schema = sink.schema
        if self.renamed:  # the escaped names, beside the folder (ids are not file names)
            write_table_atomic(
                self.path.with_name(KEPT_NAMES),
                pa.table(
                    {"id": list(self.renamed), "file": [f"kept/{n}" for n in self.renamed.values()]}
                ),
            )
        _publish(self._tmp, self.path)
        self.files.append(self.path.name)

    def close(self) -> None:
        """Finish the output and move it into place (a split's last file only if not empty)."""
        if self._closed:
            return
        self._closed = True
        if self._in_file or not self.files:
            self._finish_file()
        else:
            self._discard_file()

    def abort(self) -> None:
        """Throw the partial output away, keeping whatever was at the final path before (the
        files of a split this writer already published go too)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._discard_file()
        finally:
            if self.shard_size:
                for name in self.files:
                    _remove(self.out_dir / name)
                self.files = []

    def _discard_file(self) -> None:
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
    """One file per document at ``kept/<id>``; an id that cannot be such a path (outside the
    folder, too long, NUL, reserved, or clashing with another document's file or folder) gets a
    safe escaped name (``escaped_name``), listed in ``renamed`` (written as kept_names.parquet)."""

    def __init__(self, tmp: Path) -> None:
        tmp.mkdir()
        self._root = tmp
        self._made: set[Path] = {tmp}
        self.renamed: dict[str, str] = {}

    def write(self, record: Record, text: str) -> None:
        parts = _safe_parts(record.id)
        if parts is not None and self._put(parts, text):
            return
        name = escaped_name(record.id)
        for attempt in range(1 << 20):  # a clash even here needs an id crafted to match
            candidate = name if attempt == 0 else f"{name}~{attempt}"
            if self._put([candidate], text):
                self.renamed[record.id] = candidate
                return
        raise ValueError(f"cannot write id {record.id!r} as a file")  # pragma: no cover

    def _put(self, parts: list[str], text: str) -> bool:
        """Write the document at ``parts``; False when the path is taken or blocked."""
        target = self._root.joinpath(*parts)
        try:
            if target.parent not in self._made:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(target.parent)
            with target.open("xb") as f:
                f.write(text.encode())
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            return False
        return True

    def finish(self) -> None:
        """Nothing is buffered: each document was written whole."""

    discard = finish

    def size(self) -> int:
        return 0  # never split


# Names some systems reserve (Windows devices), with or without an extension.
_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")
_NAME_MAX = 255  # bytes of one path part (ext4, xfs, btrfs, APFS, NTFS in UTF-16 units)
_PATH_MAX = 1024  # bytes of a whole id used as a path: well within PATH_MAX everywhere
_UNSAFE = re.compile(r"[\x00-\x1f\x7f%/\\]")


def _safe_parts(doc_id: str) -> list[str] | None:
    """The id's path parts, or None when the id cannot be a path under kept/ as it is."""
    parts = doc_id.split("/")
    if (
        "\0" in doc_id
        or len(doc_id.encode("utf-8", "surrogatepass")) > _PATH_MAX
        or any(
            part in ("", ".", "..")
            or len(part.encode("utf-8", "surrogatepass")) > _NAME_MAX
            or _RESERVED.match(part)
            or any(ord(c) < 32 or 0xD800 <= ord(c) < 0xE000 for c in part)
            for part in parts
        )
    ):
        return None
    return parts


def escaped_name(doc_id: str) -> str:
    """A safe, deterministic file name for any id: ``%``, ``/``, ``\\``, control characters
    (and a leading dot) percent-escaped, cut to 180 bytes, then ``~`` and 16 hex digits of
    the id's SHA-256, so different ids never share a name."""
    data = doc_id.encode("utf-8", "surrogatepass")
    text = data.decode("utf-8", "backslashreplace")
    escaped = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    head = escaped.encode()[:180].decode("utf-8", "ignore")
    head = re.sub(r"%[0-9A-F]?$", "", head)  # never cut an escape in half
    return f"{head}~{hashlib.sha256(data).hexdigest()[:16]}"


class _JsonlSink:
    """JSON Lines, plain or through a gzip or zstd stream (deterministic bytes: no name or
    time in the gzip header), so the same kept corpus always compresses to the same file."""

    def __init__(
        self, tmp: Path, text_field: str, id_field: str, compression: str = "none"
    ) -> None:
        self._raw = tmp.open("xb", buffering=1 << 20)
        self._file: Any
        if compression == "gzip":
            self._file = gzip.GzipFile(
                filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=self._raw, mtime=0
            )
        elif compression == "zstd":
            compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True)
            self._file = compressor.stream_writer(self._raw, closefd=False)
        else:
            self._file = self._raw
        self._text_field = text_field
        self._id_field = id_field

    def write(self, record: Record, text: str) -> None:
        row = _output_row(record, text, self._text_field, self._id_field)
        self._file.write(_json(row))
        self._file.write(b"\n")

    def size(self) -> int:
        """Bytes in the file so far (a compressor's pending block not yet counted)."""
        return self._raw.tell()

    def finish(self) -> None:
        try:
            if self._file is not self._raw:
                self._file.close()
        finally:
            self._raw.close()

    discard = finish


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits from the stdlib fallback
        return json.dumps(value, ensure_ascii=False, default=str).encode()


class _ParquetSink:
    """Buffers rows into batches; the first batch fixes the schema for the whole file, unless
    ``schema`` is given. ``codec`` is the column compression (none, gzip, zstd)."""

    def __init__(
        self,
        tmp: Path,
        text_field: str,
        id_field: str,
        *,
        codec: str = _PARQUET_COMPRESSION,
        schema: pa.Schema | None = None,
        ids_as_text: bool = False,
        batch_chars: int = _PARQUET_BATCH_CHARS,
    ) -> None:
        self._tmp = tmp
        self._text_field = text_field
        self._id_field = id_field
        self._codec = codec
        self._batch_chars = batch_chars
        self.schema = schema
        self.rows: list[dict[str, Any]] = []  # buffered, not yet written
        self._chars = 0
        self._writer: pq.ParquetWriter | None = None
        self.dropped: set[str] = set()
        self.widened: set[str] = set()
        self.ids_as_text = ids_as_text

    def write(self, record: Record, text: str) -> None:
        if self.add(record, text):
            self._flush()

    def add(self, record: Record, text: str) -> bool:
        """Buffer a row; True when the batch is full."""
        row = _output_row(record, text, self._text_field, self._id_field)
        if self.ids_as_text and row.get(self._id_field) is not None:
            row[self._id_field] = str(row[self._id_field])
        self.rows.append(row)
        self._chars += len(text)
        return bool(_batch_full(len(self.rows), self._chars, self._batch_chars))

    def size(self) -> int:
        """Bytes written so far (whole row groups)."""
        return self._tmp.stat().st_size if self._writer is not None else 0

    def _flush(self) -> None:
        if self.schema is None:
            table = _first_table(self.rows, self._id_field, self._text_field)
            self.schema = table.schema
        else:
            try:
                table = self._conform(self.rows, self.schema)
            except _TypeClash as clash:
                self._widen_to_text(clash.name)
                table = self._conform(self.rows, self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression=self._codec)
        self._writer.write_table(table)
        self.rows, self._chars = [], 0

    def _widen_to_text(self, name: str) -> None:
        """A later record does not fit a column's type: make that column text, rewriting what
        was already written (streamed batch by batch), rather than lose the output."""
        assert self.schema is not None
        self.schema = _text_schema(self.schema, {name})
        self.widened.add(name)
        self._writer = _rewrite_as_text(self._tmp, self._writer, self.schema, {name}, self._codec)

    def _conform(self, rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
        """Later batches take the first batch's schema: missing columns null, new ones dropped."""
        extra = {key for row in rows for key in row}.difference(schema.names)
        self.dropped |= extra
        columns = [_column([row.get(f.name) for row in rows], f.name, f.type) for f in schema]
        return pa.Table.from_arrays(columns, schema=schema)

    def finish(self) -> None:
        if self._writer is None or self.rows:
            self._flush()
        assert self._writer is not None
        self._writer.close()

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()


class _ParquetJoin:
    """The rows of Parquet parts (files of consecutive stretches of one corpus, written with
    one schema) appended in order into one file at ``tmp``, cut into the row groups one
    ``_ParquetSink`` writing them all would have made, so the file is the same. A column that a
    part's writer had to widen to text is widened here too: what was written before is
    rewritten, and later parts' values are turned into text as they come."""

    def __init__(self, tmp: Path, schema: pa.Schema, codec: str, text_field: str) -> None:
        self._tmp = tmp
        self.schema = schema
        self._codec = codec
        self._text_field = text_field
        self._batch_chars = _batch_chars(None)
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []  # rows of the row group under way
        self._rows = self._chars = 0

    def append(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            wider = {
                field.name
                for field in batch.schema
                if _is_text(field.type) and not _is_text(self.schema.field(field.name).type)
            }
            if wider:
                self.schema = _text_schema(self.schema, wider)
                self._pending = [self._conform(table) for table in self._pending]
                self._writer = _rewrite_as_text(
                    self._tmp, self._writer, self.schema, wider, self._codec
                )
            self._add(self._conform(pa.Table.from_batches([batch])))

    def _conform(self, table: pa.Table) -> pa.Table:
        """Columns widened after ``table`` was written (narrower there) as text."""
        for index, field in enumerate(self.schema):
            if field.type != table.schema.field(index).type:
                table = table.set_column(index, field, _text_array(table.column(index)))
        return table

    def _add(self, table: pa.Table) -> None:
        lengths = pc.utf8_length(table.column(self._text_field)).to_numpy(zero_copy_only=False)
        while table.num_rows:
            rows = self._rows + np.arange(1, table.num_rows + 1)
            chars = self._chars + np.cumsum(lengths, dtype=np.int64)
            full = np.flatnonzero(_batch_full(rows, chars, self._batch_chars))
            if not full.size:
                self._pending.append(table)
                self._rows, self._chars = int(rows[-1]), int(chars[-1])
                return
            end = int(full[0]) + 1
            self._pending.append(table.slice(0, end))
            self._flush()
            table, lengths = table.slice(end), lengths[end:]

    def _flush(self) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self.schema, compression=self._codec)
        table = pa.concat_tables(self._pending) if self._pending else self.schema.empty_table()
        self._writer.write_table(table.combine_chunks())
        self._pending, self._rows, self._chars = [], 0, 0

    def finish(self) -> None:
        if self._writer is None or self._pending:
            self._flush()
        assert self._writer is not None
        self._writer.close()

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _batch_full(rows: Any, chars: Any, batch_chars: int) -> Any:
    """Whether a Parquet kept file's row group ends after ``rows`` rows holding ``chars``
    characters of text (element by element for numpy arrays of running counts)."""
    return (rows >= _PARQUET_BATCH_ROWS) | (chars >= batch_chars)


def _batch_chars(shard_size: int | None) -> int:
    """Characters buffered per row group: a quarter of a split's file size at most, so that
    files end near it."""
    return min(_PARQUET_BATCH_CHARS, (shard_size or 1 << 62) // 4)


def _text_schema(schema: pa.Schema, names: set[str]) -> pa.Schema:
    for name in names:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_type(pa.string()))
    return schema


def _copy_as_text(
    source: Path, target: Path, schema: pa.Schema, names: set[str], codec: str
) -> pq.ParquetWriter:
    """Copy the Parquet file ``source`` to ``target`` with columns ``names`` as text (batch by
    batch); returns the writer, still open for more rows."""
    writer = pq.ParquetWriter(target, schema, compression=codec)
    for batch in pq.ParquetFile(source).iter_batches():
        for name in names:
            index = batch.schema.get_field_index(name)
            batch = batch.set_column(index, schema.field(name), _text_array(batch.column(name)))
        writer.write_table(pa.Table.from_batches([batch], schema=schema))
    return writer


def _rewrite_as_text(
    tmp: Path, writer: pq.ParquetWriter | None, schema: pa.Schema, names: set[str], codec: str
) -> pq.ParquetWriter | None:
    """Rewrite what ``writer`` wrote so far to ``tmp`` with columns ``names`` as text (``schema``
    is the new one); returns the writer, open for more rows (None if nothing was written)."""
    if writer is None:
        return None
    writer.close()
    old = tmp.with_name(tmp.name + ".old")
    os.replace(tmp, old)
    writer = _copy_as_text(old, tmp, schema, names, codec)
    old.unlink()
    return writer


def _text_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column's values as text (JSON for numbers, lists and records)."""
    return pa.array([_as_text(v) for v in values.to_pylist()], pa.string())


def widen_columns(path: Path, names: set[str], codec: str) -> None:
    """Rewrite the published Parquet file ``path`` with ``names`` as text columns (when a later
    file of the same split had to widen them), atomically."""
    schema = pq.read_schema(path)
    names = {n for n in names if n in schema.names and not _is_text(schema.field(n).type)}
    if names:
        with _atomic(path) as tmp:
            _copy_as_text(path, tmp, _text_schema(schema, names), names, codec).close()


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
    """Rename into place; a folder (txt output) replaces an existing one via a swap. The data
    is on disk (fsync) before the rename, and the rename itself after it (fsync of the folder)."""
    fsync_tree(tmp)
    if not tmp.is_dir():
        os.replace(tmp, path)
        fsync_dir(path.parent)
        return
    old = None
    if path.exists() or path.is_symlink():
        old = _temp_name(path)
        path.rename(old)
    tmp.rename(path)
    fsync_dir(path.parent)
    if old is not None:
        _remove(old)


def fsync_tree(path: Path) -> None:
    """fsync a file, or every file and folder under a folder (the folder last)."""
    if path.is_symlink():
        return
    if path.is_dir():
        for folder, _, files in os.walk(path, topdown=False):
            for name in files:
                _fsync_file(os.path.join(folder, name))
            fsync_dir(folder)
    else:
        _fsync_file(path)


def _fsync_file(path: str | Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


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


def output_compression(config: DedupConfig, sources: list[Source], fmt: str) -> str:
    """The kept corpus's compression: as asked, else the first input's (``.jsonl.zst`` in,
    ``kept.jsonl.zst`` out; ``.gz`` likewise), zstd columns for Parquet, none for txt."""
    asked = config.output_compression
    if asked != "auto":
        return asked
    if fmt != "jsonl":
        return "zstd" if fmt == "parquet" else "none"
    name = sources[0].path.name.lower() if sources else ""
    if name.endswith(".gz"):
        return "gzip"
    return "zstd" if name.endswith((".zst", ".zstd")) else "none"


def kept_layout(
    config: DedupConfig, sources: list[Source], *, remote: bool = False
) -> tuple[str, str]:
    """(format, compression) of a run's kept corpus, checked before the run does any work:
    txt output (one file per document) is neither compressed nor split, nor sent to an object
    store (``remote``)."""
    fmt = output_format(config, sources)
    compression = output_compression(config, sources, fmt)
    if fmt == "txt" and (compression != "none" or config.output_shard_size or remote):
        raise OutputOptionError(
            "txt output is one file per document: --output-compression, --output-shard-size "
            "and an object store --output need --output-format jsonl or parquet"
        )
    return fmt, compression


class KeptCorpus:
    """The kept corpus of a run written by one process, one document at a time: the in-memory
    engine's, and the sharded engine's txt output (its write tasks use ``KeptWriter`` and the
    driver joins or numbers their files).

    A document the output format cannot hold (e.g. an id that is no safe .txt path) is an
    error naming its file and line, never a silent loss; columns widened to text, and columns
    dropped because they first appeared after a Parquet schema was fixed, are warned.
    """

    def __init__(
        self,
        out_dir: Path,
        fmt: str,
        config: DedupConfig,
        problems: ProblemLog,
        compression: str = "none",
    ) -> None:
        self.problems = problems
        self.writer = KeptWriter(
            out_dir,
            fmt,
            text_field=config.text_field,
            id_field=config.id_field,
            # Ids renamed id#2 or invented as FILE:LINE are text: a Parquet id column holds them.
            ids_as_text=kept_ids_as_text(problems),
            compression=compression,
            shard_size=config.output_shard_size,
        )

    @property
    def count(self) -> int:
        return self.writer.count

    @property
    def files(self) -> list[str]:
        return self.writer.files

    def __enter__(self) -> KeptCorpus:
        self.writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.writer.__exit__(*exc)
        writer = self.writer
        warn_columns(
            self.problems, str(writer.path), writer.widened_columns, writer.dropped_columns
        )

    def write(self, record: Record, text: str) -> None:
        try:
            self.writer.write(record, text)
        except ValueError as err:
            self.problems.error(record.path, record.line, "unwritable", str(err))


def warn_columns(problems: ProblemLog, path: str, widened: set[str], dropped: set[str]) -> None:
    """Warn of Parquet columns written as text, and of fields not written at all."""
    for name in sorted(widened):
        problems.warning(
            path,
            0,
            "widened_column",
            f"column {name!r}: later records did not fit the first ones' type; written as text",
        )
    for name in sorted(dropped):
        problems.warning(
            path,
            0,
            "dropped_column",
            f"field {name!r} first appears after the Parquet schema was fixed by the first "
            "records; not written (--output-format jsonl keeps every field)",
        )


def parquet_schema(
    pairs: Iterable[tuple[Record, str]],
    config: DedupConfig,
    ids_as_text: bool,
    shard_size: int | None = None,
) -> pa.Schema:
    """The schema a Parquet ``KeptWriter`` would fix from its first batch of ``pairs`` (record,
    output text): what the writers of a parallel split all take."""
    sink = _ParquetSink(
        Path(os.devnull),
        config.text_field,
        config.id_field,
        ids_as_text=ids_as_text,
        batch_chars=_batch_chars(shard_size),
    )
    for record, text in pairs:
        if sink.add(record, text):
            break
    return _first_table(sink.rows, config.id_field, config.text_field).schema


@contextmanager
def joined_file(
    storage: Storage,
    path: Path,
    fmt: str,
    *,
    codec: str = _PARQUET_COMPRESSION,
    schema: pa.Schema | None = None,
    text_field: str = "text",
) -> Iterator[Callable[[str], None]]:
    """One kept file at ``path`` made of the files (stored in ``storage``) that ``KeptWriter``
    instances wrote for consecutive stretches of the corpus: ``append(part)`` each in input
    order, as it comes. Published atomically on a clean exit, discarded on an exception.

    JSONL parts are concatenated byte for byte: lines never span two parts, and concatenated
    gzip members or zstd frames are one valid file, which gzip and zstd readers decompress whole
    into the bytes a single writer makes. Parquet parts (written with ``schema``) are read back
    and their rows written again (``codec`` columns) in the row groups of a single writer: no
    row is turned back into Python values, unless a column is widened to text."""
    with _atomic(path) as tmp:
        if fmt == "jsonl":
            with tmp.open("xb") as sink:
                yield lambda part: storage.copy_to(part, sink)
            return
        assert schema is not None
        join = _ParquetJoin(tmp, schema, codec, text_field)
        try:
            yield lambda part: join.append(storage.iter_batches(part, _PARQUET_BATCH_ROWS))
        except BaseException:
            join.discard()
            raise
        join.finish()


def kept_ids_as_text(problems: ProblemLog) -> bool:
    """Whether some ids were renamed ``id#2`` or invented as FILE:LINE (text, whatever the
    input's id type), so a Parquet id column must be text."""
    return (
        problems.counts[("warning", "duplicate_id")] + problems.counts[("warning", "missing_id")]
        > 0
    )


# ------------------------------------------------------------------------- the output folder

MANIFEST = ".tinlap-manifest.json"  # the files of the run the folder holds, written last
JOURNAL = ".tinlap-commit.json"  # a commit under way: the next command finishes it
STAGING = ".tinlap-staging-"
# What tinlap's commands write into an output folder: with --overwrite, such files found in a
# folder without a manifest (an older tinlap's output) are replaced; anything else stays.
_OTHER_OUTPUTS = ("removed_lines.parquet", "problems.jsonl")
OUTPUT_NAMES = frozenset(
    [
        KEPT_NAMES,
        "clusters.parquet",
        "summary.json",
        "report",
        *_OTHER_OUTPUTS,
    ]
)
_OLD_TEMP = re.compile(
    r"^\.(kept|kept\.jsonl|kept\.parquet|clusters\.parquet|summary\.json)"
    r"\.\d+-[0-9a-f]{8}\.tmp$"
)
_OURS = re.compile(r"^\.tinlap-(staging|work)-(\d+)-")


def is_scratch(name: str) -> bool:
    """Whether ``name`` is a staging or work folder of a tinlap run."""
    return _OURS.match(name) is not None


def is_output_name(name: str) -> bool:
    """Whether ``name`` is one tinlap's commands write into an output folder."""
    return name in OUTPUT_NAMES or KEPT_FILE.match(name) is not None


def not_ours(where: str, foreign: list[str]) -> NotOurs:
    """The refusal of an output location that holds files tinlap did not write (local or
    remote alike)."""
    shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
    return NotOurs(
        f"{where} holds files tinlap did not write there ({shown}); tinlap never deletes or "
        "mixes them with its output: choose a new or empty --output, or pass --overwrite to "
        "replace tinlap's own output names among them"
    )


class OutputFolder:
    """A run's outputs, staged in ``OUT/.tinlap-staging-<pid>-<random>/`` and committed all at
    once: every file fsynced, a journal naming them written, then each renamed into place,
    the previous run's other files removed, the manifest written last. A crash during the
    switch leaves the journal, and the next command in the folder finishes the switch, so the
    folder holds one run's files, never a mix. Files tinlap did not create are never deleted:
    a folder holding any (outside the manifest) is refused unless ``overwrite``."""

    def __init__(self, out_dir: Path, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.created = not self.out_dir.exists()
        self.staging: Path | None = None
        self.previous: set[str] = set()
        if self.created:
            return
        recover(self.out_dir)
        remove_stale(self.out_dir)
        self.previous = set(manifest_files(self.out_dir))
        foreign = sorted(_foreign(self.out_dir, self.previous))
        if foreign and not overwrite:
            raise not_ours(str(self.out_dir), foreign)
        self.previous |= {n for n in foreign if is_output_name(n) or _OLD_TEMP.match(n)}

    def __enter__(self) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=self.out_dir))
        (self.staging / OWNER).touch()
        return self.staging

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def commit(self) -> None:
        assert self.staging is not None
        names = sorted(n for n in os.listdir(self.staging) if not n.startswith("."))
        for name in names:
            fsync_tree(self.staging / name)
        fsync_dir(self.staging)
        journal = {
            "staging": self.staging.name,
            "files": names,
            "remove": sorted(self.previous.difference(names)),
        }
        write_json_atomic(self.out_dir / JOURNAL, journal)
        _switch(self.out_dir, journal)

    def abort(self) -> None:
        if self.staging is not None:
            _remove(self.staging)
            if self.created:
                with contextlib.suppress(OSError):  # made by this run: as if never made
                    self.out_dir.rmdir()


def output_root(out_dir: Path) -> Path:
    """The user's output folder, seen from inside its staging folder."""
    return out_dir.parent if out_dir.name.startswith(STAGING) else out_dir


def manifest_files(out_dir: Path) -> list[str]:
    """The names the last committed run wrote into ``out_dir`` (none without a manifest)."""
    try:
        return parse_manifest((out_dir / MANIFEST).read_bytes())
    except OSError:
        return []


def parse_manifest(data: bytes) -> list[str]:
    """The file names a manifest lists (only plain names: nothing outside its folder)."""
    try:
        files = json.loads(data)["files"]
    except (ValueError, KeyError, TypeError):
        return []
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, str) and "/" not in f and f not in ("", ".", "..")]


def add_to_manifest(path: Path) -> None:
    """Record ``path`` (e.g. OUT/report) as tinlap's, when its folder is a tinlap output."""
    folder = path.parent
    if (folder / MANIFEST).exists():
        files = sorted({*manifest_files(folder), path.name})
        write_json_atomic(folder / MANIFEST, {"tinlap_version": __version__, "files": files})


def recover(out_dir: Path) -> None:
    """Finish a commit that a crash interrupted (idempotent)."""
    try:
        journal = json.loads((out_dir / JOURNAL).read_bytes())
    except FileNotFoundError:
        return
    _switch(out_dir, journal)


def _switch(out_dir: Path, journal: dict[str, Any]) -> None:
    staging = out_dir / journal["staging"]
    for name in journal["files"]:
        source, target = staging / name, out_dir / name
        if not (source.exists() or source.is_symlink()):
            continue  # moved before the crash
        if target.is_dir() and not target.is_symlink():
            old = staging / f".old-{name}"
            _remove(old)
            target.rename(old)
        os.replace(source, target)
    fsync_dir(out_dir)
    for name in journal["remove"]:
        _remove(out_dir / name)
    write_json_atomic(
        out_dir / MANIFEST, {"tinlap_version": __version__, "files": journal["files"]}
    )
    (out_dir / JOURNAL).unlink(missing_ok=True)
    fsync_dir(out_dir)
    _remove(staging)


def _foreign(out_dir: Path, ours: set[str]) -> list[str]:
    """Entries of ``out_dir`` that no tinlap run recorded or uses for its work."""
    found = []
    for entry in out_dir.iterdir():
        name = entry.name
        if name in ours or name in (MANIFEST, JOURNAL, REMOTE_OUTPUT) or _OURS.match(name):
            continue
        if entry.is_dir() and not entry.is_symlink() and (entry / OWNER).exists():
            continue  # a work folder (the default OUT/.tinlap-work or a --work inside OUT)
        found.append(name)
    return found


def remove_stale(folder: Path) -> None:
    """Remove staging and in-memory work folders of tinlap runs that died (their process is
    gone): only folders with tinlap's name and owner marker, so nothing else is touched."""
    for entry in folder.iterdir():
        found = _OURS.match(entry.name)
        if not found or entry.is_symlink() or not (entry / OWNER).exists():
            continue
        if not process_alive(int(found.group(2))):
            _remove(entry)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (this one does; another user's counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process: not ours to judge
    return True
