"""How stages hand records to the partitions of the next stage: route on write, gather on read.

A producer task writes one file per consumer partition (empty ones too, so a consumer never
lists folders: it knows every file it must read). A consumer concatenates its files.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tinlap.io.storage import Storage


def route(storage: Storage, prefix: str, table: pa.Table, target: np.ndarray, parts: int) -> None:
    """Write row i of ``table`` to ``{prefix}-{target[i]:04d}.parquet``, for every part."""
    order = np.argsort(target, kind="stable")
    bounds = np.searchsorted(target[order], np.arange(parts + 1))
    ordered = table.take(pa.array(order))
    for p in range(parts):
        storage.write_table(
            f"{prefix}-{p:04d}.parquet", ordered.slice(bounds[p], bounds[p + 1] - bounds[p])
        )


def gather(storage: Storage, paths: list[str], columns: list[str] | None = None) -> pa.Table:
    """The rows of several stage files, in the order given."""
    tables = [storage.read_table(p, columns) for p in paths]
    return pa.concat_tables(tables) if tables else pa.table({})
