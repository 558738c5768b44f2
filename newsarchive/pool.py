"""A process pool whose results arrive on the Twisted reactor as awaitables.

trafilatura and langdetect are pure-Python CPU work; in the reactor's process they
would stall every download, so they run in worker processes instead.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

T = TypeVar("T")


def _warm_up() -> None:
    import newsarchive.extract  # noqa: F401 - import trafilatura once per worker


class WorkerPool:
    def __init__(self, workers: int) -> None:
        # "spawn": forking a process that runs a reactor and threads is not safe.
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        self.workers = workers

    def warm_up(self) -> None:
        for _ in range(self.workers):
            self._executor.submit(_warm_up)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        from twisted.internet import reactor

        deferred: Deferred[T] = Deferred()

        def done(future: Future[T]) -> None:
            error = future.exception()
            if error is not None:
                reactor.callFromThread(deferred.errback, error)
            else:
                reactor.callFromThread(deferred.callback, future.result())

        self._executor.submit(func, *args).add_done_callback(done)
        return await maybe_deferred_to_future(deferred)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
