"""Scoring tinlap's clusters.parquet against the oracle, and the 5-gram measures of each pair.

Precision is measured on tinlap's edges (id -> duplicate_of): the pairs tinlap asserts.
Recall is measured on the oracle's copy pairs: found if both documents ended in one cluster.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from oracle import LABELS, Oracle
from textnorm import sentences

NGRAM = 5  # word n-grams of the similarity measures (not of the oracle)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
SWEEP = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def plain_grams(text: str) -> set[tuple[str, ...]]:
    """Word 5-grams as a plain shingler sees them: NFC, lowercase, split on whitespace."""
    tokens = unicodedata.normalize("NFC", text).lower().split()
    return {tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)}


def jaccard_containment(a: set[Any], b: set[Any]) -> tuple[float, float]:
    """Jaccard, and containment of the smaller set in the other (0 when either is empty)."""
    if not a or not b:
        return 0.0, 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


class Measures:
    """Plain and fully normalised (oracle key) 5-gram similarity of document pairs, cached.

    ``texts`` are what the oracle reads; ``pages`` what tinlap reads (they differ only for
    synthetic variants, whose generated chrome the oracle does not see). ``page_containment``
    is the plain containment on the pages.
    """

    def __init__(self, texts: dict[str, str], pages: dict[str, str] | None = None) -> None:
        self.texts = texts
        self.pages = pages or texts
        self._plain: dict[str, set[tuple[str, ...]]] = {}
        self._key: dict[str, set[tuple[str, ...]]] = {}
        self._page: dict[str, set[tuple[str, ...]]] = {}

    def _grams(self, doc_id: str) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
        if doc_id not in self._plain:
            text = self.texts[doc_id]
            self._plain[doc_id] = plain_grams(text)
            tokens = [t for s in sentences(text) for t in s.key.split()]
            self._key[doc_id] = {
                tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)
            }
        return self._plain[doc_id], self._key[doc_id]

    def _page_grams(self, doc_id: str) -> set[tuple[str, ...]]:
        if doc_id not in self._page:
            self._page[doc_id] = plain_grams(self.pages[doc_id])
        return self._page[doc_id]

    def pair(self, a: str, b: str) -> dict[str, float]:
        pa, ka = self._grams(a)
        pb, kb = self._grams(b)
        pj, pc = jaccard_containment(pa, pb)
        kj, kc = jaccard_containment(ka, kb)
        if self.pages is self.texts or (
            self.pages[a] == self.texts[a] and self.pages[b] == self.texts[b]
        ):
            page_c = pc
        else:
            page_c = jaccard_containment(self._page_grams(a), self._page_grams(b))[1]
        return {
            "page_containment": page_c,
            "plain_jaccard": pj,
            "plain_containment": pc,
            "key_jaccard": kj,
            "key_containment": kc,
        }


@dataclass(slots=True)
class OraclePair:
    """One stored oracle verdict with its measures (a, b are document ids)."""

    a: str
    b: str
    label: str
    coverage: float
    cov_ab: float | None  # None: not computed (the other document is the shorter)
    cov_ba: float | None
    measures: dict[str, float] = field(default_factory=dict)


def oracle_pairs(oracle: Oracle) -> list[OraclePair]:
    """Every pair with coverage >= the report floor, labelled (measures added separately)."""
    out = []
    for p in oracle.label_pairs():
        a, b = oracle.docs[p.a].id, oracle.docs[p.b].id
        out.append(OraclePair(a, b, p.label, p.coverage, p.cov_ab, p.cov_ba))
    return out


def add_measures(pairs: Iterable[OraclePair], measures: Measures) -> None:
    """Fill in each pair's plain and key 5-gram Jaccard/containment."""
    for p in pairs:
        p.measures = measures.pair(p.a, p.b)


def judge_directly(a: str, b: str, texts: dict[str, str]) -> OraclePair:
    """The oracle's definition applied to one pair alone (for edges the index did not store)."""
    o = Oracle.from_texts([(a, texts[a]), (b, texts[b])])
    p = o.judge(a, b)
    return OraclePair(a, b, p.label, p.coverage, p.cov_ab, p.cov_ba)


@dataclass(slots=True)
class Clusters:
    """tinlap's output: every clustered document's cluster and its edge."""

    cluster_of: dict[str, str]
    edges: list[dict[str, Any]]  # id, duplicate_of, reason, jaccard, containment
    kept: dict[str, str]  # cluster id -> kept document id

    @classmethod
    def read(cls, path: Path) -> Clusters:
        table = pq.read_table(path)
        rows = table.to_pylist()
        cluster_of = {r["id"]: r["cluster_id"] for r in rows}
        edges = [r for r in rows if not r["kept"] and r.get("duplicate_of") is not None]
        kept = {r["cluster_id"]: r["id"] for r in rows if r["kept"]}
        return cls(cluster_of, edges, kept)

    def same(self, a: str, b: str) -> bool:
        return self.cluster_of.get(a, a) == self.cluster_of.get(b, b)

    def members(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for doc, cid in self.cluster_of.items():
            groups[cid].append(doc)
        return groups


def key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def score(
    pairs: Sequence[OraclePair],
    clusters: Clusters,
    texts: dict[str, str],
    measures: Measures,
    max_cluster_pairs: int = 200_000,
) -> dict[str, Any]:
    """Precision on tinlap's edges, recall on the oracle's copies, plus breakdowns."""
    by_pair = {key(p.a, p.b): p for p in pairs}
    unknown = sorted({d for d in clusters.cluster_of if d not in texts})

    edge_rows = []
    for e in clusters.edges:
        a, b = e["id"], e["duplicate_of"]
        if a not in texts or b not in texts:
            continue
        p = by_pair.get(key(a, b)) or judge_directly(a, b, texts)
        edge_rows.append(
            {
                "id": a,
                "duplicate_of": b,
                "reason": e.get("reason"),
                "tinlap_jaccard": e.get("jaccard"),
                "tinlap_containment": e.get("containment"),
                "label": p.label,
                "coverage": p.coverage,
                **(p.measures or measures.pair(a, b)),
            }
        )
    edge_labels = Counter(r["label"] for r in edge_rows)
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for r in edge_rows:
        by_reason[str(r["reason"])][r["label"]] += 1

    copies = [p for p in pairs if p.label == "copy"]
    found = [p for p in copies if clusters.same(p.a, p.b)]
    partial_merged = sum(clusters.same(p.a, p.b) for p in pairs if p.label == "ambiguous")

    # Every pair inside tinlap's clusters (not only its edges): catches chained merges.
    cluster_pairs: Counter[str] = Counter()
    skipped = 0
    for members in clusters.members().values():
        n = len(members)
        if n * (n - 1) // 2 > max_cluster_pairs:
            skipped += 1
            continue
        for i in range(n):
            for j in range(i + 1, n):
                p = by_pair.get(key(members[i], members[j]))
                cluster_pairs[p.label if p else "not-copy"] += 1

    n_edges = len(edge_rows)
    precision = edge_labels["copy"] / n_edges if n_edges else None
    recall = len(found) / len(copies) if copies else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "edges": n_edges,
        "edge_labels": dict(edge_labels),
        "precision": precision,
        "by_reason": {r: dict(c) for r, c in sorted(by_reason.items())},
        "oracle_copies": len(copies),
        "copies_found": len(found),
        "recall": recall,
        "f1": f1,
        "partial_merged": partial_merged,
        "cluster_pairs": dict(cluster_pairs),
        "clusters_skipped": skipped,
        "clustered_docs": len(clusters.cluster_of),
        "clusters": len(clusters.members()),
        "unknown_ids": unknown[:20],
        "missed": [
            {"a": p.a, "b": p.b, "coverage": round(p.coverage, 3), **rounded(p.measures)}
            for p in copies
            if not clusters.same(p.a, p.b)
        ],
        "false_edges": [r for r in edge_rows if r["label"] != "copy"],
        "edge_rows": edge_rows,
    }


def rounded(d: dict[str, float] | None) -> dict[str, float]:
    return {k: round(v, 3) for k, v in (d or {}).items()}


def label_counts(pairs: Iterable[OraclePair]) -> dict[str, int]:
    c = Counter(p.label for p in pairs)
    return {lab: c[lab] for lab in LABELS}


def distribution(pairs: Sequence[OraclePair], measure: str) -> dict[str, dict[str, float]]:
    """For each label: share of its pairs whose `measure` reaches each threshold."""
    out: dict[str, dict[str, float]] = {}
    for lab in LABELS:
        vals = [p.measures[measure] for p in pairs if p.label == lab]
        out[lab] = {
            f">={t}": (sum(v >= t for v in vals) / len(vals) if vals else float("nan"))
            for t in THRESHOLDS
        }
        out[lab]["n"] = len(vals)
    return out


def threshold_sweep(pairs: Sequence[OraclePair], measure: str) -> list[dict[str, float]]:
    """A rule 'same if measure >= t': copies it reaches, non-copies it merges, per t.

    Only stored pairs count as non-copies (coverage >= 0.1 one way); pairs sharing less are
    assumed below every threshold here, which the 'not-copy' rows of the distribution support.
    """
    rows = []
    n_copy = sum(p.label == "copy" for p in pairs)
    for t in SWEEP:
        hit = Counter(p.label for p in pairs if p.measures[measure] >= t)
        merged = sum(hit.values())
        rows.append(
            {
                "t": t,
                "copy": hit["copy"],
                "ambiguous": hit["ambiguous"],
                "not-copy": hit["not-copy"],
                "recall": hit["copy"] / n_copy if n_copy else float("nan"),
                "precision": hit["copy"] / merged if merged else float("nan"),
            }
        )
    return rows


def recall_by_bucket(
    pairs: Sequence[OraclePair], clusters: Clusters, measure: str, edges: Sequence[float]
) -> list[tuple[str, int, int]]:
    """Recall of copies split by a measure's range: (range, copies, found)."""
    rows = []
    bounds = [0.0, *edges, 1.000001]
    for lo, hi in itertools.pairwise(bounds):
        sel = [p for p in pairs if p.label == "copy" and lo <= p.measures[measure] < hi]
        label = f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}"
        rows.append((label, len(sel), sum(clusters.same(p.a, p.b) for p in sel)))
    return rows
