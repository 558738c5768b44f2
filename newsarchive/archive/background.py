"""A small pool of daemon threads that returns Futures, for work a stop may abandon.

``concurrent.futures.ThreadPoolExecutor`` threads are not daemons: Python joins them
at exit, after running every task still queued. After a forced stop (a second
SIGTERM) that meant uploads to a store that may hang, with the process deaf to
signals. Work given to this pool must leave the spool recoverable if cut at any
point (an upload is a rename or a whole-object put; the journal says what to redo).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonExecutor:
    def __init__(self, workers: int, thread_name_prefix: str) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple] | None]
        self._queue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{n}", daemon=True)
            for n in range(workers)
        ]
        self._shutdown = False
        for thread in self._threads:
            thread.start()

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        if self._shutdown:
            raise RuntimeError("cannot submit after shutdown")
        future: Future[T] = Future()
        self._queue.put((future, func, args))
        return future

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Finish the queued work, then end the threads (waiting at most ``timeout``)."""
        if not self._shutdown:
            self._shutdown = True
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join(timeout)

    def _work(self) -> None:
        while (task := self._queue.get()) is not None:
            future, func, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(func(*args))
            except BaseException as e:  # the caller reads it from the future
                future.set_exception(e)
