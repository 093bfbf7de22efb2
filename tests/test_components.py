"""Connected components: union-find and large-star/small-star agree with a plain reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.components import smallest_neighbour, union_find


def reference_labels(n: int, a: list[int], b: list[int]) -> np.ndarray:
    """Smallest member of each node's component, by a breadth-first walk."""
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for x, y in zip(a, b, strict=True):
        neighbours[x].add(y)
        neighbours[y].add(x)
    label = np.full(n, -1)
    for start in range(n):
        if label[start] >= 0:
            continue
        stack, members = [start], []
        label[start] = start
        while stack:
            node = stack.pop()
            members.append(node)
            for other in neighbours[node]:
                if label[other] < 0:
                    label[other] = start
                    stack.append(other)
    return label


graphs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80),
    )
)


# The in-memory large-star/small-star reference the task version (engines/stages/star.py) is
# held against.
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


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_both_methods_label_each_node_with_its_components_smallest_node(graph) -> None:
    n, edges = graph
    a = [x for x, _ in edges]
    b = [y for _, y in edges]
    expected = reference_labels(n, a, b)
    got = union_find(n, lambda: [(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))])
    assert got.tolist() == expected.tolist()
    if edges:
        nodes, labels = star_rounds(np.array(a), np.array(b))
        assert labels.tolist() == expected[nodes].tolist()


def test_a_long_path_converges_and_edges_can_stream_in_chunks() -> None:
    n = 10_000
    order = np.random.default_rng(0).permutation(n)  # a path through the nodes in random order
    a, b = order[:-1], order[1:]
    chunks = [(a[i : i + 1000], b[i : i + 1000]) for i in range(0, len(a), 1000)]
    assert (union_find(n, lambda: chunks) == 0).all()
    nodes, labels = star_rounds(a, b)
    assert len(nodes) == n and (labels == 0).all()


def test_star_rounds_as_tasks_route_every_edge_with_its_component(tmp_path) -> None:
    """The task version on a graph with long paths and many components (several rounds)."""
    import pyarrow as pa

    from tinlap.config import DedupConfig
    from tinlap.engines.executors import LocalExecutor
    from tinlap.engines.sharded import _Driver
    from tinlap.engines.stages.context import RunContext, partition_of
    from tinlap.engines.stages.verify import EDGE_SCHEMA
    from tinlap.io.storage import Storage

    rng = np.random.default_rng(7)
    n = 3000
    order = rng.permutation(n)
    a = np.concatenate([order[:-1], rng.integers(0, n, 300)])  # one long path, plus chords
    b = np.concatenate([order[1:], rng.integers(0, n, 300)])
    cut = rng.random(len(a)) < 0.2  # cut the path: many components of all lengths
    a, b = np.minimum(a[~cut], b[~cut]), np.maximum(a[~cut], b[~cut])
    keep = a != b
    a, b = a[keep], b[keep]
    storage = Storage(str(tmp_path))
    halves = np.array_split(np.arange(len(a)), 2)
    for shard, rows in enumerate(halves):
        m = len(rows)
        table = pa.table(
            [
                a[rows],
                b[rows],
                np.ones(m),
                np.ones(m),
                np.ones(m),
                np.zeros(m, bool),
                np.zeros(m, bool),
                np.ones(m, np.int64),
                np.ones(m, np.int64),
                pa.array([str(x) for x in a[rows]]),
                pa.array([str(x) for x in b[rows]]),
            ],
            schema=EDGE_SCHEMA,
        )
        storage.write_table(f"verify/{shard:05d}/edges.parquet", table)
    ctx = RunContext(
        str(tmp_path),
        DedupConfig(),
        (),
        64 * 2**20,
        shards=((0, 0), (0, 1)),
        offsets=(0, n // 2, n),
        components="star",
    )
    driver = _Driver(storage, LocalExecutor(1), quiet=True)
    driver.results["verify"] = [{"edges": len(r)} for r in halves]
    ctx = driver._star(ctx)
    assert ctx.star_round >= 3
    expected = union_find(n, lambda: [(a, b)])
    seen = 0
    for p in range(ctx.node_partitions):
        for q in range(ctx.decide_partitions):
            part = storage.read_table(f"relabel/{p:05d}/part-{q:04d}.parquet")
            ea = part.column("a").to_numpy()
            assert part.column("component").to_numpy().tolist() == expected[ea].tolist()
            assert (partition_of(expected[ea].astype(np.uint64), ctx.decide_partitions) == q).all()
            seen += part.num_rows
    assert seen == len(a)
