"""Stage ``sketch`` (one task per shard): clean, normalise and sketch the shard's documents.

Writes the shard's sketches (``docs.parquet``: length, shingle set, signature, cleaned text)
and routes two kinds of small records to the partitions of later stages: exact-key records by
key (stage ``exact``) and one LSH band record per band by (band, key) (stage ``buckets``), so
that every exact group and every bucket lands whole in one partition.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.candidates import band_keys
from tinlap.pipeline import _worker_state, clean_records
from tinlap.sketch import ShingleSets, exact_keys, minhash, shingle_sets
from tinlap.stages.context import RunContext, partition_of
from tinlap.stages.exchange import route
from tinlap.stages.ingest import load_part
from tinlap.stages.learn import load_model
from tinlap.storage import Storage


def sketch_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    config = ctx.config
    seconds: Counter[str] = Counter()
    clock = time.process_time()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.process_time()
        seconds[stage] += now - clock
        clock = now

    records = load_part(storage, ctx, task)
    model = load_model(ctx.root) if ctx.learned else None
    cleaned, results = clean_records(records, config, model)
    removed = Counter(r.rule for result in results if result for r in result.removed)
    lap("clean")
    tokens = _worker_state()[1].tokenise_batch(cleaned)
    lap("normalise")
    keys = exact_keys(tokens)
    shingles = shingle_sets(tokens, config.shingle_size)
    signatures = minhash(shingles, config.num_perm)
    lap("sketch")

    ids = [r.id for r in records]
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned))
    sizes = shingles.sizes
    base = ctx.offsets[task]
    storage.write_table(
        f"sketch/{task:05d}/docs.parquet",
        docs_table(ids, lengths, shingles, signatures, cleaned),
        row_group_size=1024,
    )
    matchable = np.flatnonzero(sizes > 0)
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
    exact_target = partition_of(keys[matchable, 1], ctx.exact_partitions)
    route(storage, f"sketch/{task:05d}/exact", exact, exact_target, ctx.exact_partitions)

    bkeys = band_keys(signatures[matchable], config.bands, config.rows)  # (m, bands)
    bands = np.broadcast_to(np.arange(config.bands, dtype=np.uint16), bkeys.shape)
    records_table = pa.table(
        {
            "band": bands.ravel(),
            "key": bkeys.ravel(),
            "doc": np.repeat(docs, config.bands),
            "size": np.repeat(sizes[matchable], config.bands),
        }
    )
    route_key = bkeys.ravel() ^ (bands.ravel().astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    band_target = partition_of(route_key, ctx.band_partitions)
    route(storage, f"sketch/{task:05d}/bands", records_table, band_target, ctx.band_partitions)
    lap("route")
    return {
        "documents": len(records),
        "removed_lines": dict(removed),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


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
