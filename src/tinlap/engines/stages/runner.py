"""The stage table and ``run_task``, the one function executors schedule."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tinlap.engines.stages.candidates import buckets_stage, exact_stage
from tinlap.engines.stages.cluster import components_stage, decide_stage
from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.ingest import ids_stage, read_stage
from tinlap.engines.stages.learn import learn_stage, model_stage
from tinlap.engines.stages.sketch import sketch_stage
from tinlap.engines.stages.star import large_stage, relabel_stage, seed_stage, small_stage
from tinlap.engines.stages.verify import filter_stage, ship_stage, verify_stage
from tinlap.engines.stages.write import write_stage
from tinlap.io.storage import Storage

StageFn = Callable[[int, RunContext, Storage], dict[str, Any]]

STAGES: dict[str, tuple[StageFn, Callable[[RunContext], int]]] = {
    "read": (read_stage, lambda c: len(c.sources)),
    "ids": (ids_stage, lambda c: 1),
    "learn": (learn_stage, lambda c: len(c.shards)),
    "model": (model_stage, lambda c: 1),
    "sketch": (sketch_stage, lambda c: len(c.shards)),
    "exact": (exact_stage, lambda c: c.exact_partitions),
    "buckets": (buckets_stage, lambda c: c.band_partitions),
    "ship": (ship_stage, lambda c: len(c.shards)),
    "filter": (filter_stage, lambda c: len(c.shards)),
    "verify": (verify_stage, lambda c: len(c.shards)),
    "components": (components_stage, lambda c: 1),
    "decide": (decide_stage, lambda c: c.decide_partitions),
}
STAGE_ORDER = tuple(STAGES)
# --components star replaces "components" by these; "large" and "small" run once per round
# under the names large-000, small-000, large-001...
STAGES |= {
    "seed": (seed_stage, lambda c: len(c.shards)),
    "large": (large_stage, lambda c: c.node_partitions),
    "small": (small_stage, lambda c: c.node_partitions),
    "relabel": (relabel_stage, lambda c: c.node_partitions),
    # the kept corpus written by the workers (run by the driver's finish, unless txt output)
    "write": (write_stage, lambda c: -(-len(c.shards) // c.write_group)),
}


def task_count(stage: str, ctx: RunContext) -> int:
    return STAGES[_kind(stage)][1](ctx)


def _kind(stage: str) -> str:
    """The stage function's name: rounds ("large-003") share their kind's function."""
    return stage.split("-", 1)[0]


def run_task(stage: str, ctx: RunContext, task: int) -> dict[str, Any]:
    """Run one task unless its marker says it already ran; returns its (stored) result."""
    storage = Storage(ctx.root)
    done = storage.finished(stage, task)
    if done is not None:
        return {**done, "reused": True}
    clock, cpu = time.perf_counter(), time.process_time()
    result = STAGES[_kind(stage)][0](task, ctx, storage)
    result["wall_seconds"] = round(time.perf_counter() - clock, 3)
    result["cpu_seconds"] = round(time.process_time() - cpu, 3)
    storage.mark_finished(stage, task, result)
    return {**result, "reused": False}
