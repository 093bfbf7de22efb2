"""HTML input: main-text extraction with trafilatura (the optional ``html`` extra), then records.

``extract`` is the pure part: a page's HTML in, its title and main text out (title as the first
line, so tinlap's cleaner, which protects a document's first line, keeps it). trafilatura is
imported lazily; without it, reading HTML stops with an :class:`~tinlap.io.streams.InputError` that
names the extra to install.

The rest turns pages into :class:`~tinlap.records.Record` s for ``read.py``: ``.html`` files,
WARC responses (``warc.py``) and a JSONL/Parquet field holding HTML all go through
:func:`page_records`, which bounds the work per page and reports every page it cannot turn
into text. Problem kinds added here. Errors (page skipped): ``too_large`` (over
``max_page_bytes``), ``extraction_timeout`` (over ``timeout`` seconds), ``extraction_failed``
(the extractor raised). Warning (page kept, as an empty document): ``no_text``.

Extraction is the slow stage (tens of pages per second per core), so ``page_records`` runs it
through the ``map_fn`` it is handed (an executor's ``map``: worker processes), in input order.
"""

from __future__ import annotations

import codecs
import logging
import re
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from tinlap.io.streams import STREAM_ERRORS, InputError, open_binary
from tinlap.records import MapFn, ProblemLog, Record

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath

MAX_PAGE_BYTES = 5 * 2**20  # a bigger page is no article; lxml + trafilatura would take seconds
PAGE_TIMEOUT = 10.0  # seconds of extraction per page (where a timer can interrupt it)
_CHUNK_PAGES = 16  # pages per worker task
_HTML_EXTRA = "pip install 'tinlap[html]'"

# trafilatura settings, measured on the article-extraction benchmark
# (benchmarks/html_extraction.py, results/html-extraction.md): comments are not the article,
# tables often are; favor_recall + fast (no readability/jusText fallback) measured both the
# best F1 and the fastest of the combinations tried (defaults, precision, recall, fast).
_TRAFILATURA_OPTIONS: dict[str, Any] = {
    "output_format": "txt",
    "include_comments": False,
    "include_tables": True,
    "favor_recall": True,
    "fast": True,
    "deduplicate": False,
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_SPACES = re.compile(r"\s+")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:»·]\s+")
_MAX_TITLE_CHARS = 300


class MissingExtraError(InputError):
    """An optional dependency is not installed; the message says which extra installs it."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """A page's main text: ``text`` starts with ``title`` (when there is one), "" when nothing
    could be extracted. ``url`` is the page's canonical URL when it declares one."""

    text: str
    title: str | None
    url: str | None


# ------------------------------------------------------------------------------------ extraction


@cache
def _trafilatura() -> Any:
    """The trafilatura module, imported once; a clear error naming the extra when missing."""
    try:
        import trafilatura
        import trafilatura.utils
    except ImportError as err:
        raise MissingExtraError(
            f"reading HTML needs trafilatura ({err}): install the extra with {_HTML_EXTRA}"
        ) from None
    # Its "empty HTML tree" etc. go to logging; unconfigured, Python would print them all.
    logging.getLogger("trafilatura").addHandler(logging.NullHandler())
    return trafilatura


def require_html() -> None:
    """Raise :class:`MissingExtraError` now (before any reading) when trafilatura is missing."""
    _trafilatura()


def extract(html: str | bytes, url: str | None = None) -> Extracted:
    """Title and main text of one page (pure: no limits, see :func:`extract_bounded`).

    Bytes are decoded as UTF-8, else by their ``<meta charset>``, else by detection. A page
    with no main text gives ``Extracted("", title, url)``; broken HTML gives what lxml can
    recover from it.
    """
    return _extract(html, url, None)


def _extract(html: str | bytes, url: str | None, charset: str | None) -> Extracted:
    trafilatura = _trafilatura()
    markup = _decode(html, charset) if isinstance(html, bytes) else html
    if not markup.strip():
        return Extracted("", None, None)
    tree = trafilatura.utils.load_html(_as_document(markup))
    if tree is None:
        return Extracted("", None, None)
    title = _title(tree)
    canonical = _canonical_url(tree, url)
    body = trafilatura.extract(tree, url=url, **_TRAFILATURA_OPTIONS) or ""
    body = "\n".join(line.strip() for line in body.split("\n") if line.strip())
    if not body:
        return Extracted("", title, canonical)
    if title and _squash(body.split("\n", 1)[0]) != _squash(title):
        body = f"{title}\n{body}"
    return Extracted(body, title, canonical)


def _decode(data: bytes, charset: str | None) -> str | bytes:
    """UTF-8, else the declared charset (HTTP header, then <meta>); bytes when neither works
    (trafilatura then guesses, replacing what it cannot decode)."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        pass
    declared = [charset] if charset else []
    match = _META_CHARSET.search(data[:4096])
    if match:
        declared.append(match.group(1).decode("ascii"))
    for name in declared:
        try:
            codecs.lookup(name)
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data


def _as_document(markup: str | bytes) -> str | bytes:
    """Wrap a fragment (e.g. an article body held in a JSONL field) in a document: trafilatura
    rejects input that does not look like a whole page."""
    head = markup[:200].lower()
    if (b"html" if isinstance(markup, bytes) else "html") in head:
        return markup
    if isinstance(markup, bytes):
        return b"<html><body>" + markup + b"</body></html>"
    return f"<html><body>{markup}</body></html>"


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _first(tree: Any, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        text = _SPACES.sub(" ", str(value)).strip()
        if text:
            return text
    return None


def _title(tree: Any) -> str | None:
    """The headline: the page's <h1> when og:title or <title> confirms it, else og:title, else
    <title> without its site-name part."""
    og = _first(tree, "//meta[@property='og:title' or @name='og:title']/@content")
    head = _first(tree, "//head/title/text()") or _first(tree, "//title/text()")
    for h1 in tree.xpath("//h1")[:3]:
        text = _SPACES.sub(" ", h1.text_content()).strip()
        if text and any(text.casefold() in (t or "").casefold() for t in (og, head)):
            return text[:_MAX_TITLE_CHARS]
    if og:
        return og[:_MAX_TITLE_CHARS]
    if head:
        parts = _TITLE_SEPARATORS.split(head)
        return max(parts, key=len)[:_MAX_TITLE_CHARS] if len(parts) > 1 else head[:_MAX_TITLE_CHARS]
    return None


def _canonical_url(tree: Any, base: str | None) -> str | None:
    """<link rel=canonical> or og:url, made absolute against ``base``; None if not http(s)."""
    for xpath in (
        "//link[contains(concat(' ', normalize-space(translate(@rel, 'CANOIL', 'canoil')), ' '),"
        " ' canonical ')]/@href",
        "//meta[@property='og:url' or @name='og:url']/@content",
    ):
        value = _first(tree, xpath)
        if value:
            absolute = urljoin(base, value) if base else value
            if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).hostname:
                return absolute
    return None


# --------------------------------------------------------------------------- bounded extraction


class ExtractionTimeout(BaseException):
    """Raised inside the extractor by the page timer (a BaseException, so that the extractor's
    own ``except Exception`` blocks cannot swallow it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise ExtractionTimeout


def extract_bounded(
    html: str | bytes,
    url: str | None = None,
    *,
    timeout: float | None = PAGE_TIMEOUT,
    charset: str | None = None,
) -> Extracted:
    """:func:`extract`, interrupted with :class:`ExtractionTimeout` after ``timeout`` seconds.

    The timer is SIGALRM, so it works in a process's main thread on POSIX (where tinlap runs
    extraction, in-process or on worker processes); elsewhere only the page size bounds the
    time. Size limits are the caller's (see :func:`page_records`).
    """
    usable = (
        timeout is not None
        and timeout > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        return _extract(html, url, charset)
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return _extract(html, url, charset)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)


# -------------------------------------------------------------------------------- pages to records


@dataclass(slots=True)
class Page:
    """One page to extract, located for messages like a Record (``line``: record number)."""

    id: str
    html: str | bytes
    path: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)  # carried to the Record
    url: str | None = None  # the address it was fetched from, if known
    charset: str | None = None  # declared by the HTTP response, if any
    report_empty: bool = True  # False when the reader already warned of an empty field
    plain: bool = False  # already plain text (a WET conversion record): nothing to extract


@dataclass(slots=True)
class _Task:
    pages: list[Page]
    timeout: float | None


def _extract_task(task: _Task) -> list[Extracted | tuple[str, str]]:
    """Worker side: each page's Extracted, or (error kind, message)."""
    out: list[Extracted | tuple[str, str]] = []
    for page in task.pages:
        if page.plain:
            text = page.html if isinstance(page.html, str) else page.html.decode(errors="replace")
            out.append(Extracted(text.strip(), None, None))
            continue
        try:
            extracted = extract_bounded(
                page.html, page.url, timeout=task.timeout, charset=page.charset
            )
            out.append(extracted)
        except ExtractionTimeout:
            out.append(
                (
                    "extraction_timeout",
                    f"{page.id}: extraction took over {task.timeout:g} s "
                    f"({len(page.html):,}-byte page); skipped",
                )
            )
        except MissingExtraError:
            raise
        except Exception as err:
            out.append(("extraction_failed", f"{page.id}: extraction failed ({err!r}); skipped"))
    return out


def page_records(
    pages: Iterable[Page],
    problems: ProblemLog,
    *,
    map_fn: MapFn = map,
    timeout: float | None = PAGE_TIMEOUT,
) -> Iterator[Record]:
    """Extract each page into a Record, in order: ``text`` = title + main text.

    A page without text is kept as an empty document with a ``no_text`` warning; a page the
    extractor cannot finish is an error. The Record's fields get ``url`` (the page's own
    ``url`` field or address first, else its canonical URL) and ``title`` when known.
    """
    it = iter(pages)
    chunks = iter(lambda: list(islice(it, _CHUNK_PAGES)), [])
    tasks = (_Task(chunk, timeout) for chunk in chunks)
    # trafilatura is imported by the first page that needs it, in the process that extracts it
    for task, results in zip_tasks(tasks, map_fn):
        for page, result in zip(task.pages, results, strict=True):
            if isinstance(result, tuple):
                problems.error(page.path, page.line, *result)
                continue
            fields = page.fields
            url = fields.get("url") or page.url or result.url
            if url and not fields.get("url"):
                fields["url"] = url
            if result.title and "title" not in fields:
                fields["title"] = result.title
            if not result.text and page.report_empty:
                problems.warning(
                    page.path,
                    page.line,
                    "no_text",
                    f"{page.id}: no extractable text in the page; kept as an empty document",
                )
            yield Record(page.id, result.text, page.path, page.line, fields)


def zip_tasks(
    tasks: Iterator[_Task], map_fn: MapFn
) -> Iterator[tuple[_Task, list[Extracted | tuple[str, str]]]]:
    """(task, its results) in task order; tasks are remembered only while in flight."""
    pending: deque[_Task] = deque()

    def remember() -> Iterator[_Task]:
        for task in tasks:
            pending.append(task)
            yield task

    for results in map_fn(_extract_task, remember()):
        yield pending.popleft(), results


# ------------------------------------------------------------------------------------ .html files


def html_file_page(
    path: InputPath, doc_id: str, problems: ProblemLog, max_bytes: int
) -> Page | None:
    """The page of one .html / .html.gz file, or None (an error logged) when unusable."""
    name = str(path)
    try:
        with open_binary(path) as f:
            data = f.read(max_bytes + 1)
    except EOFError:
        problems.error(name, 0, "truncated", "compressed file is truncated; skipped")
        return None
    except STREAM_ERRORS as err:
        problems.error(name, 0, "unreadable", f"cannot read file: {err}; skipped")
        return None
    if len(data) > max_bytes:
        problems.error(name, 0, "too_large", _too_large("page", max_bytes))
        return None
    return Page(doc_id, data, name, 0)


def _too_large(what: str, max_bytes: int) -> str:
    return f"{what} is over the {max_bytes:,}-byte limit for HTML pages; skipped"


def html_field_pages(
    records: Iterable[Record], problems: ProblemLog, max_bytes: int
) -> Iterator[Page]:
    """Pages from records whose text is the HTML of a field (``--html-field``)."""
    for record in records:
        if len(record.text) > max_bytes:
            problems.error(
                record.path, record.line, "too_large", _too_large(f"{record.id}: page", max_bytes)
            )
            continue
        fields = record.fields if record.fields is not None else {}
        url = fields.get("url")
        yield Page(
            record.id,
            record.text,
            record.path,
            record.line,
            fields,
            url if isinstance(url, str) and url else None,
            report_empty=not record.text.isspace() and record.text != "",  # else: empty_text
        )
