"""Arrow IPC input: ``.arrow``, ``.feather`` (version 2), ``.ipc`` and ``.arrows`` files.

Both IPC layouts are read record batch by record batch: the file format (``ARROW1`` magic, what
Feather 2 and ``datasets``' cache files are) by random access, local files memory-mapped; the
stream format in order. Big batches are taken in slices, so a file written as one batch still
costs only a slice of Python objects at a time. Text and id columns are found, checked and
repaired as in Parquet (``tables.table_records``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from tinlap.io.formats import Format, Source, register
from tinlap.io.tables import table_records
from tinlap.records import ProblemLog, Record

_FILE_MAGIC = b"ARROW1"
_FEATHER_V1_MAGIC = b"FEA1"
_SLICE_ROWS = 1024


def read_arrow(
    source: Source, problems: ProblemLog, text_field: str, id_field: str, max_bytes: int
) -> Iterator[Record]:
    path = str(source.path)
    with contextlib.ExitStack() as stack:
        try:
            if isinstance(source.path, Path):
                f = stack.enter_context(pa.memory_map(path, "r"))
            else:  # a remote file: its fsspec file object (buffered, seekable)
                f = stack.enter_context(source.path.open("rb"))
            head = f.read(6)
            f.seek(0)
            if head[:4] == _FEATHER_V1_MAGIC:
                problems.error(
                    path,
                    0,
                    "unreadable",
                    "a Feather version 1 file (before Arrow IPC); skipped: rewrite it with "
                    "pyarrow.feather.write_feather(pyarrow.feather.read_table(FILE), NEW)",
                )
                return
            batches: Iterable[pa.RecordBatch]
            if head == _FILE_MAGIC:
                reader = pa.ipc.open_file(f)
                count = reader.num_record_batches
                batches = (reader.get_batch(i) for i in range(count))
                size = f"{count:,} record batch{'es' * (count != 1)}"
            else:
                reader = pa.ipc.open_stream(f)
                batches, size = reader, "all rows"
        except (pa.ArrowException, OSError) as e:
            problems.error(path, 0, "unreadable", f"cannot read Arrow IPC file: {e}; skipped")
            return
        yield from table_records(
            source,
            reader.schema,
            _slices(batches),
            size,
            problems,
            text_field,
            id_field,
            max_bytes,
            what="Arrow IPC",
        )


def _slices(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for start in range(0, batch.num_rows, _SLICE_ROWS):
            yield batch.slice(start, _SLICE_ROWS)


register(
    Format(
        "arrow", (".arrow", ".feather", ".ipc", ".arrows"), read_arrow, tabular=True, wrapped=False
    )
)
