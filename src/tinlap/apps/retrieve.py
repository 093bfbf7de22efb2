"""Documents again, cleaned exactly as dedup cleaned them: from files, or from a dedup output.

``clusters.parquet`` holds ids and scores, not texts, so it stays small and dedup stays fast
(aligning the 4,867 removed pairs of VNTC takes 6-9 s of CPU, against 30 s for the whole
``dedup -j 1`` run). ``explain``
and ``report`` find the texts again: they re-read the input files listed in ``summary.json``
with the configuration stored there. When that run learned boilerplate lines, the learning pass
runs again first; it is deterministic (same inputs, same model), so the cleaned texts and the
removed lines are the ones dedup matched on. When it learned nothing (the summary says so, as
for VNTC), the pass is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tinlap.config import DedupConfig
from tinlap.core.batch import clean_records
from tinlap.core.chrome import ChromeModel
from tinlap.core.clean import Cleaner, Removal
from tinlap.core.normalise import repair_text
from tinlap.engines.executors import LocalExecutor
from tinlap.engines.inmemory import learn_boilerplate, read_records
from tinlap.io.read import InputError, Source, discover
from tinlap.records import ProblemLog, Record
from tinlap.settings import recorded_config


@dataclass(frozen=True, slots=True)
class Document:
    """A document as dedup saw it.

    ``text`` is the repaired input text (``Removal.line`` indexes ``text.split("\\n")``),
    ``cleaned`` the text that was matched (equal to ``text`` when cleaning was off).
    """

    id: str
    text: str
    cleaned: str
    removed: tuple[Removal, ...]
    where: str  # the file (and line) it came from, for people


def from_file(path: Path) -> Document:
    """A text file as one document, cleaned with the built-in rules (learning needs a corpus)."""
    text = repair_text(path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff"))
    result = Cleaner().clean(text)
    return Document(path.name, text, result.text, result.removed, str(path))


class OutputError(ValueError):
    """A dedup output folder that cannot be used; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class DedupOutput:
    """A ``tinlap dedup`` output folder: its summary, its settings and the way back to texts."""

    path: Path
    summary: dict[str, Any]
    config: DedupConfig

    @classmethod
    def load(cls, path: Path) -> DedupOutput:
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise OutputError(f"{path}: not a tinlap dedup output ({err})") from None
        if not (path / "clusters.parquet").is_file() or "config" not in summary:
            raise OutputError(f"{path}: not a tinlap dedup output (no clusters.parquet)")
        known = {f.name for f in fields(DedupConfig)}
        recorded = recorded_config(summary["config"])
        config = DedupConfig(**{k: v for k, v in recorded.items() if k in known})
        return cls(path, summary, config)

    @property
    def clusters(self) -> Path:
        return self.path / "clusters.parquet"

    def rows(self, ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The clusters.parquet rows of ``ids`` (an id in no cluster has none)."""
        table = pq.read_table(self.clusters, filters=[("id", "in", list(ids))])
        return {row["id"]: row for row in table.to_pylist()}

    def find(
        self,
        ids: Collection[str],
        *,
        workers: int = 1,
        quiet: bool = True,
        problems: ProblemLog | None = None,
    ) -> Iterator[Document]:
        """Re-read the inputs and yield the documents of ``ids`` (in input order) as cleaned.

        Missing input files are reported to ``problems`` and skipped; ids not found are
        simply not yielded. Stops reading as soon as every id was found.
        """
        wanted = set(ids)
        problems = problems if problems is not None else ProblemLog(keep=0)
        sources: list[Source] = []
        for name in self.summary.get("inputs", []):
            try:
                sources += discover([name], self.config.input_format)
            except InputError as err:
                problems.error(name, 0, "missing_input", str(err))
        if not wanted or not sources:
            return
        rooted = {str(s.path) for s in sources if s.root is not None}
        model = self._relearn(sources, workers, quiet)
        config = self.config
        for record in read_records(sources, ProblemLog(keep=0), config, workers):
            doc_id = _rooted_id(record, wanted) if record.path in rooted else record.id
            if doc_id not in wanted:
                continue
            texts, results = clean_records([record], config, model)
            result = results[0]
            where = f"{record.path}:{record.line}" if record.line else record.path
            yield Document(
                doc_id,
                repair_text(record.text),
                texts[0],
                result.removed if result else (),
                where,
            )
            wanted.discard(doc_id)
            if not wanted:
                return

    def _relearn(self, sources: list[Source], workers: int, quiet: bool) -> ChromeModel | None:
        learned = self.summary.get("cleaning", {}).get("learned_boilerplate")
        if learned is not None and not learned.get("chrome_lines"):
            return None  # the run learned nothing: no need to read everything twice
        return learn_boilerplate(sources, self.config, LocalExecutor(workers), quiet)


def _rooted_id(record: Record, wanted: set[str]) -> str | None:
    """The id a .txt file had in the dedup run: its path inside the folder that was given.

    summary.json lists files, not the folders the user named, so the re-read id is just the
    file name; the longest tail of the path that is a wanted id is the one.
    """
    parts = Path(record.path).parts
    for k in range(len(parts), 0, -1):
        candidate = "/".join(parts[-k:])
        if candidate in wanted:
            return candidate
    return None
