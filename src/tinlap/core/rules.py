"""What is a copy: the one definition every engine, the index and ``explain`` use.

A direction x → y ("x is a copy of y", so x may be removed for y) is decided in two steps:

1. **Scores** (exact, on the shingle sets): the direction *qualifies* when the pair's Jaccard ≥
   the near threshold (either side may go) or the containment of x in y ≥ the containment
   threshold (only the contained side may go: removing the longer text would lose what only it
   has).
2. **Text** (only for the few qualifying directions below ``certain_containment``): shingle
   containment just above the threshold also admits partial reuse, so x must also reproduce
   ``min_sentence_coverage`` of its sentence text in y (``sentences.coverage``).

Engines call ``qualifies`` on score arrays and ``rejections`` on the borderline directions;
nothing else in tinlap compares a score with a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tinlap.core.sentences import coverage

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
    containment: float = 0.6
    certain_containment: float = 0.8
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

    def text_coverage(self, x: str, y: str) -> float:
        """Share of x's sentence text that y reproduces: what the text check measures."""
        return coverage(x, y, self.shingle_size)

    def confirms(self, x: str, y: str) -> bool:
        """The text check of a borderline direction x → y."""
        return self.text_coverage(x, y) >= self.min_sentence_coverage

    def rejections(
        self, directions: Iterable[tuple[int, int]], texts: Texts
    ) -> frozenset[tuple[int, int]]:
        """The borderline ``directions`` (x, y) whose texts say no: x is never removed for y."""
        directions = list(directions)
        if not directions:
            return frozenset()
        text = texts({d for pair in directions for d in pair})
        return frozenset((x, y) for x, y in directions if not self.confirms(text[x], text[y]))

    def pair_rejections(self, scores: PairScores, texts: Texts) -> frozenset[tuple[int, int]]:
        """``rejections`` of both directions of every verified pair that needs its text."""
        ab = self.borderline(scores.jaccard, scores.containment_a)
        ba = self.borderline(scores.jaccard, scores.containment_b)
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
