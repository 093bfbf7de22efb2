"""Stages ``ship``, ``filter`` and ``verify`` (one task per shard each): exact scores for
candidate pairs, moving as little as possible between shards.

Most candidate pairs fail the sketch pre-filter (on VNTC, 6,257 of 263,094 pass), and a pair's
two documents usually sit in different shards. So the pairs travel, and each document's data
travels once per shard that needs it, never once per pair:

* ``ship`` (on the shard of each pair's second document b) sends the pairs to the shard of
  their first document a, with the shingle count and the low 16 bits of each signature value
  of each b that shard needs (256 bytes, not 512);
* ``filter`` (on a's shard) applies the sketch pre-filter. On 16-bit values two signatures
  agree wherever their 32-bit values do, and by chance at 128/65,536 more places per pair; the
  filter only grows with the number of agreeing places (``_conservative``), so it keeps every
  pair that the 32-bit filter keeps, and hardly any other. Survivors go back to b's shard, with
  the signature, cleaned text, length and id of each a that shard needs;
* ``verify`` (on b's shard) applies the pre-filter on the full signatures, exactly as the
  in-memory ``match`` does, rebuilds the shingle sets of the surviving pairs' documents from
  their cleaned texts, computes exact Jaccard and containments, and runs the sentence check of
  borderline pairs. It keeps only the pairs that qualify in at least one direction: the edges
  of the duplicate graph.

A pair whose two documents share a shard moves nothing but its two numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.batch import shingle_texts
from tinlap.core.candidates import sketch_filter, unique_pairs
from tinlap.core.decide import preferred
from tinlap.core.match import similarity_histogram
from tinlap.core.rules import CopyRule
from tinlap.core.verify import PairScores, verify
from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.exchange import gather, route
from tinlap.engines.stages.ingest import shard_ids
from tinlap.engines.stages.sketch import cleaned_texts, docs_path, read_signatures
from tinlap.io.storage import Storage

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
_PAIRS = pa.schema([("a", pa.int64()), ("b", pa.int64())])
_DOCS = pa.schema(
    [
        ("doc", pa.int64()),
        ("length", pa.int64()),
        ("size", pa.int64()),
        ("signature", pa.binary()),  # num_perm uint32 values
        ("id", pa.string()),
        ("text", pa.large_string()),
    ]
)
_FILTER_BATCH = 20_000  # pairs pre-filtered at once (two signatures each)
_VERIFY_BATCH = 20_000  # pairs verified at once (the shingle sets of their documents)


def ship_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Pairs (a, b) with b in this shard go to a's shard, with b's signature once per shard
    that needs it (none for pairs inside this shard)."""
    pairs = gather(
        storage,
        [f"buckets/{p:05d}/to-{task:04d}.parquet" for p in range(ctx.band_partitions)],
    )
    a = b = np.zeros(0, dtype=np.int64)
    if pairs.num_rows:
        a, b = unique_pairs(pairs.column("a").to_numpy(), pairs.column("b").to_numpy())
    shards = len(ctx.shards)
    target = ctx.shard_of(a)
    route(storage, f"ship/{task:05d}/pairs-to", pa.table({"a": a, "b": b}), target, shards)
    away = target != task
    needed = np.unique((target[away].astype(np.int64) << 32) | (b[away] - ctx.offsets[task]))
    dest, rows = needed >> 32, needed & 0xFFFFFFFF
    signatures, sizes = read_signatures(storage, task, ctx.config.num_perm)
    shipped = pa.table(
        {
            "b": rows + ctx.offsets[task],
            "size": sizes[rows],
            "low16": _fixed(signatures[rows].astype(np.uint16)),
        }
    )
    route(storage, f"ship/{task:05d}/sigs-to", shipped, dest, shards)
    return {"candidate_pairs": len(a), "signatures_shipped": len(rows)}


def filter_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """The sketch pre-filter of every pair whose a is in this shard (on the low 16 bits of b's
    signature when b is elsewhere); survivors go to b's shard, with a's signature and text
    once per shard that needs them."""
    config = ctx.config
    base = ctx.offsets[task]
    own_sig, own_size = read_signatures(storage, task, config.num_perm)
    own_low = own_sig.astype(np.uint16)
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    for source in range(len(ctx.shards)):
        pairs = storage.read_table(f"ship/{source:05d}/pairs-to-{task:04d}.parquet")
        if pairs.num_rows == 0:
            continue
        a, b = pairs.column("a").to_numpy(), pairs.column("b").to_numpy()
        if source == task:
            mine, their_sig, their_size, their_row = own_sig, own_sig, own_size, b - base
        else:
            shipped = storage.read_table(f"ship/{source:05d}/sigs-to-{task:04d}.parquet")
            their_sig = _unfixed(shipped.column("low16"), config.num_perm, np.uint16)
            their_size = shipped.column("size").to_numpy()
            their_row = np.searchsorted(shipped.column("b").to_numpy(), b)
            mine = own_low
        for start in range(0, len(a), _FILTER_BATCH):
            part = slice(start, start + _FILTER_BATCH)
            rows, theirs = a[part] - base, their_row[part]
            keep = _prefilter(
                np.concatenate([mine[rows], their_sig[theirs]]),
                np.concatenate([own_size[rows], their_size[theirs]]),
                ctx,
            )
            kept.append((a[part][keep], b[part][keep]))
    a = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, np.int64)
    b = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.int64)
    shards = len(ctx.shards)
    target = ctx.shard_of(b)
    route(storage, f"filter/{task:05d}/pairs-to", pa.table({"a": a, "b": b}), target, shards)
    away = target != task
    needed = np.unique((target[away].astype(np.int64) << 32) | (a[away] - base))
    dest, rows = needed >> 32, needed & 0xFFFFFFFF
    route(storage, f"filter/{task:05d}/docs-to", _doc_table(storage, ctx, task, rows), dest, shards)
    return {"candidates_left": len(a), "texts_shipped": len(rows)}


def _prefilter(signatures: np.ndarray, sizes: np.ndarray, ctx: RunContext) -> np.ndarray:
    """``sketch_filter`` of pairs (i, i + m) of ``signatures`` (2m rows).

    On the low 16 bits of signatures it is conservative: the filter is a function of the number
    of agreeing values that never falls as that number grows (the upper bound it tests rises
    with the estimate, or is capped at 1 where it would not), and the 16-bit values agree
    wherever the 32-bit ones do."""
    config = ctx.config
    m = len(signatures) // 2
    pair = np.arange(m)
    return sketch_filter(
        signatures,
        sizes,
        pair,
        pair + m,
        config.jaccard_threshold,
        config.containment_threshold,
        config.prefilter_z,
    )


def verify_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Exact scores and the sentence check of the surviving pairs whose b is in this shard."""
    shards = range(len(ctx.shards))
    pairs = gather(storage, [f"filter/{s:05d}/pairs-to-{task:04d}.parquet" for s in shards])
    if pairs.num_rows == 0:
        pairs = _PAIRS.empty_table()
    a, b = unique_pairs(pairs.column("a").to_numpy(), pairs.column("b").to_numpy())
    base = ctx.offsets[task]
    local = np.unique(np.concatenate([b, a[ctx.shard_of(a) == task]])) - base
    docs = pa.concat_tables(
        [
            _doc_table(storage, ctx, task, local),
            *(
                storage.read_table(f"filter/{s:05d}/docs-to-{task:04d}.parquet")
                for s in shards
                if s != task
            ),
        ]
    ).sort_by("doc")
    known = Docs(
        docs.column("doc").to_numpy(),
        docs.column("length").to_numpy(),
        docs.column("id").to_pylist(),
        docs.column("text").to_pylist(),
    )
    signatures = _unfixed(docs.column("signature"), ctx.config.num_perm, np.uint32)
    sizes = docs.column("size").to_numpy()
    ra, rb = known.rows(a), known.rows(b)
    keep = _prefilter(np.concatenate([signatures[ra], signatures[rb]]), sizes[np.r_[ra, rb]], ctx)
    a, b = a[keep], b[keep]
    edges: list[pa.Table] = []
    stats = {"after_filter": len(a), "verified": 0, "qualifying": 0, "rejected": 0}
    histogram = {"jaccard": np.zeros(100, np.int64), "containment": np.zeros(100, np.int64)}
    for start in range(0, len(a), _VERIFY_BATCH):
        part = slice(start, start + _VERIFY_BATCH)
        edges.append(_verify_batch(known, a[part], b[part], ctx, stats, histogram))
    table = pa.concat_tables(edges) if edges else EDGE_SCHEMA.empty_table()
    storage.write_table(f"verify/{task:05d}/edges.parquet", table)
    return {
        **stats,
        "edges": table.num_rows,
        "histogram": {k: v.tolist() for k, v in histogram.items()},
    }


class Docs:
    """Length, id and cleaned text of the documents a verify task needs, by document number."""

    def __init__(self, doc: np.ndarray, length: np.ndarray, ids: list[str], texts: list[str]):
        self.doc, self.length, self.ids, self.texts = doc, length, ids, texts

    def rows(self, docs: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.doc, docs)


def _verify_batch(
    known: Docs,
    a: np.ndarray,
    b: np.ndarray,
    ctx: RunContext,
    stats: dict[str, int],
    histogram: dict[str, np.ndarray],
) -> pa.Table:
    """Verify and sentence-check pairs (a[i], b[i]), on shingle sets rebuilt from their texts."""
    config = ctx.config
    involved = np.unique(np.concatenate([a, b]))
    texts = [known.texts[r] for r in known.rows(involved).tolist()]
    sets = shingle_texts(texts, config.shingle_size, config.shingles, config.char_shingle_size)
    la, lb = np.searchsorted(involved, a), np.searchsorted(involved, b)
    scores = verify(sets, la, lb)
    rule = CopyRule.of(config)
    ra, rb = known.rows(a), known.rows(b)
    a_preferred = preferred(
        config.keep_policy,
        (known.length[ra], known.length[rb]),
        ([known.ids[i] for i in ra.tolist()], [known.ids[i] for i in rb.tolist()]),
        (a, b),
    )
    rejected = rule.pair_rejections(scores, lambda docs: {d: texts[d] for d in docs}, a_preferred)
    stats["verified"] += len(scores)
    stats["qualifying"] += rule.count_qualifying(scores)
    stats["rejected"] += len(rejected)
    for name, counts in similarity_histogram(scores).items():
        histogram[name] += counts
    directions = list(zip(la.tolist(), lb.tolist(), strict=True))
    reject_ab = np.array([(x, y) in rejected for x, y in directions], dtype=bool)
    reject_ba = np.array([(y, x) in rejected for x, y in directions], dtype=bool)
    ab = rule.qualifies(scores.jaccard, scores.containment_a)
    ba = rule.qualifies(scores.jaccard, scores.containment_b)
    useful = np.flatnonzero((ab & ~reject_ab) | (ba & ~reject_ba))
    return _edges(scores, useful, reject_ab, reject_ba, known, a, b)


def _edges(
    scores: PairScores,
    useful: np.ndarray,
    reject_ab: np.ndarray,
    reject_ba: np.ndarray,
    known: Docs,
    a: np.ndarray,
    b: np.ndarray,
) -> pa.Table:
    """The pairs that can still remove a document in some direction."""
    ra, rb = known.rows(a[useful]), known.rows(b[useful])
    return pa.table(
        [
            a[useful],
            b[useful],
            scores.jaccard[useful],
            scores.containment_a[useful],
            scores.containment_b[useful],
            reject_ab[useful],
            reject_ba[useful],
            known.length[ra],
            known.length[rb],
            pa.array([known.ids[i] for i in ra.tolist()], pa.string()),
            pa.array([known.ids[i] for i in rb.tolist()], pa.string()),
        ],
        schema=EDGE_SCHEMA,
    )


def _doc_table(storage: Storage, ctx: RunContext, shard: int, rows: np.ndarray) -> pa.Table:
    """What verification needs of a shard's ``rows``: length, shingle count, signature, id and
    cleaned text."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return _DOCS.empty_table()
    lengths = storage.read_table(docs_path(shard), ["length"]).column("length").to_numpy()
    signatures, sizes = read_signatures(storage, shard, ctx.config.num_perm)
    return pa.table(
        [
            rows + ctx.offsets[shard],
            lengths[rows],
            sizes[rows],
            _fixed(signatures[rows]).cast(pa.binary()),
            shard_ids(storage, ctx, shard).take(pa.array(rows)),
            cleaned_texts(storage, ctx, shard, rows),
        ],
        schema=_DOCS,
    )


def _fixed(signatures: np.ndarray) -> pa.Array:
    """(n, k) signatures as one fixed-size binary column (a row = one signature)."""
    width = signatures.shape[1] * signatures.itemsize
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(signatures), [None, pa.py_buffer(np.ascontiguousarray(signatures))]
    )


def _unfixed(column: pa.ChunkedArray, num_perm: int, dtype: type[np.unsignedinteger]) -> np.ndarray:
    """``_fixed``'s (n, num_perm) array back, from a fixed-size or plain binary column."""
    array = column.combine_chunks()
    if not pa.types.is_fixed_size_binary(array.type):
        width = num_perm * np.dtype(dtype).itemsize
        array = array.cast(pa.binary(width))
    if len(array) == 0:
        return np.zeros((0, num_perm), dtype=dtype)
    raw = np.frombuffer(array.buffers()[1], dtype=dtype)
    start = array.offset * num_perm
    return raw[start : start + len(array) * num_perm].reshape(len(array), num_perm)
