"""Connected components of a graph given as edge arrays: the clustering kernel at scale.

Each node is labelled by the smallest node of its component, by one of two methods:

* ``union_find``: vectorised hook-and-compress (Shiloach-Vishkin style). Each round hooks the
  larger of two roots under the smaller for every edge at once, then compresses paths by
  pointer jumping; O(log n) rounds, memory = one label per node plus the edges. This is what
  runs on one machine, for billions of edges if they fit on disk in chunks.
* large-star / small-star rounds (Kiveris et al., 2014), built on ``smallest_neighbour``: each
  round is a group-by on the edge list alone, with no shared state, which the sharded engine
  runs as partitioned tasks (``engines/stages/star.py``) when even the node labels do not fit
  one machine.
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


def smallest_neighbour(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each node of ``u``: the smallest of itself and its neighbours in ``v``."""
    nodes, inverse = np.unique(u, return_inverse=True)
    best = nodes.copy()
    np.minimum.at(best, inverse, v)
    return nodes, best
