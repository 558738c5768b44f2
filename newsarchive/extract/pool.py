"""Worker processes for extraction that leave signals to their parent and end with it.

trafilatura and langdetect are pure-Python CPU work; a crawl (newsarchive.crawl.pool) and
`newsarchive reextract` both run them in worker processes instead of their own.

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
from concurrent.futures import ProcessPoolExecutor

PARENT_POLL = 0.5  # seconds between a worker's checks that the crawl process lives


def warm_up() -> None:
    """Run in each worker at start, so the first extraction does not pay for imports."""
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
