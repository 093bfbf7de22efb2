"""Keep policies and the greedy, chain-free removal decision."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.decide import Decision, decide, policy_rank
from tinlap.core.rules import CopyRule
from tinlap.core.verify import PairScores

J_T, C_T = 0.5, 0.6  # the default thresholds
RULE = CopyRule(J_T, C_T)


def scores(rows: Sequence[tuple[int, int, float, float, float]]) -> PairScores:
    """PairScores from (a, b, jaccard, containment_a, containment_b) rows."""
    a, b, j, ca, cb = (list(col) for col in zip(*rows, strict=True)) if rows else ([],) * 5
    return PairScores(
        np.array(a, dtype=np.int64),
        np.array(b, dtype=np.int64),
        np.zeros(len(a), dtype=np.int64),
        np.array(j, dtype=np.float64),
        np.array(ca, dtype=np.float64),
        np.array(cb, dtype=np.float64),
    )


def removed_for(decisions: list[Decision]) -> dict[int, int]:
    return {d.doc: d.original for d in decisions}


# --- policy_rank ---------------------------------------------------------------------------------


def test_policy_longest_prefers_length_then_id() -> None:
    rank = policy_rank("longest", np.array([5, 9, 9, 1, 9]), ["d", "c", "b", "a", "e"])
    assert rank.tolist() == [3, 1, 0, 4, 2]


def test_policy_first_is_input_order() -> None:
    assert policy_rank("first", np.array([1, 50, 3]), ["z", "a", "m"]).tolist() == [0, 1, 2]


def test_policy_id_is_lexicographic_with_stable_ties() -> None:
    assert policy_rank("id", np.array([1, 2, 3, 4]), ["b", "a10", "a9", "b"]).tolist() == [
        2,
        0,
        1,
        3,
    ]


def test_unknown_policy_raises() -> None:
    with pytest.raises(ValueError, match="longest, first, id"):
        policy_rank("shortest", np.array([1]), ["a"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.text("abc", max_size=3)),
        max_size=12,
        unique_by=lambda t: t[1],
    ),
    st.randoms(),
)
def test_policy_rank_depends_on_the_document_not_its_position(
    docs: list[tuple[int, str]], random: object
) -> None:
    shuffled = list(docs)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    for policy in ("longest", "id"):
        ranks = []
        for order in (docs, shuffled):
            rank = policy_rank(policy, np.array([n for n, _ in order]), [i for _, i in order])
            assert sorted(rank.tolist()) == list(range(len(order)))  # a permutation
            ranks.append({doc: int(r) for doc, r in zip(order, rank.tolist(), strict=True)})
        assert ranks[0] == ranks[1]
    assert policy_rank("longest", np.zeros(0), []).tolist() == []


# --- decide --------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_no_chaining_through_a_middle_document(order: tuple[int, ...]) -> None:
    a_, b_, c_ = 0, 1, 2  # A≈B, B≈C, A≉C
    pairs = scores([(a_, b_, 0.7, 0.8, 0.8), (b_, c_, 0.7, 0.8, 0.8), (a_, c_, 0.2, 0.3, 0.3)])
    rank = np.empty(3, dtype=np.int64)
    rank[list(order)] = np.arange(3)
    decisions = decide(pairs, rank, RULE)
    gone = removed_for(decisions)
    assert gone.get(a_) != c_ and gone.get(c_) != a_
    for doc, original in gone.items():
        assert original not in gone  # removed only for a kept document...
        assert {doc, original} != {a_, c_}  # ...that it was directly verified against
    if order[0] == b_:  # B is preferred: both A and C go for it
        assert gone == {a_: b_, c_: b_}
    else:  # A (or C) is preferred: B goes for it, and the other end stays
        assert gone == {b_: order[0]}


def test_contained_copy_goes_and_its_container_stays() -> None:
    short, long = 0, 1  # 90% of the short text lies inside one three times longer
    pair = scores([(short, long, 0.28, 0.9, 0.3)])
    rank = policy_rank("longest", np.array([100, 300]), ["s", "l"])
    assert decide(pair, rank, RULE) == [Decision(short, long, 0.28, 0.9, "contained")]
    flipped = scores([(long, short, 0.28, 0.3, 0.9)])
    assert decide(flipped, rank, RULE) == [Decision(short, long, 0.28, 0.9, "contained")]


def test_containment_is_directional_so_with_first_policy_a_leading_short_doc_keeps_both() -> None:
    # Keep policy "first" with the short (contained) text first: it is kept, and the container
    # may not be removed for it (that would lose what only the container has), so both stay.
    pair = scores([(0, 1, 0.28, 0.9, 0.3)])
    rank = policy_rank("first", np.array([100, 300]), ["s", "l"])
    assert decide(pair, rank, RULE) == []


@pytest.mark.parametrize(
    ("policy", "lengths", "ids", "kept"),
    [
        ("longest", [90, 100], ["a", "b"], 1),
        ("longest", [100, 100], ["b", "a"], 1),
        ("first", [90, 100], ["b", "a"], 0),
        ("id", [100, 90], ["b", "a"], 1),
    ],
)
def test_near_pairs_follow_the_keep_policy(
    policy: str, lengths: list[int], ids: list[str], kept: int
) -> None:
    pair = scores([(0, 1, 0.8, 0.85, 0.9)])
    decisions = decide(pair, policy_rank(policy, np.array(lengths), ids), RULE)
    gone = 1 - kept
    containment = 0.85 if gone == 0 else 0.9
    assert decisions == [Decision(gone, kept, 0.8, containment, "near")]


def test_best_original_most_containment_then_jaccard_then_rank() -> None:
    # Doc 3 qualifies against kept docs 0, 1 and 2.
    rank = np.array([0, 1, 2, 3])

    def best(j_with_2: float) -> list[Decision]:
        return decide(
            scores([(3, 0, 0.55, 0.6, 0.9), (1, 3, 0.6, 0.8, 0.95), (3, 2, j_with_2, 0.95, 0.7)]),
            rank,
            RULE,
        )

    assert best(0.6) == [Decision(3, 1, 0.6, 0.95, "near")]  # 1 and 2 tie: better rank wins
    assert best(0.7) == [Decision(3, 2, 0.7, 0.95, "near")]  # same share, higher Jaccard
    assert decide(scores([]), np.array([0]), RULE) == []


def brute_scores(sets: list[set[int]], pairs: list[tuple[int, int]]) -> PairScores:
    rows = []
    for x, y in pairs:
        inter = len(sets[x] & sets[y])
        union = len(sets[x] | sets[y])
        rows.append(
            (
                x,
                y,
                inter / union if union else 0.0,
                inter / len(sets[x]) if sets[x] else 0.0,
                inter / len(sets[y]) if sets[y] else 0.0,
            )
        )
    return scores(rows)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_decisions_on_random_verified_graphs(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 9))
    sets = data.draw(st.lists(st.sets(st.integers(0, 12), max_size=10), min_size=n, max_size=n))
    doc = st.integers(0, n - 1)
    pairs = data.draw(
        st.lists(
            st.tuples(doc, doc).filter(lambda p: p[0] != p[1]),
            max_size=20,
            unique_by=lambda p: frozenset(p),
        )
    )
    rank = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    j_t = data.draw(st.sampled_from([0.3, 0.5, 0.8]))
    c_t = data.draw(st.sampled_from([0.5, 0.6, 1.0]))
    pair_scores = brute_scores(sets, pairs)

    # score[(x, y)] = (jaccard, containment of x in y)
    score: dict[tuple[int, int], tuple[float, float]] = {}
    for x, y, j, cx, cy in zip(
        pair_scores.a.tolist(),
        pair_scores.b.tolist(),
        pair_scores.jaccard.tolist(),
        pair_scores.containment_a.tolist(),
        pair_scores.containment_b.tolist(),
        strict=True,
    ):
        score[(x, y)], score[(y, x)] = (j, cx), (j, cy)

    def qualifies(x: int, y: int) -> bool:  # x may be removed as a copy of y
        return (x, y) in score and (score[(x, y)][0] >= j_t or score[(x, y)][1] >= c_t)

    decisions = decide(pair_scores, rank, CopyRule(j_t, c_t))
    gone = removed_for(decisions)
    assert [d.doc for d in decisions] == sorted(gone)
    for d in decisions:
        assert d.original not in gone and rank[d.original] < rank[d.doc]
        assert qualifies(d.doc, d.original)
        assert (d.jaccard, d.containment) == score[(d.doc, d.original)]
        assert d.reason == ("near" if d.jaccard >= j_t else "contained")

        # The chosen original's cluster holds the most of the doc's verified copies among the
        # kept candidates (regrouping); with one candidate, it is the only one.
        def cluster(x: int) -> int:
            return gone.get(x, x)

        def copies(x: int, y: int) -> bool:  # a usable copy edge between x and y
            return qualifies(x, y) if rank[y] < rank[x] else qualifies(y, x)

        def together(p: int, doc: int = d.doc) -> int:
            return sum(1 for y in range(n) if y != doc and copies(doc, y) and cluster(y) == p)

        candidates = [
            y for y in range(n) if y not in gone and rank[y] < rank[d.doc] and qualifies(d.doc, y)
        ]
        assert together(d.original) == max(together(y) for y in candidates)

    # As many removals as any kept set allows in which every removed document has a kept,
    # preferred document it qualifies against (brute force over all kept sets).
    def admissible(kept: set[int]) -> bool:
        return all(
            any(y in kept and rank[y] < rank[x] and qualifies(x, y) for y in range(n))
            for x in set(range(n)) - kept
        )

    most = max(
        n - len(kept)
        for r in range(1, n + 1)
        for kept in map(set, combinations(range(n), r))
        if admissible(kept)
    )
    assert len(gone) == most


def test_a_copy_goes_to_the_original_whose_cluster_holds_its_other_copies() -> None:
    # 0 and 1 are kept (not copies of each other). 2 copies both (best scores: 0); 3 copies
    # 1 and 2 only. Greedy by score alone puts 2 with 0 and 3 with 1, splitting the copy 2-3.
    rows = [(0, 2, 0.4, 0.3, 0.9), (1, 2, 0.4, 0.3, 0.8), (1, 3, 0.4, 0.3, 0.9)]
    rows.append((2, 3, 0.6, 0.7, 0.9))
    rank = np.arange(4)
    decisions = decide(scores(rows), rank, RULE)
    assert removed_for(decisions) == {2: 1, 3: 1}
    moved = next(d for d in decisions if d.doc == 2)
    assert (moved.jaccard, moved.containment) == (0.4, 0.8)  # the exact scores of 2 -> 1
    # Without the copy 2-3 the best scores decide, as before.
    assert removed_for(decide(scores(rows[:3]), rank, RULE)) == {2: 0, 3: 1}


def test_a_copy_of_the_best_text_stays_when_that_holds_its_own_copies_together() -> None:
    # One story, four outlets: 1 is a verified copy of the longest text 0; 2 and 3 are copies
    # of 1 (and 3 of 2) but not of 0. Greedy removes 1 for 0, then keeps 2 and removes 3 for
    # it: two removals, one verified pair (2-3) held. Keeping 1 removes as many (2 and 3 go
    # for it) and holds three pairs in one cluster, each removal a direct copy of its original.
    rows = [(1, 0, 0.6, 0.7, 0.7), (2, 1, 0.6, 0.7, 0.7), (3, 1, 0.6, 0.7, 0.7)]
    rows.append((3, 2, 0.6, 0.7, 0.7))
    assert removed_for(decide(scores(rows), np.arange(4), RULE)) == {2: 1, 3: 1}


def test_the_kept_set_that_removes_most_documents_wins() -> None:
    # 0 > 2 > 1 > 3 in keep order; 2 copies 0, and 1 and 3 copy only 2. Greedy removes 2 for
    # 0 and must then keep 1 and 3 (their one original is gone); keeping 2 removes both.
    rows = [(0, 2, 1.0, 1.0, 1.0), (1, 2, 1.0, 1.0, 1.0), (2, 3, 1.0, 1.0, 1.0)]
    rank = np.array([0, 2, 1, 3])
    assert removed_for(decide(scores(rows), rank, RULE)) == {1: 2, 3: 2}
