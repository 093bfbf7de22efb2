"""The dedup run: read → clean → normalise → sketch → candidates → verify → cluster → write.

Stage functions are pure; ``sketch_batch`` is the only per-document stage and runs on workers
through an executor. Everything after it works on whole-corpus numpy arrays in this process.
"""

from __future__ import annotations

import os
import tempfile
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tinlap import __version__
from tinlap.config import DedupConfig
from tinlap.core.batch import SketchedBatch, clean_records, sketch_records
from tinlap.core.chrome import ChromeLearner, ChromeModel, DocLines, doc_lines, source_of
from tinlap.core.clean import CleanResult
from tinlap.core.match import Corpus, MatchResult, match
from tinlap.core.normalise import repair_text
from tinlap.engines.executors import Executor, LocalExecutor
from tinlap.engines.progress import log_run, progress
from tinlap.engines.stages.learn import load_model, save_model
from tinlap.io.publish import committed
from tinlap.io.read import Source, read_all, reader_options, run_sources
from tinlap.io.remote import input_name, output_url
from tinlap.io.schema import REMOVED_LINES_SCHEMA, cluster_table, run_summary
from tinlap.io.storage import Storage
from tinlap.io.write import (
    KeptCorpus,
    kept_layout,
    output_root,
    remove_stale,
    write_json_atomic,
    write_table_atomic,
)
from tinlap.records import ProblemLog, Record

# ------------------------------------------------------------------------------ per-batch stage


# The learned boilerplate model as a task carries it: the object itself when tasks run in this
# process, else the folder of its files, which every worker loads once (not shipped per task).
ModelRef = ChromeModel | str | None


@dataclass(slots=True)
class BatchTask:
    """One batch of records for ``sketch_batch``."""

    start: int
    records: list[Record]
    config: DedupConfig
    model: ModelRef = None
    repaired: bool = False  # the texts went through repair_text already


@dataclass(slots=True)
class BatchSketch:
    """A sketched batch, with what the write needs: records without text and output texts."""

    start: int
    ids: list[str]
    sketch: SketchedBatch  # its ``cleaned`` texts moved to ``outputs`` or ``spare``
    records: list[Record]  # text dropped
    outputs: list[str]  # the texts written for kept documents
    spare: list[str] | None  # the cleaned texts when ``outputs`` are the originals
    seconds: Counter[str] = field(default_factory=Counter)  # CPU time of each sub-stage

    @property
    def cleaned(self) -> list[str]:
        return self.outputs if self.spare is None else self.spare


def _model(ref: ModelRef) -> ChromeModel | None:
    return load_model(ref) if isinstance(ref, str) else ref


def learn_batch(task: BatchTask) -> tuple[DocLines, list[tuple[int, str]]]:
    """Learning pass, per batch: the distinct line keys of each document, by source; and the
    texts its repair changed, by position in the batch (most texts need none: the list is
    short, and the main pass need not repair again)."""
    field_name = task.config.source_field
    texts = [repair_text(r.text) for r in task.records]
    pairs = zip(texts, task.records, strict=True)
    changed = [(i, t) for i, (t, r) in enumerate(pairs) if t is not r.text]
    return doc_lines(texts, [source_of(r, field_name) for r in task.records]), changed


def clean_batch(task: BatchTask) -> tuple[list[str], list[CleanResult | None]]:
    """Repair and clean each document of a batch (``None`` results when cleaning is off)."""
    return clean_records(task.records, task.config, _model(task.model), task.repaired)


def sketch_batch(task: BatchTask) -> BatchSketch:
    """Clean, normalise and sketch one batch; write its output texts to the spill file."""
    config = task.config
    seconds: Counter[str] = Counter()
    sketch = sketch_records(task.records, config, _model(task.model), seconds, task.repaired)
    cleaned = sketch.cleaned
    outputs = cleaned if config.output_text == "cleaned" else [r.text for r in task.records]
    # The cleaned texts also serve the text check of borderline pairs (match()).
    spare = None if outputs is cleaned else cleaned
    slim = [Record(r.id, "", r.path, r.line, r.fields) for r in task.records]
    sketch.cleaned = []
    return BatchSketch(
        task.start, [r.id for r in task.records], sketch, slim, outputs, spare, seconds
    )


# ------------------------------------------------------------------------------- whole corpus


class BatchTexts:
    """Cleaned texts of chosen documents, from the batches held in memory."""

    def __init__(self, parts: list[BatchSketch]) -> None:
        self.parts = parts
        self.starts = [p.start for p in parts]

    def __call__(self, docs: Iterable[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for doc in docs:
            part = self.parts[bisect_right(self.starts, doc) - 1]
            out[doc] = part.cleaned[doc - part.start]
        return out


# ------------------------------------------------------------------------------------ the run


def _batches(
    records: Iterable[Record], config: DedupConfig, model: ModelRef = None, repaired: bool = False
) -> Iterator[BatchTask]:
    it = iter(records)
    start = 0
    while chunk := list(islice(it, config.batch_size)):
        yield BatchTask(start, chunk, config, model, repaired)
        start += len(chunk)


def read_records(
    sources: list[Source], problems: ProblemLog, config: DedupConfig, workers: int | None = None
) -> Iterator[Record]:
    """The input records, read as every stage of a run reads them (the same texts each time)."""
    extractors = LocalExecutor(config.workers if workers is None else workers)  # HTML pages
    return read_all(sources, problems, **reader_options(config), map_fn=extractors.map)


def learn_boilerplate(
    sources: list[Source], config: DedupConfig, executor: Executor, quiet: bool
) -> ChromeModel | None:
    """The learning pass: read everything once, count lines per source (None when learning
    is off). Input problems are reported by the main pass (the same records are read again).
    """
    if not (config.clean and config.learn_boilerplate):
        return None
    return learn_records(read_records(sources, ProblemLog(keep=0), config), config, executor, quiet)


def learn_records(
    records: Iterable[Record],
    config: DedupConfig,
    executor: Executor,
    quiet: bool,
    repair: list[Record] | None = None,
) -> ChromeModel | None:
    """The learning pass over records (from files, or given in memory).

    ``repair``: the list ``records`` iterates, whose texts the pass's repair changed are then
    replaced by the repaired ones (so the main pass repairs nothing again)."""
    if not (config.clean and config.learn_boilerplate):
        return None
    learner = ChromeLearner(None, config.boilerplate_min_docs, config.boilerplate_fraction)
    start = 0
    with progress("learn boilerplate", unit="doc", quiet=quiet) as bar:
        for lines, changed in executor.map(learn_batch, _batches(records, config)):
            learner.add(lines)
            bar.update(len(lines.sources))
            for i, text in changed if repair is not None else ():
                repair[start + i] = replace(repair[start + i], text=text)
            start += len(lines.sources)
    return learner.finish()


def model_ref(model: ChromeModel | None, executor: Executor, folder: Path) -> ModelRef:
    """How tasks get the model: itself in this process, else the root of its files in
    ``folder``, written and read as the sharded engine's are (data only, no pickle)."""
    if model is None or executor.in_process:
        return model
    save_model(Storage(str(folder)), model)
    return str(folder)


@dataclass(slots=True)
class RunSetup:
    """What every run shares: its inputs, output format, executor and learned model.

    ``read``: the records the learning pass read, for the main pass to take over (parse once)
    instead of reading and parsing the inputs again; None when nothing was learned."""

    sources: list[Source]
    out_format: str
    compression: str  # of the kept corpus
    executor: Executor
    model: ChromeModel | None
    model_ref: ModelRef
    read: list[Record] | None = None
    repaired: bool = False  # ``read``'s texts are repaired (the output is the cleaned text)

    def records(self, config: DedupConfig, problems: ProblemLog) -> Iterator[Record]:
        if self.read is None:
            return read_records(self.sources, problems, config)
        read, self.read = self.read, None
        return _handed_over(read)


def _handed_over(records: list[Record]) -> Iterator[Record]:
    """``records`` in order, each released once yielded: the main pass holds no second copy of
    the corpus beside what it has made of it."""
    records.reverse()
    while records:
        yield records.pop()


@contextmanager
def _setup(
    inputs: list[str],
    out_dir: Path,
    config: DedupConfig,
    problems: ProblemLog,
    timings: dict[str, float],
    quiet: bool,
) -> Iterator[RunSetup]:
    """Discover inputs and run the learning pass. Nothing is written but the outputs: the
    model's file, when worker processes need one, lives in a private temporary folder."""
    clock = time.perf_counter()
    sources = run_sources(inputs, config, output_root(out_dir), problems)
    out_format, compression = kept_layout(
        config, sources, remote=output_url(output_root(out_dir)) is not None
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(output_root(out_dir))  # scratch folders that older versions' killed runs left
    executor = LocalExecutor(config.workers)
    read = None
    # The learning pass repairs every text; when the output is the cleaned text (not the text
    # as read), the main pass takes its repaired texts instead of repairing them again.
    repaired = config.output_text == "cleaned"
    if config.clean and config.learn_boilerplate:
        # The input fits in memory (that is why this engine runs): read and parse it once, for
        # the learning pass and the main pass both; input problems are reported now.
        read = list(read_records(sources, problems, config))
        timings["read"] = _lap(clock)
        clock = time.perf_counter()
    model = learn_records(read or [], config, executor, quiet, read if repaired else None)
    timings["learn_boilerplate"] = _lap(clock)
    with tempfile.TemporaryDirectory(prefix="tinlap-model-") as folder:
        ref = model_ref(model, executor, Path(folder))
        yield RunSetup(
            sources,
            out_format,
            compression,
            executor,
            model,
            ref,
            read,
            repaired and read is not None,
        )


@committed  # outputs staged, then switched in at once; takes overwrite=
def run_dedup(
    inputs: list[str],
    out_dir: Path,
    config: DedupConfig,
    *,
    quiet: bool = False,
    problems: ProblemLog | None = None,
    against: Path | None = None,
) -> dict[str, Any]:
    """Run the whole job and write ``out_dir``; returns the summary (also in summary.json).

    With ``against`` (an index folder) only the documents that copy indexed ones are removed
    (``index.match_against``); the run's documents are not compared with each other.
    """
    if against is not None:  # a wrong index fails now, not after the sketching
        from tinlap.index.store import Index

        with Index(against) as index:
            index.check_config(config)
    problems = problems if problems is not None else ProblemLog()
    timings: dict[str, float] = {}
    with _setup(inputs, out_dir, config, problems, timings, quiet) as run:
        records = run.records(config, problems)
        matched = sketch_and_match(
            records,
            config,
            run.executor,
            run.model_ref,
            timings,
            quiet,
            against=against,
            repaired=run.repaired,
        )
        parts, corpus, result = matched.parts, matched.corpus, matched.result
        removed = matched.removed

        clock = time.perf_counter()
        write_table_atomic(
            out_dir / "clusters.parquet",
            cluster_table(result.decisions, corpus.ids, result.original_ids),
        )
        written, kept_files = _write_kept(parts, out_dir, run, removed, config, quiet, problems)
        timings["write"] = _lap(clock)
        learned = run.model.summary() if run.model else None

    summary = run_summary(
        documents=len(corpus.ids),
        written=written,
        removed_by_reason=Counter(d.reason for d in result.decisions),
        clusters=len({d.original for d in result.decisions}),
        stats=result.stats,
        histogram=result.histogram,
        removed_lines=corpus.removed_lines,
        worker_seconds=corpus.seconds,
        problems=problems,
        config=config,
        out_format=run.out_format,
        timings=timings,
    )
    summary["cleaning"]["learned_boilerplate"] = learned
    summary["kept_files"] = kept_files
    summary["inputs"] = [input_name(s.path) for s in run.sources]
    if against is not None:
        summary["against"] = str(against.resolve())
    problems.write_jsonl(out_dir / "problems.jsonl")
    write_json_atomic(out_dir / "summary.json", summary)
    log_run("dedup", summary, problems)
    return summary


@dataclass(slots=True)
class Matched:
    """The sketched batches and the decisions of one corpus (``removed``: per document)."""

    parts: list[BatchSketch]
    corpus: Corpus
    result: MatchResult
    removed: np.ndarray


def sketch_and_match(
    records: Iterable[Record],
    config: DedupConfig,
    executor: Executor,
    model: ModelRef,
    timings: dict[str, float],
    quiet: bool,
    *,
    against: Path | None = None,
    repaired: bool = False,
) -> Matched:
    """Clean, sketch (``sketch_batch`` on the executor) and ``match`` records, from files or
    from memory: what both the CLI's run and the Python API decide with."""
    clock = time.perf_counter()
    parts: list[BatchSketch] = []
    with progress("read, clean, sketch", unit="doc", quiet=quiet) as bar:
        for part in executor.map(sketch_batch, _batches(records, config, model, repaired)):
            parts.append(part)
            bar.update(len(part.ids))
    seconds: Counter[str] = Counter()
    for part in parts:
        seconds.update(part.seconds)
    corpus = Corpus.concat(
        [i for part in parts for i in part.ids],
        [part.sketch for part in parts],
        config.num_perm,
        seconds,
    )
    timings["read_clean_sketch"] = _lap(clock)

    clock = time.perf_counter()
    if against is None:
        result = match(corpus, config, BatchTexts(parts))
    else:
        from tinlap.index.store import match_against

        result = match_against(corpus, config, against, BatchTexts(parts))
    timings["candidates_verify_cluster"] = _lap(clock)
    removed = np.zeros(len(corpus.ids), dtype=bool)
    removed[[d.doc for d in result.decisions]] = True
    return Matched(parts, corpus, result, removed)


@dataclass(slots=True)
class MemoryRun:
    """A dedup of records given in memory: nothing written, the outputs as values.

    ``removed`` and ``texts`` are per record, in the order given (``texts``: the output text,
    cleaned or original as configured); ``clusters`` has ``clusters.parquet``'s schema and
    ``summary`` is what ``summary.json`` would hold.
    """

    ids: list[str]
    removed: np.ndarray
    texts: list[str]
    clusters: pa.Table
    summary: dict[str, Any]


def dedup_records(
    records: Sequence[Record],
    config: DedupConfig,
    *,
    problems: ProblemLog | None = None,
    quiet: bool = True,
    kind: str = "memory",
) -> MemoryRun:
    """The in-memory run over ``records`` (read twice when boilerplate is learned), returning
    its outputs instead of writing files. Decisions are those ``run_dedup`` takes on the same
    records read from a file."""
    problems = problems if problems is not None else ProblemLog()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    executor = LocalExecutor(config.workers)
    model = learn_records(records, config, executor, quiet)
    timings["learn_boilerplate"] = _lap(clock)
    with tempfile.TemporaryDirectory(prefix="tinlap-model-") as folder:
        ref = model_ref(model, executor, Path(folder))
        matched = sketch_and_match(records, config, executor, ref, timings, quiet)
    corpus, result = matched.corpus, matched.result
    clusters = cluster_table(result.decisions, corpus.ids, result.original_ids)
    texts = [t for part in matched.parts for t in part.outputs]
    summary = run_summary(
        documents=len(corpus.ids),
        written=int((~matched.removed).sum()),
        removed_by_reason=Counter(d.reason for d in result.decisions),
        clusters=len({d.original for d in result.decisions}),
        stats=result.stats,
        histogram=result.histogram,
        removed_lines=corpus.removed_lines,
        worker_seconds=corpus.seconds,
        problems=problems,
        config=config,
        out_format=kind,
        timings=timings,
    )
    summary["cleaning"]["learned_boilerplate"] = model.summary() if model else None
    summary["inputs"] = []
    log_run("dedup", summary, problems)
    return MemoryRun(corpus.ids, matched.removed, texts, clusters, summary)


def _write_kept(
    parts: list[BatchSketch],
    out_dir: Path,
    run: RunSetup,
    removed: np.ndarray,
    config: DedupConfig,
    quiet: bool,
    problems: ProblemLog,
) -> tuple[int, list[str]]:
    """Write the kept documents into the output corpus, in input order; returns how many and
    the corpus's files."""
    with (
        KeptCorpus(out_dir, run.out_format, config, problems, run.compression) as writer,
        progress("write", total=int((~removed).sum()), unit="doc", quiet=quiet) as bar,
    ):
        for part in parts:
            gone = removed[part.start : part.start + len(part.records)].tolist()
            for record, text, is_removed in zip(part.records, part.outputs, gone, strict=True):
                if not is_removed:
                    writer.write(record, text)
                    bar.update(1)
    return writer.count, writer.files


def _lap(start: float) -> float:
    return round(time.perf_counter() - start, 3)


# ------------------------------------------------------------------------------ the clean run


@dataclass(slots=True)
class CleanedBatch:
    """A batch after cleaning: records (text dropped), their output texts and removed lines."""

    records: list[Record]
    texts: list[str]
    removed: pa.Table  # REMOVED_LINES_SCHEMA


def clean_stage(task: BatchTask) -> CleanedBatch:
    """The per-batch work of ``tinlap clean``."""
    texts, results = clean_batch(task)
    ids, lines, line_texts, rules = [], [], [], []
    for record, result in zip(task.records, results, strict=True):
        for removal in result.removed if result else ():
            ids.append(record.id)
            lines.append(removal.line + 1)
            line_texts.append(removal.text)
            rules.append(removal.rule)
    table = pa.table([ids, lines, line_texts, rules], schema=REMOVED_LINES_SCHEMA)
    outputs = texts if task.config.output_text == "cleaned" else [r.text for r in task.records]
    slim = [Record(r.id, "", r.path, r.line, r.fields) for r in task.records]
    return CleanedBatch(slim, outputs, table)


@committed  # outputs staged, then switched in at once; takes overwrite=
def run_clean(
    inputs: list[str],
    out_dir: Path,
    config: DedupConfig,
    *,
    quiet: bool = False,
    problems: ProblemLog | None = None,
) -> dict[str, Any]:
    """Clean every document (no dedup): the cleaned corpus, removed_lines.parquet, summary.json."""
    problems = problems if problems is not None else ProblemLog()
    timings: dict[str, float] = {}
    by_rule: Counter[str] = Counter()
    documents = 0
    with _setup(inputs, out_dir, config, problems, timings, quiet) as run:
        clock = time.perf_counter()
        tasks = _batches(run.records(config, problems), config, run.model_ref, run.repaired)
        tmp_lines = out_dir / f".removed_lines.parquet.{os.getpid()}.tmp"
        with (
            KeptCorpus(out_dir, run.out_format, config, problems, run.compression) as writer,
            pq.ParquetWriter(tmp_lines, REMOVED_LINES_SCHEMA, compression="zstd") as lines_out,
            progress("clean", unit="doc", quiet=quiet) as bar,
        ):
            for batch in run.executor.map(clean_stage, tasks):
                lines_out.write_table(batch.removed)
                by_rule.update(batch.removed.column("rule").to_pylist())
                for record, text in zip(batch.records, batch.texts, strict=True):
                    writer.write(record, text)
                documents += len(batch.records)
                bar.update(len(batch.records))
        written, kept_files = writer.count, writer.files
        os.replace(tmp_lines, out_dir / "removed_lines.parquet")
        timings["clean_write"] = _lap(clock)
        learned = run.model.summary() if run.model else None
        out_format, inputs_read = run.out_format, [input_name(s.path) for s in run.sources]
    summary = {
        "tinlap_version": __version__,
        "documents_read": documents,
        "documents_written": written,
        "documents_unwritable": documents - written,
        "lines_removed": sum(by_rule.values()),
        "lines_removed_by_rule": dict(sorted(by_rule.items())),
        "learned_boilerplate": learned,
        "output_format": out_format,
        "kept_files": kept_files,
        "input_problems": {
            **problems.summary(),
            "messages": [str(p) for p in problems.problems[:1000]],
        },
        "seconds_per_stage": timings,
        "config": config.to_dict(),
        "inputs": inputs_read,
    }
    problems.write_jsonl(out_dir / "problems.jsonl")
    write_json_atomic(out_dir / "summary.json", summary)
    log_run("clean", summary, problems)
    return summary


@dataclass(slots=True)
class MemoryClean:
    """``tinlap clean`` of records given in memory: per record its output text, every removed
    line (``removed_lines.parquet``'s schema) and the summary."""

    texts: list[str]
    removed_lines: pa.Table
    summary: dict[str, Any]


def clean_memory(
    records: Sequence[Record],
    config: DedupConfig,
    *,
    problems: ProblemLog | None = None,
    quiet: bool = True,
    kind: str = "memory",
) -> MemoryClean:
    """The clean run over ``records`` (``clean_stage`` per batch), returning its outputs."""
    problems = problems if problems is not None else ProblemLog()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    executor = LocalExecutor(config.workers)
    model = learn_records(records, config, executor, quiet)
    timings["learn_boilerplate"] = _lap(clock)
    clock = time.perf_counter()
    texts: list[str] = []
    tables: list[pa.Table] = []
    with tempfile.TemporaryDirectory(prefix="tinlap-model-") as folder:
        ref = model_ref(model, executor, Path(folder))
        with progress("clean", unit="doc", quiet=quiet) as bar:
            for batch in executor.map(clean_stage, _batches(records, config, ref)):
                texts.extend(batch.texts)
                tables.append(batch.removed)
                bar.update(len(batch.records))
    timings["clean_write"] = _lap(clock)
    removed = pa.concat_tables(tables) if tables else REMOVED_LINES_SCHEMA.empty_table()
    by_rule = Counter(removed.column("rule").to_pylist())
    summary = {
        "tinlap_version": __version__,
        "documents_read": len(texts),
        "documents_written": len(texts),
        "documents_unwritable": 0,
        "lines_removed": removed.num_rows,
        "lines_removed_by_rule": dict(sorted(by_rule.items())),
        "learned_boilerplate": model.summary() if model else None,
        "output_format": kind,
        "input_problems": {
            **problems.summary(),
            "messages": [str(p) for p in problems.problems[:1000]],
        },
        "seconds_per_stage": timings,
        "config": config.to_dict(),
        "inputs": [],
    }
    log_run("clean", summary, problems)
    return MemoryClean(texts, removed, summary)
