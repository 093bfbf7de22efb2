"""The dedup run: read → clean → normalise → sketch → candidates → verify → cluster → write.

Stage functions are pure; ``sketch_batch`` is the only per-document stage and runs on workers
through an executor. Everything after it works on whole-corpus numpy arrays in this process.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tinlap import __version__
from tinlap.boilerplate import ChromeLearner, ChromeModel, DocLines, doc_lines, source_of
from tinlap.candidates import band_keys, exact_groups, lsh_pairs, sketch_filter
from tinlap.clean import Cleaner, CleanResult
from tinlap.cluster import Decision, decide, policy_rank
from tinlap.config import DedupConfig
from tinlap.coverage import coverage
from tinlap.executor import LocalExecutor
from tinlap.normalise import Tokeniser, repair_text
from tinlap.progress import progress
from tinlap.read import InputError, Source, discover, read_all
from tinlap.records import ProblemLog, Record
from tinlap.sketch import ShingleSets, exact_keys, minhash, shingle_sets
from tinlap.storage import OWNER
from tinlap.verify import PairScores, verify
from tinlap.write import (
    KeptWriter,
    committed,
    output_root,
    remove_stale,
    write_json_atomic,
    write_table_atomic,
)

CLUSTER_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("cluster_id", pa.string()),
        ("kept", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("reason", pa.string()),
    ]
)


# ------------------------------------------------------------------------------ per-batch stage


@dataclass(slots=True)
class BatchTask:
    """One batch of records for ``sketch_batch``; ``spill`` is where its output texts go."""

    start: int
    records: list[Record]
    config: DedupConfig
    spill: str
    model: str | None = None  # path of the pickled ChromeModel, when boilerplate was learned


@dataclass(slots=True)
class BatchSketch:
    """What the matching stages need of a batch; the texts themselves wait in the spill file."""

    start: int
    ids: list[str]
    lengths: np.ndarray  # cleaned text length in characters (the "longest" policy)
    keys: np.ndarray  # (n, 2) uint64 exact-key hashes
    shingles: ShingleSets
    signatures: np.ndarray  # (n, num_perm) uint32
    removed_lines: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)  # CPU time of each sub-stage


class Laps:
    """CPU seconds per sub-stage: ``lap(name)`` books the time since the previous lap."""

    def __init__(self, seconds: Counter[str]) -> None:
        self.seconds = seconds
        self.clock = time.process_time()

    def __call__(self, stage: str) -> None:
        now = time.process_time()
        self.seconds[stage] += now - self.clock
        self.clock = now


@cache
def _worker_state() -> tuple[Cleaner, Tokeniser]:
    """Per-process cleaner and tokeniser (the tokeniser's cache is what makes it fast)."""
    return Cleaner(), Tokeniser()


@cache
def _load_model(path: str) -> ChromeModel:
    """The learned boilerplate model, loaded once per worker process (not shipped per task)."""
    with open(path, "rb") as fh:
        model: ChromeModel = pickle.load(fh)
    return model


def learn_batch(task: BatchTask) -> DocLines:
    """Learning pass, per batch: the distinct line keys of each document, by source."""
    field_name = task.config.source_field
    texts = [repair_text(r.text) for r in task.records]
    return doc_lines(texts, [source_of(r, field_name) for r in task.records])


def clean_batch(task: BatchTask) -> tuple[list[str], list[CleanResult | None]]:
    """Repair and clean each document of a batch (``None`` results when cleaning is off)."""
    model = _load_model(task.model) if task.model else None
    return clean_records(task.records, task.config, model)


def clean_records(
    records: list[Record], config: DedupConfig, model: ChromeModel | None
) -> tuple[list[str], list[CleanResult | None]]:
    """Repair and clean records with the learned ``model`` (if any): the cleaning stage."""
    cleaner, _ = _worker_state()
    texts: list[str] = []
    results: list[CleanResult | None] = []
    for record in records:
        text = repair_text(record.text)
        result = None
        if config.clean:
            extra = (model.rule_for(source_of(record, config.source_field)),) if model else ()
            result = cleaner.clean(text, extra)
            text = result.text
        texts.append(text)
        results.append(result)
    return texts, results


def sketch_batch(task: BatchTask) -> BatchSketch:
    """Clean, normalise and sketch one batch; write its output texts to the spill file."""
    _, tokeniser = _worker_state()
    config = task.config
    seconds: Counter[str] = Counter()
    lap = Laps(seconds)
    cleaned, results = clean_batch(task)
    removed = Counter(r.rule for result in results if result for r in result.removed)
    lap("clean")

    outputs = cleaned if config.output_text == "cleaned" else [r.text for r in task.records]
    slim = [Record(r.id, "", r.path, r.line, r.fields) for r in task.records]
    with open(task.spill, "wb") as fh:
        # The cleaned texts also serve the sentence check of borderline pairs (match()).
        spare = None if outputs is cleaned else cleaned
        pickle.dump((slim, outputs, spare), fh, protocol=pickle.HIGHEST_PROTOCOL)
    lap("spill")

    tokens = tokeniser.tokenise_batch(cleaned)
    lap("normalise")
    keys = exact_keys(tokens)
    shingles = shingle_sets(tokens, config.shingle_size)
    signatures = minhash(shingles, config.num_perm)
    lap("sketch")
    return BatchSketch(
        start=task.start,
        ids=[r.id for r in task.records],
        lengths=np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned)),
        keys=keys,
        shingles=shingles,
        signatures=signatures,
        removed_lines=removed,
        seconds=seconds,
    )


# ------------------------------------------------------------------------------- whole corpus


@dataclass(slots=True)
class Corpus:
    """The sketches of every document, concatenated in input order (index = document number)."""

    ids: list[str]
    lengths: np.ndarray
    keys: np.ndarray
    shingles: ShingleSets
    signatures: np.ndarray
    removed_lines: Counter[str]
    seconds: Counter[str]

    @classmethod
    def concat(cls, parts: list[BatchSketch], num_perm: int) -> Corpus:
        ids = [i for p in parts for i in p.ids]
        if not parts:
            return cls(
                [],
                np.zeros(0, np.int64),
                np.zeros((0, 2), np.uint64),
                ShingleSets(np.zeros(0, np.uint64), np.zeros(1, np.int64)),
                np.zeros((0, num_perm), np.uint32),
                Counter(),
                Counter(),
            )
        sizes = np.concatenate([p.shingles.sizes for p in parts])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        removed: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        for p in parts:
            removed.update(p.removed_lines)
            seconds.update(p.seconds)
        return cls(
            ids=ids,
            lengths=np.concatenate([p.lengths for p in parts]),
            keys=np.concatenate([p.keys for p in parts]),
            shingles=ShingleSets(np.concatenate([p.shingles.hashes for p in parts]), offsets),
            signatures=np.concatenate([p.signatures for p in parts]),
            removed_lines=removed,
            seconds=seconds,
        )


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Removal decisions for the whole corpus plus the counts that explain how they were found."""

    decisions: list[Decision]
    stats: dict[str, int]
    # Names of ``Decision.original``; None: documents of the run (``--against``: indexed ones).
    original_ids: list[str] | None = None
    # Verified pairs per 0.01-wide bin of Jaccard and of the larger containment (the report
    # plots them against the thresholds); None for --against runs.
    histogram: dict[str, list[int]] | None = None


class SpillTexts:
    """Cleaned texts of chosen documents, read back from the per-batch spill files."""

    def __init__(self, work: Path, batch_size: int) -> None:
        self.work = work
        self.batch_size = batch_size

    def __call__(self, docs: Iterable[int]) -> dict[int, str]:
        by_batch: dict[int, list[int]] = {}
        for doc in docs:
            by_batch.setdefault(doc // self.batch_size, []).append(doc)
        out: dict[int, str] = {}
        for index, wanted in sorted(by_batch.items()):
            with open(self.work / f"batch-{index:07d}.pkl", "rb") as fh:
                _, outputs, spare = pickle.load(fh)
            cleaned = outputs if spare is None else spare
            for doc in wanted:
                out[doc] = cleaned[doc - index * self.batch_size]
        return out


def sentence_rejections(
    scores: PairScores,
    config: DedupConfig,
    texts: Callable[[Iterable[int]], dict[int, str]],
) -> frozenset[tuple[int, int]]:
    """Directions (x, y) that qualify only by a borderline score and whose sentences say no.

    A direction x -> y qualifies by Jaccard or by the containment of x in y; below
    ``certain_containment`` it must also reproduce ``min_sentence_coverage`` of x's sentence
    text in y (coverage.py). Only these few pairs are read back and checked.
    """
    directions = []
    for a, b, j, ca, cb in scores.rows():
        for x, y, c in ((a, b, ca), (b, a, cb)):
            qualifies = j >= config.jaccard_threshold or c >= config.containment_threshold
            if qualifies and c < config.certain_containment:
                directions.append((x, y))
    if not directions:
        return frozenset()
    text = texts({d for pair in directions for d in pair})
    return frozenset(
        (x, y)
        for x, y in directions
        if coverage(text[x], text[y], config.shingle_size) < config.min_sentence_coverage
    )


def match(
    corpus: Corpus,
    config: DedupConfig,
    texts: Callable[[Iterable[int]], dict[int, str]] | None = None,
) -> MatchResult:
    """Exact groups, then LSH + verification among one representative per exact group."""
    n = len(corpus.ids)
    rank = policy_rank(config.keep_policy, corpus.lengths, corpus.ids)
    sizes = corpus.shingles.sizes
    matchable = np.flatnonzero(sizes > 0)

    # Exact duplicates: the policy's favourite of each group represents it from here on.
    leader = exact_groups(corpus.keys[matchable])
    order = np.lexsort((rank[matchable], leader))
    grouped = matchable[order]
    group_of = leader[order]
    is_first = np.ones(len(grouped), dtype=bool)
    is_first[1:] = group_of[1:] != group_of[:-1]
    rep_of_group = dict(zip(group_of[is_first].tolist(), grouped[is_first].tolist(), strict=True))
    reps = np.sort(grouped[is_first])
    exact_members = [
        (doc, rep_of_group[g])
        for doc, g, first in zip(
            grouped.tolist(), group_of.tolist(), is_first.tolist(), strict=True
        )
        if not first
    ]

    # Near and contained copies among representatives.
    keys = band_keys(corpus.signatures[reps], config.bands, config.rows)
    ra, rb = lsh_pairs(keys, sizes[reps], config.max_bucket)
    a, b = reps[ra], reps[rb]
    keep = sketch_filter(
        corpus.signatures,
        sizes,
        a,
        b,
        config.jaccard_threshold,
        config.containment_threshold,
        config.prefilter_z,
    )
    scores = verify(corpus.shingles, a[keep], b[keep])
    rejected = frozenset() if texts is None else sentence_rejections(scores, config, texts)
    near = decide(scores, rank, config.jaccard_threshold, config.containment_threshold, rejected)

    # Exact members follow their representative: to it if it stays, else to its original
    # (identical shingle sets have identical scores, so the verification carries over).
    by_doc = {d.doc: d for d in near}
    decisions = list(near)
    for doc, rep in exact_members:
        rep_decision = by_doc.get(rep)
        if rep_decision is None:
            decisions.append(Decision(doc, rep, 1.0, 1.0, "exact"))
        else:
            decisions.append(
                Decision(
                    doc,
                    rep_decision.original,
                    rep_decision.jaccard,
                    rep_decision.containment,
                    rep_decision.reason,
                )
            )
    decisions.sort(key=lambda d: d.doc)
    stats = {
        "documents": n,
        "matchable": len(matchable),
        "exact_group_representatives": len(reps),
        "lsh_candidate_pairs": len(a),
        "pairs_after_sketch_filter": int(keep.sum()),
        "verified_pairs": len(scores),
        "verified_duplicate_pairs": _count_qualifying(scores, config),
        "directions_rejected_by_sentence_check": len(rejected),
    }
    return MatchResult(decisions, stats, histogram=similarity_histogram(scores))


def similarity_histogram(scores: PairScores, bins: int = 100) -> dict[str, list[int]]:
    """Counts of verified pairs per bin of [0, 1]: cheap, fixed size, enough to draw."""
    larger = np.maximum(scores.containment_a, scores.containment_b)
    return {
        name: np.histogram(values, bins=bins, range=(0.0, 1.0))[0].tolist()
        for name, values in (("jaccard", scores.jaccard), ("containment", larger))
    }


def _count_qualifying(scores: PairScores, config: DedupConfig) -> int:
    best_c = np.maximum(scores.containment_a, scores.containment_b)
    return int(
        (
            (scores.jaccard >= config.jaccard_threshold) | (best_c >= config.containment_threshold)
        ).sum()
    )


def cluster_table(
    decisions: list[Decision], ids: list[str], original_ids: list[str] | None = None
) -> pa.Table:
    """``clusters.parquet``: every document of a cluster of two or more, kept ones included.

    ``original_ids`` names the originals when they are not documents of the run (``--against``).
    """
    return decisions_table(
        np.array([d.doc for d in decisions], dtype=np.int64),
        np.array([d.original for d in decisions], dtype=np.int64),
        np.array([d.jaccard for d in decisions], dtype=np.float64),
        np.array([d.containment for d in decisions], dtype=np.float64),
        pa.array([d.reason for d in decisions], pa.string()),
        pa.array(ids, pa.string()),
        None if original_ids is None else pa.array(original_ids, pa.string()),
    )


def decisions_table(
    doc: np.ndarray,
    original: np.ndarray,
    jaccard: np.ndarray,
    containment: np.ndarray,
    reason: pa.Array,
    ids: pa.Array,
    original_ids: pa.Array | None = None,
) -> pa.Table:
    """``clusters.parquet`` from decision arrays (doc i removed for ``original[i]``)."""
    names = ids if original_ids is None else original_ids
    kept = np.unique(original)
    n_kept, n_removed = len(kept), len(doc)
    nulls = pa.nulls(n_kept)
    table = pa.table(
        {
            "id": pa.concat_arrays([names.take(pa.array(kept)), ids.take(pa.array(doc))]),
            "cluster_id": pa.concat_arrays(
                [names.take(pa.array(kept)), names.take(pa.array(original))]
            ),
            "kept": np.concatenate([np.ones(n_kept, bool), np.zeros(n_removed, bool)]),
            "duplicate_of": pa.concat_arrays(
                [nulls.cast(pa.string()), names.take(pa.array(original))]
            ),
            "jaccard": pa.concat_arrays([nulls.cast(pa.float64()), pa.array(jaccard)]),
            "containment": pa.concat_arrays([nulls.cast(pa.float64()), pa.array(containment)]),
            "reason": pa.concat_arrays([nulls.cast(pa.string()), reason.cast(pa.string())]),
        },
        schema=CLUSTER_SCHEMA,
    )
    return table.sort_by([("cluster_id", "ascending"), ("kept", "descending"), ("id", "ascending")])


# ------------------------------------------------------------------------------------ the run


def _batches(
    records: Iterable[Record], config: DedupConfig, work: Path, model: str | None = None
) -> Iterator[BatchTask]:
    it = iter(records)
    start = 0
    for index in range(1 << 62):
        chunk = list(islice(it, config.batch_size))
        if not chunk:
            return
        yield BatchTask(start, chunk, config, str(work / f"batch-{index:07d}.pkl"), model)
        start += len(chunk)


def read_records(
    sources: list[Source], problems: ProblemLog, config: DedupConfig, workers: int | None = None
) -> Iterator[Record]:
    """The input records, read as every stage of a run reads them (the same texts each time)."""
    return read_all(
        sources,
        problems,
        **reader_options(config),
        workers=config.workers if workers is None else workers,  # HTML extraction's workers
    )


def reader_options(config: DedupConfig) -> dict[str, Any]:
    """The settings every reader of a run gets (so all stages read the same texts)."""
    return {
        "text_field": config.text_field,
        "id_field": config.id_field,
        "max_record_bytes": config.max_record_bytes,
        "html_field": config.html_field,
    }


def learn_boilerplate(
    sources: list[Source], config: DedupConfig, work: Path, executor: LocalExecutor, quiet: bool
) -> str | None:
    """The learning pass: read everything once, count lines per source, save the model.

    Input problems are reported by the main pass, not here (the same records are read again).
    Returns the model's path for the workers, or None when learning is off.
    """
    if not (config.clean and config.learn_boilerplate):
        return None
    records = read_records(sources, ProblemLog(keep=0), config)
    learner = ChromeLearner(work, config.boilerplate_min_docs, config.boilerplate_fraction)
    with progress("learn boilerplate", unit="doc", quiet=quiet) as bar:
        for lines in executor.map(learn_batch, _batches(records, config, work)):
            learner.add(lines)
            bar.update(len(lines.sources))
    path = work / "chrome-model.pkl"
    with open(path, "wb") as fh:
        pickle.dump(learner.finish(), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


@dataclass(slots=True)
class RunSetup:
    """What every run shares: its inputs, output format, scratch folder, executor, learned model."""

    sources: list[Source]
    out_format: str
    work: Path
    executor: LocalExecutor
    model_path: str | None

    def records(self, config: DedupConfig, problems: ProblemLog) -> Iterator[Record]:
        return read_records(self.sources, problems, config)


@contextmanager
def _setup(
    inputs: list[str],
    out_dir: Path,
    config: DedupConfig,
    problems: ProblemLog,
    timings: dict[str, float],
    quiet: bool,
) -> Iterator[RunSetup]:
    """Discover inputs, make the scratch folder (removed afterwards) and run the learning pass."""
    clock = time.perf_counter()
    sources = _outside(discover(inputs, config.input_format, problems=problems), out_dir, problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(output_root(out_dir))  # scratch folders of runs that were killed
    work = Path(tempfile.mkdtemp(prefix=f".tinlap-work-{os.getpid()}-", dir=out_dir))
    (work / OWNER).touch()
    executor = LocalExecutor(config.workers)
    try:
        model_path = learn_boilerplate(sources, config, work, executor, quiet)
        timings["learn_boilerplate"] = _lap(clock)
        yield RunSetup(sources, _output_format(config, sources), work, executor, model_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# Input formats that cannot be written back as they came: pages become JSONL rows (id, url,
# title, text), the shape of their records.
_OUTPUT_FOR_INPUT = {"html": "jsonl", "warc": "jsonl"}


def _output_format(config: DedupConfig, sources: list[Source]) -> str:
    """The kept corpus's format: as asked, else the first input's (JSONL for HTML and WARC)."""
    first = sources[0].format if sources else "jsonl"
    return config.output_format or _OUTPUT_FOR_INPUT.get(first, first)


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
        from tinlap.index import Index, match_against

        with Index(against) as index:
            index.check_config(config)
    problems = problems if problems is not None else ProblemLog()
    timings: dict[str, float] = {}
    with _setup(inputs, out_dir, config, problems, timings, quiet) as run:
        clock = time.perf_counter()
        tasks = _batches(run.records(config, problems), config, run.work, run.model_path)
        parts: list[BatchSketch] = []
        with progress("read, clean, sketch", unit="doc", quiet=quiet) as bar:
            for part in run.executor.map(sketch_batch, tasks):
                parts.append(part)
                bar.update(len(part.ids))
        corpus = Corpus.concat(parts, config.num_perm)
        del parts
        timings["read_clean_sketch"] = _lap(clock)

        clock = time.perf_counter()
        if against is None:
            result = match(corpus, config, SpillTexts(run.work, config.batch_size))
        else:
            result = match_against(corpus, config, against, SpillTexts(run.work, config.batch_size))
        timings["candidates_verify_cluster"] = _lap(clock)

        clock = time.perf_counter()
        removed = np.zeros(len(corpus.ids), dtype=bool)
        removed[[d.doc for d in result.decisions]] = True
        write_table_atomic(
            out_dir / "clusters.parquet",
            cluster_table(result.decisions, corpus.ids, result.original_ids),
        )
        written = _write_kept(run.work, out_dir, run.out_format, removed, config, quiet, problems)
        timings["write"] = _lap(clock)
        learned = _model_summary(run.model_path)

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
    summary["inputs"] = [str(s.path.resolve()) for s in run.sources]
    if against is not None:
        summary["against"] = str(against.resolve())
    write_json_atomic(out_dir / "summary.json", summary)
    return summary


def _warn_widened(writer: KeptWriter, problems: ProblemLog) -> None:
    for name in sorted(writer.widened_columns):
        problems.warning(
            str(writer.path),
            0,
            "widened_column",
            f"column {name!r}: later records did not fit the first ones' type; written as text",
        )


def _outside(sources: list[Source], out_dir: Path, problems: ProblemLog) -> list[Source]:
    """Drop input files inside the output folder (a previous run's output is not input)."""
    out = output_root(out_dir).resolve()
    kept = []
    for source in sources:
        if source.path.resolve().is_relative_to(out):
            problems.warning(str(source.path), 0, "skipped_output", "inside the output folder")
        else:
            kept.append(source)
    if sources and not kept:
        raise InputError(f"every input file is inside the output folder {output_root(out_dir)}")
    return kept


def _kept_writer(out_dir: Path, fmt: str, config: DedupConfig, problems: ProblemLog) -> KeptWriter:
    # Ids renamed id#2 or invented as FILE:LINE are text: a Parquet id column must hold them.
    renamed = (
        problems.counts[("warning", "duplicate_id")] + problems.counts[("warning", "missing_id")]
    )
    return KeptWriter(
        out_dir,
        fmt,
        text_field=config.text_field,
        id_field=config.id_field,
        ids_as_text=renamed > 0,
    )


def _write_one(writer: KeptWriter, record: Record, text: str, problems: ProblemLog) -> None:
    """Write one document; one the output format cannot hold (e.g. an id that is no safe .txt
    path) is an error naming its file and line, never a silent loss."""
    try:
        writer.write(record, text)
    except ValueError as err:
        problems.error(record.path, record.line, "unwritable", str(err))


def _write_kept(
    work: Path,
    out_dir: Path,
    fmt: str,
    removed: np.ndarray,
    config: DedupConfig,
    quiet: bool,
    problems: ProblemLog,
) -> int:
    """Stream the kept documents from the spill files into the output corpus."""
    with (
        _kept_writer(out_dir, fmt, config, problems) as writer,
        progress("write", total=int((~removed).sum()), unit="doc", quiet=quiet) as bar,
    ):
        doc = 0
        for spill in sorted(work.glob("batch-*.pkl")):
            with open(spill, "rb") as fh:
                records, texts, _ = pickle.load(fh)
            for record, text in zip(records, texts, strict=True):
                if not removed[doc]:
                    _write_one(writer, record, text, problems)
                    bar.update(1)
                doc += 1
    _warn_widened(writer, problems)
    return writer.count


def _model_summary(path: str | None) -> dict[str, object] | None:
    return _load_model(path).summary() if path else None


def _lap(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def run_summary(
    *,
    documents: int,
    written: int,
    removed_by_reason: Counter[str],
    clusters: int,
    stats: dict[str, int],
    histogram: dict[str, list[int]] | None,
    removed_lines: Counter[str],
    worker_seconds: Counter[str],
    problems: ProblemLog,
    config: DedupConfig,
    out_format: str,
    timings: dict[str, float],
) -> dict[str, Any]:
    """summary.json of a dedup run (in-memory or sharded): counts that add up, and why."""
    removed = sum(removed_by_reason.values())
    return {
        "tinlap_version": __version__,
        "documents_read": documents,
        "documents_kept": written,
        "documents_unwritable": documents - removed - written,
        "documents_removed": removed,
        "removed_by_reason": {
            r: removed_by_reason.get(r, 0) for r in ("exact", "near", "contained")
        },
        "clusters": clusters,
        "documents_not_matchable": documents - stats["matchable"],
        "output_format": out_format,
        "input_problems": {
            **problems.summary(),
            "messages": [str(p) for p in problems.problems[:1000]],
        },
        "cleaning": {"lines_removed_by_rule": dict(sorted(removed_lines.items()))},
        "matching": {**stats, "verified_pairs_histogram": histogram},
        "seconds_per_stage": timings,
        "worker_cpu_seconds": {k: round(v, 3) for k, v in sorted(worker_seconds.items())},
        "config": config.to_dict(),
    }


# ------------------------------------------------------------------------------ the clean run

REMOVED_LINES_SCHEMA = pa.schema(
    [("id", pa.string()), ("line", pa.int64()), ("text", pa.string()), ("rule", pa.string())]
)


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
        tasks = _batches(run.records(config, problems), config, run.work, run.model_path)
        tmp_lines = run.work / "removed_lines.parquet"
        with (
            _kept_writer(out_dir, run.out_format, config, problems) as writer,
            pq.ParquetWriter(tmp_lines, REMOVED_LINES_SCHEMA, compression="zstd") as lines_out,
            progress("clean", unit="doc", quiet=quiet) as bar,
        ):
            for batch in run.executor.map(clean_stage, tasks):
                lines_out.write_table(batch.removed)
                by_rule.update(batch.removed.column("rule").to_pylist())
                for record, text in zip(batch.records, batch.texts, strict=True):
                    _write_one(writer, record, text, problems)
                documents += len(batch.records)
                bar.update(len(batch.records))
        written = writer.count
        _warn_widened(writer, problems)
        os.replace(tmp_lines, out_dir / "removed_lines.parquet")
        timings["clean_write"] = _lap(clock)
        learned = _model_summary(run.model_path)
        out_format, inputs_read = run.out_format, [str(s.path.resolve()) for s in run.sources]
    summary = {
        "tinlap_version": __version__,
        "documents_read": documents,
        "documents_written": written,
        "documents_unwritable": documents - written,
        "lines_removed": sum(by_rule.values()),
        "lines_removed_by_rule": dict(sorted(by_rule.items())),
        "learned_boilerplate": learned,
        "output_format": out_format,
        "input_problems": {
            **problems.summary(),
            "messages": [str(p) for p in problems.problems[:1000]],
        },
        "seconds_per_stage": timings,
        "config": config.to_dict(),
        "inputs": inputs_read,
    }
    write_json_atomic(out_dir / "summary.json", summary)
    return summary
