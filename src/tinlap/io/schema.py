"""The output contract: ``clusters.parquet``'s schema and rows, and ``summary.json``.

Both engines build their outputs here, so an in-memory and a sharded run write the same bytes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap import __version__
from tinlap.config import DedupConfig
from tinlap.core.decide import Decision
from tinlap.core.rules import REASONS
from tinlap.records import ProblemLog

CLUSTER_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("cluster_id", pa.string()),
        ("kept", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("reason", pa.string()),
    ]
)

# removed_lines.parquet of ``tinlap clean``: every line cleaning removed, with its rule.
REMOVED_LINES_SCHEMA = pa.schema(
    [("id", pa.string()), ("line", pa.int64()), ("text", pa.string()), ("rule", pa.string())]
)


def cluster_table(
    decisions: list[Decision], ids: list[str], original_ids: list[str] | None = None
) -> pa.Table:
    """``clusters.parquet``: every document of a cluster of two or more, kept ones included.

    ``original_ids`` names the originals when they are not documents of the run (``--against``).
    """
    return decisions_table(
        np.array([d.doc for d in decisions], dtype=np.int64),
        np.array([d.original for d in decisions], dtype=np.int64),
        np.array([d.jaccard for d in decisions], dtype=np.float64),
        np.array([d.containment for d in decisions], dtype=np.float64),
        pa.array([d.reason for d in decisions], pa.string()),
        pa.array(ids, pa.string()),
        None if original_ids is None else pa.array(original_ids, pa.string()),
    )


def decisions_table(
    doc: np.ndarray,
    original: np.ndarray,
    jaccard: np.ndarray,
    containment: np.ndarray,
    reason: pa.Array,
    ids: pa.Array,
    original_ids: pa.Array | None = None,
) -> pa.Table:
    """``clusters.parquet`` from decision arrays (doc i removed for ``original[i]``)."""
    names = ids if original_ids is None else original_ids
    kept = np.unique(original)
    n_kept, n_removed = len(kept), len(doc)
    nulls = pa.nulls(n_kept)
    table = pa.table(
        {
            "id": pa.concat_arrays([names.take(pa.array(kept)), ids.take(pa.array(doc))]),
            "cluster_id": pa.concat_arrays(
                [names.take(pa.array(kept)), names.take(pa.array(original))]
            ),
            "kept": np.concatenate([np.ones(n_kept, bool), np.zeros(n_removed, bool)]),
            "duplicate_of": pa.concat_arrays(
                [nulls.cast(pa.string()), names.take(pa.array(original))]
            ),
            "jaccard": pa.concat_arrays([nulls.cast(pa.float64()), pa.array(jaccard)]),
            "containment": pa.concat_arrays([nulls.cast(pa.float64()), pa.array(containment)]),
            "reason": pa.concat_arrays([nulls.cast(pa.string()), reason.cast(pa.string())]),
        },
        schema=CLUSTER_SCHEMA,
    )
    return table.sort_by([("cluster_id", "ascending"), ("kept", "descending"), ("id", "ascending")])


def run_summary(
    *,
    documents: int,
    written: int,
    removed_by_reason: Counter[str],
    clusters: int,
    stats: dict[str, int],
    histogram: dict[str, list[int]] | None,
    removed_lines: Counter[str],
    worker_seconds: Counter[str],
    problems: ProblemLog,
    config: DedupConfig,
    out_format: str,
    timings: dict[str, float],
) -> dict[str, Any]:
    """summary.json of a dedup run (in-memory or sharded): counts that add up, and why."""
    removed = sum(removed_by_reason.values())
    return {
        "tinlap_version": __version__,
        "documents_read": documents,
        "documents_kept": written,
        "documents_unwritable": documents - removed - written,
        "documents_removed": removed,
        "removed_by_reason": {
            r: removed_by_reason.get(r, 0) for r in REASONS
        },
        "clusters": clusters,
        "documents_not_matchable": documents - stats["matchable"],
        "output_format": out_format,
        "input_problems": {
            **problems.summary(),
            "messages": [str(p) for p in problems.problems[:1000]],
        },
        "cleaning": {"lines_removed_by_rule": dict(sorted(removed_lines.items()))},
        "matching": {**stats, "verified_pairs_histogram": histogram},
        "seconds_per_stage": timings,
        "worker_cpu_seconds": {k: round(v, 3) for k, v in sorted(worker_seconds.items())},
        "config": config.to_dict(),
    }
