"""Stages ``exact`` and ``buckets`` (one task per partition): candidate pairs, never all pairs.

``exact`` groups identical texts (same exact key): the keep policy's favourite represents the
group and every other member becomes a (member, representative) edge, a star. ``buckets``
forms the LSH buckets of representatives and pairs their members exactly as the in-memory
``candidates.lsh_pairs`` does (all pairs of a small bucket, a size-sorted window in a large
one, and the rare buckets of the containment pass's 1-row bands as
``candidates.containment_pairs`` does), then routes each pair to the shard of its second
document for shipping.

A bucket task owns whole bands (``RunContext.task_bands``) and reads their band keys straight
from the signature columns of every shard (2 of 128 columns for an LSH band of 2 rows, 1 for a
containment band), so no band record is ever written: the keys are the signature's values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.candidates import (
    _bucket_pairs,
    band_keys,
    containment_bucket_pairs,
    unique_pairs,
    unpack_pairs,
)
from tinlap.core.decide import policy_sort_keys
from tinlap.core.sketch import GOLDEN
from tinlap.engines.stages.context import RunContext, partition_of
from tinlap.engines.stages.exchange import gather, route
from tinlap.engines.stages.sketch import docs_path, signature_columns
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
    bands, piece = ctx.task_bands(task)
    band, key, doc, size = _band_records(ctx, storage, bands, piece)
    not_rep = np.zeros(ctx.documents, dtype=bool)
    not_rep[exact_members(storage, ctx).column("doc").to_numpy()] = True
    a = b = np.zeros(0, dtype=np.int64)
    keep = ~not_rep[doc]
    band, key, size, doc = band[keep], key[keep], size[keep], doc[keep]
    if len(doc):
        order = np.lexsort((doc, key, band))
        band, key, size, doc = band[order], key[order], size[order], doc[order]
        change = np.flatnonzero((band[1:] != band[:-1]) | (key[1:] != key[:-1])) + 1
        starts = np.concatenate(([0], change)).astype(np.int64)
        bucket_sizes = np.diff(np.concatenate((starts, [len(doc)])))
        local = np.arange(len(doc), dtype=np.int64)
        near = band[starts] < config.bands  # the rest: the containment pass's 1-row bands
        chunks = _bucket_pairs(local, starts[near], bucket_sizes[near], size, config.max_bucket, 50)
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
    return {"band_records": len(band), "pairs": len(a)}


def _band_records(
    ctx: RunContext, storage: Storage, bands: range, piece: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(band, key, doc, size) of every matchable document in ``bands``: band i < ``bands`` is
    LSH band i (values i*rows..), band ``bands`` + j the containment pass's value j; with
    several slices, only the keys of slice ``piece``."""
    config = ctx.config
    rows = config.rows
    needed: dict[int, list[int]] = {  # band -> its signature columns
        b: list(range(b * rows, (b + 1) * rows)) if b < config.bands else [b - config.bands]
        for b in bands
    }
    columns = sorted({c for cs in needed.values() for c in cs})
    names = signature_columns(config.num_perm)
    parts: list[tuple[np.ndarray, ...]] = []
    for shard in range(len(ctx.shards)):
        table = storage.read_table(docs_path(shard), ["size", *(names[c] for c in columns)])
        size = table.column("size").to_numpy().astype(np.int64)
        matchable = np.flatnonzero(size > 0)
        values = {c: table.column(names[c]).to_numpy()[matchable] for c in columns}
        doc = ctx.offsets[shard] + matchable
        size = size[matchable]
        for b, cs in needed.items():
            sig = np.stack([values[c] for c in cs], axis=1)
            key = band_keys(sig, 1, rows)[:, 0] if b < config.bands else sig[:, 0].astype(np.uint64)
            band = np.full(len(doc), b, np.uint16)
            chosen = slice(None)
            if ctx.band_slices > 1:
                spread = key ^ (band.astype(np.uint64) * GOLDEN)
                chosen = np.flatnonzero(partition_of(spread, ctx.band_slices) == piece)
            parts.append((band[chosen], key[chosen], doc[chosen], size[chosen]))
    if not parts:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.uint16), np.zeros(0, np.uint64), empty, empty
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))  # type: ignore[return-value]
