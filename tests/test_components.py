"""Connected components: union-find and large-star/small-star agree with a plain reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.components import star_rounds, union_find


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
