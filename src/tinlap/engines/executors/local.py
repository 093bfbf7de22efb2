"""The default executor: this machine, no server, no daemon.

With one worker it runs in-process (simplest to debug, no pickling); with more it uses a process
pool and keeps a bounded number of tasks in flight so memory does not grow with the input.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ClassVar, TypeVar

from tinlap.engines.executors.base import ExecutorError, register
from tinlap.io.write import process_alive

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
        with ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=start_worker,
            initargs=(os.getpid(), _start_time(os.getpid()), dict(os.environ)),
        ) as pool:
            pending: deque[Future[R]] = deque()
            for task in tasks:
                pending.append(pool.submit(fn, task))
                if len(pending) >= self._in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def lost_worker(self, error: BaseException) -> bool:
        return isinstance(error, BrokenProcessPool)


def start_worker(driver: int, started: str | None, environ: dict[str, str]) -> None:
    """Pool initializer: the driver's environment as it is now, and ``die_with_driver``.

    A forkserver's children inherit the environment of the moment the forkserver started (the
    first pool of the process), so credentials a program set later (``AWS_*`` for an s3://
    input, in a notebook's second run) would reach the driver but not the workers."""
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update(environ)
    die_with_driver(driver, started)


def die_with_driver(driver: int, started: str | None) -> None:
    """Pool initializer: this worker exits within a second of its driver's death (killed with
    SIGKILL, say), instead of living on as an orphan holding memory. A worker's parent is the
    forkserver, not the driver, so PR_SET_PDEATHSIG alone would not do: a watchdog thread
    checks the driver (by pid and start time, so a reused pid is not mistaken for it)."""
    if sys.platform.startswith("linux"):
        try:  # also go when the forkserver (our parent) dies
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while _start_time(driver) == started and process_alive(driver):
            time.sleep(0.5)
        os._exit(1)  # the driver is gone: nobody will read our results

    threading.Thread(target=watch, name="tinlap-driver-watchdog", daemon=True).start()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (Linux), None elsewhere or when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == b"Z" else fields[19].decode()  # a zombie is dead already
