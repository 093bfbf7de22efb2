"""Every setting of a dedup run, with its default and the reason for it.

The whole configuration is written into ``summary.json`` so a run can be reproduced and
compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Settings of ``tinlap dedup``.

    Thresholds: on real Vietnamese reposts, containment of the shorter text near 0.5-0.6
    separates copies from independent write-ups of the same event, while Jaccard-only rules
    (or containment 0.8) lose most real copies (RESEARCH.md, "Where copy begins"); see the
    README's accuracy section for the measurements behind the defaults.
    """

    # Input
    text_field: str = "text"
    id_field: str = "id"
    input_format: str | None = None  # None: detect per file
    html_field: str | None = None  # a JSONL/Parquet field holding HTML: text = its main text
    max_record_bytes: int = 64 * 2**20
    follow_symlinks: bool = False  # read links in input folders that lead outside them
    # Cleaning and matching
    clean: bool = True
    learn_boilerplate: bool = True  # count per-source recurring lines first (boilerplate.py)
    source_field: str | None = None  # the site of a record; default: url host, source, folder
    boilerplate_min_docs: int = 5
    boilerplate_fraction: float = 0.02
    shingle_size: int = 5
    num_perm: int = 128
    bands: int = 64
    rows: int = 2
    max_bucket: int = 200
    # Drop candidates whose sketch upper bound (z sigmas) misses both thresholds.
    prefilter_z: float = 4.5
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.6
    # Below this containment a qualifying pair must also reproduce >= min_sentence_coverage of
    # the removed document's sentence text (coverage.py): shingle containment just above the
    # threshold also admits partial reuse (two outlets quoting one press release).
    certain_containment: float = 0.8
    min_sentence_coverage: float = 0.6
    # Decision and output
    keep_policy: str = "longest"
    output_text: str = "cleaned"  # or "original"
    output_format: str | None = None  # None: the first input's format
    # Execution
    workers: int = 1
    batch_size: int = 2000

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.shingle_size <= 64:
            problems.append(f"shingle size must be 1..64, got {self.shingle_size}")
        if self.num_perm < 2 or self.num_perm & (self.num_perm - 1):
            problems.append(f"num-perm must be a power of two >= 2, got {self.num_perm}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            problems.append(
                f"bands x rows ({self.bands} x {self.rows}) must be >= 1 "
                f"and fit in num-perm ({self.num_perm})"
            )
        if self.boilerplate_min_docs < 2 or not 0.0 < self.boilerplate_fraction <= 1.0:
            problems.append("boilerplate min docs must be >= 2 and fraction in (0, 1]")
        if self.prefilter_z < 0:
            problems.append(f"prefilter z must be >= 0, got {self.prefilter_z}")
        for name in ("jaccard_threshold", "containment_threshold", "min_sentence_coverage"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                problems.append(f"{name.replace('_', '-')} must be in (0, 1], got {value}")
        if self.output_text not in ("cleaned", "original"):
            problems.append(
                f"output text must be 'cleaned' or 'original', got {self.output_text!r}"
            )
        if self.workers < 1 or self.batch_size < 1:
            problems.append("workers and batch size must be >= 1")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
