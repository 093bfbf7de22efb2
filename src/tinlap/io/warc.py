"""WARC / WET input (the optional ``warc`` extra, warcio): web archive records become pages.

A ``response`` record with HTTP status 200 and an HTML content type, or an HTML ``resource``
record, becomes a page for :func:`tinlap.io.html.page_records` (id and ``url`` field: its
WARC-Target-URI; ``warc_date`` field: its WARC-Date). A WET ``conversion`` record is already
plain text and becomes a document as it is. Everything else is counted, never dropped
silently: one warning per file and kind, with the exact number of records in the problem
counts (summary.json ``input_problems.by_kind``) and the reasons in the message:
``skipped_status`` (not HTTP 200), ``skipped_non_html`` (another content type, or no HTTP
response), ``skipped_record_type`` (request, metadata, warcinfo, revisit... records).

A truncated or corrupt file is an error (``truncated`` / ``unreadable``) naming the last good
record; the records before it are kept. An oversized record is a ``too_large`` error and the
file goes on. ``line`` in messages is the record's 1-based position in the file.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tinlap.io.html import MissingExtraError, Page
from tinlap.io.streams import STREAM_ERRORS, decode, open_binary
from tinlap.records import ProblemLog

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath

_WARC_EXTRA = "pip install 'tinlap[warc]'"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xhtml"})
_SNIFF = (b"<!doctype html", b"<html", b"<head", b"<body")
_SKIP_KINDS = ("skipped_status", "skipped_non_html", "skipped_record_type")
_SKIP_WHAT = {
    "skipped_status": "not HTTP 200",
    "skipped_non_html": "not HTML",
    "skipped_record_type": "not a response, resource or conversion record",
}


@cache
def _warcio() -> Any:
    """warcio's ArchiveIterator subclass used here; a clear error naming the extra if missing."""
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError as err:
        raise MissingExtraError(
            f"reading WARC/WET needs warcio ({err}): install the extra with {_WARC_EXTRA}"
        ) from None

    class QuietIterator(ArchiveIterator):  # type: ignore[misc]
        """warcio writes a warning to stderr on a record whose Content-Length looks wrong;
        here it is counted instead (``err_count``) and reported as a problem."""

        def _consume_blanklines(self) -> Any:
            with contextlib.redirect_stderr(io.StringIO()):
                return super()._consume_blanklines()

    return QuietIterator


def require_warc() -> None:
    """Raise :class:`~tinlap.io.html.MissingExtraError` now when warcio is missing."""
    _warcio()


class _Guarded:
    """A decompressed byte stream that ends cleanly where the compressed data is truncated or
    corrupt, remembering the error: the parser then sees EOF, and every record decompressed
    before the damage is still read (``gzip`` itself would raise and lose the buffered tail).
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._read1 = getattr(fh, "read1", fh.read)
        self.error: BaseException | None = None
        self._pos = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        chunks: list[bytes] = []
        want = size if size is not None and size >= 0 else 1 << 62
        while want > 0:
            try:
                data = self._read1(min(want, 1 << 16))
            except STREAM_ERRORS as err:
                self.error = err
                break
            if not data:
                self.eof = True
                break
            chunks.append(data)
            want -= len(data)
        out = b"".join(chunks)
        self._pos += len(out)
        return out

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._fh.close()


@dataclass(slots=True)
class _Skips:
    """Records of one file skipped by kind, with the reasons and the first one's place."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=dict)
    first: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, kind: str, reason: str, n: int, uri: str) -> None:
        self.counts[kind] += 1
        self.reasons.setdefault(kind, Counter())[reason] += 1
        self.first.setdefault(kind, (n, uri))

    def report(self, path: str, problems: ProblemLog) -> None:
        for kind in _SKIP_KINDS:
            n = self.counts[kind]
            if not n:
                continue
            line, uri = self.first[kind]
            reasons = ", ".join(f"{r} {c:,}" for r, c in self.reasons[kind].most_common(8))
            problems.warning(
                path,
                line,
                kind,
                f"{n:,} record(s) skipped, {_SKIP_WHAT[kind]} ({reasons}); first: record {line:,}"
                + (f" ({uri})" if uri else ""),
            )
            # One message per file and kind, but the count is per record (exact).
            problems.counts[("warning", kind)] += n - 1


def warc_pages(path: InputPath, problems: ProblemLog, max_bytes: int) -> Iterator[Page]:
    """The pages of one WARC / WET file (plain .warc, .warc.gz, .wet.gz...), in file order."""
    iterator_class = _warcio()
    name = str(path)
    try:
        raw = open_binary(path)
    except STREAM_ERRORS as err:
        problems.error(name, 0, "unreadable", f"cannot read file: {err}; skipped")
        return
    stream = _Guarded(raw)
    records = iterator_class(stream, check_digests=False)
    read = _Progress()
    skips = _Skips()
    failure: Exception | None = None
    partial = False
    last: Any = None
    try:
        while True:
            try:
                record = next(records)
            except StopIteration:
                record = None
            except Exception as err:  # warcio: not WARC, or a broken header block
                failure, record = err, None
            if record is not None and not _has_length(record):
                # what warcio makes of a header block cut short (every record has a length)
                failure, record = ValueError("record header without Content-Length"), None
            # warcio has now read the previous record to its end: was it all there?
            if last is not None and getattr(last.raw_stream, "limit", 0):
                partial = True
                read.good, read.uri = read.before  # it was skipped, but it was not whole
                break
            if record is None:
                break
            last = record
            read.n += 1
            page = _page(record, read.n, name, skips, problems, max_bytes)
            if page is _PARTIAL:
                partial = True  # the data ends inside this record
                break
            read.before = (read.good, read.uri)
            read.good, read.uri = read.n, _uri(record)
            if page is not None:
                read.pages += 1
                yield page
    finally:
        with contextlib.suppress(Exception):
            stream.close()
    skips.report(name, problems)
    _report_end(name, problems, stream, read, failure, partial, records.offset)
    if records.err_count:
        problems.warning(
            name,
            0,
            "bad_record_length",
            f"{records.err_count:,} record(s) not followed by the blank lines their "
            "Content-Length announces (wrong Content-Length?); read on from the next record",
        )
    if read.n == 0 and stream.error is None and failure is None:
        problems.warning(name, 0, "empty_file", "file has no WARC records")


@dataclass(slots=True)
class _Progress:
    n: int = 0  # records parsed
    good: int = 0  # last complete record
    uri: str = ""  # its URI
    pages: int = 0  # documents handed on
    before: tuple[int, str] = (0, "")  # (good, uri) before the last record


_PARTIAL: Any = object()


def _report_end(
    name: str,
    problems: ProblemLog,
    stream: _Guarded,
    read: _Progress,
    failure: Exception | None,
    partial: bool,
    parsed_to: int,
) -> None:
    """The error, if any, that ended the file early: damaged compression, a record cut short,
    an unparsable header block, or bytes left after the last record."""
    line = read.good + 1
    if isinstance(stream.error, EOFError):
        kind, what = "truncated", "compressed stream ends early (truncated file)"
    elif stream.error is not None:
        kind, what = "unreadable", f"compressed data is corrupt ({_short(stream.error)})"
    elif partial:
        kind, what = "truncated", f"file ends inside record {read.n:,} (truncated file)"
    elif failure is not None and stream.eof and read.n:
        kind, what = "truncated", f"file ends or breaks inside a record header ({_short(failure)})"
    elif failure is not None:
        kind, what = "unreadable", f"not a valid WARC record ({_short(failure)})"
    elif parsed_to < stream.tell():
        kind, what = "truncated", "file ends inside a record's header (truncated file)"
    else:
        return
    problems.error(name, line, kind, f"{what} {_after(read)}")


def _after(read: _Progress) -> str:
    if not read.good:
        return "before the first complete record; nothing read"
    return (
        f"after record {read.good:,} ({read.uri or 'no URI'}); "
        f"the {read.pages:,} documents before it were kept"
    )


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:200] or type(err).__name__


def _has_length(record: Any) -> bool:
    return (record.rec_headers.get_header("Content-Length") or "").strip().isdigit()


def _uri(record: Any) -> str:
    return record.rec_headers.get_header("WARC-Target-URI") or ""


def _mime(content_type: str | None) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type header."""
    if not content_type:
        return "", None
    parts = [p.strip() for p in content_type.split(";")]
    charset = None
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return parts[0].lower(), charset


def _page(
    record: Any, n: int, path: str, skips: _Skips, problems: ProblemLog, max_bytes: int
) -> Page | None:
    """The record's page, None when skipped (counted), _PARTIAL when the file ends inside it."""
    kind = record.rec_type
    uri = _uri(record)
    if kind == "response":
        http = record.http_headers
        if http is None:
            skips.add("skipped_non_html", "no HTTP response", n, uri)
            return None
        status = http.get_statuscode() or "?"
        if status != "200":
            skips.add("skipped_status", status, n, uri)
            return None
        mime, charset = _mime(http.get_header("Content-Type"))
    elif kind == "resource":
        mime, charset = _mime(record.rec_headers.get_header("Content-Type"))
    elif kind == "conversion":
        mime, charset = "text/plain", None
    else:
        skips.add("skipped_record_type", kind or "unknown", n, uri)
        return None
    if mime and kind != "conversion" and mime not in _HTML_TYPES:
        skips.add("skipped_non_html", mime, n, uri)
        return None

    try:
        data = record.content_stream().read(max_bytes + 1)
    except Exception as err:  # a broken chunked / compressed HTTP body
        problems.error(path, n, "unreadable", f"{uri}: cannot decode the record body ({err})")
        return None
    if len(data) > max_bytes:
        problems.error(
            path,
            n,
            "too_large",
            f"{uri}: page is over the {max_bytes:,}-byte limit for HTML pages; skipped",
        )
        return None
    if getattr(record.raw_stream, "limit", 0):
        return _PARTIAL
    if not mime and not data[:512].lstrip().lower().startswith(_SNIFF):
        skips.add("skipped_non_html", "no content type, not HTML", n, uri)
        return None

    doc_id = uri or f"{Path(path).name}:{n}"
    fields: dict[str, Any] = {"url": uri} if uri else {}
    date = record.rec_headers.get_header("WARC-Date")
    if date:
        fields["warc_date"] = date
    if kind == "conversion":
        text = decode(data, path, n, problems, "record")
        return Page(doc_id, text, path, n, fields, uri or None, plain=True)
    return Page(doc_id, data, path, n, fields, uri or None, charset)
