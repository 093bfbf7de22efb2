"""Stages ``ship`` and ``verify`` (one task per shard each): exact scores for candidate pairs.

A pair's two documents usually sit in different shards, and no task may hold the corpus. So
``ship`` (on the shard of a pair's second document b) sends b's sketch to the shard of its
first document a, and ``verify`` (on a's shard) has both: it applies the sketch pre-filter,
computes exact Jaccard and containments on the full shingle sets, and runs the sentence check
of borderline pairs, exactly as the in-memory ``pipeline.match`` does. It keeps only the pairs
that qualify in at least one direction: the edges of the duplicate graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.candidates import sketch_filter, unique_pairs
from tinlap.core.decide import preferred
from tinlap.core.match import similarity_histogram
from tinlap.core.rules import CopyRule
from tinlap.core.sketch import ShingleSets
from tinlap.core.verify import PairScores, verify
from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.exchange import gather, route
from tinlap.engines.stages.sketch import ShardSketches, load_sketches
from tinlap.io.storage import CorruptIntermediate, Storage

EDGE_SCHEMA = pa.schema(
    [
        ("a", pa.int64()),
        ("b", pa.int64()),
        ("jaccard", pa.float64()),
        ("containment_a", pa.float64()),
        ("containment_b", pa.float64()),
        ("reject_ab", pa.bool_()),  # a may not be removed for b (failed the sentence check)
        ("reject_ba", pa.bool_()),
        ("length_a", pa.int64()),
        ("length_b", pa.int64()),
        ("id_a", pa.string()),
        ("id_b", pa.string()),
    ]
)
_BATCH = 20_000  # shipped rows verified at once


def ship_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Send each candidate pair's b sketch to a's shard, in chunks of at most a shard's worth
    of pairs, so memory does not grow with the number of pairs per document."""
    pairs = gather(
        storage,
        [f"buckets/{p:05d}/to-{task:04d}.parquet" for p in range(ctx.band_partitions)],
    )
    a = b = np.zeros(0, dtype=np.int64)
    if pairs.num_rows:
        a, b = unique_pairs(pairs.column("a").to_numpy(), pairs.column("b").to_numpy())
    docs = storage.read_table(f"sketch/{task:05d}/docs.parquet")
    shards = len(ctx.shards)
    step = max(1, ctx.shard_docs // 4)
    chunks = max(1, -(-len(a) // step))
    for chunk in range(chunks):
        ca, cb = a[chunk * step : (chunk + 1) * step], b[chunk * step : (chunk + 1) * step]
        shipped = docs.take(pa.array(cb - ctx.offsets[task]))
        shipped = shipped.append_column("a", pa.array(ca)).append_column("b", pa.array(cb))
        route(storage, f"ship/{task:05d}/c{chunk:04d}-to", shipped, ctx.shard_of(ca), shards)
    return {"candidate_pairs": len(a), "chunks": chunks}


def shipped_files(storage: Storage, ctx: RunContext, shard: int) -> list[str]:
    """Every file shipped to ``shard``, from every ship task's chunks."""
    paths = []
    for source in range(len(ctx.shards)):
        done = storage.finished("ship", source)
        if done is None:
            raise CorruptIntermediate(f"ship/{source:05d}/_SUCCESS", "missing")
        paths += [
            f"ship/{source:05d}/c{chunk:04d}-to-{shard:04d}.parquet"
            for chunk in range(done["chunks"])
        ]
    return paths


def verify_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    config = ctx.config
    own = load_sketches(storage, task, config.num_perm)
    base = ctx.offsets[task]
    edges: list[pa.Table] = []
    stats = {"after_filter": 0, "verified": 0, "qualifying": 0, "rejected": 0}
    histogram = {"jaccard": np.zeros(100, np.int64), "containment": np.zeros(100, np.int64)}
    for path in shipped_files(storage, ctx, task):
        for batch in storage.iter_batches(path, _BATCH):
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            theirs = ShardSketches.from_table(table, config.num_perm)
            a = table.column("a").to_numpy()
            b = table.column("b").to_numpy()
            edges.append(_verify_batch(own, theirs, a - base, a, b, ctx, stats, histogram))
    table = pa.concat_tables(edges) if edges else EDGE_SCHEMA.empty_table()
    storage.write_table(f"verify/{task:05d}/edges.parquet", table)
    return {
        **stats,
        "edges": table.num_rows,
        "histogram": {k: v.tolist() for k, v in histogram.items()},
    }


def _verify_batch(
    own: ShardSketches,
    theirs: ShardSketches,
    rows: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    ctx: RunContext,
    stats: dict[str, int],
    histogram: dict[str, np.ndarray],
) -> pa.Table:
    """Filter, verify and sentence-check pairs (own row ``rows[i]``, shipped row i)."""
    config = ctx.config
    m = len(rows)
    signatures = np.concatenate([own.signatures[rows], theirs.signatures])
    sizes = np.concatenate([own.shingles.sizes[rows], theirs.shingles.sizes])
    pair = np.arange(m)
    keep = sketch_filter(
        signatures,
        sizes,
        pair,
        pair + m,
        config.jaccard_threshold,
        config.containment_threshold,
        config.prefilter_z,
    )
    kept = np.flatnonzero(keep)
    k = len(kept)
    sets = ShingleSets.concat([own.shingles.take(rows[kept]), theirs.shingles.take(kept)])
    scores = verify(sets, np.arange(k), np.arange(k) + k)

    def texts(docs: Any) -> dict[int, str]:
        return {
            d: (own.cleaned[rows[kept[d]]] if d < k else theirs.cleaned[kept[d - k]]).as_py()
            for d in docs
        }

    rule = CopyRule.of(config)
    own_rows, their_rows = rows[kept], kept
    a_preferred = preferred(
        config.keep_policy,
        (own.lengths[own_rows], theirs.lengths[their_rows]),
        ([own.ids[i] for i in own_rows.tolist()], [theirs.ids[i] for i in their_rows.tolist()]),
        (a[kept], b[kept]),
    )
    rejected = rule.pair_rejections(scores, texts, a_preferred)
    stats["after_filter"] += k
    stats["verified"] += len(scores)
    stats["qualifying"] += rule.count_qualifying(scores)
    stats["rejected"] += len(rejected)
    for name, counts in similarity_histogram(scores).items():
        histogram[name] += counts
    return _edges(scores, rejected, kept, rows, own, theirs, a, b, ctx)


def _edges(
    scores: PairScores,
    rejected: frozenset[tuple[int, int]],
    kept: np.ndarray,
    rows: np.ndarray,
    own: ShardSketches,
    theirs: ShardSketches,
    a: np.ndarray,
    b: np.ndarray,
    ctx: RunContext,
) -> pa.Table:
    """The pairs that can still remove a document in some direction."""
    k = len(kept)
    reject_ab = np.array([(i, i + k) in rejected for i in range(k)], dtype=bool)
    reject_ba = np.array([(i + k, i) in rejected for i in range(k)], dtype=bool)
    rule = CopyRule.of(ctx.config)
    ab = rule.qualifies(scores.jaccard, scores.containment_a)
    ba = rule.qualifies(scores.jaccard, scores.containment_b)
    useful = np.flatnonzero((ab & ~reject_ab) | (ba & ~reject_ba))
    own_rows = rows[kept[useful]]
    their_rows = kept[useful]
    return pa.table(
        [
            a[kept[useful]],
            b[kept[useful]],
            scores.jaccard[useful],
            scores.containment_a[useful],
            scores.containment_b[useful],
            reject_ab[useful],
            reject_ba[useful],
            own.lengths[own_rows],
            theirs.lengths[their_rows],
            pa.array([own.ids[i] for i in own_rows.tolist()], pa.string()),
            pa.array([theirs.ids[i] for i in their_rows.tolist()], pa.string()),
        ],
        schema=EDGE_SCHEMA,
    )
