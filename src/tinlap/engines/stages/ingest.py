"""Stages ``read`` (one task per input file) and ``ids`` (one task): the documents, stored.

``read`` parses one input file into Parquet parts of bounded size (``RunContext.shard_*``), so a
single huge file still gives many shards. A file that cannot be read at all is a bad shard:
the run stops naming it, or with ``--skip-bad-shards`` records it and goes on.

``ids`` makes ids unique across all files as ``read_all`` does for one stream: a repeated id
becomes ``id#2``, ``id#3``... in input order. Only the renames are stored; later stages apply
them when they load a part.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tinlap.engines.stages.context import RunContext
from tinlap.io.read import document_limit, read_source, reader_options
from tinlap.io.storage import Storage
from tinlap.records import Problem, ProblemLog, Record, StrictInputError

PART_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.large_string()),
        ("line", pa.int64()),
        ("fields", pa.binary()),  # the record's other fields: encode_fields (never pickle)
    ]
)
RENAMES = "ids/00000/renames.parquet"


class BadShard(RuntimeError):
    """An input file that could not be read; the message names it."""


def read_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    source = ctx.sources[task]
    problems = ProblemLog(strict=ctx.strict, spool=True)
    parts: list[int] = []
    try:
        options = reader_options(ctx.config)
        options["max_record_bytes"] = document_limit(options["max_record_bytes"], ctx.task_memory)
        records = read_source(source, problems, **options)
        for chunk in _chunks(records, ctx.shard_docs, ctx.shard_text_bytes):
            storage.write_table(f"read/{task:05d}/part-{len(parts):05d}.parquet", _table(chunk))
            parts.append(len(chunk))
    except StrictInputError:
        raise
    except Exception as err:  # any failure to read a file makes it a bad shard
        message = f"{source.path}: cannot be read: {type(err).__name__}: {err}"
        if not ctx.skip_bad_shards:
            raise BadShard(f"{message} (rerun with --skip-bad-shards to go on without it)") from err
        for index in range(len(parts)):
            storage.remove(f"read/{task:05d}/part-{index:05d}.parquet")
        problems = ProblemLog(spool=True)
        problems.error(str(source.path), 0, "bad_shard", f"{message}; skipped the whole file")
        parts = []
    return {"parts": parts, "problems": problems_to_json(problems, storage, f"read/{task:05d}")}


def _chunks(records: Iterable[Record], max_docs: int, max_bytes: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    size = 0
    for record in records:
        chunk.append(record)
        size += len(record.text)
        if len(chunk) >= max_docs or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _table(records: list[Record]) -> pa.Table:
    return pa.table(
        [
            [r.id for r in records],
            [r.text for r in records],
            [r.line for r in records],
            [None if r.fields is None else encode_fields(r.fields) for r in records],
        ],
        schema=PART_SCHEMA,
    )


def encode_fields(fields: dict[str, Any]) -> bytes:
    """A record's other fields as data only (a shared work folder must not be able to run
    code in the workers, as pickle would let it): JSON when it gives the values back exactly
    (orjson, else the standard library for integers beyond 64 bits and NaN), else one Arrow
    IPC row (dates, bytes, decimals of Parquet input), else JSON of their text."""
    try:
        data = orjson.dumps(fields)
        if _same(orjson.loads(data), fields):
            return b"j" + data
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:
        text = json.dumps(fields, ensure_ascii=False).encode()
        if _same(json.loads(text), fields):
            return b"J" + text
    except (TypeError, ValueError):
        pass
    try:
        sink = pa.BufferOutputStream()
        table = pa.Table.from_pylist([fields])
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue().to_pybytes()
        if _same(decode_fields(b"a" + data), fields):
            return b"a" + data
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    return b"j" + orjson.dumps(fields, default=str, option=orjson.OPT_NON_STR_KEYS)


def decode_fields(raw: bytes) -> dict[str, Any]:
    kind, data = raw[:1], raw[1:]
    if kind == b"j":
        value: dict[str, Any] = orjson.loads(data)
    elif kind == b"J":
        value = json.loads(data)
    elif kind == b"a":
        value = pa.ipc.open_stream(data).read_all().to_pylist()[0]
    else:
        raise ValueError(f"unknown encoding {kind!r} of a record's fields")
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def load_part(storage: Storage, ctx: RunContext, shard: int, text: bool = True) -> list[Record]:
    """The records of one shard, renamed ids applied (``text=False``: texts left empty)."""
    return [r for batch in iter_part(storage, ctx, shard, 1 << 62, text) for r in batch]


def iter_part(
    storage: Storage, ctx: RunContext, shard: int, batch_size: int, text: bool = True
) -> Iterator[list[Record]]:
    """The records of one shard in batches of ``batch_size``, renamed ids applied."""
    columns = ["id", "line", "fields", *(["text"] if text else [])]
    renames = shard_renames(storage, shard)
    path = str(ctx.sources[ctx.shards[shard][0]].path)
    row = 0
    for batch in storage.iter_batches(ctx.part_path(shard), min(batch_size, 1 << 30), columns):
        ids = batch.column("id").to_pylist()
        for at, new_id in renames.items():
            if row <= at < row + len(ids):
                ids[at - row] = new_id
        texts = batch.column("text").to_pylist() if text else [""] * len(ids)
        yield [
            Record(doc_id, body, path, line, None if raw is None else decode_fields(raw))
            for doc_id, body, line, raw in zip(
                ids,
                texts,
                batch.column("line").to_pylist(),
                batch.column("fields").to_pylist(),
                strict=True,
            )
        ]
        row += len(ids)


def shard_ids(storage: Storage, ctx: RunContext, shard: int) -> pa.Array:
    """The (renamed) ids of one shard as an Arrow array."""
    ids = storage.read_table(ctx.part_path(shard), ["id"]).column("id").combine_chunks()
    renames = shard_renames(storage, shard)
    if not renames:
        return ids
    values = ids.to_pylist()
    for row, new_id in renames.items():
        values[row] = new_id
    return pa.array(values, pa.string())


def shard_renames(storage: Storage, shard: int) -> dict[int, str]:
    table = storage.read_table(RENAMES)
    if table.num_rows == 0:
        return {}
    mask = pc.equal(table.column("shard"), shard)
    chosen = table.filter(mask)
    return dict(zip(chosen.column("row").to_pylist(), chosen.column("id").to_pylist(), strict=True))


def ids_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    """Find repeated ids over the whole corpus and choose their new names, in input order."""
    del task
    columns = [
        storage.read_table(ctx.part_path(s), ["id"]).column("id").combine_chunks()
        for s in range(len(ctx.shards))
    ]
    every = pa.chunked_array(columns, pa.string())
    counts = pc.value_counts(every) if len(every) else pa.array([], pa.struct([]))
    repeated = (
        counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
        if len(every)
        else pa.array([], pa.string())
    )
    problems = ProblemLog(spool=True)
    rows: dict[str, list[Any]] = {"shard": [], "row": [], "id": []}
    if len(repeated):
        _rename(storage, ctx, columns, every, repeated, rows, problems)
    storage.write_table(
        RENAMES,
        pa.table(
            rows,
            schema=pa.schema([("shard", pa.int32()), ("row", pa.int32()), ("id", pa.string())]),
        ),
    )
    return {
        "renamed": len(rows["id"]),
        "problems": problems_to_json(problems, storage, "ids/00000"),
    }


def _rename(
    storage: Storage,
    ctx: RunContext,
    columns: list[pa.Array],
    every: pa.ChunkedArray,
    repeated: pa.Array,
    rows: dict[str, list[Any]],
    problems: ProblemLog,
) -> None:
    """New names ``id#n`` for the second and later uses of each repeated id.

    Names already used anywhere in the corpus are skipped; they are looked up in bulk (one
    hash lookup over all ids per round), never one scan per name.
    """
    hits: list[tuple[int, int, str]] = []  # (shard, row, id) of every use, in input order
    for shard, column in enumerate(columns):
        found = pc.is_in(column, value_set=repeated).to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(found).tolist():
            hits.append((shard, row, column[row].as_py()))
    uses = Counter(original for _, _, original in hits)
    free: dict[str, list[str]] = {}
    first_free = dict.fromkeys(uses, 2)
    while True:
        short = [o for o, n in uses.items() if len(free.get(o, ())) < n - 1]
        if not short:
            break
        names = [f"{o}#{k}" for o in short for k in range(first_free[o], first_free[o] + uses[o])]
        used = pc.is_in(pa.array(names, pa.string()), value_set=every).to_pylist()
        for name, is_used in zip(names, used, strict=True):
            if not is_used:
                free.setdefault(name.rsplit("#", 1)[0], []).append(name)
        for o in short:
            first_free[o] += uses[o]
    lines: dict[int, pa.ChunkedArray] = {}
    started: set[str] = set()
    for shard, row, original in hits:
        if original not in started:
            started.add(original)  # the first use keeps the id
            continue
        new_id = free[original].pop(0)
        if shard not in lines:
            lines[shard] = storage.read_table(ctx.part_path(shard), ["line"]).column("line")
        rows["shard"].append(shard)
        rows["row"].append(row)
        rows["id"].append(new_id)
        problems.warning(
            str(ctx.sources[ctx.shards[shard][0]].path),
            lines[shard][row].as_py(),
            "duplicate_id",
            f"id {original!r} was already used by an earlier record; renamed {new_id!r}",
        )


def problems_to_json(
    problems: ProblemLog, storage: Storage | None = None, folder: str = ""
) -> dict[str, Any]:
    """A task's problems for its marker: counts and the first messages of each kind (bounded);
    every problem, when the log spooled them, in ``folder/problems.jsonl.zst`` of ``storage``."""
    spooled = problems.spooled() if storage is not None else b""
    if spooled:
        storage.write_bytes(f"{folder}/problems.jsonl.zst", spooled)  # type: ignore[union-attr]
    return {
        "problems": [[p.path, p.line, p.severity, p.kind, p.message] for p in problems.problems],
        "counts": [[severity, kind, n] for (severity, kind), n in problems.counts.items()],
        "spool": f"{folder}/problems.jsonl.zst" if spooled else None,
    }


def merge_problems(into: ProblemLog, found: dict[str, Any], storage: Storage | None = None) -> None:
    """Add a task's problems to the run's log (counts exact, full messages capped per kind)."""
    into.merge((Problem(*p) for p in found["problems"]), found["counts"])
    if found.get("spool") and storage is not None:
        into.merge_spooled(storage.read_bytes(found["spool"]))
