"""A process pool whose results arrive on the Twisted reactor as awaitables.

trafilatura and langdetect are pure-Python CPU work; in the reactor's process they
would stall every download, so they run in worker processes instead.

The workers live and die with the crawl process. They ignore SIGINT, SIGTERM and SIGHUP (a
Ctrl-C or CI's `timeout` reaches the whole process group; the crawl decides how to
stop, and finishes the extractions it waits for), and they exit when the crawl
process is gone however it went: a worker orphaned by `kill -9` or a forced stop
would otherwise wait for work for ever, holding the crawl's stderr open.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

T = TypeVar("T")


PARENT_POLL = 0.5  # seconds between a worker's checks that the crawl process lives


def _warm_up() -> None:
    import newsarchive.extract.extractor  # noqa: F401 - import trafilatura once per worker


def _start_worker(parent: int) -> None:
    """Runs first in each worker process: signals are the parent's to handle."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with, args=(parent,), name="newsarchive-parent-watch", daemon=True
    ).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(0)  # the crawl process is gone: nobody will ever read a result


def _start_resource_tracker() -> None:
    """multiprocessing's helper process ignores SIGINT and SIGTERM but not SIGHUP: a
    closed terminal killed it, and its replacement printed a KeyError traceback for
    every semaphore the old one knew. Started with SIGHUP blocked (a mask survives
    exec), it never sees one."""
    from multiprocessing import resource_tracker

    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def executor(workers: int) -> ProcessPoolExecutor:
    """Worker processes that leave signals to this process and end with it.

    "spawn": forking a process that runs a reactor and threads is not safe.
    """
    _start_resource_tracker()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker, initargs=(os.getpid(),),
    )


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

    def abandon(self) -> None:
        """Drop the queued work and let the running jobs end on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
