"""Ray Core tasks (``pip install 'tinlap[ray]'``): a cluster, or Ray's local mode."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from tinlap.engines.executors.base import ExecutorError, register

T = TypeVar("T")
R = TypeVar("R")


@register("ray")
class RayExecutor:
    """Run ``fn`` over tasks as Ray Core tasks.

    ``address`` None starts Ray in local mode on this machine with ``workers`` CPUs; otherwise it
    joins a running cluster (``auto`` or ``ray://host:port``). A task whose worker dies is
    retried ``retries`` times by Ray; results come back in task order, like the local executor.
    """

    name: ClassVar[str]
    in_process = False

    def __init__(self, address: str | None, workers: int, retries: int = 3) -> None:
        try:
            import ray
        except ImportError as err:
            raise ExecutorError("--executor ray needs Ray: pip install 'tinlap[ray]'") from err
        self._ray: Any = ray
        if not ray.is_initialized():
            options: dict[str, object] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                options["num_cpus"] = workers
            ray.init(address=address, **options)
        self.workers = workers
        self.retries = retries

    @classmethod
    def create(cls, workers: int, address: str | None) -> RayExecutor:
        return cls(address, workers)

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        ray = self._ray
        remote = ray.remote(max_retries=self.retries)(_call)
        pending: deque[object] = deque()
        for task in tasks:
            pending.append(remote.remote(fn, task))
            if len(pending) >= 4 * self.workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())

    def lost_worker(self, error: BaseException) -> bool:
        exceptions = self._ray.exceptions
        lost = (exceptions.WorkerCrashedError, exceptions.NodeDiedError, exceptions.RayActorError)
        return isinstance(error, lost)


def _call(fn: Callable[[T], R], task: T) -> R:
    return fn(task)
