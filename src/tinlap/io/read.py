"""Turn the user's inputs (folders, globs, .txt / JSONL / Parquet / HTML / WARC files) into Records.

Every input record ends up either as a Record or as an error in the ProblemLog, located by
file and line: a bad line must never cost the rest of the corpus, nor vanish unreported.

Problem kinds. Errors (record skipped): ``unreadable``, ``truncated``, ``binary``, ``too_large``,
``malformed_json``, ``not_object``, ``not_jsonl``, ``missing_text``, ``text_not_string``.
Warnings (record kept): ``invalid_utf8``, ``empty_text``, ``empty_file``, ``missing_id``,
``duplicate_id``, and ``skipped_file`` from :func:`discover`. HTML pages and WARC records
(``html.py``, ``warc.py``, optional extras imported only when such input is read) add their own
kinds, listed there.
"""

from __future__ import annotations

import glob
import gzip
import io
import itertools
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from tinlap.config import DedupConfig
from tinlap.records import MapFn, ProblemLog, Record

FORMATS = ("txt", "jsonl", "parquet", "html", "warc")
_ROOTED = ("txt", "html")  # formats whose document id is the file's path inside its folder
_BY_SUFFIX = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".warc": "warc",
    ".wet": "warc",
}
_COMPRESSION_SUFFIXES = (".gz", ".zst", ".zstd")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PARQUET_MAGIC = b"PAR1"
_BOM = "\ufeff"
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"
_BINARY_CONTROL_SHARE = 0.3  # above this share of control bytes a "text" file is binary junk
_SNIFF_BYTES = 1 << 16
_HAS_MAGIC = re.compile(r"[*?[]").search
_PARQUET_BATCH_ROWS = 1024
_TEXT_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())
# Errors a decompressing read can raise: truncation (EOFError) or corrupt data.
_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)
_MISSING: Any = object()


class InputError(ValueError):
    """An input path the user gave cannot be used; the message is meant for them as is."""


@dataclass(frozen=True)
class Source:
    """One input file, with its format decided once so readers never guess."""

    path: Path
    format: str  # one of FORMATS
    root: Path | None  # for txt and html: the folder ids are relative to


# --------------------------------------------------------------------------------------- discover


def discover(
    inputs: Sequence[str | Path], fmt: str | None = None, *, problems: ProblemLog | None = None
) -> list[Source]:
    """Expand files, folders and globs into Sources in a deterministic order.

    Inside folders, files of no known format are skipped (a ``skipped_file`` warning when
    ``problems`` is given) unless ``fmt`` forces one; a file named explicitly is sniffed instead.
    A file reached twice (e.g. by a folder and a glob) is read once.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not inputs:
        raise InputError("no input given")
    sources: list[Source] = []
    seen: set[Path] = set()
    for item in inputs:
        for source in _expand(str(item), fmt, problems):
            key = source.path.resolve()
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources


def _expand(item: str, fmt: str | None, problems: ProblemLog | None) -> list[Source]:
    path = Path(item)
    if path.is_dir():
        return _folder(path, path, fmt, problems)
    if path.is_file():
        return [_named_file(path, path.parent, fmt)]
    if path.exists():
        raise InputError(f"{item}: not a regular file or folder")
    if not _HAS_MAGIC(item):
        raise InputError(f"{item}: no such file or folder")
    matches = sorted(glob.glob(item, recursive=True))
    if not matches:
        raise InputError(f"{item}: no files match this pattern")
    root = _glob_root(item)
    sources: list[Source] = []
    for match in map(Path, matches):
        if match.is_dir():
            sources += _folder(match, root, fmt, problems, required=False)
        elif match.is_file():
            sources.append(_named_file(match, root, fmt))
    return sources


def _glob_root(pattern: str) -> Path:
    """The pattern's fixed leading folders: txt ids found by a glob are relative to it."""
    parts = list(itertools.takewhile(lambda p: not _HAS_MAGIC(p), Path(pattern).parts[:-1]))
    return Path(*parts) if parts else Path()


def _folder(
    folder: Path, root: Path, fmt: str | None, problems: ProblemLog | None, *, required: bool = True
) -> list[Source]:
    """All non-hidden files under ``folder`` of a known (or the forced) format, sorted."""
    found: list[tuple[str, Source]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            file_fmt = fmt or _format_of_name(path)
            if file_fmt is None:
                if problems is not None:
                    problems.warning(
                        str(path),
                        0,
                        "skipped_file",
                        "not a .txt, .jsonl or .parquet file (nor .html or .warc); skipped "
                        "(force a format to read it)",
                    )
                continue
            source = Source(path, file_fmt, root if file_fmt in _ROOTED else None)
            found.append((path.relative_to(folder).as_posix(), source))
    if not found and required:
        raise InputError(
            f"{folder}: no .txt, .jsonl or .parquet files in this folder (nor .html or .warc)"
        )
    return [source for _, source in sorted(found, key=lambda pair: pair[0])]


def _named_file(path: Path, root: Path, fmt: str | None) -> Source:
    file_fmt = fmt or _format_of_name(path) or _sniff(path)
    return Source(path, file_fmt, root if file_fmt in _ROOTED else None)


def _format_of_name(path: Path) -> str | None:
    """Format from the file name, looking through a .gz/.zst suffix (Parquet is never wrapped)."""
    name = path.name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            fmt = _BY_SUFFIX.get(Path(name.removesuffix(suffix)).suffix)
            return fmt if fmt != "parquet" else None
    return _BY_SUFFIX.get(Path(name).suffix)


def _sniff(path: Path) -> str:
    """Format from the first bytes, for a file named explicitly without a known extension."""
    try:
        with path.open("rb") as f:
            if f.read(4) == _PARQUET_MAGIC:
                return "parquet"
        with _open_binary(path) as f:
            head = f.read(_SNIFF_BYTES)
    except _STREAM_ERRORS as e:
        raise InputError(f"{path}: cannot read it to tell its format ({e})") from None
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "jsonl"
    if not _looks_binary(head):
        return "txt"
    raise InputError(
        f"{path}: cannot tell its format (binary content, and not named .txt, .jsonl or "
        ".parquet); force a format if it really is one of them"
    )


def _looks_binary(sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > _BINARY_CONTROL_SHARE * len(sample)


# ------------------------------------------------------------------------------------ byte streams


class _ZstdRaw(io.RawIOBase):
    """Decompresses zstd frame by frame, raising EOFError on a truncated stream.

    zstandard's own stream_reader ends silently at a truncated frame, which would lose the
    tail of a corpus without a word.
    """

    _READ = 1 << 16
    _WRITE = 1 << 20  # a large output buffer is 2x faster than the 128 KiB default

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj(write_size=self._WRITE)
        self._fed = False  # the current frame has received input
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            if not self._fill():
                return 0
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _fill(self) -> bool:
        data = self._fh.read(self._READ)
        if not data:
            if self._fed and not self._dobj.eof:
                raise EOFError("zstd stream ends before the end of its frame")
            return False
        out = []
        while data:
            if self._dobj.eof:  # a new frame follows
                self._dobj = self._dctx.decompressobj(write_size=self._WRITE)
            out.append(self._dobj.decompress(data))
            self._fed = True
            data = self._dobj.unused_data if self._dobj.eof else b""
        self._out = memoryview(b"".join(out))
        return True

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open_binary(path: Path) -> BinaryIO:
    """Open for reading, decompressing gzip or zstd by magic bytes (not trusting the name)."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == _ZSTD_MAGIC:
        return io.BufferedReader(_ZstdRaw(path.open("rb")), 1 << 20)  # type: ignore[return-value]
    return path.open("rb", buffering=1 << 16)


# ---------------------------------------------------------------------------------------- readers


def read_source(
    source: Source,
    problems: ProblemLog,
    *,
    text_field: str = "text",
    id_field: str = "id",
    max_record_bytes: int = 64 * 2**20,
    html_field: str | None = None,
    map_fn: MapFn = map,
    max_page_bytes: int | None = None,
    page_timeout: float | None = None,
) -> Iterator[Record]:
    """Stream the records of one file; everything unusable goes to ``problems`` instead.

    HTML (``.html`` files, WARC responses, or the field ``html_field`` of JSONL/Parquet
    records) is turned into text by :mod:`tinlap.io.html` through ``map_fn`` (an executor's
    ``map``: worker processes), each page
    bounded by ``max_page_bytes`` (default the smaller of ``html.MAX_PAGE_BYTES`` and
    ``max_record_bytes``) and ``page_timeout`` seconds (default ``html.PAGE_TIMEOUT``).
    """
    if _has_pages(source, html_field):
        return _read_pages(
            [source],
            problems,
            text_field=text_field,
            id_field=id_field,
            max_record_bytes=max_record_bytes,
            html_field=html_field,
            map_fn=map_fn,
            max_page_bytes=max_page_bytes,
            page_timeout=page_timeout,
        )
    if source.format == "txt":
        return _read_txt(source, problems, max_record_bytes)
    if source.format == "jsonl":
        return iter(_JsonlReader(source, problems, text_field, id_field, max_record_bytes))
    if source.format == "parquet":
        return _read_parquet(source, problems, text_field, id_field, max_record_bytes)
    raise ValueError(f"unknown format {source.format!r}")


def _has_pages(source: Source, html_field: str | None) -> bool:
    """Its records are HTML pages to extract (an .html file, a WARC, or an HTML field)."""
    return source.format in ("html", "warc") or (
        html_field is not None and source.format in ("jsonl", "parquet")
    )


def _read_pages(
    sources: Iterable[Source],
    problems: ProblemLog,
    *,
    text_field: str = "text",
    id_field: str = "id",
    max_record_bytes: int = 64 * 2**20,
    html_field: str | None = None,
    map_fn: MapFn = map,
    max_page_bytes: int | None = None,
    page_timeout: float | None = None,
) -> Iterator[Record]:
    """HTML and WARC input: the pages of all ``sources`` in one stream, then main-text
    extraction (tinlap.io.html) through one ``map_fn`` for all of them."""
    from tinlap.io import html

    max_bytes = min(max_page_bytes or html.MAX_PAGE_BYTES, max_record_bytes)
    timeout = html.PAGE_TIMEOUT if page_timeout is None else page_timeout

    def pages_of(source: Source) -> Iterable[html.Page]:
        if source.format == "warc":
            from tinlap.io import warc

            warc.require_warc()  # HTML pages inside need trafilatura too, WET text does not
            return warc.warc_pages(source.path, problems, max_bytes)
        html.require_html()
        if source.format == "html":
            doc_id = source.path.relative_to(source.root) if source.root else Path(source.path.name)
            page = html.html_file_page(source.path, doc_id.as_posix(), problems, max_bytes)
            return [page] if page is not None else []
        records = read_source(  # a JSONL / Parquet field holding HTML
            source,
            problems,
            text_field=html_field or text_field,
            id_field=id_field,
            max_record_bytes=max_record_bytes,
        )
        return html.html_field_pages(records, problems, max_bytes)

    pages = itertools.chain.from_iterable(map(pages_of, sources))
    return html.page_records(pages, problems, map_fn=map_fn, timeout=timeout)


def _by_source(sources: Iterable[Source], problems: ProblemLog, **kw: Any) -> Iterator[Record]:
    """The records of each source in turn; runs of sources holding HTML pages share one
    extraction stream, so that its worker processes start once, not once per file."""
    html_field = kw.get("html_field")
    for has_pages, run in itertools.groupby(sources, lambda s: _has_pages(s, html_field)):
        if has_pages:
            yield from _read_pages(run, problems, **kw)
        else:
            for source in run:
                yield from read_source(source, problems, **kw)


def read_all(sources: Iterable[Source], problems: ProblemLog, **kw: Any) -> Iterator[Record]:
    """Chain the sources, renaming repeated ids ``id#2``, ``id#3``... so ids are unique."""
    return unique_ids(_by_source(sources, problems, **kw), problems)


def unique_ids(records: Iterable[Record], problems: ProblemLog) -> Iterator[Record]:
    """Rename repeated ids ``id#2``, ``id#3``... (a ``duplicate_id`` warning each), so the ids
    of a run are unique whether its records come from files or from memory."""
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    for record in records:
        if record.id in seen:
            original = record.id
            n = next_suffix.get(original, 2)
            while f"{original}#{n}" in seen:
                n += 1
            next_suffix[original] = n + 1
            record.id = f"{original}#{n}"
            problems.warning(
                record.path,
                record.line,
                "duplicate_id",
                f"id {original!r} was already used by an earlier record; renamed {record.id!r}",
            )
        seen.add(record.id)
        yield record


def _decode(data: bytes, path: str, line: int, problems: ProblemLog, what: str) -> str:
    """UTF-8, repairing (and reporting) invalid bytes rather than losing the record."""
    try:
        return data.decode()
    except UnicodeDecodeError as e:
        problems.warning(
            path,
            line,
            "invalid_utf8",
            f"invalid UTF-8 in {what} at byte {e.start:,}; bad bytes replaced with U+FFFD",
        )
        return data.decode(errors="replace")


def _warn_if_empty(text: str, path: str, line: int, problems: ProblemLog) -> None:
    if not text or text.isspace():
        problems.warning(path, line, "empty_text", "empty text; kept as an empty document")


def _read_txt(source: Source, problems: ProblemLog, max_bytes: int) -> Iterator[Record]:
    path = str(source.path)
    try:
        with _open_binary(source.path) as f:
            data = f.read(max_bytes + 1)
    except EOFError:
        problems.error(path, 0, "truncated", "compressed file is truncated; skipped")
        return
    except _STREAM_ERRORS as e:
        problems.error(path, 0, "unreadable", f"cannot read file: {e}; skipped")
        return
    if len(data) > max_bytes:
        problems.error(
            path,
            0,
            "too_large",
            f"file is over the {max_bytes:,}-byte limit (max_record_bytes); skipped",
        )
        return
    if _looks_binary(data[:_SNIFF_BYTES]):
        problems.error(path, 0, "binary", "binary file (NUL or control bytes), not text; skipped")
        return
    text = _decode(data, path, 0, problems, "file").removeprefix(_BOM)
    _warn_if_empty(text, path, 0, problems)
    doc_id = source.path.relative_to(source.root) if source.root else Path(source.path.name)
    yield Record(doc_id.as_posix(), text, path, 0, None)


class _JsonlReader:
    """One JSONL file, line by line in bounded memory (a huge line is skipped in chunks)."""

    def __init__(
        self, source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
    ) -> None:
        self.source = source
        self.path = str(source.path)
        self.problems = problems
        self.text_field = text_field
        self.id_field = id_field
        self.max_bytes = max_bytes
        self.line = 0  # last line read completely
        self.records = 0
        self.missing_ids = 0
        self.first_missing_id = 0

    def __iter__(self) -> Iterator[Record]:
        try:
            with _open_binary(self.source.path) as f:
                yield from self._records(f)
        except EOFError:
            self._stream_error("truncated", "compressed stream ends early (truncated file)")
        except _STREAM_ERRORS as e:
            self._stream_error("unreadable", f"read failed ({e})")
        self._report_missing_ids()

    def _stream_error(self, kind: str, what: str) -> None:
        if self.line:
            what += f" after line {self.line:,}; the {self.records:,} records before it were kept"
        else:
            what += " before the first line; nothing read"
        self.problems.error(self.path, self.line, kind, what)

    def _records(self, f: BinaryIO) -> Iterator[Record]:
        readline, limit, loads = f.readline, self.max_bytes + 1, orjson.loads
        first = True
        for n in itertools.count(1):
            raw = readline(limit)
            if not raw:
                break
            if len(raw) == limit and raw[-1:] != b"\n":
                self._skip_huge_line(f, n, len(raw))
                first = False
                continue
            self.line = n
            if raw.isspace():
                continue
            if first:
                first = False
                if raw.strip() in (b"[", b"{"):
                    self._error(
                        n,
                        "not_jsonl",
                        "pretty-printed JSON, not JSON Lines (one object a line); file "
                        "skipped: convert it, e.g. jq -c '.[]' for an array",
                    )
                    return
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError:
                obj = self._parse_slowly(raw, n)
                if obj is _MISSING:
                    continue
            record = self._record(obj, n)
            if record is not None:
                self.records += 1
                yield record
        if first:
            self.problems.warning(
                self.path, 0, "empty_file", "file has no records (no non-blank line)"
            )

    def _skip_huge_line(self, f: BinaryIO, n: int, size: int) -> None:
        while True:
            chunk = f.readline(1 << 20)
            size += len(chunk)
            if not chunk or chunk[-1:] == b"\n":
                break
        self.line = n
        self._error(
            n,
            "too_large",
            f"line is {size:,} bytes, over the {self.max_bytes:,}-byte "
            "limit (max_record_bytes); skipped",
        )

    def _parse_slowly(self, raw: bytes, n: int) -> Any:
        """Fallback for what orjson refuses: invalid UTF-8, a BOM, lone surrogates, NaN."""
        try:
            text = raw.decode()
            bad_byte = None
        except UnicodeDecodeError as e:
            text, bad_byte = raw.decode(errors="replace"), e.start
        try:
            obj = json.loads(text.removeprefix(_BOM) if n == 1 else text)
        except json.JSONDecodeError as e:
            self._error(
                n, "malformed_json", f"malformed JSON at column {e.colno}: {e.msg}; skipped"
            )
            return _MISSING
        except RecursionError:
            self._error(n, "malformed_json", "JSON nested too deeply; skipped")
            return _MISSING
        if bad_byte is not None:
            self.problems.warning(
                self.path,
                n,
                "invalid_utf8",
                f"invalid UTF-8 at byte {bad_byte:,} of the line; bad bytes replaced with U+FFFD",
            )
        if "\\u" in text:
            clean = _replace_lone_surrogates(obj)
            if clean != obj:
                self.problems.warning(
                    self.path,
                    n,
                    "invalid_utf8",
                    "lone UTF-16 surrogate escape replaced with U+FFFD",
                )
            obj = clean
        return obj

    def _record(self, obj: Any, n: int) -> Record | None:
        if type(obj) is not dict:
            self._error(
                n, "not_object", f"line is a JSON {_json_type(obj)}, not an object; skipped"
            )
            return None
        text = obj.pop(self.text_field, _MISSING)
        if type(text) is not str:
            if text is _MISSING:
                keys = ", ".join(map(repr, itertools.islice(obj, 10))) or "none"
                self._error(
                    n, "missing_text", f"no {self.text_field!r} field (fields: {keys}); skipped"
                )
            else:
                self._error(
                    n,
                    "text_not_string",
                    f"{self.text_field!r} is a JSON {_json_type(text)}, not a string; skipped",
                )
            return None
        _warn_if_empty(text, self.path, n, self.problems)
        doc_id = obj.get(self.id_field)
        if doc_id is None or doc_id == "":
            doc_id = self._fallback_id(n)
        elif type(doc_id) is not str:
            doc_id = str(doc_id)
        return Record(doc_id, text, self.path, n, obj)

    def _fallback_id(self, n: int) -> str:
        if not self.missing_ids:
            self.first_missing_id = n
        self.missing_ids += 1
        return f"{self.source.path.name}:{n}"

    def _report_missing_ids(self) -> None:
        if self.missing_ids:
            self.problems.warning(
                self.path,
                self.first_missing_id,
                "missing_id",
                f"{self.missing_ids:,} record(s) have no {self.id_field!r} (first here); "
                f'used "{self.source.path.name}:LINE" as their id',
            )

    def _error(self, n: int, kind: str, message: str) -> None:
        self.problems.error(self.path, n, kind, message)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _replace_lone_surrogates(value: Any) -> Any:
    """The stdlib parser lets lone surrogates through; they cannot be written back as UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    return value


def _read_parquet(
    source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
) -> Iterator[Record]:
    path = str(source.path)
    try:
        pfile = pq.ParquetFile(source.path)
    except (pa.ArrowException, OSError) as e:
        problems.error(path, 0, "unreadable", f"cannot read Parquet file: {e}; skipped")
        return
    schema, rows = pfile.schema_arrow, pfile.metadata.num_rows
    if not _has_text_column(schema, text_field, f"{rows:,} rows", path, problems):
        return
    if not rows:
        problems.warning(path, 0, "empty_file", "file has no rows")
    others = [name for name in schema.names if name != text_field]
    has_id = id_field in others
    if not has_id and rows:
        problems.warning(
            path, 1, "missing_id", f'no {id_field!r} column; used "{source.path.name}:ROW" as ids'
        )
    row = 0
    try:
        for batch in pfile.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            texts = _texts_of(batch.column(text_field))
            fields = _fields_of(batch, others, path, row + 1, problems)
            for text, record_fields in zip(texts, fields, strict=True):
                row += 1
                text = _parquet_text(text, path, row, text_field, max_bytes, problems)
                if text is None:
                    continue
                doc_id = record_fields.get(id_field) if has_id else None
                doc_id = (
                    f"{source.path.name}:{row}" if doc_id is None or doc_id == "" else str(doc_id)
                )
                yield Record(doc_id, text, path, row, record_fields)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
        problems.error(
            path,
            row,
            "unreadable",
            f"Parquet read failed after row {row:,} ({e}); the rows before it were kept",
        )


def _texts_of(column: pa.Array) -> list[Any]:
    """Python values of the text column; raw bytes when it holds invalid UTF-8 (decoded per row)."""
    try:
        return column.to_pylist()
    except UnicodeDecodeError:  # Arrow does not validate UTF-8 when reading Parquet
        return column.view(_binary_twin(column.type)).to_pylist()


def _fields_of(
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


def _has_text_column(
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
    if kind not in _TEXT_TYPES:
        problems.error(
            path,
            0,
            "text_not_string",
            f"column {text_field!r} has type {kind}, not string; file ({size}) skipped",
        )
        return False
    return True


def _parquet_text(
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
            f"text is over the {max_bytes:,}-character limit (max_record_bytes); skipped",
        )
        return None
    if isinstance(text, bytes):
        text = _decode(text, path, row, problems, "text")
    _warn_if_empty(text, path, row, problems)
    return text


def _outside_output(sources: list[Source], out_dir: Path, problems: ProblemLog) -> list[Source]:
    """Drop input files inside the output folder (a previous run's output is not input)."""
    out = out_dir.resolve()
    kept = []
    for source in sources:
        if source.path.resolve().is_relative_to(out):
            problems.warning(str(source.path), 0, "skipped_output", "inside the output folder")
        else:
            kept.append(source)
    if sources and not kept:
        raise InputError(f"every input file is inside the output folder {out_dir}")
    return kept


def run_sources(
    inputs: list[str], fmt: str | None, out_dir: Path, problems: ProblemLog
) -> list[Source]:
    """The input files of a run: discovered, less any inside its output folder."""
    return _outside_output(discover(inputs, fmt, problems=problems), out_dir, problems)


def reader_options(config: DedupConfig) -> dict[str, Any]:
    """The settings every reader of a run gets (so all stages read the same texts)."""
    return {
        "text_field": config.text_field,
        "id_field": config.id_field,
        "max_record_bytes": config.max_record_bytes,
        "html_field": config.html_field,
    }
