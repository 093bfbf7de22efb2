"""``tinlap index add -j N``: an index add whose sketching runs in worker processes.

Sketching (repair, cleaning, normalising, shingles, MinHash) is most of an add's work and needs
nothing from the index, so ``workers`` processes sketch the next chunks while this process
decides each chunk against the index and writes it (``Index.add_sketched``): in input order,
in one transaction, with the same verdicts as ``Index.add_records``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from functools import partial

from tinlap.core.batch import SketchedBatch
from tinlap.engines.executors.local import LocalExecutor
from tinlap.index.store import Index, Verdict, add_chunks, sketch_batch
from tinlap.records import Record


def add_records(
    index: Index, records: Iterable[Record], workers: int, *, only_new: bool = False
) -> Iterator[Verdict]:
    """``index.add_records(records, only_new=...)``, sketching in ``workers`` processes."""
    if workers <= 1:
        return index.add_records(records, only_new=only_new)
    return index.add_sketched(_sketched(records, index, workers), only_new=only_new)


def _sketched(
    records: Iterable[Record], index: Index, workers: int
) -> Iterator[tuple[list[Record], SketchedBatch]]:
    """Each chunk of ``add_chunks`` with its sketch, in order; a few chunks ahead."""
    chunks: deque[list[Record]] = deque()

    def texts() -> Iterator[list[str]]:
        for chunk in add_chunks(records):
            chunks.append(chunk)
            yield [r.text for r in chunk]

    sketch = partial(sketch_batch, settings=index.settings)
    for batch in LocalExecutor(workers).map(sketch, texts()):
        yield chunks.popleft(), batch
