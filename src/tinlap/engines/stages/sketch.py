"""Stage ``sketch`` (one task per shard): clean, normalise and sketch the shard's documents.

Writes the shard's sketches (``docs.parquet``: length, shingle set, signature, cleaned text)
and routes two kinds of small records to the partitions of later stages: exact-key records by
key (stage ``exact``) and one LSH band record per band by (band, key) (stage ``buckets``), so
that every exact group and every bucket lands whole in one partition.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.config import DedupConfig
from tinlap.core.batch import Laps, sketch_records
from tinlap.core.candidates import band_keys, containment_keys
from tinlap.core.chrome import ChromeModel
from tinlap.core.sketch import GOLDEN, ShingleSets
from tinlap.engines.stages.context import RunContext, partition_of
from tinlap.engines.stages.exchange import route
from tinlap.engines.stages.ingest import iter_part
from tinlap.engines.stages.learn import load_model
from tinlap.io.storage import Storage
from tinlap.records import Record


def sketch_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Sketch the shard batch by batch (``batch_size`` documents): memory holds one batch's
    texts and token arrays, plus the shard's sketches as they are encoded."""
    config = ctx.config
    model = load_model(ctx.root) if ctx.learned else None
    seconds: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    exact: list[pa.Table] = []
    bands: list[pa.Table] = []
    documents = 0

    def tables() -> Iterator[pa.Table]:
        nonlocal documents
        for records in iter_part(storage, ctx, task, config.batch_size):
            base = ctx.offsets[task] + documents
            docs, exact_part, band_part = _sketch_batch(
                records, base, config, model, seconds, removed
            )
            exact.append(exact_part)
            bands.append(band_part)
            documents += len(records)
            yield docs

    clock = time.process_time()
    storage.write_tables(f"sketch/{task:05d}/docs.parquet", tables())
    exact_table = pa.concat_tables(exact)
    exact_target = partition_of(exact_table.column("lo").to_numpy(), ctx.exact_partitions)
    route(storage, f"sketch/{task:05d}/exact", exact_table, exact_target, ctx.exact_partitions)
    band_table = pa.concat_tables(bands)
    route_key = band_table.column("key").to_numpy() ^ (
        band_table.column("band").to_numpy().astype(np.uint64) * GOLDEN
    )
    band_target = partition_of(route_key, ctx.band_partitions)
    route(storage, f"sketch/{task:05d}/bands", band_table, band_target, ctx.band_partitions)
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
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """One batch: its rows of docs.parquet, its exact-key records and its band records."""
    batch = sketch_records(records, config, model, seconds)
    removed.update(batch.removed_lines)
    lap = Laps(seconds)
    cleaned, lengths, keys = batch.cleaned, batch.lengths, batch.keys
    shingles, signatures = batch.shingles, batch.signatures
    ids = [r.id for r in records]
    matchable = np.flatnonzero(shingles.sizes > 0)
    docs = base + matchable
    exact = pa.table(
        {
            "hi": keys[matchable, 0],
            "lo": keys[matchable, 1],
            "doc": docs,
            "length": lengths[matchable],
            "id": pa.array([ids[i] for i in matchable.tolist()], pa.string()),
        }
    )
    # Bands 0..bands-1: the LSH bands; then the containment pass's 1-row bands.
    bkeys = band_keys(signatures[matchable], config.bands, config.rows)  # (m, bands)
    if config.containment_bands:
        ckeys = containment_keys(signatures[matchable], config.containment_bands)
        bkeys = np.concatenate([bkeys, ckeys], axis=1)
    width = bkeys.shape[1]
    band_table = pa.table(
        {
            "band": np.tile(np.arange(width, dtype=np.uint16), len(matchable)),
            "key": bkeys.ravel(),
            "doc": np.repeat(docs, width),
            "size": np.repeat(shingles.sizes[matchable].astype(np.int32), width),
        }
    )
    lap("route")
    return docs_table(ids, lengths, shingles, signatures, cleaned), exact, band_table


def docs_table(
    ids: list[str],
    lengths: np.ndarray,
    shingles: ShingleSets,
    signatures: np.ndarray,
    cleaned: list[str],
) -> pa.Table:
    """A shard's sketches, one row per document in input order."""
    width = signatures.shape[1] * 4
    sig = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(ids), [None, pa.py_buffer(np.ascontiguousarray(signatures))]
    )
    sets = pa.LargeListArray.from_arrays(
        pa.array(shingles.offsets, pa.int64()), pa.array(shingles.hashes, pa.uint64())
    )
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "length": lengths,
            "size": shingles.sizes,
            "signature": sig,
            "shingles": sets,
            "cleaned": pa.array(cleaned, pa.large_string()),
        }
    )


@dataclass(frozen=True, slots=True)
class ShardSketches:
    """A shard's sketches loaded back (index = row of the shard)."""

    ids: list[str]
    lengths: np.ndarray
    shingles: ShingleSets
    signatures: np.ndarray
    cleaned: pa.Array

    @classmethod
    def from_table(cls, table: pa.Table, num_perm: int) -> ShardSketches:
        sets = table.column("shingles").combine_chunks()
        offsets = sets.offsets.to_numpy().astype(np.int64)
        hashes = sets.values.to_numpy()
        if len(offsets) and offsets[0]:
            hashes, offsets = hashes[offsets[0] : offsets[-1]], offsets - offsets[0]
        sig = table.column("signature").combine_chunks()
        raw = np.frombuffer(sig.buffers()[1], dtype=np.uint32)
        start = sig.offset * num_perm
        signatures = raw[start : start + len(sig) * num_perm].reshape(len(sig), num_perm)
        return cls(
            table.column("id").to_pylist(),
            table.column("length").to_numpy(),
            ShingleSets(hashes, offsets),
            signatures,
            table.column("cleaned").combine_chunks(),
        )


def load_sketches(storage: Storage, shard: int, num_perm: int) -> ShardSketches:
    return ShardSketches.from_table(
        storage.read_table(f"sketch/{shard:05d}/docs.parquet"), num_perm
    )
