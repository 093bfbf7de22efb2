"""tinlap from Python: the same runs as the command line, on data in memory or on files.

```python
import pandas as pd
import tinlap

result = tinlap.dedup(pd.read_parquet("articles.parquet"), text_field="content")
result.kept        # the DataFrame without its copies, every other column kept
result.clusters    # pyarrow.Table: clusters.parquet's columns
result.summary     # dict: summary.json
```

Settings take the names of the CLI options and of :class:`tinlap.config.DedupConfig`
(``jaccard=0.5`` or ``jaccard_threshold=0.5``, ``keep="first"``, ``no_learn=True``...), with the
same defaults; ``config="out/summary.json"`` (or a TOML file) starts from an earlier run's
settings. Data in memory is matched in memory: nothing is written to disk unless the text is
too large for the memory budget (``memory_limit``, as ``--memory-limit``), in which case the
sharded engine runs on a temporary copy. The decisions are the CLI's on the same data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tinlap.config import DedupConfig
from tinlap.records import ProblemLog, Record
from tinlap.settings import load_file, make_config, parse_size

if TYPE_CHECKING:
    from tinlap.io.remote import InputPath

T = TypeVar("T")

PathLike = str | os.PathLike[str]

__all__ = ["CleanResult", "DedupResult", "Index", "clean", "dedup", "explain"]


@dataclass(slots=True)
class DedupResult(Generic[T]):
    """What a dedup returns.

    Attributes:
        kept: The documents without their copies, in the input's type: a list of dicts (or of
            strings), a ``pyarrow.Table``, a pandas or polars DataFrame or a
            ``datasets.Dataset``, every other column kept, the text column holding the cleaned
            text (the original with ``keep_original_text=True``). For paths, a
            ``pyarrow.Table`` of the kept corpus. Rows that are no document (a null text) are
            left out and reported in ``summary["input_problems"]``, as the CLI does.
        clusters: ``clusters.parquet``'s table: ``id``, ``cluster_id``, ``kept``,
            ``duplicate_of``, ``jaccard``, ``containment``, ``reason``.
        summary: ``summary.json``'s contents (counts, problems, the whole configuration).
        output: The output folder (or URL) when the run wrote one (paths with ``output=``),
            else None.
    """

    kept: T
    clusters: pa.Table
    summary: dict[str, Any]
    output: Path | str | None = None

    @property
    def removed_ids(self) -> list[str]:
        """Ids of the removed documents."""
        removed = self.clusters.filter(pc.invert(self.clusters.column("kept")))
        return [str(i) for i in removed.column("id").to_pylist()]


@dataclass(slots=True)
class CleanResult(Generic[T]):
    """What a clean returns.

    Attributes:
        cleaned: Every document, cleaned, in the input's type (as ``DedupResult.kept``).
        removed_lines: ``removed_lines.parquet``'s table: ``id``, ``line`` (1-based), ``text``,
            ``rule`` of every line cleaning removed.
        summary: ``summary.json``'s contents.
        output: The output folder when the run wrote one, else None.
    """

    cleaned: T
    removed_lines: pa.Table
    summary: dict[str, Any]
    output: Path | str | None = None


def _settings(config: PathLike | Mapping[str, Any] | None, settings: dict[str, Any]) -> Any:
    base: dict[str, Any] = {}
    if isinstance(config, Mapping):
        base = dict(config)
    elif config is not None:
        base = load_file(config)
    return make_config({**base, **settings})


# ---------------------------------------------------------------------------------------- dedup


@overload
def dedup(
    data: PathLike | Sequence[os.PathLike[str]],
    *,
    text_field: str = ...,
    id_field: str = ...,
    config: PathLike | Mapping[str, Any] | None = ...,
    **settings: Any,
) -> DedupResult[pa.Table]: ...
@overload
def dedup(
    data: Iterable[Mapping[str, Any]],
    *,
    text_field: str = ...,
    id_field: str = ...,
    config: PathLike | Mapping[str, Any] | None = ...,
    **settings: Any,
) -> DedupResult[list[dict[str, Any]]]: ...
@overload
def dedup(
    data: T,
    *,
    text_field: str = ...,
    id_field: str = ...,
    config: PathLike | Mapping[str, Any] | None = ...,
    **settings: Any,
) -> DedupResult[T]: ...
def dedup(
    data: Any,
    *,
    text_field: str = "text",
    id_field: str = "id",
    config: PathLike | Mapping[str, Any] | None = None,
    **settings: Any,
) -> DedupResult[Any]:
    """Remove exact, near-duplicate and contained copies, as ``tinlap dedup`` does.

    Args:
        data: The documents: an iterable of dicts (or of strings: ids are their positions), a
            ``pyarrow.Table``, a pandas or polars DataFrame, a ``datasets.Dataset``; or files,
            as the CLI's INPUT: a path or glob (``str`` or ``Path``) or a list of ``Path``.
        text_field: The field or column holding the text.
        id_field: The field or column holding the document id (missing: the row number).
        config: Settings to start from: a TOML file, a ``summary.json`` of an earlier run
            (its settings exactly) or a mapping; ``settings`` override it.
        **settings: Any ``tinlap dedup`` option by its name (``jaccard``, ``containment``,
            ``keep``, ``no_clean``, ``no_learn``, ``keep_original_text``, ``workers``,
            ``memory_limit``, ``engine``, ``strict``...) or a ``DedupConfig`` field; the same
            defaults, except ``workers`` (1). For paths, ``output`` is a folder for the CLI's
            outputs (default: a temporary folder, removed afterwards).

    Returns:
        The kept documents in the input's type, the clusters table and the summary.

    Raises:
        TypeError: ``data`` is of no type listed above.
        ValueError: A setting is unknown or out of range, or the text column is missing.
    """
    settings = {"text_field": text_field, "id_field": id_field, **settings}
    cfg, run = _settings(config, settings)
    problems = ProblemLog(strict=run["strict"])
    from tinlap.io.memory import is_paths

    if is_paths(data):
        return _dedup_paths(data, cfg, run, problems)
    if run["output"] is not None or run["against"] is not None:
        raise ValueError("output= and against= are for files; data in memory gives values")
    from tinlap.engines.inmemory import dedup_records
    from tinlap.io.memory import memory_input, rows_with_texts, to_records

    source = memory_input(data)
    records, positions = to_records(source, cfg, problems)
    if _engine(run, cfg, records) == "sharded":
        removed, texts, clusters, summary = _dedup_spilled(records, cfg, run, problems)
    else:
        out = dedup_records(records, cfg, problems=problems, quiet=run["quiet"], kind=source.kind)
        removed, texts = out.removed.tolist(), out.texts
        clusters, summary = out.clusters, out.summary
    keep = [i for i, gone in enumerate(removed) if not gone]
    kept = rows_with_texts(
        source, [positions[i] for i in keep], [texts[i] for i in keep], cfg.text_field
    )
    return DedupResult(kept, clusters, summary)


def _engine(run: dict[str, Any], cfg: DedupConfig, records: list[Record]) -> str:
    """``engine="auto"``: in memory unless the text is too large for the memory budget."""
    if run["engine"] != "auto":
        if run["engine"] not in ("in-memory", "sharded"):
            raise ValueError(f"engine must be auto, in-memory or sharded, not {run['engine']!r}")
        return str(run["engine"])
    from tinlap.engines.plan import IN_MEMORY_SHARE
    from tinlap.engines.sharded import default_memory_limit
    from tinlap.io.memory import text_size

    limit = parse_size(run["memory_limit"]) or default_memory_limit(cfg.workers)
    return "sharded" if text_size(records) * IN_MEMORY_SHARE > limit else "in-memory"


def _sharded_options(run: dict[str, Any]) -> Any:
    from tinlap.engines.sharded import ShardedOptions

    return ShardedOptions(
        work=run["work"],
        executor=run["executor"],
        ray_address=run["ray_address"],
        memory_limit=parse_size(run["memory_limit"]),
        skip_bad_shards=run["skip_bad_shards"],
        restart=run["restart"],
        keep_work=run["keep_work"],
        components=run["components"],
    )


def _dedup_spilled(
    records: list[Record], cfg: DedupConfig, run: dict[str, Any], problems: ProblemLog
) -> tuple[list[bool], list[str], pa.Table, dict[str, Any]]:
    """Too large for memory: the sharded engine on a temporary Parquet copy of the records."""
    from dataclasses import replace

    from tinlap.engines.sharded import run_sharded
    from tinlap.io.memory import kept_table

    with tempfile.TemporaryDirectory(prefix="tinlap-api-") as folder:
        path, out = Path(folder, "input.parquet"), Path(folder, "out")
        _spill(records, cfg, path)
        spill_cfg = replace(cfg, input_format="parquet", output_format="parquet")
        options = _sharded_options(run)
        summary = run_sharded(
            [str(path)], out, spill_cfg, options, quiet=run["quiet"], problems=problems
        )
        clusters = pq.read_table(out / "clusters.parquet")
        kept = kept_table(out, "parquet", summary["kept_files"]).select(
            [cfg.id_field, cfg.text_field]
        )
    summary["config"] = cfg.to_dict()
    summary["inputs"] = []
    by_id = dict(zip(kept.column(0).to_pylist(), kept.column(1).to_pylist(), strict=True))
    ids = [r.id for r in records]
    removed = [i not in by_id for i in ids]
    texts = [by_id.get(i, "") for i in ids]
    return removed, texts, clusters, summary


def _spill(records: list[Record], cfg: DedupConfig, path: Path) -> None:
    names = [n for n in dict.fromkeys((cfg.source_field, "url", "source")) if n]
    names = [n for n in names if n not in (cfg.id_field, cfg.text_field)]
    with pq.ParquetWriter(path, _spill_schema(cfg, names), compression="zstd") as writer:
        for start in range(0, len(records), 10_000):
            chunk = records[start : start + 10_000]
            columns = {
                cfg.id_field: [r.id for r in chunk],
                cfg.text_field: [r.text for r in chunk],
            }
            for name in names:
                columns[name] = [_as_text((r.fields or {}).get(name)) for r in chunk]
            writer.write_table(pa.table(columns, schema=_spill_schema(cfg, names)))


def _spill_schema(cfg: DedupConfig, names: list[str]) -> pa.Schema:
    return pa.schema([(n, pa.string()) for n in (cfg.id_field, cfg.text_field, *names)])


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _output(output: str | os.PathLike[str] | None, scratch: str) -> Path | str:
    """Where a run on files writes: ``output=`` (a folder, or an object store URL kept as
    it is), else a folder in ``scratch``."""
    from tinlap.io.remote import is_url

    if output is None:
        return Path(scratch, "out")
    return output if isinstance(output, str) and is_url(output) else Path(output)


def _readable(out: Path | str) -> InputPath:
    """The output folder to read the results back from (remote for a URL)."""
    from tinlap.io.remote import remote_path

    return remote_path(out) if isinstance(out, str) else out


def _dedup_paths(
    data: Any, cfg: DedupConfig, run: dict[str, Any], problems: ProblemLog
) -> DedupResult[pa.Table]:
    """Files: exactly ``tinlap dedup INPUT... --output OUT``."""
    from tinlap.engines.inmemory import run_dedup
    from tinlap.engines.plan import plan
    from tinlap.engines.sharded import default_memory_limit, run_sharded
    from tinlap.io.memory import kept_table
    from tinlap.io.read import discover
    from tinlap.io.streams import open_binary

    inputs = [str(data)] if isinstance(data, str | os.PathLike) else [str(p) for p in data]
    engine = run["engine"]
    if engine == "auto":
        limit = parse_size(run["memory_limit"]) or default_memory_limit(cfg.workers)
        engine = plan(discover(inputs, cfg.input_format), limit, cfg.workers, True).engine
    against = None if run["against"] is None else Path(run["against"])
    with tempfile.TemporaryDirectory(prefix="tinlap-api-") as folder:
        out = _output(run["output"], folder)
        if engine == "in-memory":
            summary = run_dedup(
                inputs, out, cfg, quiet=run["quiet"], problems=problems, against=against
            )
        else:
            summary = run_sharded(
                inputs, out, cfg, _sharded_options(run), quiet=run["quiet"], problems=problems
            )
        where = _readable(out)
        with open_binary(where / "clusters.parquet") as f:
            clusters = pq.read_table(f)
        kept = kept_table(where, summary["output_format"], summary["kept_files"])
    return DedupResult(kept, clusters, summary, None if run["output"] is None else out)


# ---------------------------------------------------------------------------------------- clean


def clean(
    data: Any,
    *,
    text_field: str = "text",
    id_field: str = "id",
    config: PathLike | Mapping[str, Any] | None = None,
    **settings: Any,
) -> CleanResult[Any]:
    """Remove boilerplate lines from every document (no dedup), as ``tinlap clean`` does.

    Args:
        data: The documents, as for :func:`dedup`.
        text_field: The field or column holding the text.
        id_field: The field or column holding the document id.
        config: Settings to start from (a TOML file, a ``summary.json``, or a mapping).
        **settings: ``tinlap clean``'s options (``no_learn``, ``source_field``,
            ``boilerplate_min_docs``, ``boilerplate_fraction``, ``keep_original_text``,
            ``workers``...). For paths, ``output`` is a folder for the CLI's outputs.

    Returns:
        Every document cleaned, in the input's type, with the removed lines and the summary.
    """
    settings = {"text_field": text_field, "id_field": id_field, **settings}
    cfg, run = _settings(config, settings)
    problems = ProblemLog(strict=run["strict"])
    from tinlap.io.memory import is_paths

    if is_paths(data):
        from tinlap.engines.inmemory import run_clean
        from tinlap.io.memory import kept_table
        from tinlap.io.streams import open_binary

        inputs = [str(data)] if isinstance(data, str | os.PathLike) else [str(p) for p in data]
        with tempfile.TemporaryDirectory(prefix="tinlap-api-") as folder:
            out = _output(run["output"], folder)
            summary = run_clean(inputs, out, cfg, quiet=run["quiet"], problems=problems)
            where = _readable(out)
            cleaned = kept_table(where, summary["output_format"], summary["kept_files"])
            with open_binary(where / "removed_lines.parquet") as f:
                lines = pq.read_table(f)
        return CleanResult(cleaned, lines, summary, None if run["output"] is None else out)
    from tinlap.engines.inmemory import clean_memory
    from tinlap.io.memory import memory_input, rows_with_texts, to_records

    source = memory_input(data)
    records, positions = to_records(source, cfg, problems)
    out = clean_memory(records, cfg, problems=problems, quiet=run["quiet"], kind=source.kind)
    cleaned = rows_with_texts(source, positions, out.texts, cfg.text_field)
    return CleanResult(cleaned, out.removed_lines, out.summary)


# -------------------------------------------------------------------------------------- explain


def explain(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    *,
    output_dir: PathLike | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Why ``a`` and ``b`` are, or are not, copies, as ``tinlap explain --json`` says it.

    Args:
        a: A text (``str``) or a text file (``Path``); with ``output_dir``, a document id.
        b: The same for the other document.
        output_dir: A dedup output folder: ``a`` and ``b`` are ids of its documents, judged
            with its settings (scores then equal those in its ``clusters.parquet``).
        **settings: Settings to judge with instead (``jaccard``, ``containment``, ``keep``,
            ``shingle_size``...).

    Returns:
        The object of schema ``tinlap.apps.explain/1`` (see the README): ``scores``,
        ``decision`` (``removed``, ``duplicate_of``, ``reason``, ``why``), both texts with their
        shared and one-sided passages and the lines cleaning removed.
    """
    from dataclasses import replace

    from tinlap.apps.explain import explain as explain_pair
    from tinlap.apps.explain import to_json
    from tinlap.apps.retrieve import DedupOutput, from_file
    from tinlap.settings import normalise

    fields, _ = normalise(settings)
    recorded = None
    if output_dir is None:
        docs = [
            from_file(Path(x)) if isinstance(x, os.PathLike) else _document(name, x)
            for name, x in (("a", a), ("b", b))
        ]
        cfg = DedupConfig(**fields)
    else:
        output = DedupOutput.load(Path(output_dir))
        wanted = [str(a), str(b)]
        found = {d.id: d for d in output.find(wanted, workers=1, quiet=True, problems=ProblemLog())}
        missing = [name for name in dict.fromkeys(wanted) if name not in found]
        if missing:
            raise KeyError(f"not found in the inputs of {output_dir}: {', '.join(missing)}")
        docs = [found[str(a)], found[str(b)]]
        cfg = replace(output.config, **fields)
        rows = output.rows(wanted)
        recorded = {"a": rows.get(str(a)), "b": rows.get(str(b))}
    result: dict[str, Any] = to_json(explain_pair(docs[0], docs[1], cfg, recorded))
    return result


def _document(name: str, text: str) -> Any:
    """A text as one document, cleaned with the built-in rules (as a text file is)."""
    from tinlap.apps.retrieve import Document
    from tinlap.core.clean import Cleaner
    from tinlap.core.normalise import repair_text

    text = repair_text(text.removeprefix("\ufeff"))
    result = Cleaner().clean(text)
    return Document(name, text, result.text, result.removed, f"<{name}>")


# ---------------------------------------------------------------------------------------- index


@dataclass
class Index:
    """An incremental index of documents (``tinlap index``): check new documents against
    everything indexed so far, add them, read its statistics.

    ```python
    with tinlap.Index.create("idx/", jaccard=0.5) as index:
        index.add(df)                       # verdicts, one per document
    with tinlap.Index.open("idx/") as index:
        index.check(["a new article..."])   # read-only: which indexed documents it copies
    ```
    """

    path: Path
    _store: Any = field(repr=False)

    @classmethod
    def create(cls, path: PathLike, **settings: Any) -> Index:
        """A new, empty index in ``path`` (a new or empty folder), its matching settings
        frozen: ``shingle_size``, ``shingles``, ``char_shingle_size``, ``num_perm``, ``bands``,
        ``rows``, ``max_bucket``, ``jaccard``, ``containment``, ``certain_containment``,
        ``sentence_coverage``, ``no_clean`` (CLI or DedupConfig names; the same defaults)."""
        from tinlap.index.store import Index as Store
        from tinlap.index.store import IndexSettings
        from tinlap.settings import normalise

        fields, run = normalise(settings)
        if run:
            raise ValueError(f"not index settings: {', '.join(run)}")
        known = set(IndexSettings.__dataclass_fields__)
        other = sorted(set(fields) - known)
        if other:
            raise ValueError(f"not index settings: {', '.join(other)}")
        store = Store.create(Path(path), IndexSettings(**fields))
        return cls(Path(path), store)

    @classmethod
    def open(cls, path: PathLike) -> Index:
        """An existing index."""
        from tinlap.index.store import Index as Store

        return cls(Path(path), Store(Path(path)))

    @property
    def settings(self) -> dict[str, Any]:
        """The matching settings frozen at create."""
        result: dict[str, Any] = self._store.settings.to_dict()
        return result

    def add(
        self, data: Any, *, text_field: str = "text", id_field: str = "id", only_new: bool = False
    ) -> list[dict[str, Any]]:
        """Add documents (any in-memory input :func:`dedup` takes) in one transaction.

        Each is checked against the index and the earlier documents of this add; with
        ``only_new`` duplicates are reported, not added. Returns one verdict per document:
        ``id``, ``added``, ``duplicate_of`` and the matches with their scores.
        """
        records = self._records(data, text_field, id_field)
        return [v.to_dict() for v in self._store.add_records(records, only_new=only_new)]

    def check(
        self, data: Any, *, text_field: str = "text", id_field: str = "id"
    ) -> list[dict[str, Any]]:
        """Which indexed documents each document copies (read-only; documents are not
        compared with each other). One verdict per document, as :meth:`add` gives."""
        records = self._records(data, text_field, id_field)
        from tinlap.index.store import sketch_texts

        sketches = sketch_texts([r.text for r in records], self._store.settings)
        verdicts = self._store.check_sketches(sketches, [r.id for r in records])
        return [v.to_dict() for v in verdicts]

    def stats(self) -> dict[str, Any]:
        """Documents, duplicates, adds, size on disk and settings (``tinlap index stats``)."""
        result: dict[str, Any] = self._store.stats()
        return result

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """The stored facts and text of one document, or None."""
        result: dict[str, Any] | None = self._store.document(doc_id)
        return result

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _records(self, data: Any, text_field: str, id_field: str) -> list[Record]:
        from tinlap.io.memory import memory_input, to_records

        if isinstance(data, str):
            data = [data]
        cfg = DedupConfig(text_field=text_field, id_field=id_field)
        problems = ProblemLog(strict=True)
        records, _ = to_records(memory_input(data), cfg, problems)
        return records
