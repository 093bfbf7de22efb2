"""The sharded dedup run: stages as tasks over a storage root, resumable, bounded memory.

The driver decides the layout, asks the executor to run each stage's unfinished tasks, and at
the end writes the same outputs as the in-memory run (clusters.parquet, the kept corpus,
summary.json). Tasks are pure functions of (stage, task, context, storage)
(``tinlap.engines.stages``), so the result does not depend on the executor or the number of
workers, and a killed run resumes from the tasks it finished.

Memory: one task holds one shard or one partition, sized from ``memory_limit / workers``. The
driver holds only arrays with one entry per document (removal decisions, ids for the cluster
table) and never holds texts or sketches. The workers write the kept corpus (stage ``write``):
the parts of one file, which the driver joins in input order (JSONL: their bytes appended;
Parquet: their rows written again), or the files of a split one. The driver streams it shard
by shard itself only for txt output (one file per document, whose escaped names are decided
over the whole corpus).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.config import DedupConfig
from tinlap.core.decide import Removals, with_exact_members
from tinlap.core.rules import REASONS
from tinlap.engines.executors import Executor, make_executor
from tinlap.engines.progress import log_run, progress
from tinlap.engines.stages import STAGE_ORDER, RunContext, run_task, task_count
from tinlap.engines.stages.candidates import exact_members
from tinlap.engines.stages.cluster import DECISION_SCHEMA, decide_partitions
from tinlap.engines.stages.context import (
    BYTES_PER_EXACT_RECORD,
    band_layout,
    partitions_for,
)
from tinlap.engines.stages.exchange import gather
from tinlap.engines.stages.ingest import merge_problems, shard_ids
from tinlap.engines.stages.runner import STAGES
from tinlap.engines.stages.star import round_name
from tinlap.engines.stages.write import kept_pairs, write_group, write_mask
from tinlap.io.publish import committed
from tinlap.io.read import InputError, Source, run_sources
from tinlap.io.remote import file_identity, input_name, output_url
from tinlap.io.schema import decisions_table, run_summary
from tinlap.io.storage import CorruptIntermediate, Storage, StorageError, producer_of, task_dir
from tinlap.io.write import (
    KeptCorpus,
    joined_file,
    kept_ids_as_text,
    kept_layout,
    kept_name,
    output_root,
    parquet_schema,
    warn_columns,
    widen_columns,
    write_json_atomic,
    write_table_atomic,
)
from tinlap.records import ProblemLog, StrictInputError
from tinlap.wording import count

DEFAULT_MEMORY_LIMIT = 2 * 2**30
# What a worker process costs before it holds any data: Python, numpy, Arrow, the cleaner and
# the tokeniser's bounded cache of key tokens (measured on VNTC, rounded up).
PROCESS_OVERHEAD = 384 * 2**20
RUN_FILE = "run.json"
MAX_STAR_ROUNDS = 200
BYTES_PER_STAR_EDGE = 64


def default_memory_limit(workers: int) -> int:
    """2 GiB, or enough for every worker's overhead plus 256 MiB of data on many-core machines."""
    return max(DEFAULT_MEMORY_LIMIT, workers * (PROCESS_OVERHEAD + 256 * 2**20))


class RunError(RuntimeError):
    """A stage could not finish; the message names it and says what was kept."""


@dataclass(frozen=True, slots=True)
class ShardedOptions:
    """How a sharded run executes (none of it changes the result)."""

    work: str | None = None  # storage root; default OUTPUT/.tinlap-work
    executor: str = "local"
    ray_address: str | None = None
    memory_limit: int | None = None  # None: default_memory_limit(workers)
    skip_bad_shards: bool = False
    restart: bool = False
    keep_work: bool = False
    components: str = "union-find"  # or "star": rounds as tasks, for graphs beyond one machine


@committed  # outputs staged, then switched in at once; takes overwrite=
def run_sharded(
    inputs: list[str],
    out_dir: Path,
    config: DedupConfig,
    options: ShardedOptions,
    *,
    quiet: bool = False,
    problems: ProblemLog | None = None,
) -> dict[str, Any]:
    """Run the dedup job as stage tasks and write ``out_dir``; returns the summary."""
    problems = problems if problems is not None else ProblemLog()
    started = time.perf_counter()
    sources = run_sources(inputs, config, output_root(out_dir), problems)
    kept_format, kept_compression = kept_layout(
        config, sources, remote=output_url(output_root(out_dir)) is not None
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    root = options.work or str(output_root(out_dir) / ".tinlap-work")
    storage = Storage(root)
    limit = options.memory_limit or default_memory_limit(config.workers)
    task_memory = limit // config.workers - PROCESS_OVERHEAD
    if task_memory < 16 * 2**20:
        least = config.workers * (PROCESS_OVERHEAD + 16 * 2**20) >> 20
        raise RunError(  # not an input problem: exit code 1, not 3
            f"--memory-limit {limit >> 20:,} MiB is too small for "
            f"{count(config.workers, 'worker')}: each needs {PROCESS_OVERHEAD >> 20} MiB for "
            f"itself plus room for its data (at least {least:,} MiB in all); raise it or use "
            "fewer workers"
        )
    _claim(storage, sources, config, task_memory, problems.strict, options)
    executor = make_executor(options.executor, config.workers, options.ray_address)
    ctx = RunContext(
        root,
        config,
        tuple(sources),
        task_memory,
        problems.strict,
        options.skip_bad_shards,
        components=options.components,
        kept_format=kept_format,
        kept_compression=kept_compression,
    )
    driver = _Driver(storage, executor, quiet)
    try:
        ctx = driver.run_all(ctx)
    except StrictInputError:
        storage.release(_owned)  # the input must change before a rerun: nothing is reusable
        raise
    summary = _finish(ctx, storage, driver, out_dir, problems, quiet, options.keep_work)
    summary["seconds_per_stage"]["total"] = round(time.perf_counter() - started, 3)
    summary["execution"]["work_kept"] = options.keep_work
    if not options.keep_work:
        storage.release(_owned)
    problems.write_jsonl(out_dir / "problems.jsonl")
    write_json_atomic(out_dir / "summary.json", summary)
    log_run("dedup", summary, problems)
    return summary


def _owned(name: str) -> bool:
    """Whether a top-level name of the work root is one tinlap writes (run.json, stage folders
    such as ``read`` or ``large-003``): only these are ever deleted from it."""
    return name == RUN_FILE or name.split("-", 1)[0] in STAGES


def _claim(
    storage: Storage,
    sources: list[Source],
    config: DedupConfig,
    task_memory: int,
    strict: bool,
    options: ShardedOptions,
) -> None:
    """Mark the root as this run's, or check that the run found there is this same run."""
    storage.claim()  # a folder tinlap did not create is refused, never written to or emptied
    if options.restart:
        storage.release(_owned, keep_root=True)
    identity = {
        # 2: stage files hold data only (JSON, Arrow), no pickles of version 1; 3: no shingle
        # sets or band records, signatures in columns, cleaned texts as differences
        "format": 3,
        "config": {k: v for k, v in config.to_dict().items() if k != "workers"},
        "inputs": [
            [name, s.format, size, version]
            for s in sources
            for name, size, version in [file_identity(s.path)]
        ],
        "task_memory": task_memory,
        "strict": strict,
    }
    if storage.exists(RUN_FILE):
        found = storage.read_json(RUN_FILE)
        if found != identity:
            differ = sorted(k for k in identity if found.get(k) != identity[k])
            raise RunError(
                f"{storage.url} holds the work of a different run (differs in: "
                f"{', '.join(differ)}; task memory is --memory-limit / --workers); "
                "resume with the same command, or pass --restart or another --work"
            )
        return
    storage.write_json(RUN_FILE, identity)


class _Driver:
    """Runs stages in order, each one's unfinished tasks only, and keeps their results."""

    def __init__(self, storage: Storage, executor: Executor, quiet: bool) -> None:
        self.storage = storage
        self.executor = executor
        self.quiet = quiet
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.seconds: dict[str, float] = {}

    def run_all(self, ctx: RunContext) -> RunContext:
        """All stages; a corrupt intermediate makes its producing task run again (3 times)."""
        for attempt in range(4):
            try:
                return self._stages(ctx)
            except CorruptIntermediate as err:
                path = getattr(err, "path", None) or getattr(err, "cause", err).path
                producer = producer_of(path)
                if producer is None or attempt == 3:
                    raise RunError(f"{err}; remove {self.storage.url} and run again") from err
                self.storage.discard_task(*producer)
                if not self.quiet:
                    print(
                        f"tinlap: {err}; redoing {producer[0]} task {producer[1]}", file=sys.stderr
                    )
        raise AssertionError("unreachable")

    def _stages(self, ctx: RunContext) -> RunContext:
        for stage in STAGE_ORDER:
            if stage in ("learn", "model") and not ctx.learned:
                continue
            if stage == "components" and ctx.components == "star":
                ctx = self._star(ctx)
                continue
            results = self.stage(stage, ctx)
            if stage == "read":
                ctx = _layout(ctx, results)
            elif stage == "components":
                ctx = replace(ctx, decide_partitions=results[0]["partitions"])
        return ctx

    def _star(self, ctx: RunContext) -> RunContext:
        """Components by large-star/small-star rounds as tasks, until a round changes nothing."""
        edges = sum(r["edges"] for r in self.results["verify"])
        ctx = replace(
            ctx,
            node_partitions=max(4, partitions_for(2 * edges, BYTES_PER_STAR_EDGE, ctx.task_memory)),
            decide_partitions=decide_partitions(edges, ctx),
        )
        self.stage("seed", ctx)
        previous: tuple[int, int] | None = None
        for number in range(MAX_STAR_ROUNDS):
            ctx = replace(ctx, star_round=number)
            large = self.stage(round_name("large", number), ctx)
            state = (sum(r["edges"] for r in large), sum(r["fingerprint"] for r in large) % 2**64)
            if state == previous:
                self.stage("relabel", ctx)
                return ctx
            previous = state
            self.stage(round_name("small", number), ctx)
        raise RunError(f"components: no convergence after {MAX_STAR_ROUNDS} star rounds")

    def stage(
        self,
        stage: str,
        ctx: RunContext,
        on_done: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Run the stage's unfinished tasks; returns every task's result. ``on_done(task,
        result)`` takes each task in task order as soon as it and all before it have finished
        (the executors return results in task order)."""
        clock = time.perf_counter()
        tasks = task_count(stage, ctx)
        results: list[dict[str, Any] | None] = [
            self.storage.finished(stage, i) for i in range(tasks)
        ]
        for done in results:
            if done is not None:
                done["reused"] = True
        missing = [i for i, r in enumerate(results) if r is None]
        handed = 0

        def hand_on() -> None:
            nonlocal handed
            while on_done is not None and handed < tasks:
                result = results[handed]
                if result is None:
                    return
                on_done(handed, result)
                handed += 1

        try:
            with progress(stage, total=len(missing), unit="task", quiet=self.quiet) as bar:
                fn = partial(run_task, stage, ctx)
                hand_on()
                for index, result in zip(missing, self.executor.map(fn, missing), strict=True):
                    results[index] = result
                    bar.update(1)
                    hand_on()
        except StorageError as err:
            raise RunError(f"stage {stage}: {err}; {self._kept(stage, results)}") from err
        except Exception as err:
            if self.executor.lost_worker(err):
                raise self._lost(stage, results) from err
            raise
        self.results[stage] = [r for r in results if r is not None]
        self.seconds[stage] = round(time.perf_counter() - clock, 3)
        return self.results[stage]

    def _kept(self, stage: str, results: list[dict[str, Any] | None]) -> str:
        done = sum(r is not None for r in results)
        return (
            f"{done:,} of its {count(len(results), 'task')} and all earlier stages are kept "
            f"in {self.storage.url}: run the same command again to resume"
        )

    def _lost(self, stage: str, results: list[dict[str, Any] | None]) -> RunError:
        return RunError(
            f"stage {stage}: a worker process died (killed, or out of memory: lower "
            f"--memory-limit or --workers); {self._kept(stage, results)}"
        )


def _layout(ctx: RunContext, results: list[dict[str, Any]]) -> RunContext:
    """Shards and partition counts, from the read stage's counts and the task memory."""
    shards = tuple((s, p) for s, r in enumerate(results) for p in range(len(r["parts"])))
    sizes = [n for r in results for n in r["parts"]]
    offsets = tuple(int(x) for x in np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]))
    documents = offsets[-1]
    if documents >= 1 << 32:
        raise InputError("over 4 billion documents in one run; split the corpus")
    config = ctx.config
    tasks, per_task, slices = band_layout(
        documents, config.bands + config.containment_bands, ctx.task_memory
    )
    return replace(
        ctx,
        shards=shards,
        offsets=offsets,
        exact_partitions=partitions_for(documents, BYTES_PER_EXACT_RECORD, ctx.task_memory),
        band_partitions=tasks,
        bands_per_task=per_task,
        band_slices=slices,
        learned=config.clean and config.learn_boilerplate,
    )


def final_decisions(ctx: RunContext, storage: Storage) -> Removals:
    """Near/contained decisions of representatives, then exact members follow theirs."""
    near = gather(
        storage, [f"decide/{q:05d}/decisions.parquet" for q in range(ctx.decide_partitions)]
    )
    if near.num_rows == 0:
        near = DECISION_SCHEMA.empty_table()
    members = exact_members(storage, ctx)
    if members.num_rows == 0:
        members = pa.table({"doc": np.zeros(0, np.int64), "rep": np.zeros(0, np.int64)})
    codes = {name: i for i, name in enumerate(REASONS)}
    return with_exact_members(
        ctx.documents,
        Removals(
            near.column("doc").to_numpy(),
            near.column("original").to_numpy(),
            near.column("jaccard").to_numpy(),
            near.column("containment").to_numpy(),
            np.array([codes[r] for r in near.column("reason").to_pylist()], dtype=np.int8),
        ),
        members.column("doc").to_numpy(),
        members.column("rep").to_numpy(),
    )


def _finish(
    ctx: RunContext,
    storage: Storage,
    driver: _Driver,
    out_dir: Path,
    problems: ProblemLog,
    quiet: bool,
    keep_work: bool,
) -> dict[str, Any]:
    """clusters.parquet, the kept corpus and the summary, from the stages' outputs."""
    clock = time.perf_counter()
    for stage in ("read", "ids"):
        for result in driver.results.get(stage, []):
            merge_problems(problems, result["problems"], storage)
    decisions = final_decisions(ctx, storage)
    ids = pa.chunked_array(
        [shard_ids(storage, ctx, s) for s in range(len(ctx.shards))], pa.string()
    ).combine_chunks()
    write_table_atomic(
        out_dir / "clusters.parquet",
        decisions_table(
            decisions.doc,
            decisions.original,
            decisions.jaccard,
            decisions.containment,
            pa.array(np.array(REASONS)[decisions.reason]),
            ids,
        ),
    )
    del ids
    removed = np.zeros(ctx.documents, dtype=bool)
    removed[decisions.doc] = True
    if ctx.shards and ctx.kept_format != "txt":
        written, files = _write_kept_parallel(
            ctx, storage, driver, out_dir, removed, problems, keep_work
        )
    else:
        written, files = _write_kept(ctx, storage, out_dir, removed, problems, quiet)
    driver.seconds["write"] = round(time.perf_counter() - clock, 3)
    summary = _summary(ctx, storage, driver, decisions, written, problems, ctx.kept_format)
    summary["kept_files"] = files
    return summary


def _write_kept(
    ctx: RunContext,
    storage: Storage,
    out_dir: Path,
    removed: np.ndarray,
    problems: ProblemLog,
    quiet: bool,
) -> tuple[int, list[str]]:
    """Stream the kept documents shard by shard, in input order, from this process."""
    with (
        KeptCorpus(out_dir, ctx.kept_format, ctx.config, problems, ctx.kept_compression) as writer,
        progress("write", total=int((~removed).sum()), unit="doc", quiet=quiet) as bar,
    ):
        for shard in range(len(ctx.shards)):
            gone = removed[ctx.offsets[shard] : ctx.offsets[shard + 1]]
            for record, text in kept_pairs(storage, ctx, shard, gone):
                writer.write(record, text)
                bar.update(1)
    return writer.count, writer.files


def _write_kept_parallel(
    ctx: RunContext,
    storage: Storage,
    driver: _Driver,
    out_dir: Path,
    removed: np.ndarray,
    problems: ProblemLog,
    keep_work: bool,
) -> tuple[int, list[str]]:
    """The workers write the kept corpus (stage ``write``), each task the kept documents of
    consecutive shards. One file: this process appends each task's part to it in input order
    as the task finishes (``joined_file``), and frees the part's disk (unless ``keep_work``). A
    split corpus: this process numbers the tasks' files in input order into ``out_dir``."""
    config = ctx.config
    masks = [removed[ctx.offsets[s] : ctx.offsets[s + 1]] for s in range(len(ctx.shards))]
    for shard, mask in enumerate(masks):
        write_mask(storage, shard, mask)
    schema = None
    if ctx.kept_format == "parquet":  # one schema for every file, as one writer would fix it
        pairs = (
            pair
            for shard in range(len(ctx.shards))
            for pair in kept_pairs(storage, ctx, shard, masks[shard])
        )
        schema = parquet_schema(pairs, config, kept_ids_as_text(problems), config.output_shard_size)
    ctx = replace(
        ctx,
        kept_ids_as_text=kept_ids_as_text(problems),
        kept_schema=None if schema is None else schema.serialize().to_pybytes(),
        write_group=write_group(ctx, config.output_shard_size or 0, ctx.kept_compression),
    )
    if config.output_shard_size:
        results = driver.stage("write", ctx)
        files = _number_files(ctx, storage, out_dir, results)
    else:
        files = [kept_name(ctx.kept_format, ctx.kept_compression)]
        with joined_file(
            storage,
            out_dir / files[0],
            ctx.kept_format,
            codec=ctx.kept_compression,
            schema=schema,
            text_field=config.text_field,
        ) as append:

            def join(task: int, result: dict[str, Any]) -> None:
                for name in result["files"]:
                    append(f"{task_dir('write', task)}/{name}")
                if not keep_work:
                    storage.discard_task("write", task)  # a rerun writes it again

            results = driver.stage("write", ctx, join)
    widened = {name for r in results for name in r["widened"]}
    for name in files if widened else ():  # in every file (a joined one has them already)
        widen_columns(out_dir / name, widened, ctx.kept_compression)
    dropped = {name for r in results for name in r["dropped"]}
    warn_columns(problems, str(out_dir / files[0]), widened, dropped)
    return sum(r["written"] for r in results), files


def _number_files(
    ctx: RunContext, storage: Storage, out_dir: Path, results: list[dict[str, Any]]
) -> list[str]:
    """The write tasks' files of a split corpus, numbered in input order into ``out_dir``."""
    written = sum(r["written"] for r in results)
    files: list[str] = []
    for task, result in enumerate(results):
        if result["written"] == 0 and (written or files):
            continue  # a share with nothing kept: no empty file (unless nothing was kept at all)
        for name in result["files"]:
            final = kept_name(ctx.kept_format, ctx.kept_compression, len(files))
            storage.get_file(f"{task_dir('write', task)}/{name}", out_dir / final)
            files.append(final)
    return files


def _summary(
    ctx: RunContext,
    storage: Storage,
    driver: _Driver,
    decisions: Removals,
    written: int,
    problems: ProblemLog,
    out_format: str,
) -> dict[str, Any]:
    results = driver.results

    def total(stage: str, key: str) -> int:
        return sum(int(r.get(key, 0)) for r in results.get(stage, []))

    removed_lines: Counter[str] = Counter()
    worker_seconds: Counter[str] = Counter()
    for r in results["sketch"]:
        removed_lines.update(r["removed_lines"])
        worker_seconds.update(r["seconds"])
    histogram = {"jaccard": np.zeros(100, np.int64), "containment": np.zeros(100, np.int64)}
    for r in results["verify"]:
        for name in histogram:
            histogram[name] += np.asarray(r["histogram"][name], dtype=np.int64)
    matchable = total("exact", "records")
    stats = {
        "documents": ctx.documents,
        "matchable": matchable,
        "exact_group_representatives": matchable - total("exact", "members"),
        "lsh_candidate_pairs": total("ship", "candidate_pairs"),
        "pairs_after_sketch_filter": total("verify", "after_filter"),
        "verified_pairs": total("verify", "verified"),
        "verified_duplicate_pairs": total("verify", "qualifying"),
        "directions_rejected_by_sentence_check": total("verify", "rejected"),
    }
    summary = run_summary(
        documents=ctx.documents,
        written=written,
        removed_by_reason=Counter(REASONS[i] for i in decisions.reason.tolist()),
        clusters=len(np.unique(decisions.original)),
        stats=stats,
        histogram={k: v.tolist() for k, v in histogram.items()},
        removed_lines=removed_lines,
        worker_seconds=worker_seconds,
        problems=problems,
        config=ctx.config,
        out_format=out_format,
        timings=dict(driver.seconds),
    )
    if ctx.learned:
        model = results["model"][0]["model"]
        summary["cleaning"]["learned_boilerplate"] = model
    else:
        summary["cleaning"]["learned_boilerplate"] = None
    summary["inputs"] = [input_name(s.path) for s in ctx.sources]
    in_process = driver.executor.in_process
    task_cpu = sum(
        r.get("cpu_seconds", 0.0) for rs in results.values() for r in rs if not r.get("reused")
    )
    bad = [
        str(ctx.sources[i].path)
        for i, r in enumerate(results["read"])
        if any(p[3] == "bad_shard" for p in r["problems"]["problems"])
    ]
    summary["execution"] = {
        "engine": "sharded",
        "executor": type(driver.executor).__name__,
        "workers": ctx.config.workers,
        "storage": storage.url,
        "task_memory_bytes": ctx.task_memory,
        "shards": len(ctx.shards),
        "partitions": {
            "exact": ctx.exact_partitions,
            "buckets": ctx.band_partitions,
            "decide": ctx.decide_partitions,
        },
        "temporary_disk_bytes": storage.usage(),
        "tasks": {
            stage: {
                "run": sum(not r.get("reused") for r in rs),
                "reused": sum(bool(r.get("reused")) for r in rs),
            }
            for stage, rs in results.items()
        },
        "bad_shards": bad,
        # The run's CPU cost: this process plus the tasks that ran elsewhere (worker processes,
        # Ray), which a measurement of the process tree cannot see.
        "cpu_seconds": round(time.process_time() + (0.0 if in_process else task_cpu), 3),
    }
    return summary
