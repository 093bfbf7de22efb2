"""Turn the user's inputs (folders, globs, .txt / JSONL / Parquet / CSV / HTML / WARC files) into
Records.

Every input record ends up either as a Record or as an error in the ProblemLog, located by
file and line: a bad line must never cost the rest of the corpus, nor vanish unreported.

Problem kinds. Errors (record skipped): ``unreadable``, ``truncated``, ``binary``, ``too_large``,
``malformed_json``, ``malformed_csv``, ``not_object``, ``not_jsonl``, ``missing_text``,
``text_not_string``, and ``special_file`` from :func:`discover` (a symlink loop, a dangling link,
a FIFO, a socket or a device found in an input folder: never opened).
Warnings (record kept): ``invalid_utf8``, ``empty_text``, ``empty_file``, ``missing_id``,
``duplicate_id``, and ``skipped_file``, ``outside_link`` (a symlink leaving the input folder, not
followed without ``follow_symlinks``) from :func:`discover`. HTML pages and WARC records
(``html.py``, ``warc.py``, optional extras imported only when such input is read) add their own
kinds, listed there.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tinlap.config import DedupConfig
from tinlap.io.formats import FORMATS, Format, Source, by_suffix, register
from tinlap.io.remote import is_url, local_path, output_url, remote_path
from tinlap.io.streams import STREAM_ERRORS, InputError, decode, open_binary
from tinlap.io.tables import (
    LIMIT,
    table_records,
    warn_if_empty,
)
from tinlap.records import MapFn, Problem, ProblemLog, Record

if TYPE_CHECKING:
    from upath import UPath

    from tinlap.io.remote import InputPath

_COMPRESSION_SUFFIXES = (".gz", ".zst", ".zstd")
_PARQUET_MAGIC = b"PAR1"
_ARROW_MAGIC = b"ARROW1"
_BOM = "\ufeff"
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"
_BINARY_CONTROL_SHARE = 0.3  # above this share of control bytes a "text" file is binary junk
_SNIFF_BYTES = 1 << 16
_HAS_MAGIC = re.compile(r"[*?[]").search
_PARQUET_BATCH_ROWS = 1024
_MISSING: Any = object()
# Cleaning and sketching a document takes up to ~30 times its size (measured: 16 MB of text
# peaked at 600 MB), so a worker's memory share bounds the document size too.
DOCUMENT_MEMORY_FACTOR = 32


# --------------------------------------------------------------------------------------- discover


def discover(
    inputs: Sequence[str | Path],
    fmt: str | None = None,
    *,
    problems: ProblemLog | None = None,
    follow_symlinks: bool = False,
) -> list[Source]:
    """Expand files, folders and globs into Sources in a deterministic order.

    Inside folders, files of no known format (and CSV/TSV tables) are skipped (a
    ``skipped_file`` warning when ``problems`` is given) unless ``fmt`` forces one. A file named
    explicitly with an unknown extension is refused unless ``fmt`` forces one; one without any
    extension is sniffed. A file reached twice (e.g. by a folder and a glob) is read once.

    Inside folders and glob matches, only regular files are read: symlink loops, dangling links,
    FIFOs, sockets and devices are ``special_file`` errors, and symbolic links that lead outside
    the input folder are ``outside_link`` warnings, not followed unless ``follow_symlinks``.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not inputs:
        raise InputError("no input given")
    sources: list[Source] = []
    seen: set[Path | str] = set()
    for item in inputs:
        for source in _expand(str(item), fmt, problems, follow_symlinks):
            key = source.path.resolve() if isinstance(source.path, Path) else str(source.path)
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources


def _expand(
    item: str, fmt: str | None, problems: ProblemLog | None, follow: bool = False
) -> list[Source]:
    if is_url(item):
        return _expand_remote(item, fmt, problems)
    item = local_path(item)  # file:///data/x is /data/x
    path = Path(item)
    if path.is_dir():
        return _folder(path, path, fmt, problems, follow=follow)
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
        if _unreadable(match, root, follow, problems):
            continue
        if match.is_dir():
            sources += _folder(match, root, fmt, problems, required=False, follow=follow)
        elif match.is_file():
            sources.append(_named_file(match, root, fmt))
    return sources


def _glob_root(pattern: str) -> Path:
    """The pattern's fixed leading folders: txt ids found by a glob are relative to it."""
    parts = list(itertools.takewhile(lambda p: not _HAS_MAGIC(p), Path(pattern).parts[:-1]))
    return Path(*parts) if parts else Path()


def _expand_remote(url: str, fmt: str | None, problems: ProblemLog | None) -> list[Source]:
    """A URL (``s3://bucket/prefix/``, a glob of keys, one object): discovered as a local
    path is, through its fsspec filesystem. An object store has no links or special files."""
    path = remote_path(url)
    try:
        if _HAS_MAGIC(url):
            matches = sorted(path.fs.glob(path.path))
            if not matches:
                raise InputError(f"{url}: no files match this pattern")
            root = remote_path(_glob_root_url(url))
            base = root.path.rstrip("/")
            visible = [m for m in matches if not _hidden(m[len(base) :])]  # as glob.glob does
            sources: list[Source] = []
            for match in map(remote_path, map(path.fs.unstrip_protocol, visible)):
                if match.is_dir():
                    sources += _remote_folder(match, root, fmt, problems, required=False)
                else:
                    sources.append(_named_file(match, root, fmt))
            return sources
        if path.is_file():
            return [_named_file(path, path.parent, fmt)]
        if path.is_dir():
            return _remote_folder(path, path, fmt, problems)
    except InputError:
        raise
    except (OSError, ValueError) as err:  # no access, no such bucket, a broken endpoint
        raise InputError(f"{url}: cannot list it ({type(err).__name__}: {err})") from None
    raise InputError(f"{url}: no such file or folder")


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/"))


def _glob_root_url(pattern: str) -> str:
    """A URL pattern's fixed leading folders (``s3://b/crawl/*/x.txt`` -> ``s3://b/crawl``)."""
    scheme, _, rest = pattern.partition("://")
    parts = rest.split("/")[:-1]
    fixed = list(itertools.takewhile(lambda p: not _HAS_MAGIC(p), parts))
    return f"{scheme}://{'/'.join(fixed)}"


def _remote_folder(
    folder: UPath,
    root: UPath,
    fmt: str | None,
    problems: ProblemLog | None,
    *,
    required: bool = True,
) -> list[Source]:
    """All non-hidden files under a remote folder (prefix) of a known (or the forced) format,
    sorted by their path inside it; the same rules as a local folder walk."""
    fs = folder.fs
    base = folder.path.rstrip("/")
    found: list[tuple[str, Source]] = []
    for key in fs.find(base, withdirs=False):
        relative = key[len(base) :].lstrip("/")
        if not relative or _hidden(relative):
            continue
        path = remote_path(fs.unstrip_protocol(key))
        source = _folder_source(path, root, fmt, problems)
        if source is not None:
            found.append((relative, source))
    if not found and required:
        raise InputError(f"{folder}: no {_FOLDER_FORMATS} files in this folder")
    return [source for _, source in sorted(found, key=lambda pair: pair[0])]


_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _unreadable(path: Path, root: Path, follow: bool, problems: ProblemLog | None) -> bool:
    """True (and a problem recorded) for what a folder walk or a glob must not open: a symlink
    loop, a dangling link, a FIFO, a socket, a device (errors), or a link leaving ``root``
    without ``follow`` (a warning). Opening a FIFO would hang the run; a link to /etc/shadow
    would copy it into the output."""

    def report(severity: str, kind: str, message: str) -> bool:
        if problems is not None:
            problems.add(Problem(str(path), 0, severity, kind, message))  # type: ignore[arg-type]
        return True

    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                return report(
                    "error",
                    "special_file",
                    f"dangling symbolic link (to {os.readlink(path)}); skipped",
                )
            except (RuntimeError, OSError):  # ELOOP: Python 3.11 raises RuntimeError
                return report("error", "special_file", "symbolic link loop; skipped")
            if not follow and not target.is_relative_to(root.resolve()):
                return report(
                    "warning",
                    "outside_link",
                    f"symbolic link to {target}, outside the input folder; not followed "
                    "(--follow-symlinks reads it)",
                )
            mode = target.stat().st_mode
    except OSError as e:
        return report("error", "special_file", f"cannot inspect it ({e.strerror}); skipped")
    for test, what in _SPECIAL_KINDS:
        if test(mode):
            return report("error", "special_file", f"{what}, not a regular file; skipped")
    return False


def _folder(
    folder: Path,
    root: Path,
    fmt: str | None,
    problems: ProblemLog | None,
    *,
    required: bool = True,
    follow: bool = False,
) -> list[Source]:
    """All non-hidden regular files under ``folder`` of a known (or the forced) format, sorted.

    Symbolic links to folders are walked when they stay inside ``root`` (or with ``follow``),
    each real folder once, so a link to a parent cannot loop."""
    found: list[tuple[str, Source]] = []
    seen_dirs = {os.path.realpath(folder)}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        kept_dirs = []
        for d in sorted(dirnames):
            sub = Path(dirpath, d)
            if d.startswith(".") or (sub.is_symlink() and _unreadable(sub, root, follow, problems)):
                continue
            real = os.path.realpath(sub)
            if real not in seen_dirs:
                seen_dirs.add(real)
                kept_dirs.append(d)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            source = _folder_source(path, root, fmt, problems)
            if source is None or _unreadable(path, root, follow, problems):
                continue
            found.append((path.relative_to(folder).as_posix(), source))
    if not found and required:
        raise InputError(f"{folder}: no {_FOLDER_FORMATS} files in this folder")
    return [source for _, source in sorted(found, key=lambda pair: pair[0])]


_FOLDER_FORMATS = ".txt, .jsonl, .parquet, .arrow, .html or .warc"


def _folder_source(
    path: InputPath, root: InputPath, fmt: str | None, problems: ProblemLog | None
) -> Source | None:
    """A file found in a folder as a Source, or None (a ``skipped_file`` warning) when it is
    of no format read from folders."""
    file_fmt = fmt or _format_of_name(path)
    if file_fmt is None or (fmt is None and not FORMATS[file_fmt].in_folders):
        if problems is not None:
            problems.warning(
                str(path),
                0,
                "skipped_file",
                f"not a {_FOLDER_FORMATS} file (.csv and .tsv only when named); skipped "
                "(force a format to read it)",
            )
        return None
    return Source(path, file_fmt, root if FORMATS[file_fmt].rooted else None)


def _named_file(path: InputPath, root: InputPath, fmt: str | None) -> Source:
    file_fmt = fmt or _format_of_name(path)
    if file_fmt is None:
        suffix = Path(_without_compression(path.name)).suffix
        if suffix:  # a name that says something else: never guess
            raise InputError(
                f"{path}: unknown extension {suffix!r}: name it .txt, .jsonl, .parquet, .csv, "
                f".tsv, .html or .warc, or force a format with --format ({', '.join(FORMATS)})"
            )
        file_fmt = _sniff(path)
    return Source(path, file_fmt, root if FORMATS[file_fmt].rooted else None)


def _without_compression(name: str) -> str:
    for suffix in _COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _format_of_name(path: InputPath) -> str | None:
    """Format from the file name, looking through a .gz/.zst suffix (Parquet and Arrow files are
    never wrapped)."""
    name = path.name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            fmt = by_suffix(Path(name.removesuffix(suffix)).suffix)
            return fmt if fmt is not None and FORMATS[fmt].wrapped else None
    return by_suffix(Path(name).suffix)


def _sniff(path: InputPath) -> str:
    """Format from the first bytes, for a file named explicitly without a known extension."""
    try:
        with path.open("rb") as f:
            magic = f.read(6)
        if magic[:4] == _PARQUET_MAGIC:
            return "parquet"
        if magic == _ARROW_MAGIC:
            return "arrow"
        with open_binary(path) as f:
            head = f.read(_SNIFF_BYTES)
    except STREAM_ERRORS as e:
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
    reader = FORMATS[source.format].read
    if reader is None:
        raise ValueError(f"{source.format!r} is read as pages, not records")
    return reader(source, problems, text_field, id_field, max_record_bytes)


def document_limit(max_record_bytes: int, task_memory: int | None) -> int:
    """The largest document a worker with ``task_memory`` bytes may be given."""
    if task_memory is None:
        return max_record_bytes
    return max(1, min(max_record_bytes, task_memory // DOCUMENT_MEMORY_FACTOR))


def _has_pages(source: Source, html_field: str | None) -> bool:
    """Its records are HTML pages to extract (an .html file, a WARC, or an HTML field)."""
    return FORMATS[source.format].read is None or (
        html_field is not None and FORMATS[source.format].tabular
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


def _read_txt(source: Source, problems: ProblemLog, max_bytes: int) -> Iterator[Record]:
    path = str(source.path)
    try:
        with open_binary(source.path) as f:
            data = f.read(max_bytes + 1)
    except EOFError:
        problems.error(path, 0, "truncated", "compressed file is truncated; skipped")
        return
    except STREAM_ERRORS as e:
        problems.error(path, 0, "unreadable", f"cannot read file: {e}; skipped")
        return
    if len(data) > max_bytes:
        problems.error(
            path,
            0,
            "too_large",
            f"file is over the {max_bytes:,}-byte {LIMIT}; skipped",
        )
        return
    if _looks_binary(data[:_SNIFF_BYTES]):
        problems.error(path, 0, "binary", "binary file (NUL or control bytes), not text; skipped")
        return
    text = decode(data, path, 0, problems, "file").removeprefix(_BOM)
    warn_if_empty(text, path, 0, problems)
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
            with open_binary(self.source.path) as f:
                yield from self._records(f)
        except EOFError:
            self._stream_error("truncated", "compressed stream ends early (truncated file)")
        except STREAM_ERRORS as e:
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
            f"line is {size:,} bytes, over the {self.max_bytes:,}-byte {LIMIT}; skipped",
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
        warn_if_empty(text, self.path, n, self.problems)
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
    with contextlib.ExitStack() as stack:
        try:
            where = source.path
            if not isinstance(where, Path):  # a remote file: through its fsspec file object
                where = stack.enter_context(where.open("rb"))
            pfile = pq.ParquetFile(where)
        except (pa.ArrowException, OSError) as e:
            problems.error(path, 0, "unreadable", f"cannot read Parquet file: {e}; skipped")
            return
        rows = pfile.metadata.num_rows
        batches = pfile.iter_batches(batch_size=_PARQUET_BATCH_ROWS)
        yield from table_records(
            source,
            pfile.schema_arrow,
            batches,
            f"{rows:,} rows",
            problems,
            text_field,
            id_field,
            max_bytes,
            what="Parquet",
        )


def _read_csv(
    source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
) -> Iterator[Record]:
    """A CSV or TSV table (header row first), streamed block by block with pyarrow's CSV
    reader; every column is read as text (a CSV has no types), quoted values may span lines.

    Records are located by data row (1-based). A row with the wrong number of fields is a
    ``malformed_csv`` error (quoting its start) and skipped; a row longer than a block (which
    bounds memory) stops the file with an ``unreadable`` error naming the row, the rows before
    it kept.
    """
    import pyarrow.csv as pcsv

    path = str(source.path)
    probing = True  # the first open only reads the header: its bad rows are reported later

    def bad_row(invalid: Any) -> str:
        if not probing:  # pyarrow parses whole blocks ahead: the row's number is not known
            start = (invalid.text or "")[:60]
            problems.error(
                path,
                invalid.number or 0,
                "malformed_csv",
                f"a row has {invalid.actual_columns} fields, expected "
                f"{invalid.expected_columns} (it starts {start!r}); skipped",
            )
        return "skip"

    block = min(max(max_bytes + 1, 1 << 20), 1 << 26)
    read = pcsv.ReadOptions(block_size=block, use_threads=False)
    parse = pcsv.ParseOptions(
        delimiter="\t" if source.format == "tsv" else ",",
        newlines_in_values=True,
        invalid_row_handler=bad_row,
    )

    def open_reader(types: dict[str, pa.DataType]) -> Any:
        convert = pcsv.ConvertOptions(column_types=types, check_utf8=False)
        return pcsv.open_csv(open_binary(source.path), read, parse, convert)

    try:
        with open_reader({}) as first:  # only to learn the header's column names
            names = first.schema.names
        probing = False
        reader = open_reader({name: pa.string() for name in names})
    except pa.ArrowInvalid as e:
        if "Empty CSV file" in str(e):
            problems.warning(path, 0, "empty_file", "file has no header row nor rows")
        else:
            problems.error(path, 0, "unreadable", f"cannot read the CSV file: {e}; skipped")
        return
    except EOFError:
        problems.error(path, 0, "truncated", "compressed file is truncated; skipped")
        return
    except (*STREAM_ERRORS, pa.ArrowException) as e:
        problems.error(path, 0, "unreadable", f"cannot read the CSV file: {e}; skipped")
        return
    with reader:
        yield from table_records(
            source,
            reader.schema,
            reader,
            "all rows",
            problems,
            text_field,
            id_field,
            max_bytes,
            what="CSV",
        )


def _outside_output(sources: list[Source], out_dir: Path, problems: ProblemLog) -> list[Source]:
    """Drop input files inside the output folder (a previous run's output is not input); for a
    remote --output, ``out_dir`` is its local stand-in and the URL is checked too."""
    out = out_dir.resolve()
    url = output_url(out_dir)
    prefix = url.rstrip("/") + "/" if url else None
    kept = []
    for source in sources:
        path = source.path
        if isinstance(path, Path):
            inside = path.resolve().is_relative_to(out)
        else:
            inside = prefix is not None and str(path).startswith(prefix)
        if inside:
            problems.warning(str(path), 0, "skipped_output", "inside the output folder")
        else:
            kept.append(source)
    if sources and not kept:
        raise InputError(f"every input file is inside the output folder {url or out_dir}")
    return kept


def run_sources(
    inputs: list[str], config: DedupConfig, out_dir: Path, problems: ProblemLog
) -> list[Source]:
    """The input files of a run: discovered, less any inside its output folder."""
    found = discover(
        inputs, config.input_format, problems=problems, follow_symlinks=config.follow_symlinks
    )
    return _outside_output(found, out_dir, problems)


def reader_options(config: DedupConfig) -> dict[str, Any]:
    """The settings every reader of a run gets (so all stages read the same texts)."""
    return {
        "text_field": config.text_field,
        "id_field": config.id_field,
        "max_record_bytes": config.max_record_bytes,
        "html_field": config.html_field,
    }


# ------------------------------------------------------------------------ the built-in formats


def _jsonl(
    source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
) -> Iterator[Record]:
    return iter(_JsonlReader(source, problems, text_field, id_field, max_bytes))


def _txt(
    source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
) -> Iterator[Record]:
    del text_field, id_field  # a .txt file is one document, its id its path
    return _read_txt(source, problems, max_bytes)


register(Format("txt", (".txt",), _txt, rooted=True))
register(Format("jsonl", (".jsonl", ".ndjson", ".json"), _jsonl, tabular=True))
register(Format("parquet", (".parquet", ".pq"), _read_parquet, tabular=True, wrapped=False))
register(Format("csv", (".csv",), _read_csv, in_folders=False, tabular=True))
register(Format("tsv", (".tsv",), _read_csv, in_folders=False, tabular=True))
register(Format("html", (".html", ".htm", ".xhtml"), None, rooted=True))
register(Format("warc", (".warc", ".wet"), None))

from tinlap.io import arrow as _arrow  # noqa: E402, F401  (registers the Arrow IPC format)
