"""What is a copy: the one definition every engine, the index and ``explain`` use.

A direction x → y ("x is a copy of y", so x may be removed for y) is decided in two steps:

1. **Scores** (exact, on the shingle sets): the direction *qualifies* when the pair's Jaccard ≥
   the near threshold (either side may go) or the containment of x in y ≥ the containment
   threshold (only the contained side may go: removing the longer text would lose what only it
   has).
2. **Text** (only for the grey zone: qualifying directions below ``certain_containment``):
   shingle containment there admits partial reuse (a shared press release) and under-counts
   lightly edited reposts alike, so x must reproduce ``min_sentence_coverage`` of its sentence
   text in y, a sentence counting when exact, verbatim or lightly edited with its figures intact
   (``sentences.aligned_coverage``).

Measured on the real labelled dev sets (README, "Accuracy"): containment ≥ 0.7 (or Jaccard ≥ 0.5
with containment ≥ 0.7) is a copy without reading the text (precision 1.000 on both sets); below
0.4 nothing is gained; in [0.4, 0.7) an aligned coverage ≥ 0.6 separates copies from partial reuse
(pair precision 1.000 / 0.999, recall 0.97 / 0.98).

Engines call ``qualifies`` on score arrays and ``rejections`` on the borderline directions;
nothing else in tinlap compares a score with a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tinlap.core.sentences import Alignment, aligned_coverage, reproduces

if TYPE_CHECKING:
    from tinlap.config import DedupConfig
    from tinlap.core.verify import PairScores

REASONS = ("exact", "near", "contained")

# Cleaned texts of chosen documents, by document number: how a rule reads the texts it needs.
Texts = Callable[[Iterable[int]], dict[int, str]]


@dataclass(frozen=True, slots=True)
class CopyRule:
    """The thresholds of one run (see the module docstring for what each decides)."""

    jaccard: float = 0.5
    containment: float = 0.4
    certain_containment: float = 0.7
    min_sentence_coverage: float = 0.6
    shingle_size: int = 5

    @classmethod
    def of(cls, config: DedupConfig) -> CopyRule:
        return cls(
            config.jaccard_threshold,
            config.containment_threshold,
            config.certain_containment,
            config.min_sentence_coverage,
            config.shingle_size,
        )

    def qualifies(self, jaccard: np.ndarray, containment: np.ndarray) -> np.ndarray:
        """Directions whose scores make them a copy, pending the text check (vectorised)."""
        return (np.asarray(jaccard) >= self.jaccard) | (np.asarray(containment) >= self.containment)

    def borderline(self, jaccard: np.ndarray, containment: np.ndarray) -> np.ndarray:
        """Qualifying directions whose scores alone are not enough: their text is checked."""
        return self.qualifies(jaccard, containment) & (
            np.asarray(containment) < self.certain_containment
        )

    def reason(self, jaccard: float, exact: bool = False) -> str:
        """``exact`` (same matching key), ``near`` (by Jaccard) or ``contained``."""
        return "exact" if exact else "near" if jaccard >= self.jaccard else "contained"

    def alignment(self, x: str, y: str) -> Alignment:
        """How x's sentences are found in y (exact, verbatim, edited, unmatched): the evidence
        of the text check, which ``explain`` shows."""
        return aligned_coverage(x, y)

    def text_coverage(self, x: str, y: str) -> float:
        """Share of x's sentence text that y reproduces: what the text check measures."""
        return self.alignment(x, y).coverage

    def confirms(self, x: str, y: str) -> bool:
        """The text check of a borderline direction x → y (``text_coverage`` reaches the
        share, settled as soon as it is certain)."""
        return reproduces(x, y, self.min_sentence_coverage)

    def rejections(
        self, directions: Iterable[tuple[int, int]], texts: Texts
    ) -> frozenset[tuple[int, int]]:
        """The borderline ``directions`` (x, y) whose texts say no: x is never removed for y."""
        directions = list(directions)
        if not directions:
            return frozenset()
        text = texts({d for pair in directions for d in pair})
        return frozenset((x, y) for x, y in directions if not self.confirms(text[x], text[y]))

    def pair_rejections(
        self, scores: PairScores, texts: Texts, a_preferred: np.ndarray | None = None
    ) -> frozenset[tuple[int, int]]:
        """``rejections`` of the directions of verified pairs that need their text.

        ``a_preferred[i]``: the keep policy prefers pair i's ``a`` to its ``b``. A document is
        only ever removed for a preferred one, so the other direction can never be used and
        is not aligned (the alignment is the costly part of the rule). None: check both.
        """
        ab = self.borderline(scores.jaccard, scores.containment_a)
        ba = self.borderline(scores.jaccard, scores.containment_b)
        if a_preferred is not None:
            ab = ab & ~np.asarray(a_preferred, dtype=bool)
            ba = ba & np.asarray(a_preferred, dtype=bool)
        a, b = scores.a, scores.b
        directions = [
            (x, y)
            for i in np.flatnonzero(ab | ba).tolist()
            for x, y, needed in ((a[i], b[i], ab[i]), (b[i], a[i], ba[i]))
            if needed
        ]
        return self.rejections(((int(x), int(y)) for x, y in directions), texts)

    def count_qualifying(self, scores: PairScores) -> int:
        """Verified pairs that qualify in at least one direction (before the text check)."""
        larger = np.maximum(scores.containment_a, scores.containment_b)
        return int(self.qualifies(scores.jaccard, larger).sum())
