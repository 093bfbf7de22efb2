"""Bytes from input files: decompression by magic bytes, bounded, and UTF-8 with repair.

The lowest level of reading, shared by every reader (``read``, ``html``, ``warc``), which is why
it sits in a module of its own: the readers import it, it imports none of them.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import zstandard

from tinlap.records import ProblemLog

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Errors a decompressing read can raise: truncation (EOFError) or corrupt data.
STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


class InputError(ValueError):
    """An input path the user gave cannot be used; the message is meant for them as is."""


class _ZstdRaw(io.RawIOBase):
    """Decompresses zstd frame by frame, raising EOFError on a truncated stream.

    zstandard's own stream_reader ends silently at a truncated frame, which would lose the
    tail of a corpus without a word. Output per call is bounded: the decompressor is fed at
    most ``_FEED`` compressed bytes at a time, and one zstd byte yields at most ~32 KiB (an RLE
    block: 4 bytes for 128 KiB), so a small file of gigabytes of spaces never becomes one
    gigantic buffer (at most ~32 MiB per step).
    """

    _READ = 1 << 16
    _FEED = 1 << 10
    _WRITE = 1 << 20  # a large output buffer is 2x faster than the 128 KiB default

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj(write_size=self._WRITE)
        self._fed = False  # the current frame has received input
        self._out = memoryview(b"")
        self._pending = memoryview(b"")  # compressed input not yet fed

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
        if not self._pending:
            data = self._fh.read(self._READ)
            if not data:
                if self._fed and not self._dobj.eof:
                    raise EOFError("zstd stream ends before the end of its frame")
                return False
            self._pending = memoryview(data)
        if self._dobj.eof:  # a new frame follows
            self._dobj = self._dctx.decompressobj(write_size=self._WRITE)
        feed, self._pending = self._pending[: self._FEED], self._pending[self._FEED :]
        out = self._dobj.decompress(feed)
        self._fed = True
        if self._dobj.eof and self._dobj.unused_data:  # the next frame began inside this feed
            self._pending = memoryview(bytes(self._dobj.unused_data) + bytes(self._pending))
        self._out = memoryview(out)
        return True

    def close(self) -> None:
        self._fh.close()
        super().close()


class _OwnedGzip(gzip.GzipFile):
    """A gzip reader that closes the file it was given (GzipFile leaves a given file open)."""

    def close(self) -> None:
        fileobj = self.fileobj
        try:
            super().close()
        finally:
            if fileobj is not None:
                fileobj.close()


def open_binary(path: InputPath) -> BinaryIO:
    """Open for reading, decompressing gzip or zstd by magic bytes (not trusting the name).

    ``path`` is a local ``Path`` or a remote ``UPath`` (an fsspec file: buffered, seekable)."""
    raw = path.open("rb", buffering=1 << 16) if isinstance(path, Path) else path.open("rb")
    try:
        magic = raw.read(4)
        raw.seek(0)
    except BaseException:
        raw.close()
        raise
    if magic.startswith(_GZIP_MAGIC):
        return _OwnedGzip(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if magic == _ZSTD_MAGIC:
        return io.BufferedReader(_ZstdRaw(raw), 1 << 20)  # type: ignore[return-value]
    if isinstance(path, Path):
        return raw  # type: ignore[no-any-return]
    return io.BufferedReader(raw, 1 << 20)  # fsspec files have no readline(limit)


def decode(data: bytes, path: str, line: int, problems: ProblemLog, what: str) -> str:
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
