"""Matching a whole corpus in memory: exact groups, LSH candidates, verification, decisions.

Pure: arrays of sketches in, removal decisions out. The in-memory engine calls it on the whole
corpus; the sharded engine runs the same kernels as tasks over shards and partitions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tinlap.config import DedupConfig
from tinlap.core.batch import SketchedBatch
from tinlap.core.candidates import (
    band_keys,
    containment_keys,
    containment_pairs,
    exact_groups,
    lsh_pairs,
    sketch_filter,
    unique_pairs,
)
from tinlap.core.decide import Decision, Removals, decide, policy_rank, with_exact_members
from tinlap.core.rules import CopyRule, Texts
from tinlap.core.sketch import ShingleSets
from tinlap.core.verify import PairScores, verify


@dataclass(slots=True)
class Corpus:
    """The sketches of every document, concatenated in input order (index = document number)."""

    ids: list[str]
    lengths: np.ndarray
    keys: np.ndarray
    shingles: ShingleSets
    signatures: np.ndarray
    removed_lines: Counter[str]
    seconds: Counter[str]

    @classmethod
    def concat(
        cls, ids: list[str], parts: list[SketchedBatch], num_perm: int, seconds: Counter[str]
    ) -> Corpus:
        """The batches' sketches end to end (``ids`` in the same order); texts are not kept."""
        if not parts:
            return cls(
                ids,
                np.zeros(0, np.int64),
                np.zeros((0, 2), np.uint64),
                ShingleSets(np.zeros(0, np.uint64), np.zeros(1, np.int64)),
                np.zeros((0, num_perm), np.uint32),
                Counter(),
                seconds,
            )
        removed: Counter[str] = Counter()
        for p in parts:
            removed.update(p.removed_lines)
        return cls(
            ids=ids,
            lengths=np.concatenate([p.lengths for p in parts]),
            keys=np.concatenate([p.keys for p in parts]),
            shingles=ShingleSets.concat([p.shingles for p in parts]),
            signatures=np.concatenate([p.signatures for p in parts]),
            removed_lines=removed,
            seconds=seconds,
        )


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Removal decisions for the whole corpus plus the counts that explain how they were found."""

    decisions: list[Decision]
    stats: dict[str, int]
    # Names of ``Decision.original``; None: documents of the run (``--against``: indexed ones).
    original_ids: list[str] | None = None
    # Verified pairs per 0.01-wide bin of Jaccard and of the larger containment (the report
    # plots them against the thresholds); None for --against runs.
    histogram: dict[str, list[int]] | None = None


def match(
    corpus: Corpus,
    config: DedupConfig,
    texts: Texts | None = None,
) -> MatchResult:
    """Exact groups, then LSH + verification among one representative per exact group."""
    n = len(corpus.ids)
    rule = CopyRule.of(config)
    rank = policy_rank(config.keep_policy, corpus.lengths, corpus.ids)
    sizes = corpus.shingles.sizes
    matchable = np.flatnonzero(sizes > 0)

    # Exact duplicates: the policy's favourite of each group represents it from here on.
    leader = exact_groups(corpus.keys[matchable])
    order = np.lexsort((rank[matchable], leader))
    grouped = matchable[order]
    group_of = leader[order]
    is_first = np.ones(len(grouped), dtype=bool)
    is_first[1:] = group_of[1:] != group_of[:-1]
    reps = np.sort(grouped[is_first])
    group_start = np.maximum.accumulate(np.where(is_first, np.arange(len(grouped)), 0))
    member, rep = grouped[~is_first], grouped[group_start[~is_first]]

    # Near and contained copies among representatives.
    keys = band_keys(corpus.signatures[reps], config.bands, config.rows)
    ra, rb = lsh_pairs(keys, sizes[reps], config.max_bucket)
    if config.containment_bands:
        ca, cb = containment_pairs(
            containment_keys(corpus.signatures[reps], config.containment_bands),
            sizes[reps],
            config.containment_bucket,
            config.containment_size_ratio,
        )
        ra, rb = unique_pairs(np.concatenate([ra, ca]), np.concatenate([rb, cb]))
    a, b = reps[ra], reps[rb]
    keep = sketch_filter(
        corpus.signatures,
        sizes,
        a,
        b,
        config.jaccard_threshold,
        config.containment_threshold,
        config.prefilter_z,
    )
    scores = verify(corpus.shingles, a[keep], b[keep])
    rejected = (
        frozenset()
        if texts is None
        else rule.pair_rejections(scores, texts, rank[scores.a] < rank[scores.b])
    )
    near = decide(scores, rank, rule, rejected)

    # Exact members follow their representative (to it, or to its original if it went).
    decisions = with_exact_members(n, Removals.of(near), member, rep).decisions()
    stats = {
        "documents": n,
        "matchable": len(matchable),
        "exact_group_representatives": len(reps),
        "lsh_candidate_pairs": len(a),
        "pairs_after_sketch_filter": int(keep.sum()),
        "verified_pairs": len(scores),
        "verified_duplicate_pairs": rule.count_qualifying(scores),
        "directions_rejected_by_sentence_check": len(rejected),
    }
    return MatchResult(decisions, stats, histogram=similarity_histogram(scores))


def similarity_histogram(scores: PairScores, bins: int = 100) -> dict[str, list[int]]:
    """Counts of verified pairs per bin of [0, 1]: cheap, fixed size, enough to draw."""
    larger = np.maximum(scores.containment_a, scores.containment_b)
    return {
        name: np.histogram(values, bins=bins, range=(0.0, 1.0))[0].tolist()
        for name, values in (("jaccard", scores.jaccard), ("containment", larger))
    }
