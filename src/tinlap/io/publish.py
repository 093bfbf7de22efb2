"""Where a run's outputs go: ``committed`` stages them and switches them in, into a local folder
(``write.OutputFolder``) or, for an ``--output`` URL, into an object store (``RemoteOutput``).

A remote output keeps the local folder's rules as far as an object store allows:

* The run writes into a local stand-in folder (under the system's temporary folder, so it needs
  room for the outputs), committed there as a local output is; only then is anything sent.
* The files are uploaded under ``OUT/.tinlap-staging-<pid>-<random>/`` first (each PUT is
  atomic: an object is whole or absent), then a journal ``OUT/.tinlap-commit.json`` naming them
  is written, each is moved to its place (a server-side copy and delete), the previous run's
  other files (those in its manifest) are deleted, and the manifest is written last. A crash
  during the switch leaves the journal, and the next run into the same URL finishes it first.
* Objects tinlap did not write (not in the manifest) are never deleted; a prefix holding any is
  refused unless ``overwrite`` (which replaces only tinlap's own output names among them).

Limits: an object store has no rename and no multi-object transaction, so a reader listing
``OUT/`` during the switch (seconds) can see some new files beside some old ones; an upload
killed before its journal leaves a ``.tinlap-staging-*`` prefix that nothing reads and that
can be deleted. The kept corpus must be files (jsonl or parquet): a txt folder of one object
per document is refused.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinlap import __version__
from tinlap.io.remote import REMOTE_OUTPUT, filesystem, is_url
from tinlap.io.storage import StorageError
from tinlap.io.write import (
    JOURNAL,
    MANIFEST,
    STAGING,
    OutputFolder,
    is_output_name,
    is_scratch,
    manifest_files,
    not_ours,
    parse_manifest,
)


def committed(run: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``run(inputs, out_dir, ...)`` with ``out_dir`` a staging folder, committed into the
    real one on success; ``out_dir`` may be a URL (``RemoteOutput``). Takes ``overwrite=``
    besides run's arguments."""

    @functools.wraps(run)
    def wrapper(
        inputs: list[str], out_dir: Path | str, *args: Any, overwrite: bool = False, **kw: Any
    ) -> Any:
        folder: RemoteOutput | OutputFolder
        if isinstance(out_dir, str) and is_url(out_dir):
            folder = RemoteOutput(out_dir, overwrite)
        else:
            folder = OutputFolder(Path(out_dir), overwrite)
        with folder as staging:
            return run(inputs, staging, *args, **kw)

    return wrapper


class RemoteOutput:
    """An ``--output`` URL: checked (and an interrupted commit finished) when made, written
    through a local stand-in folder, published on a clean exit (see the module's docstring)."""

    def __init__(self, url: str, overwrite: bool = False) -> None:
        try:
            self.fs, base = filesystem(url)
        except (ImportError, ValueError) as err:
            raise StorageError(f"cannot write to {url}: {err}") from err
        self.url = url
        self.base = base.rstrip("/")
        self._check_bucket()
        self._recover()
        self.previous = set(self._manifest())
        foreign = sorted(self._foreign())
        if foreign and not overwrite:
            raise not_ours(url, foreign)
        self.previous |= {name for name in foreign if is_output_name(name)}
        self.local: Path | None = None
        self.inner: OutputFolder | None = None

    def _path(self, name: str) -> str:
        return f"{self.base}/{name}"

    def _check_bucket(self) -> None:
        """An object store's bucket (the URL's first part) must exist: tinlap never makes one."""
        bucket = self.base.lstrip("/").split("/", 1)[0]
        try:
            found = self.fs.exists(self.fs.root_marker + bucket)
        except OSError as err:
            raise StorageError(f"cannot reach {self.url}: {err}") from err
        if not found:
            raise StorageError(f"{self.url}: no bucket {bucket!r} (tinlap does not create one)")

    def _names(self) -> list[str]:
        if not self.fs.isdir(self.base):
            return []
        names = (posixpath.basename(p.rstrip("/")) for p in self.fs.ls(self.base, detail=False))
        return sorted(n for n in names if n and n != posixpath.basename(self.base))

    def _manifest(self) -> list[str]:
        try:
            return parse_manifest(self.fs.cat_file(self._path(MANIFEST)))
        except FileNotFoundError:
            return []

    def _foreign(self) -> list[str]:
        ours = {*self.previous, MANIFEST, JOURNAL}
        return [n for n in self._names() if n not in ours and not is_scratch(n)]

    def __enter__(self) -> Path:
        self.local = Path(tempfile.mkdtemp(prefix="tinlap-output-"))
        (self.local / REMOTE_OUTPUT).write_text(self.url, encoding="utf-8")
        self.inner = OutputFolder(self.local)
        return self.inner.__enter__()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        assert self.inner is not None and self.local is not None
        try:
            if exc_type is None:
                self.inner.commit()
                self.publish(self.local)
            else:
                self.inner.abort()
        finally:
            shutil.rmtree(self.local, ignore_errors=True)

    def publish(self, folder: Path) -> None:
        """Upload the committed files of ``folder``, then switch them in (journal first)."""
        files = manifest_files(folder)
        staging = f"{STAGING}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            for name in files:
                source = folder / name
                if source.is_dir():
                    raise StorageError(
                        f"{name}/ is a folder: an object store output takes files only "
                        "(use --output-format jsonl or parquet)"
                    )
                self.fs.put_file(str(source), self._path(f"{staging}/{name}"))
            journal = {
                "staging": staging,
                "files": files,
                "remove": sorted(self.previous.difference(files)),
            }
            self.fs.pipe_file(self._path(JOURNAL), json.dumps(journal).encode())
            self._switch(journal)
        except OSError as err:
            raise StorageError(
                f"cannot publish the output to {self.url}: {err} (a journal left there is "
                "finished by the next run into it)"
            ) from err

    def _recover(self) -> None:
        """Finish a switch that a crash interrupted (idempotent)."""
        try:
            journal = json.loads(self.fs.cat_file(self._path(JOURNAL)))
        except FileNotFoundError:
            return
        self._switch(journal)

    def _switch(self, journal: dict[str, Any]) -> None:
        staging = self._path(journal["staging"])
        for name in journal["files"]:
            source = f"{staging}/{name}"
            if self.fs.exists(source):  # else moved before a crash
                self.fs.mv(source, self._path(name))
        for name in journal["remove"]:
            if self.fs.exists(self._path(name)):
                self.fs.rm(self._path(name), recursive=True)
        manifest = {"tinlap_version": __version__, "files": journal["files"]}
        self.fs.pipe_file(self._path(MANIFEST), json.dumps(manifest, indent=2).encode())
        self.fs.rm_file(self._path(JOURNAL))
        if self.fs.exists(staging):
            self.fs.rm(staging, recursive=True)
        self.fs.invalidate_cache(self.base)
