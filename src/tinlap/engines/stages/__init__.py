"""The sharded pipeline's stages: each a pure function of (stage, task index, context, storage).

Stages run in this order and exchange Parquet files through a ``Storage`` root:

    read → ids → learn → model → sketch → exact → buckets → ship → filter → verify →
    components → decide

``run_task`` is what executors schedule: it skips a task whose completion marker exists and
otherwise runs it and leaves the marker, so a killed run resumes where it stopped.
"""

from tinlap.engines.stages.context import RunContext
from tinlap.engines.stages.runner import STAGE_ORDER, run_task, task_count

__all__ = ["STAGE_ORDER", "RunContext", "run_task", "task_count"]
