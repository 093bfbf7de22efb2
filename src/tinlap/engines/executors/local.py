"""The default executor: this machine, no server, no daemon.

With one worker it runs in-process (simplest to debug, no pickling); with more it uses a process
pool and keeps a bounded number of tasks in flight so memory does not grow with the input.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ClassVar, TypeVar

from tinlap.engines.executors.base import ExecutorError, register

T = TypeVar("T")
R = TypeVar("R")


@register("local")
class LocalExecutor:
    """Run ``fn`` over tasks on this machine with ``workers`` processes."""

    name: ClassVar[str]

    def __init__(self, workers: int = 1, in_flight_per_worker: int = 2) -> None:
        self.workers = workers
        self._in_flight = max(1, workers * in_flight_per_worker)

    @classmethod
    def create(cls, workers: int, address: str | None) -> LocalExecutor:
        if address is not None:
            raise ExecutorError("--ray-address needs --executor ray")
        return cls(workers)

    @property
    def in_process(self) -> bool:
        return self.workers <= 1

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        if self.workers <= 1:
            yield from map(fn, tasks)
            return
        # fork would copy the parent's large arrays lazily but is unsafe with threads (Arrow);
        # spawn-based "forkserver" keeps workers small and independent.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            pending: deque[Future[R]] = deque()
            for task in tasks:
                pending.append(pool.submit(fn, task))
                if len(pending) >= self._in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def lost_worker(self, error: BaseException) -> bool:
        return isinstance(error, BrokenProcessPool)
