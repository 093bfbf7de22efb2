"""Stages ``learn`` (one task per shard) and ``model`` (one task): learned boilerplate.

``learn`` stores each shard's distinct line keys per document (``boilerplate.doc_lines``);
``model`` feeds them, shard by shard, to the bounded-memory ``ChromeLearner`` and stores the
model that ``sketch`` tasks clean with.
"""

from __future__ import annotations

import pickle
import tempfile
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

MODEL = "model/00000/model.pkl"


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
    storage.write_bytes(MODEL, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return {"model": model.summary()}


@cache
def load_model(root: str) -> ChromeModel:
    """The run's model, read once per worker process."""
    model: ChromeModel = pickle.loads(Storage(root).read_bytes(MODEL))
    return model
