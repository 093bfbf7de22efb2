"""Stages ``exact`` and ``buckets`` (one task per partition): candidate pairs, never all pairs.

``exact`` groups identical texts (same exact key): the keep policy's favourite represents the
group and every other member becomes a (member, representative) edge, a star. ``buckets``
forms the LSH buckets of representatives and pairs their members exactly as the in-memory
``candidates.lsh_pairs`` does (all pairs of a small bucket, a size-sorted window in a large
one, and the rare buckets of the containment pass's 1-row bands as
``candidates.containment_pairs`` does), then routes each pair to the shard of its second
document for shipping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.candidates import (
    _bucket_pairs,
    containment_bucket_pairs,
    unique_pairs,
    unpack_pairs,
)
from tinlap.core.decide import policy_sort_keys
from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.exchange import gather, route
from tinlap.io.storage import Storage


def exact_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    table = gather(
        storage, [f"sketch/{s:05d}/exact-{task:04d}.parquet" for s in range(len(ctx.shards))]
    )
    members = {"doc": np.zeros(0, np.int64), "rep": np.zeros(0, np.int64)}
    if table.num_rows:
        keys = [("hi", "ascending"), ("lo", "ascending"), *policy_sort_keys(ctx.config.keep_policy)]
        table = table.sort_by(keys)
        hi, lo = table.column("hi").to_numpy(), table.column("lo").to_numpy()
        doc = table.column("doc").to_numpy()
        first = np.ones(len(doc), dtype=bool)
        first[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(doc)), 0))
        members = {"doc": doc[~first], "rep": doc[group_start[~first]]}
    storage.write_table(f"exact/{task:05d}/members.parquet", pa.table(members))
    return {"records": table.num_rows, "members": len(members["doc"])}


def exact_members(storage: Storage, ctx: RunContext) -> pa.Table:
    """Every (member, representative) edge of the run's exact groups."""
    return gather(storage, [f"exact/{p:05d}/members.parquet" for p in range(ctx.exact_partitions)])


def buckets_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    config = ctx.config
    table = gather(
        storage, [f"sketch/{s:05d}/bands-{task:04d}.parquet" for s in range(len(ctx.shards))]
    )
    not_rep = np.zeros(ctx.documents, dtype=bool)
    not_rep[exact_members(storage, ctx).column("doc").to_numpy()] = True
    a = b = np.zeros(0, dtype=np.int64)
    if table.num_rows:
        doc = table.column("doc").to_numpy()
        keep = ~not_rep[doc]
        band = table.column("band").to_numpy()[keep]
        key = table.column("key").to_numpy()[keep]
        size = table.column("size").to_numpy()[keep]
        doc = doc[keep]
        order = np.lexsort((doc, key, band))
        band, key, size, doc = band[order], key[order], size[order], doc[order]
        change = np.flatnonzero((band[1:] != band[:-1]) | (key[1:] != key[:-1])) + 1
        starts = np.concatenate(([0], change)).astype(np.int64)
        bucket_sizes = np.diff(np.concatenate((starts, [len(doc)])))
        local = np.arange(len(doc), dtype=np.int64)
        near = band[starts] < config.bands  # the rest: the containment pass's 1-row bands
        chunks = _bucket_pairs(
            local, starts[near], bucket_sizes[near], size, config.max_bucket, 50
        )
        chunks += containment_bucket_pairs(
            local,
            starts[~near],
            bucket_sizes[~near],
            size,
            config.containment_bucket,
            config.containment_size_ratio,
        )
        if chunks:
            lo, hi = unpack_pairs(np.concatenate(chunks))
            a, b = unique_pairs(doc[lo], doc[hi])  # a bucket is sorted by doc, so a < b
    shards = len(ctx.shards)
    route(
        storage,
        f"buckets/{task:05d}/to",
        pa.table({"a": a, "b": b}),
        ctx.shard_of(b),
        shards,
    )
    return {"band_records": table.num_rows, "pairs": len(a)}
