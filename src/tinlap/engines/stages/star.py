"""Connected components as engine tasks: large-star / small-star rounds (``--components star``).

For graphs whose node labels do not fit one machine. Every round is two stages of tasks over
node partitions, each a group-by on edges alone (Kiveris et al., 2014):

* ``seed`` (one task per shard): the verified edges, both directions, routed by node; the full
  edge rows routed by their first node for ``relabel``;
* ``large-RRR`` (per node partition): each node links its larger neighbours to its smallest
  neighbour; it also reports a fingerprint of the edge set it received, so the driver stops
  when a round leaves the edge set unchanged (then every component is a star around its
  smallest node, and ``labels.parquet`` holds leaf -> centre);
* ``small-RRR`` (per node partition): each node links itself and its smaller neighbours to
  the smallest of them;
* ``relabel`` (per node partition): each edge gets its component (the centre) and goes to the
  ``decide`` partition of that component, exactly as the union-find stage routes it.

The labels are the union-find's (smallest node of each component), so the result is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.core.candidates import pack_pairs, unique_pairs
from tinlap.core.components import smallest_neighbour
from tinlap.core.sketch import mix64
from tinlap.engines.stages.context import RunContext, partition_of
from tinlap.engines.stages.exchange import gather, route
from tinlap.engines.stages.verify import EDGE_SCHEMA
from tinlap.io.storage import Storage

_MASK = (1 << 64) - 1


def round_name(kind: str, number: int) -> str:
    return f"{kind}-{number:03d}"


def seed_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    edges = storage.read_table(f"verify/{task:05d}/edges.parquet")
    a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
    parts = ctx.node_partitions
    u, v = np.concatenate([a, b]), np.concatenate([b, a])
    route(storage, f"seed/{task:05d}/sym", pa.table({"u": u, "v": v}), _part(u, parts), parts)
    route(storage, f"seed/{task:05d}/edges", edges, _part(a, parts), parts)
    return {"edges": edges.num_rows}


def large_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    r, parts = ctx.star_round, ctx.node_partitions
    if r == 0:
        paths = [f"seed/{s:05d}/sym-{task:04d}.parquet" for s in range(len(ctx.shards))]
    else:
        prev = round_name("small", r - 1)
        paths = [f"{prev}/{q:05d}/to-{task:04d}.parquet" for q in range(parts)]
    u, v = _unique_pairs(gather(storage, paths), "u", "v")
    forward = u > v  # each undirected edge once, as (larger, smaller)
    fingerprint = int(mix64(pack_pairs(u[forward], v[forward])).sum(dtype=np.uint64)) & _MASK
    name = round_name("large", r)
    storage.write_table(
        f"{name}/{task:05d}/labels.parquet", pa.table({"node": u[forward], "label": v[forward]})
    )
    nodes, smallest = smallest_neighbour(u, v)
    m = smallest[np.searchsorted(nodes, u)]
    larger = v > u
    hi, lo = v[larger], m[larger]
    route(storage, f"{name}/{task:05d}/to", pa.table({"hi": hi, "lo": lo}), _part(hi, parts), parts)
    return {"edges": int(forward.sum()), "fingerprint": fingerprint}


def small_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    r, parts = ctx.star_round, ctx.node_partitions
    source = round_name("large", r)
    paths = [f"{source}/{p:05d}/to-{task:04d}.parquet" for p in range(parts)]
    hi, lo = _unique_pairs(gather(storage, paths), "hi", "lo")
    nodes, smallest = smallest_neighbour(hi, lo)
    m = smallest[np.searchsorted(nodes, hi)]
    x = np.concatenate([lo, hi])
    y = np.concatenate([m, m])
    keep = x != y
    x, y = x[keep], y[keep]
    u, v = np.concatenate([x, y]), np.concatenate([y, x])
    name = round_name("small", r)
    route(storage, f"{name}/{task:05d}/to", pa.table({"u": u, "v": v}), _part(u, parts), parts)
    return {"edges": len(x)}


def relabel_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    labels = storage.read_table(f"{round_name('large', ctx.star_round)}/{task:05d}/labels.parquet")
    edges = gather(
        storage, [f"seed/{s:05d}/edges-{task:04d}.parquet" for s in range(len(ctx.shards))]
    )
    if edges.num_rows == 0:
        edges = EDGE_SCHEMA.empty_table()
    node, label = labels.column("node").to_numpy(), labels.column("label").to_numpy()
    order = np.argsort(node)
    node, label = node[order], label[order]
    a = edges.column("a").to_numpy()
    at = np.minimum(np.searchsorted(node, a), max(0, len(node) - 1))
    found = (node[at] == a) if len(node) else np.zeros(len(a), dtype=bool)
    component = np.where(found, label[at] if len(node) else a, a).astype(np.uint64)
    q = ctx.decide_partitions
    labelled = edges.append_column("component", pa.array(component.astype(np.int64)))
    route(storage, f"relabel/{task:05d}/part", labelled, partition_of(component, q), q)
    return {"edges": edges.num_rows}


def _part(nodes: np.ndarray, parts: int) -> np.ndarray:
    return partition_of(nodes.astype(np.uint64), parts)


def _unique_pairs(table: pa.Table, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    if table.num_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return unique_pairs(table.column(x).to_numpy(), table.column(y).to_numpy())
