"""Stage ``sketch`` (one task per shard): clean, normalise and sketch the shard's documents.

Writes only what later stages read, compactly (``docs.parquet``, one row per document): the
cleaned length, the shingle count, the MinHash signature as one uint32 column per value, and the
cleaned text as a difference from the raw text the read stage keeps (``io.delta``). Bucket tasks
read just the signature columns of their bands; ``ship`` and ``filter`` read whole signatures;
shingle sets are not stored at all: ``verify`` rebuilds them from the text for the few documents
of the pairs it verifies. Exact-key records go to the partitions of stage ``exact``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.config import DedupConfig
from tinlap.core.batch import Laps, sketch_records
from tinlap.core.chrome import ChromeModel
from tinlap.engines.stages.context import RunContext, partition_of
from tinlap.engines.stages.exchange import route
from tinlap.engines.stages.ingest import iter_part
from tinlap.engines.stages.learn import load_model
from tinlap.io import delta
from tinlap.io.storage import Storage
from tinlap.records import Record


def docs_path(shard: int) -> str:
    return f"sketch/{shard:05d}/docs.parquet"


def signature_columns(num_perm: int) -> list[str]:
    """The names of the signature's columns: value i is column ``s{i:03d}``."""
    return [f"s{i:03d}" for i in range(num_perm)]


def sketch_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Sketch the shard batch by batch (``batch_size`` documents): memory holds one batch's
    texts and token arrays, plus the shard's exact-key records."""
    config = ctx.config
    model = load_model(ctx.root) if ctx.learned else None
    seconds: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    exact: list[pa.Table] = []
    documents = 0

    def tables() -> Iterator[pa.Table]:
        nonlocal documents
        for records in iter_part(storage, ctx, task, config.batch_size):
            base = ctx.offsets[task] + documents
            docs, exact_part = _sketch_batch(records, base, config, model, seconds, removed)
            exact.append(exact_part)
            documents += len(records)
            yield docs

    clock = time.process_time()
    storage.write_tables(docs_path(task), tables())
    exact_table = pa.concat_tables(exact)
    exact_target = partition_of(exact_table.column("lo").to_numpy(), ctx.exact_partitions)
    route(storage, f"sketch/{task:05d}/exact", exact_table, exact_target, ctx.exact_partitions)
    seconds["write"] = time.process_time() - clock - sum(seconds.values())
    return {
        "documents": documents,
        "removed_lines": dict(removed),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def _sketch_batch(
    records: list[Record],
    base: int,
    config: DedupConfig,
    model: ChromeModel | None,
    seconds: Counter[str],
    removed: Counter[str],
) -> tuple[pa.Table, pa.Table]:
    """One batch: its rows of docs.parquet and its exact-key records."""
    batch = sketch_records(records, config, model, seconds)
    removed.update(batch.removed_lines)
    lap = Laps(seconds)
    sizes = batch.shingles.sizes
    matchable = np.flatnonzero(sizes > 0)
    exact = pa.table(
        {
            "hi": batch.keys[matchable, 0],
            "lo": batch.keys[matchable, 1],
            "doc": base + matchable,
            "length": batch.lengths[matchable],
            "id": pa.array([records[i].id for i in matchable.tolist()], pa.string()),
        }
    )
    columns: dict[str, Any] = {"length": batch.lengths, "size": sizes.astype(np.int32)}
    names = signature_columns(config.num_perm)
    columns |= {name: batch.signatures[:, i] for i, name in enumerate(names)}
    columns["cleaned"] = pa.array(
        [delta.encode(r.text, text) for r, text in zip(records, batch.cleaned, strict=True)],
        pa.binary(),
    )
    lap("route")
    return pa.table(columns), exact


def read_signatures(storage: Storage, shard: int, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """A shard's (documents, num_perm) uint32 signatures and shingle counts."""
    names = signature_columns(num_perm)
    table = storage.read_table(docs_path(shard), ["size", *names])
    signatures = np.empty((table.num_rows, num_perm), dtype=np.uint32)
    for i, name in enumerate(names):
        signatures[:, i] = table.column(name).to_numpy()
    return signatures, table.column("size").to_numpy().astype(np.int64)


def cleaned_texts(
    storage: Storage, ctx: RunContext, shard: int, rows: np.ndarray | None = None
) -> list[str]:
    """The cleaned texts of a shard's ``rows`` (default: all), rebuilt from the raw texts."""
    raw = storage.read_table(ctx.part_path(shard), ["text"]).column("text")
    blobs = storage.read_table(docs_path(shard), ["cleaned"]).column("cleaned")
    if rows is not None:
        taken = pa.array(rows, pa.int64())
        raw, blobs = raw.take(taken), blobs.take(taken)
    return [
        delta.decode(text, blob)
        for text, blob in zip(raw.to_pylist(), blobs.to_pylist(), strict=True)
    ]
