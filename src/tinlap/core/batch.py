"""Sketching a batch of records: repair → clean → normalise → exact key, shingles, MinHash.

The one per-document path of tinlap. The in-memory engine, the sharded ``sketch`` stage and the
index all call ``sketch_records``, so a document gets the same key, shingles and signature
whichever of them sees it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from tinlap.config import DedupConfig
from tinlap.core.chrome import ChromeModel, source_of
from tinlap.core.clean import Cleaner, CleanResult
from tinlap.core.normalise import Tokeniser, repair_text
from tinlap.core.sketch import ShingleSets, exact_keys, minhash, shingle_sets
from tinlap.records import Record


class Laps:
    """CPU seconds per sub-stage: ``lap(name)`` books the time since the previous lap."""

    def __init__(self, seconds: Counter[str]) -> None:
        self.seconds = seconds
        self.clock = time.process_time()

    def __call__(self, stage: str) -> None:
        now = time.process_time()
        self.seconds[stage] += now - self.clock
        self.clock = now


@cache
def worker_state() -> tuple[Cleaner, Tokeniser]:
    """Per-process cleaner and tokeniser (the tokeniser's cache is what makes it fast)."""
    return Cleaner(), Tokeniser()


def clean_records(
    records: list[Record],
    config: DedupConfig,
    model: ChromeModel | None,
    repaired: bool = False,
) -> tuple[list[str], list[CleanResult | None]]:
    """Repair and clean records with the learned ``model`` (if any): the cleaning stage.

    ``repaired``: the texts went through ``repair_text`` already (an engine that read them
    once for the learning pass keeps that pass's repair). Results are ``None`` when cleaning
    is off."""
    cleaner, _ = worker_state()
    texts: list[str] = []
    results: list[CleanResult | None] = []
    for record in records:
        text = record.text if repaired else repair_text(record.text)
        result = None
        if config.clean:
            extra = (model.rule_for(source_of(record, config.source_field)),) if model else ()
            result = cleaner.clean(text, extra)
            text = result.text
        texts.append(text)
        results.append(result)
    return texts, results


@dataclass(slots=True)
class SketchedBatch:
    """What matching needs of a batch (row i = record i), with its cleaned texts."""

    cleaned: list[str]
    lengths: np.ndarray  # cleaned text length in characters (the "longest" policy)
    keys: np.ndarray  # (n, 2) uint64 exact-key hashes
    shingles: ShingleSets
    signatures: np.ndarray  # (n, num_perm) uint32
    removed_lines: Counter[str] = field(default_factory=Counter)  # lines removed, by rule


def shingle_texts(
    cleaned: list[str], shingle_size: int, shingles: str, char_shingle_size: int
) -> ShingleSets:
    """Shingle sets of cleaned texts, exactly as ``sketch_records`` makes them (same units and
    sizes): for whoever keeps the (compact) text rather than the (large) sets and rebuilds the
    sets it verifies."""
    tokens = worker_state()[1].tokenise_batch(cleaned, shingles)
    return shingle_sets(tokens, shingle_size, char_shingle_size)


def sketch_records(
    records: list[Record],
    config: DedupConfig,
    model: ChromeModel | None = None,
    seconds: Counter[str] | None = None,
    repaired: bool = False,
) -> SketchedBatch:
    """Clean, normalise and sketch ``records``; CPU time per sub-stage goes to ``seconds``
    (``repaired``: as ``clean_records``)."""
    lap = Laps(Counter() if seconds is None else seconds)
    cleaned, results = clean_records(records, config, model, repaired)
    removed = Counter(r.rule for result in results if result for r in result.removed)
    lap("clean")
    tokens = worker_state()[1].tokenise_batch(cleaned, config.shingles)
    lap("normalise")
    shingles = shingle_sets(tokens, config.shingle_size, config.char_shingle_size)
    batch = SketchedBatch(
        cleaned=cleaned,
        lengths=np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned)),
        keys=exact_keys(tokens),
        shingles=shingles,
        signatures=minhash(shingles, config.num_perm),
        removed_lines=removed,
    )
    lap("sketch")
    return batch
