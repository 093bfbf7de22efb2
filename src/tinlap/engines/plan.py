"""Which engine runs a dedup: decided by the input's size, never changing the result.

The in-memory engine holds every sketch and text in this process and writes nothing but the
outputs; the sharded engine runs resumable stage tasks with bounded memory. Both write the same
bytes. A corpus that fits the memory budget gains nothing from stage files, and one of a few MB
gains nothing from worker processes either (starting them costs more than they save).
"""

from __future__ import annotations

from dataclasses import dataclass

from tinlap.io.read import Source

# The in-memory engine holds about 10x the text's size (Python strings, shingle sets,
# signatures); an input is small when that fits in the budget with room to spare.
IN_MEMORY_SHARE = 16
# Below this much text one process finishes sooner than a pool of workers starts.
IN_PROCESS_BYTES = 4 * 2**20
# Compressed inputs: Vietnamese news text packs ~5x with zstd and gzip.
_COMPRESSED = (".gz", ".zst", ".zstd", ".parquet")
_EXPANSION = 5


@dataclass(frozen=True, slots=True)
class Plan:
    engine: str  # "in-memory" or "sharded"
    workers: int
    text_bytes: int  # the estimate the choice was made on


def text_bytes(sources: list[Source]) -> int:
    """Estimated text size of the inputs: file sizes, compressed ones expanded."""
    total = 0
    for source in sources:
        size = source.path.stat().st_size
        total += size * _EXPANSION if source.path.name.endswith(_COMPRESSED) else size
    return total


def plan(
    sources: list[Source], memory_limit: int, workers: int, workers_asked: bool
) -> Plan:
    """The in-memory engine when the input fits ``memory_limit``, in this process (one worker)
    when it is a few MB and the worker count was not asked for; else the sharded engine."""
    size = text_bytes(sources)
    if size * IN_MEMORY_SHARE > memory_limit:
        return Plan("sharded", workers, size)
    if size <= IN_PROCESS_BYTES and not workers_asked:
        workers = 1
    return Plan("in-memory", workers, size)
