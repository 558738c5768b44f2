"""The extraction worker processes, as awaitables on the crawl's Twisted reactor.

In the reactor's process, extraction would stall every download; its results come back
through the reactor so pipelines can simply await them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from newsarchive.extract.pool import executor, warm_up

T = TypeVar("T")


class WorkerPool:
    def __init__(self, workers: int) -> None:
        self._executor = executor(workers)
        self.workers = workers
        from twisted.internet import reactor

        # After a forced stop nobody calls shutdown(); Python's exit would then run
        # every queued extraction first.
        reactor.addSystemEventTrigger("before", "shutdown", self.abandon)

    def warm_up(self) -> None:
        for _ in range(self.workers):
            self._executor.submit(warm_up)

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

    def abandon(self) -> None:
        """Drop the queued work and let the running jobs end on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
