"""What every task of a sharded run knows: the configuration and the run's layout.

The layout (shards, partitions) is decided by the driver from the input and the memory budget
only, never from the executor, so the same command gives the same files and the same result on
one worker, many, or a Ray cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinlap.config import DedupConfig
from tinlap.core.sketch import mix64
from tinlap.io.read import Source

# Bytes of memory a task needs per character of document text it holds (Python strings while
# reading and cleaning, Arrow copies, 64-bit shingle hashes, encoded Parquet): measured on
# VNTC (peak RSS of each stage against the shard's characters), rounded up.
BYTES_PER_TEXT_BYTE = 24
# Bytes per (band, key, doc, size) record while a bucket task sorts and pairs them.
BYTES_PER_BAND_RECORD = 64
BYTES_PER_EXACT_RECORD = 160


@dataclass(frozen=True, slots=True)
class RunContext:
    """Everything a task needs besides its index and the storage root's contents."""

    root: str
    config: DedupConfig
    sources: tuple[Source, ...]
    task_memory: int  # bytes one task may use
    strict: bool = False
    skip_bad_shards: bool = False
    # Filled in by the driver once the read stage has finished:
    shards: tuple[tuple[int, int], ...] = ()  # (source index, part index) per shard
    offsets: tuple[int, ...] = (0,)  # dense id of each shard's first document; last = total
    exact_partitions: int = 1
    band_partitions: int = 1  # bucket tasks: ``band_groups`` groups of whole bands x slices
    bands_per_task: int = 1  # bands (LSH, then containment) in one group
    band_slices: int = 1  # > 1 when one band's records exceed a task: split by key
    learned: bool = False  # a boilerplate model exists
    decide_partitions: int = 1  # chosen from the number of verified edges
    components: str = "union-find"  # or "star": large-star/small-star rounds as tasks
    node_partitions: int = 1  # star rounds: partitions of the graph's nodes
    star_round: int = 0
    # The kept corpus (set by the driver before the write stage):
    kept_format: str = "jsonl"
    kept_compression: str = "none"
    kept_ids_as_text: bool = False
    kept_schema: bytes | None = None  # a Parquet split's schema, serialised (Arrow IPC)
    write_group: int = 1  # consecutive shards per write task

    @property
    def documents(self) -> int:
        return self.offsets[-1]

    @property
    def shard_text_bytes(self) -> int:
        """Text bytes per shard: what one sketch, ship or verify task holds at once."""
        return max(1 << 20, self.task_memory // BYTES_PER_TEXT_BYTE)

    @property
    def shard_docs(self) -> int:
        """Documents per shard at most (many tiny documents still cost per-document memory)."""
        return max(1000, self.task_memory // 4096)

    def shard_of(self, docs: np.ndarray) -> np.ndarray:
        """The shard holding each dense document id."""
        return np.searchsorted(np.asarray(self.offsets), docs, side="right") - 1

    def task_bands(self, task: int) -> tuple[range, int]:
        """The bands of bucket task ``task`` (numbered as ``band_layout``) and its key slice."""
        group, piece = divmod(task, self.band_slices)
        width = self.config.bands + self.config.containment_bands
        first = group * self.bands_per_task
        return range(first, min(width, first + self.bands_per_task)), piece

    def part_path(self, shard: int) -> str:
        source, part = self.shards[shard]
        return f"read/{source:05d}/part-{part:05d}.parquet"


def partitions_for(records: int, bytes_per_record: int, task_memory: int) -> int:
    """How many partitions keep one partition's records within half a task's memory."""
    return max(1, -(-records * bytes_per_record // max(1, task_memory // 2)))


def band_layout(documents: int, width: int, task_memory: int) -> tuple[int, int, int]:
    """(bucket tasks, bands per task, slices per band) for ``width`` bands of ``documents``.

    A bucket is one band's documents sharing a key, so a task takes whole bands while they fit
    in half its memory; only when a single band does not fit is each band split in key slices.
    """
    per_band = max(1, documents * BYTES_PER_BAND_RECORD)
    half = max(1, task_memory // 2)
    slices = -(-per_band // half)
    per_task = max(1, half // per_band) if slices == 1 else 1
    return -(-width // per_task) * slices, per_task, slices


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """A well-spread partition index per uint64 key."""
    if partitions == 1:
        return np.zeros(len(keys), dtype=np.int64)
    return (mix64(np.asarray(keys, dtype=np.uint64)) % np.uint64(partitions)).astype(np.int64)
