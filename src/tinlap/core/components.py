"""Connected components of a graph given as edge arrays: the clustering kernel at scale.

Two methods with the same result (each node labelled by the smallest node of its component):

* ``union_find``: vectorised hook-and-compress (Shiloach-Vishkin style). Each round hooks the
  larger of two roots under the smaller for every edge at once, then compresses paths by
  pointer jumping; O(log n) rounds, memory = one label per node plus the edges. This is what
  runs on one machine, for billions of edges if they fit on disk in chunks.
* ``star_rounds``: large-star / small-star (Kiveris et al., 2014). Each round is a group-by on
  the edge list alone, with no shared state, which is what an engine can run as partitioned
  tasks when even the node labels do not fit one machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def union_find(
    n: int, edge_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]
) -> np.ndarray:
    """Component label (smallest member) of each node 0..n-1.

    ``edge_chunks`` is called once per round and yields (a, b) arrays, so edges can stream from
    disk instead of being held in memory.
    """
    parent = np.arange(n, dtype=np.int64)
    while True:
        changed = False
        for a, b in edge_chunks():
            pa_, pb = parent[a], parent[b]
            lo, hi = np.minimum(pa_, pb), np.maximum(pa_, pb)
            differ = lo != hi
            if differ.any():
                changed = True
                np.minimum.at(parent, hi[differ], lo[differ])
                _compress(parent)
        if not changed:
            return parent


def _compress(parent: np.ndarray) -> None:
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return
        parent[:] = grand


def star_rounds(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, labels): the components of the edges (a, b) by large-star/small-star rounds.

    Edges are kept as (larger, smaller) pairs; at the fixed point each component is a star
    around its smallest node.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    loop = a == b
    u, v = _dedup(np.maximum(a, b)[~loop], np.minimum(a, b)[~loop])
    while True:
        nu, nv = _small_star(*_large_star(u, v))
        if len(nu) == len(u) and np.array_equal(nu, u) and np.array_equal(nv, v):
            break
        u, v = nu, nv
    nodes = np.unique(np.concatenate([a, b]))
    label = nodes.copy()
    label[np.searchsorted(nodes, u)] = v
    return nodes, label


def smallest_neighbour(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each node of ``u``: the smallest of itself and its neighbours in ``v``."""
    nodes, inverse = np.unique(u, return_inverse=True)
    best = nodes.copy()
    np.minimum.at(best, inverse, v)
    return nodes, best


def _large_star(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node links its larger neighbours to its smallest neighbour (itself included)."""
    sym_u, sym_v = np.concatenate([u, v]), np.concatenate([v, u])
    nodes, best = smallest_neighbour(sym_u, sym_v)
    m = best[np.searchsorted(nodes, sym_u)]
    larger = sym_v > sym_u
    return _dedup(sym_v[larger], m[larger])


def _small_star(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node links itself and its smaller neighbours to the smallest of them."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    nodes, best = smallest_neighbour(hi, lo)
    m = best[np.searchsorted(nodes, hi)]
    out_u = np.concatenate([lo, hi])
    out_v = np.concatenate([m, m])
    keep = out_u != out_v
    return _dedup(out_u[keep], out_v[keep])


def _dedup(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(u) == 0:
        return u, v
    pairs = np.unique(np.stack([u, v], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]
