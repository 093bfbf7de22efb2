"""The Executor protocol and the registry of executors by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")



class ExecutorError(RuntimeError):
    """The executor asked for cannot run here (a missing extra, a bad combination)."""


class Executor(Protocol):
    """Runs ``fn`` over tasks and yields the results in task order (never completion order),
    so output never depends on the executor or the number of workers."""

    name: ClassVar[str]
    workers: int

    @property
    def in_process(self) -> bool:
        """True when tasks run in this process (their CPU time is this process's)."""
        ...

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]: ...

    def lost_worker(self, error: BaseException) -> bool:
        """Whether ``error`` means a worker died (the run can resume), not a task's own bug."""
        ...


# name -> factory(workers, address): the executors the command line can ask for.
EXECUTORS: dict[str, Callable[[int, str | None], Executor]] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make an executor available as ``--executor NAME``."""

    def add(cls: type) -> type:
        cls.name = name  # type: ignore[attr-defined]
        EXECUTORS[name] = cls.create  # type: ignore[attr-defined]
        return cls

    return add


def make_executor(name: str, workers: int, address: str | None = None) -> Executor:
    """The executor a command line asked for (heavy imports stay inside the executor)."""
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise ExecutorError(
            f"unknown executor {name!r}; choose one of {', '.join(sorted(EXECUTORS))}"
        ) from None
    return factory(workers, address)
