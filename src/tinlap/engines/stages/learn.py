"""Stages ``learn`` (one task per shard) and ``model`` (one task): learned boilerplate.

``learn`` stores each shard's distinct line keys per document (``boilerplate.doc_lines``);
``model`` feeds them, shard by shard, to the bounded-memory ``ChromeLearner`` and stores the
model that ``sketch`` tasks clean with.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from tinlap.core.chrome import ChromeLearner, ChromeModel, DocLines, doc_lines, source_of
from tinlap.core.normalise import repair_text
from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.ingest import load_part
from tinlap.io.spill import NpzSpill
from tinlap.io.storage import Storage

MODEL = "model/00000/model.json"  # settings and documents per source (JSON, never pickle)
CHROME = "model/00000/chrome.parquet"  # the chrome line keys, and which are head chrome


def learn_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    records = load_part(storage, ctx, task)
    lines = doc_lines(
        [repair_text(r.text) for r in records],
        [source_of(r, ctx.config.source_field) for r in records],
    )
    storage.write_table(
        f"learn/{task:05d}/lines.parquet",
        pa.table(
            {
                "key": lines.keys,
                "single": lines.single,
                "head": lines.head,
                "fingerprint": lines.fingerprints,
                "owner": lines.owners,
            }
        ),
    )
    storage.write_table(f"learn/{task:05d}/sources.parquet", pa.table({"source": lines.sources}))
    return {"documents": len(records)}


def model_stage(task: int, ctx: RunContext, storage: Storage) -> dict[str, Any]:
    del task
    config = ctx.config
    with tempfile.TemporaryDirectory(prefix="tinlap-learn-") as spill:
        learner = ChromeLearner(
            NpzSpill(Path(spill)), config.boilerplate_min_docs, config.boilerplate_fraction
        )
        for shard in range(len(ctx.shards)):
            lines = storage.read_table(f"learn/{shard:05d}/lines.parquet")
            sources = storage.read_table(f"learn/{shard:05d}/sources.parquet")
            learner.add(
                DocLines(
                    sources.column("source").to_pylist(),
                    lines.column("key").to_numpy(),
                    lines.column("single").to_numpy(zero_copy_only=False),
                    lines.column("head").to_numpy(zero_copy_only=False),
                    lines.column("fingerprint").to_numpy(),
                    lines.column("owner").to_numpy(),
                )
            )
        model = learner.finish()
    save_model(storage, model)
    return {"model": model.summary()}


def save_model(storage: Storage, model: ChromeModel) -> None:
    """The model as data only (JSON and Parquet), for ``load_model`` in every worker."""
    keys = sorted(model.chrome)
    storage.write_table(
        CHROME,
        pa.table(
            {
                "key": pa.array(keys, pa.uint64()),
                "head": pa.array([k in model.head_chrome for k in keys], pa.bool_()),
            }
        ),
    )
    storage.write_json(
        MODEL,
        {
            "min_docs": model.min_docs,
            "fraction": model.fraction,
            "docs_per_source": list(model.docs_per_source.items()),
        },
    )


@cache
def load_model(root: str) -> ChromeModel:
    """The run's model, read once per worker process (data only: JSON and Parquet)."""
    storage = Storage(root)
    settings = storage.read_json(MODEL)
    chrome = storage.read_table(CHROME)
    keys = chrome.column("key").to_pylist()
    head = chrome.column("head").to_pylist()
    return ChromeModel(
        min_docs=int(settings["min_docs"]),
        fraction=float(settings["fraction"]),
        docs_per_source=Counter({str(s): int(n) for s, n in settings["docs_per_source"]}),
        chrome=frozenset(keys),
        head_chrome=frozenset(k for k, h in zip(keys, head, strict=True) if h),
    )
