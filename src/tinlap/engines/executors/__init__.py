"""Executors only schedule: they apply a pure stage function to a stream of tasks.

A new executor is one module here: a class that satisfies ``Executor``, decorated with
``@register("name")``, plus its import below. The CLI's ``--executor`` choices come from
``EXECUTORS``; the drivers never name an executor.
"""

from tinlap.engines.executors.base import (
    EXECUTORS,
    Executor,
    ExecutorError,
    make_executor,
    register,
)
from tinlap.engines.executors.local import LocalExecutor
from tinlap.engines.executors.ray import RayExecutor

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "RayExecutor",
    "make_executor",
    "register",
]
