"""Every setting of a dedup run, with its default and the reason for it.

The whole configuration is written into ``summary.json`` so a run can be reproduced and
compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# What shingles are cut from (``--shingles``; core/normalise.py defines each).
SHINGLE_UNITS = ("auto", "words", "chars")


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Settings of ``tinlap dedup``.

    Thresholds: real Vietnamese reposts (light edits in many sentences) keep 0.4-0.7 of their
    shingles, so containment alone cannot tell them from partial reuse; containment >= 0.7 is
    certain, [0.4, 0.7) is decided by edit-tolerant sentence alignment. See the README's
    accuracy section for the measurements on real labelled reposts behind the defaults.
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
    # Units shingles are cut from (core/normalise.py): "auto" makes each character of the
    # scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) a unit and
    # keeps words elsewhere, per character, so every pair is compared in one shingle space;
    # "words" (whitespace words only) and "chars" (every character) force one kind.
    shingles: str = "auto"
    # Characters per shingle starting at a character unit. 4, measured on generated Chinese,
    # Japanese, Thai, Lao, Khmer and Myanmar (benchmarks/accuracy/unspaced.py): as many copies
    # as any n up to 1 character in 20 edited, and more than 5+ beyond; unrelated texts share
    # at most 15% of their shingles (3: 21%, and 1.5-2.5x the candidates to verify).
    char_shingle_size: int = 4
    num_perm: int = 128
    bands: int = 64
    rows: int = 2
    max_bucket: int = 200
    # Containment pass (candidates.py): 1-row bands over this many MinHash values pair rare
    # buckets' members whose sizes differ >= containment_size_ratio times (0 bands: off). It
    # surfaces short texts contained in long ones, which 64 x 2 misses (Jaccard ~0.1).
    containment_bands: int = 128
    containment_bucket: int = 50
    containment_size_ratio: float = 1.5
    # Drop candidates whose sketch upper bound (z sigmas) misses both thresholds.
    prefilter_z: float = 4.5
    jaccard_threshold: float = 0.5
    # Real reposts edited every few sentences keep only 0.4-0.7 of their 5-gram shingles; below
    # 0.4 no labelled copy of the dev sets is gained (README, "Accuracy").
    containment_threshold: float = 0.4
    # Grey zone: below this containment a qualifying direction must also reproduce
    # >= min_sentence_coverage of the removed document's sentence text, sentences matched
    # exactly or lightly edited with the same figures (core/sentences.py): containment in
    # [0.4, 0.7) admits partial reuse too (two outlets quoting one press release); at >= 0.7
    # every labelled pair of both dev sets is a copy.
    certain_containment: float = 0.7
    min_sentence_coverage: float = 0.6
    # Decision and output
    keep_policy: str = "longest"
    output_text: str = "cleaned"  # or "original"
    output_format: str | None = None  # None: the first input's format
    # auto: the first input's (.jsonl.zst in, kept.jsonl.zst out), zstd columns for Parquet
    output_compression: str = "auto"  # auto | none | gzip | zstd
    output_shard_size: int | None = None  # bytes: split the kept corpus into numbered files
    # Execution
    workers: int = 1
    batch_size: int = 2000

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.shingle_size <= 64:
            problems.append(f"shingle size must be 1..64, got {self.shingle_size}")
        if not 1 <= self.char_shingle_size <= 64:
            problems.append(f"char shingle size must be 1..64, got {self.char_shingle_size}")
        if self.shingles not in SHINGLE_UNITS:
            problems.append(f"shingles must be {', '.join(SHINGLE_UNITS)}, got {self.shingles!r}")
        if self.num_perm < 2 or self.num_perm & (self.num_perm - 1):
            problems.append(f"num-perm must be a power of two >= 2, got {self.num_perm}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            problems.append(
                f"bands x rows ({self.bands} x {self.rows}) must be >= 1 "
                f"and fit in num-perm ({self.num_perm})"
            )
        if not 0 <= self.containment_bands <= self.num_perm:
            problems.append(
                f"containment bands must be 0..num-perm ({self.num_perm}), "
                f"got {self.containment_bands}"
            )
        if self.containment_bucket < 2 or self.containment_size_ratio < 1.0:
            problems.append("containment bucket must be >= 2 and size ratio >= 1")
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
        if self.output_compression not in ("auto", "none", "gzip", "zstd"):
            problems.append(
                "output compression must be auto, none, gzip or zstd, "
                f"got {self.output_compression!r}"
            )
        if self.output_shard_size is not None and self.output_shard_size < 2**20:
            problems.append(f"output shard size must be >= 1 MiB, got {self.output_shard_size}")
        if self.output_format == "txt" and (
            self.output_compression in ("gzip", "zstd") or self.output_shard_size
        ):
            problems.append(
                "txt output is one file per document: it is neither compressed nor split"
            )
        if self.workers < 1 or self.batch_size < 1:
            problems.append("workers and batch size must be >= 1")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
