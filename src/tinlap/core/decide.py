"""Decide: which documents are kept, and which verified copy each removed one is removed for.

No chaining: a document is removed only for a *kept* document that it was directly verified
against, so a cluster never grows through a middle document into unlike texts (A≈B, B≈C, A≉C
removes at most one of A and C for B, never A for C).

Greedy in keep-policy order: the best document comes first and is kept; each following document
is removed if some already-kept document qualifies as its original, else it is kept too.
A pair qualifies in one direction x → y ("x is a copy of y") when Jaccard ≥ the near threshold
(either may go) or when containment of x in y ≥ the containment threshold (only the contained
one may go: removing the longer text would lose what only it has).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from tinlap.core.verify import PairScores

KEEP_POLICIES = ("longest", "first", "id")


def policy_rank(policy: str, lengths: np.ndarray, ids: list[str]) -> np.ndarray:
    """rank[i] = position of document i in keep-preference order (0 = most preferred).

    ``longest``: the most complete text (longest cleaned text), ties by id; ``first``: input
    order; ``id``: lexicographic id. Every policy is total and deterministic.
    """
    n = len(ids)
    if policy == "longest":
        by_id = np.argsort(np.array(ids, dtype=object), kind="stable")
        id_rank = np.empty(n, dtype=np.int64)
        id_rank[by_id] = np.arange(n)
        order = np.lexsort((id_rank, -np.asarray(lengths, dtype=np.int64)))
    elif policy == "first":
        order = np.arange(n)
    elif policy == "id":
        order = np.argsort(np.array(ids, dtype=object), kind="stable")
    else:
        raise ValueError(
            f"unknown keep policy {policy!r}; choose one of {', '.join(KEEP_POLICIES)}"
        )
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


@dataclass(frozen=True, slots=True)
class Decision:
    """Why document ``doc`` was removed: a copy of kept document ``original``."""

    doc: int
    original: int
    jaccard: float
    containment: float  # share of doc's shingles found in original
    reason: str  # "exact" | "near" | "contained"


def decide(
    scores: PairScores,
    rank: np.ndarray,
    jaccard_threshold: float,
    containment_threshold: float,
    rejected: frozenset[tuple[int, int]] = frozenset(),
) -> list[Decision]:
    """Greedy, chain-free removal over verified pairs (see module docstring).

    ``rejected`` holds directions (x, y) that reach a threshold but failed a further check
    (the sentence check of borderline pairs): x is never removed for y.
    """
    parents: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for a, b, j, ca, cb in scores.rows():
        if (j >= jaccard_threshold or ca >= containment_threshold) and (a, b) not in rejected:
            parents[a].append((b, j, ca))
        if (j >= jaccard_threshold or cb >= containment_threshold) and (b, a) not in rejected:
            parents[b].append((a, j, cb))

    removed: dict[int, Decision] = {}
    nodes = sorted(set(scores.a.tolist()) | set(scores.b.tolist()), key=lambda d: rank[d])
    for doc in nodes:
        best: tuple[float, float, int, int] | None = None
        for parent, j, c in parents.get(doc, ()):
            if rank[parent] < rank[doc] and parent not in removed:
                candidate = (-c, -j, int(rank[parent]), parent)
                if best is None or candidate < best:
                    best = candidate
        if best is not None:
            c, j, parent = -best[0], -best[1], best[3]
            reason = "near" if j >= jaccard_threshold else "contained"
            removed[doc] = Decision(doc, parent, j, c, reason)
    return sorted(removed.values(), key=lambda d: d.doc)
