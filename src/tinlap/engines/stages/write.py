"""Stage ``write``: the kept documents of consecutive shards, written by the workers in parallel,
either as numbered files of at most ``--output-shard-size`` each or as the parts of one file.

A task takes ``RunContext.write_group`` consecutive shards, streams them one at a time and
writes its files under ``write/{task:05d}/``. A split corpus: a task takes enough shards for
about two full files, so the part-filled files that end a task's share are few, and the driver
numbers all files in input order (``kept-00000...``) into the output. One file: a task takes
one shard and writes one part (JSONL: a whole gzip member or zstd frame when compressed), which
the driver joins to the output in input order (``io.write.joined_file``). Which rows were
removed comes from one small mask file per shard that the driver writes first. Parquet keeps
one schema: the driver fixes it from the first kept rows, as a single writer would, and widens
a column to text everywhere when one task had to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.ingest import load_part
from tinlap.engines.stages.sketch import cleaned_texts
from tinlap.io.storage import Storage, task_dir
from tinlap.io.write import KeptWriter
from tinlap.records import Record

# Compressed JSONL and Parquet take about a quarter of their text's size.
_COMPRESSED_SHARE = 4


def mask_path(shard: int) -> str:
    return f"write-mask/{shard:05d}.parquet"


def write_mask(storage: Storage, shard: int, removed: np.ndarray) -> None:
    """The rows of ``shard`` that were removed (``removed``: one flag per row)."""
    rows = np.flatnonzero(removed).astype(np.int64)
    storage.write_table(mask_path(shard), pa.table({"row": rows}))


def write_group(ctx: RunContext, shard_size: int, compression: str) -> int:
    """Shards per write task: about two output files' worth of text (shards hold at most
    ``shard_text_bytes``), never depending on the number of workers; one shard for the parts
    of a single file (``shard_size`` 0)."""
    text = shard_size * (1 if compression == "none" else _COMPRESSED_SHARE) * 2
    return max(1, -(-text // ctx.shard_text_bytes))


def kept_pairs(
    storage: Storage, ctx: RunContext, shard: int, removed: np.ndarray
) -> Iterator[tuple[Record, str]]:
    """The kept records of one shard (text dropped) with their output texts, in input order."""
    original_text = ctx.config.output_text == "original"
    records = load_part(storage, ctx, shard, text=original_text)
    texts = [r.text for r in records] if original_text else cleaned_texts(storage, ctx, shard)
    for record, text, is_removed in zip(records, texts, removed.tolist(), strict=True):
        if not is_removed:
            yield Record(record.id, "", record.path, record.line, record.fields), text


def write_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    config = ctx.config
    first = task * ctx.write_group
    shards = range(first, min(first + ctx.write_group, len(ctx.shards)))
    schema = None if ctx.kept_schema is None else pa.ipc.read_schema(pa.py_buffer(ctx.kept_schema))
    with (
        storage.local_folder(task_dir("write", task)) as folder,
        KeptWriter(
            folder,
            ctx.kept_format,
            text_field=config.text_field,
            id_field=config.id_field,
            ids_as_text=ctx.kept_ids_as_text,
            compression=ctx.kept_compression,
            shard_size=config.output_shard_size,
            schema=schema,
        ) as writer,
    ):
        for shard in shards:
            rows = storage.read_table(mask_path(shard)).column("row").to_numpy()
            removed = np.zeros(ctx.offsets[shard + 1] - ctx.offsets[shard], dtype=bool)
            removed[rows] = True
            for record, text in kept_pairs(storage, ctx, shard, removed):
                writer.write(record, text)
    return {
        "files": writer.files,
        "written": writer.count,
        "widened": sorted(writer.widened_columns),
        "dropped": sorted(writer.dropped_columns),
    }
