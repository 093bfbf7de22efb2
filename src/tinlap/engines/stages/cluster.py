"""Stages ``components`` (one task) and ``decide`` (one task per partition): the clusters.

``cluster.decide`` is greedy along verified edges only, so components of the edge graph are
independent: ``components`` labels them (numpy union-find, memory per edge and per node *of an
edge*, not per document) and routes each component whole to one partition; ``decide`` runs the
same greedy, chain-free decision on each partition with the same keep policy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.components import union_find
from tinlap.core.decide import decide, policy_rank
from tinlap.core.rules import CopyRule
from tinlap.core.verify import PairScores
from tinlap.engines.stages.context import RunContext, partition_of, partitions_for
from tinlap.engines.stages.exchange import gather, route
from tinlap.engines.stages.verify import EDGE_SCHEMA
from tinlap.io.storage import Storage

BYTES_PER_EDGE = 400  # an edge row with two ids, while a decide task builds its graph
DECISION_SCHEMA = pa.schema(
    [
        ("doc", pa.int64()),
        ("original", pa.int64()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("reason", pa.string()),
    ]
)


def components_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    del task
    edges = gather(storage, [f"verify/{s:05d}/edges.parquet" for s in range(len(ctx.shards))])
    if edges.num_rows == 0:
        edges = EDGE_SCHEMA.empty_table()
    a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
    nodes = np.unique(np.concatenate([a, b]))
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    labels = union_find(len(nodes), lambda: [(la, lb)])
    parts = decide_partitions(edges.num_rows, ctx)
    component = nodes[labels[la]].astype(np.uint64)
    route(storage, "components/00000/part", edges, partition_of(component, parts), parts)
    return {
        "partitions": parts,
        "edges": edges.num_rows,
        "components": int((labels == np.arange(len(nodes))).sum()),
    }


def decide_partitions(edges: int, ctx: RunContext) -> int:
    """Partitions of whole components for ``decide`` (the same for either component method)."""
    return partitions_for(edges, BYTES_PER_EDGE, ctx.task_memory)


def decide_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    config = ctx.config
    if ctx.components == "star":
        paths = [f"relabel/{p:05d}/part-{task:04d}.parquet" for p in range(ctx.node_partitions)]
    else:
        paths = [f"components/00000/part-{task:04d}.parquet"]
    edges = gather(storage, paths)
    if edges.num_rows == 0:
        edges = EDGE_SCHEMA.empty_table()
    a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
    nodes, first = np.unique(np.concatenate([a, b]), return_index=True)
    lengths = np.concatenate(
        [edges.column("length_a").to_numpy(), edges.column("length_b").to_numpy()]
    )
    ids = pa.concat_arrays(
        [edges.column("id_a").combine_chunks(), edges.column("id_b").combine_chunks()]
    )
    rank = policy_rank(
        config.keep_policy, lengths[first], ids.take(pa.array(first)).to_pylist(), nodes
    )
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    scores = PairScores(
        la,
        lb,
        np.zeros(len(la), dtype=np.int64),
        edges.column("jaccard").to_numpy(),
        edges.column("containment_a").to_numpy(),
        edges.column("containment_b").to_numpy(),
    )
    reject_ab = edges.column("reject_ab").to_numpy(zero_copy_only=False)
    reject_ba = edges.column("reject_ba").to_numpy(zero_copy_only=False)
    rejected = frozenset(
        [(x, y) for x, y in zip(la[reject_ab].tolist(), lb[reject_ab].tolist(), strict=True)]
        + [(y, x) for x, y in zip(la[reject_ba].tolist(), lb[reject_ba].tolist(), strict=True)]
    )
    decisions = decide(scores, rank, CopyRule.of(config), rejected)
    table = pa.table(
        [
            nodes[[d.doc for d in decisions]].astype(np.int64),
            nodes[[d.original for d in decisions]].astype(np.int64),
            [d.jaccard for d in decisions],
            [d.containment for d in decisions],
            [d.reason for d in decisions],
        ],
        schema=DECISION_SCHEMA,
    )
    storage.write_table(f"decide/{task:05d}/decisions.parquet", table)
    return {"removed": table.num_rows}
