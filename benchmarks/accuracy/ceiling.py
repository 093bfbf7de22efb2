"""Recall ceiling of chain-free clustering on a labelled set: what a perfect verifier reaches.

tinlap's clusters are stars: each removed document points at one kept document it is a
verified copy of, and a copy of a copy is not removed for the first (no chaining). Recall is
"labelled copy pairs that end in one cluster". When one document is a copy of several
documents that are not copies of each other (a short wire item inside three different longer
write-ups), it can join only one of their clusters, so some labelled pairs are split by any
chain-free clustering, however good the verifier.

This computes that ceiling from the labels alone (it shares nothing with tinlap): the copy
edges are the labelled copy pairs, the shorter text (raw characters) is the one that may be
removed, and for each connected component the best star clustering is searched — every
admissible kept set for components of up to ``EXACT_LIMIT`` documents, the greedy kept set
(longest first) for larger ones — with each removed document assigned to the kept neighbour
whose cluster holds most of its copies. The result is an upper bound of the recall of a
chain-free tool (exact for small components, a lower estimate of the ceiling for larger ones).

    .venv/bin/python benchmarks/accuracy/ceiling.py            # both dev sets
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

EXACT_LIMIT = 12


def components(adj: dict[str, set[str]]) -> list[list[str]]:
    seen: set[str] = set()
    out = []
    for start in sorted(adj):
        if start in seen:
            continue
        seen.add(start)
        stack, comp = [start], []
        while stack:
            u = stack.pop()
            comp.append(u)
            for w in adj[u] - seen:
                seen.add(w)
                stack.append(w)
        out.append(comp)
    return out


def _assign(
    kept: set[str], comp: list[str], up: dict[str, set[str]], adj: dict[str, set[str]]
) -> dict[str, str] | None:
    """Each removed document's kept original, or None when some document has none."""
    parent = {}
    for u in comp:
        if u not in kept:
            options = sorted(up[u] & kept)
            if not options:
                return None
            parent[u] = options[0]
    for _ in range(8):  # move to the cluster holding most of the document's copies
        moved = False
        for u, p in parent.items():
            together = Counter(parent.get(w, w) for w in adj[u])
            best = max(sorted(up[u] & kept), key=lambda k: together[k])
            if together[best] > together[p]:
                parent[u], moved = best, True
        if not moved:
            break
    return parent


def best_clusters(
    copies: Iterable[tuple[str, str]], length: Callable[[str], int]
) -> dict[str, str]:
    """Cluster (kept document) of every document in a copy pair, maximising pairs together."""
    adj: dict[str, set[str]] = defaultdict(set)
    up: dict[str, set[str]] = defaultdict(set)  # documents each one may be removed for
    order = {}
    for a, b in copies:
        adj[a].add(b)
        adj[b].add(a)
    for u in adj:
        order[u] = (-length(u), u)
    for u in adj:
        up[u] = {w for w in adj[u] if order[w] < order[u]}
    cluster: dict[str, str] = {}
    for comp in components(adj):
        comp.sort(key=order.__getitem__)
        greedy: set[str] = set()
        for u in comp:
            if not up[u] & greedy:
                greedy.add(u)
        candidates: Iterable[set[str]] = [greedy]
        if len(comp) <= EXACT_LIMIT:  # the longest is always kept: nothing is preferred to it
            candidates = itertools.chain(
                candidates,
                (
                    {comp[0], *rest}
                    for r in range(len(comp))
                    for rest in itertools.combinations(comp[1:], r)
                ),
            )
        best, best_score = None, -1
        for kept in candidates:
            parent = _assign(kept, comp, up, adj)
            if parent is None:
                continue
            score = sum(parent.get(u, u) == parent.get(w, w) for u in comp for w in adj[u])
            if score > best_score:
                best, best_score = parent, score
        assert best is not None  # the greedy kept set is always admissible
        for u in comp:
            cluster[u] = best.get(u, u)
    return cluster


def main() -> int:
    from dev import DEV_SETS, DevSet, kind_of

    for name in DEV_SETS:
        ds = DevSet.load(name)
        length = dict((i, len(t)) for i, t in ds.texts())
        copies = [pair for pair, (label, _) in ds.labels.items() if label == "copy"]
        cluster = best_clusters(copies, length.__getitem__)
        together: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for a, b in copies:
            for kind in ["all"] + ([kind_of(a, b)] if name.startswith("baomoi") else []):
                total[kind] += 1
                together[kind] += cluster[a] == cluster[b]
        shares = ", ".join(
            f"{k} {together[k]}/{total[k]} ({together[k] / total[k]:.3f})" for k in total
        )
        print(f"{name}: recall ceiling of chain-free clusters: {shares}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
