"""Files named by URL (``s3://``, ``gs://``, ``hf://``, any fsspec protocol), read as paths.

A remote input is a ``upath.UPath``: the same ``name``, ``open``, ``stat`` and ``relative_to``
as a local ``pathlib.Path``, so every reader streams it unchanged. The protocols' packages
(s3fs, gcsfs, huggingface_hub) are optional extras, imported by fsspec only when such a URL
is used; a missing one is an error naming the extra to install.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from tinlap.io.streams import InputError

if TYPE_CHECKING:
    from upath import UPath

    InputPath: TypeAlias = Path | UPath  # a local file, or a remote one named by URL

# Protocol -> the tinlap extra that installs its fsspec implementation.
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "hf": "hf"}
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def protocol(text: str) -> str | None:
    """The URL scheme of ``text`` ("s3"), or None for a local path (``file://`` included)."""
    found = _URL.match(text)
    if found is None or found.group(1).lower() in ("file", "local"):
        return None
    return found.group(1).lower()


def is_url(text: str | Path) -> bool:
    return isinstance(text, str) and protocol(text) is not None


def local_path(text: str) -> str:
    """``file:///data/x`` as ``/data/x``; anything else as it is."""
    return re.sub(r"^(file|local)://", "", text, flags=re.IGNORECASE)


def extra_hint(url: str) -> str:
    """How to install what ``url``'s protocol needs (empty when tinlap has no extra for it)."""
    extra = EXTRAS.get(protocol(url) or "")
    return f" (pip install 'tinlap[{extra}]')" if extra else ""


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and path of ``url``; a missing protocol package raises ImportError
    naming the extra that installs it."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as err:
        raise ImportError(f"{err}{extra_hint(url)}") from err


def remote_path(url: str) -> UPath:
    """``url`` as a path object; an unknown protocol or a missing extra is an InputError."""
    from upath import UPath

    try:
        filesystem(url)  # the clear error for a missing extra, before UPath's own
        return UPath(url)
    except (ImportError, ValueError) as err:
        raise InputError(f"cannot read {url}: {err}") from None


def file_identity(path: InputPath) -> tuple[str, int, Any]:
    """What tells one version of an input file from another: its resolved name, size and
    modification time (an object store's ETag or version when it has no mtime)."""
    if isinstance(path, Path):
        info = path.stat()
        return str(path.resolve()), info.st_size, info.st_mtime_ns
    details = path.fs.info(path.path)
    version = next(
        (
            str(details[key])
            for key in ("ETag", "etag", "VersionId", "generation", "mtime", "LastModified")
            if details.get(key)
        ),
        None,
    )
    return str(path), int(details.get("size") or 0), version


# A remote --output runs into a local stand-in folder holding this file (its content: the URL),
# so that the engines, which write local files, know where their output will go.
REMOTE_OUTPUT = ".tinlap-remote-output"


def output_url(folder: Path) -> str | None:
    """The URL a local stand-in folder will be published to (None for a real output folder)."""
    try:
        return (folder / REMOTE_OUTPUT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def input_name(path: InputPath) -> str:
    """How summary.json names an input file: an absolute path, or its URL."""
    return str(path.resolve()) if isinstance(path, Path) else str(path)
