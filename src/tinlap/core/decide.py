"""Decide: which documents are kept, and which verified copy each removed one is removed for.

No chaining: a document is removed only for a *kept* document that it was directly verified
against, so a cluster never grows through a middle document into unlike texts (A≈B, B≈C, A≉C
removes at most one of A and C for B, never A for C).

A document may only be removed for a document the keep policy prefers (``POLICY_SORT_KEYS``),
and only where ``rules.CopyRule`` says the direction x → y qualifies. Within those rules each
group of connected copies chooses its kept set: the most documents removed, then the most
verified copy pairs in one cluster, greedy keep order (the best document first and kept, each
following one removed if some kept document qualifies as its original) breaking ties
(``_best_kept``); then each removed document goes to the kept original whose cluster holds
most of its copies (``_regroup``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tinlap.core.rules import REASONS, CopyRule
from tinlap.core.verify import PairScores

# Keep policies, as Arrow sort keys over the columns ``length`` (cleaned characters), ``doc``
# (input order) and ``id``: the one definition behind both ``policy_rank`` (the in-memory order)
# and the sharded exact stage's table sort. Every policy is total: ids are unique.
POLICY_SORT_KEYS: dict[str, list[tuple[str, str]]] = {
    "longest": [("length", "descending"), ("id", "ascending")],  # the most complete text
    "first": [("doc", "ascending")],  # input order
    "id": [("id", "ascending")],  # lexicographic id
}
KEEP_POLICIES = tuple(POLICY_SORT_KEYS)


def policy_sort_keys(policy: str) -> list[tuple[str, str]]:
    """The Arrow sort keys of ``policy`` (a new policy is one entry of ``POLICY_SORT_KEYS``)."""
    try:
        return POLICY_SORT_KEYS[policy]
    except KeyError:
        raise ValueError(
            f"unknown keep policy {policy!r}; choose one of {', '.join(KEEP_POLICIES)}"
        ) from None


def policy_rank(
    policy: str, lengths: np.ndarray, ids: list[str], docs: np.ndarray | None = None
) -> np.ndarray:
    """rank[i] = position of document i in keep-preference order (0 = most preferred).

    ``docs`` are the documents' input positions (default: their order here). Arrow compares
    strings by UTF-8 bytes, which is code-point order, as Python does.
    """
    n = len(ids)
    table = pa.table(
        {
            "length": np.asarray(lengths, dtype=np.int64),
            "doc": np.arange(n, dtype=np.int64) if docs is None else np.asarray(docs, np.int64),
            "id": pa.array(ids, pa.string()),
        }
    )
    order = pc.sort_indices(table, sort_keys=policy_sort_keys(policy)).to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def preferred(
    policy: str,
    lengths: tuple[np.ndarray, np.ndarray],
    ids: tuple[list[str], list[str]],
    docs: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Per pair i: is the first document preferred to the second by ``policy``?

    The pairwise form of ``policy_rank`` (the same sort keys, compared key by key), for stages
    that see a pair's two documents but not the whole ranking: the less preferred side is the
    only one that can be removed, so only its direction needs the text check.
    """
    columns = {
        "length": (np.asarray(lengths[0], np.int64), np.asarray(lengths[1], np.int64)),
        "doc": (np.asarray(docs[0], np.int64), np.asarray(docs[1], np.int64)),
        "id": (np.array(ids[0], dtype=object), np.array(ids[1], dtype=object)),
    }
    n = len(columns["doc"][0])
    result = np.zeros(n, dtype=bool)
    open_ = np.ones(n, dtype=bool)  # still tied on every key so far
    for name, order in policy_sort_keys(policy):
        x, y = columns[name]
        before = (x > y) if order == "descending" else (x < y)
        after = (x < y) if order == "descending" else (x > y)
        result |= open_ & before.astype(bool)
        open_ &= ~(before.astype(bool) | after.astype(bool))
    return result


@dataclass(frozen=True, slots=True)
class Decision:
    """Why document ``doc`` was removed: a copy of kept document ``original``."""

    doc: int
    original: int
    jaccard: float
    containment: float  # share of doc's shingles found in original
    reason: str  # "exact" | "near" | "contained"


Edge = tuple[int, float, float]  # (original, Jaccard, containment of the copy in it)

# Kept-set search per component of verified copies (``_best_kept``): components up to this many
# documents, at most this many steps of the search and kept sets scored each. Past the first
# two bounds the greedy kept set stands, past the third the first ones found are compared;
# all are fixed numbers, so a component decides the same in every engine and partition.
SEARCH_DOCUMENTS = 24
SEARCH_STEPS = 20_000
SEARCH_SETS = 64


def decide(
    scores: PairScores,
    rank: np.ndarray,
    rule: CopyRule,
    rejected: frozenset[tuple[int, int]] = frozenset(),
) -> list[Decision]:
    """Chain-free removal over verified pairs (see module docstring).

    ``rejected`` holds directions (x, y) that qualify by their scores but failed the rule's
    text check: x is never removed for y.
    """
    parents: dict[int, list[Edge]] = defaultdict(list)  # doc -> originals
    ab = rule.qualifies(scores.jaccard, scores.containment_a).tolist()
    ba = rule.qualifies(scores.jaccard, scores.containment_b).tolist()
    for (a, b, j, ca, cb), qa, qb in zip(scores.rows(), ab, ba, strict=True):
        if qa and (a, b) not in rejected:
            parents[a].append((b, j, ca))
        if qb and (b, a) not in rejected:
            parents[b].append((a, j, cb))

    # Usable copy edges: x may go for y (y preferred), the scores qualify, the text agrees.
    usable: dict[int, list[Edge]] = {
        doc: [p for p in found if rank[p[0]] < rank[doc]] for doc, found in parents.items()
    }
    neighbours: dict[int, set[int]] = defaultdict(set)
    for doc, found in usable.items():
        for parent, _, _ in found:
            neighbours[doc].add(parent)
            neighbours[parent].add(doc)
    removed: dict[int, Decision] = {}
    for component in _components(neighbours, rank):
        removed.update(_best_kept(component, usable, neighbours, rank, rule))
    return sorted(removed.values(), key=lambda d: d.doc)


def _components(neighbours: dict[int, set[int]], rank: np.ndarray) -> list[list[int]]:
    """Connected components of the usable copy edges, each in keep order."""
    seen: set[int] = set()
    out = []
    for start in sorted(neighbours, key=lambda d: rank[d]):
        if start in seen:
            continue
        seen.add(start)
        stack, component = [start], []
        while stack:
            doc = stack.pop()
            component.append(doc)
            for other in neighbours[doc] - seen:
                seen.add(other)
                stack.append(other)
        out.append(sorted(component, key=lambda d: rank[d]))
    return out


def _best_kept(
    component: list[int],
    usable: dict[int, list[Edge]],
    neighbours: dict[int, set[int]],
    rank: np.ndarray,
    rule: CopyRule,
) -> dict[int, Decision]:
    """The removals of one component: as many as any admissible kept set allows, then as many
    verified copy pairs in one cluster as possible.

    Greedy in keep order (a document goes iff a kept, preferred document is its verified copy)
    fixes the kept set by order alone. One story reposted by several outlets shows where that
    splits copies: B, a verified copy of the longest text A, goes for it; C and D, copies of
    B but not of A, then stay apart from B, and one of them is kept for the other. Keeping B
    instead removes as many documents (C and D go for B) and holds three verified pairs in one
    cluster, not one. So the kept sets that remove the most documents are searched (depth
    first in keep order, removing before keeping, so the first found is the greedy one), each
    is scored by the pairs its clusters hold (``_assign``), and the greedy set is left only for
    a strictly better one. Every removal is still a direct verified copy of its kept original:
    no chain. Bounded (``SEARCH_DOCUMENTS``, ``SEARCH_STEPS``, ``SEARCH_SETS``).
    """
    position = {doc: i for i, doc in enumerate(component)}
    options = [
        [position[p[0]] for p in usable.get(doc, ()) if p[0] in position] for doc in component
    ]
    removable_after = [*np.cumsum([bool(o) for o in reversed(options)])[::-1].tolist(), 0]
    candidates: list[frozenset[int]] = []
    best_removed = -1
    steps = 0
    kept: list[bool] = [False] * len(component)

    def search(i: int, removed: int) -> bool:
        """Depth-first; False once the step budget is spent."""
        nonlocal best_removed, steps
        steps += 1
        if steps > SEARCH_STEPS:
            return False
        if removed + removable_after[i] < best_removed:
            return True
        if i == len(component):
            if removed > best_removed:
                best_removed, candidates[:] = removed, []
            candidates.append(frozenset(component[k] for k in range(i) if kept[k]))
            return True
        if any(kept[p] for p in options[i]):
            kept[i] = False
            if not search(i + 1, removed + 1):
                return False
            if len(component) > SEARCH_DOCUMENTS:
                return True  # too large to search: the greedy choice only
        kept[i] = True
        return search(i + 1, removed)

    if not search(0, 0) and candidates:
        candidates = candidates[:1]  # budget spent: the greedy kept set (found first)
    best: dict[int, Decision] = {}
    best_together = -1
    for kept_set in candidates[:SEARCH_SETS]:
        removals = _assign(kept_set, component, usable, neighbours, rank, rule)
        together = _together(removals, component, neighbours)
        if together > best_together:
            best, best_together = removals, together
    return best


def _assign(
    kept: frozenset[int],
    component: list[int],
    usable: dict[int, list[Edge]],
    neighbours: dict[int, set[int]],
    rank: np.ndarray,
    rule: CopyRule,
) -> dict[int, Decision]:
    """Each removed document's kept original: the best scores first, then ``_regroup``."""
    removed: dict[int, Decision] = {}
    for doc in component:
        if doc in kept:
            continue
        parent, j, c = min(
            (p for p in usable[doc] if p[0] in kept),
            key=lambda p: (-p[2], -p[1], rank[p[0]], p[0]),
        )
        removed[doc] = Decision(doc, parent, j, c, rule.reason(j))
    _regroup(removed, usable, neighbours, rank, rule)
    return removed


def _together(
    removed: dict[int, Decision], component: list[int], neighbours: dict[int, set[int]]
) -> int:
    """Verified copy pairs of the component whose two documents share a cluster."""

    def cluster(d: int) -> int:
        return removed[d].original if d in removed else d

    return sum(cluster(d) == cluster(o) for d in component for o in neighbours[d] if o > d)


def _regroup(
    removed: dict[int, Decision],
    usable: dict[int, list[Edge]],
    neighbours: dict[int, set[int]],
    rank: np.ndarray,
    rule: CopyRule,
    rounds: int = 8,
) -> None:
    """Move removed documents to the kept original whose cluster holds most of their copies.

    The kept set fixes *which* documents stay, not which of several kept originals a removed
    document goes for: the best-scoring one may sit in another cluster than the document's
    other copies (one story reposted by ten outlets, not every two of them copies of each
    other), splitting them. So each removed document with two or more kept originals takes the
    one whose cluster holds most of its verified copy neighbours (the original itself counts),
    the best scores among equals. Every removal stays a directly verified copy of its original,
    with that pair's exact scores: no chain. Rounds in keep order until nothing moves
    (bounded): deterministic, and local to a component, so a partition of components decides
    as the whole does.
    """
    choices = {
        doc: [p for p in usable[doc] if p[0] not in removed]
        for doc in sorted(removed, key=lambda d: rank[d])
    }
    choices = {doc: found for doc, found in choices.items() if len(found) > 1}
    if not choices:
        return

    # Copies of the document that are verified copies of (or are) the original too: where the
    # document's copies belong whatever the others choose (breaks ties of the cluster counts).
    common = {
        (doc, p[0]): len(neighbours[doc] & (neighbours[p[0]] | {p[0]}))
        for doc, found in choices.items()
        for p in found
    }

    def cluster(d: int) -> int:
        return removed[d].original if d in removed else d

    for _ in range(rounds):
        moved = False
        for doc, found in choices.items():
            together: dict[int, int] = defaultdict(int)
            for other in neighbours[doc]:
                together[cluster(other)] += 1
            parent, j, c = min(
                found,
                key=lambda p: (
                    -together[p[0]],
                    -common[(doc, p[0])],
                    -p[2],
                    -p[1],
                    rank[p[0]],
                ),
            )
            if parent != removed[doc].original:
                removed[doc] = Decision(doc, parent, j, c, rule.reason(j))
                moved = True
        if not moved:
            return


@dataclass(frozen=True, slots=True)
class Removals:
    """Every removal of a run as arrays sorted by document (``reason`` indexes ``REASONS``)."""

    doc: np.ndarray
    original: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray
    reason: np.ndarray

    @classmethod
    def of(cls, decisions: list[Decision]) -> Removals:
        ordered = sorted(decisions, key=lambda d: d.doc)
        return cls(
            np.array([d.doc for d in ordered], dtype=np.int64),
            np.array([d.original for d in ordered], dtype=np.int64),
            np.array([d.jaccard for d in ordered], dtype=np.float64),
            np.array([d.containment for d in ordered], dtype=np.float64),
            np.array([REASONS.index(d.reason) for d in ordered], dtype=np.int8),
        )

    def decisions(self) -> list[Decision]:
        return [
            Decision(d, o, j, c, REASONS[r])
            for d, o, j, c, r in zip(
                self.doc.tolist(),
                self.original.tolist(),
                self.jaccard.tolist(),
                self.containment.tolist(),
                self.reason.tolist(),
                strict=True,
            )
        ]


def with_exact_members(
    documents: int, near: Removals, member: np.ndarray, rep: np.ndarray
) -> Removals:
    """``near`` decisions of exact-group representatives, plus every other member of a group:
    removed for its representative if that stays, else for the representative's original
    (identical shingle sets have identical scores, so the verification carries over)."""
    original = np.full(documents, -1, dtype=np.int64)
    jaccard = np.ones(documents, dtype=np.float64)
    containment = np.ones(documents, dtype=np.float64)
    reason = np.zeros(documents, dtype=np.int8)
    original[near.doc] = near.original
    jaccard[near.doc] = near.jaccard
    containment[near.doc] = near.containment
    reason[near.doc] = near.reason
    if len(member):
        follows = original[rep] >= 0  # the representative was removed: follow it
        original[member] = np.where(follows, original[rep], rep)
        jaccard[member] = np.where(follows, jaccard[rep], 1.0)
        containment[member] = np.where(follows, containment[rep], 1.0)
        reason[member] = np.where(follows, reason[rep], REASONS.index("exact"))
    removed = np.flatnonzero(original >= 0)
    return Removals(
        removed, original[removed], jaccard[removed], containment[removed], reason[removed]
    )
