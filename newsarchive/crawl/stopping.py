"""Stopping a crawl on SIGTERM, SIGINT or SIGHUP within a bounded time, however many arrive.

Scrapy stops gracefully on the first signal, forces the reactor down on the second,
then ignores every further one. A thread that does not end after that (a writer
waiting on its queue, an upload to a store that hangs) kept the process alive for
good, deaf to signals: CI's `timeout` had nothing left to send.

Here the first signal asks for the graceful stop and sets a deadline
(``NEWSARCHIVE_STOP_TIMEOUT``, 60 s); the second forces the reactor down and brings
the deadline to at most ``FORCED_GRACE`` seconds away; a third signal, or the
deadline, ends the process at once with status 6, as ``kill -9`` would end it. That
is safe because it is what crash recovery is for: the journal in the spool lets the
next crawl store, cut back and list everything this one wrote (newsarchive.archive.recovery,
or the shared crawl's coordinator for a worker). A signal while the configuration is
checked, before anything is written, ends the process at once with status 6; one
while the crawl opens stops it as soon as it runs.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from typing import Any

from newsarchive.crawl.outcome import INTERRUPTED
from newsarchive.settings_schema import read

logger = logging.getLogger(__name__)

FORCED_GRACE = 10.0  # after the second signal: the reactor is down, threads may finish
# SIGHUP too: a closed terminal or a dropped ssh session is a stop, not a crash that
# leaves the crawl's captures invisible until some later run recovers them.
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def stop_timeout(settings: Any) -> float:
    """NEWSARCHIVE_STOP_TIMEOUT in seconds; ConfigError naming it if it is not positive."""
    return float(read(settings, "NEWSARCHIVE_STOP_TIMEOUT"))


class Stopper:
    """Owns SIGTERM/SIGINT for one `scrapy crawl` process (instead of Scrapy's handlers).

    The signal handler takes no lock and logs nothing itself (the interrupted code may
    hold either): it counts, moves a deadline, and hands the rest to the reactor thread
    or, once that is gone, to the watchdog thread started with it.
    """

    def __init__(self, timeout: float, grace: float = FORCED_GRACE) -> None:
        self.process: Any = None  # the CrawlerProcess, once there is one (attach)
        self.timeout = timeout
        self.grace = grace
        self.received = 0
        self.deadline = math.inf  # time.monotonic() by which the process must be gone
        self._watchdog = threading.Thread(
            target=self._watch, name="newsarchive-stop-watchdog", daemon=True
        )

    def install(self) -> None:
        """Take the signals over, as early as possible; Scrapy's must stay off."""
        self._watchdog.start()  # now: starting a thread in a handler could deadlock
        for signum in SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` keeps its meaning
                signal.signal(signum, self.handle)

    def attach(self, process: Any) -> None:
        """The crawl to stop from now on (before: a signal ends the process at once)."""
        self.process = process

    @property
    def stopped(self) -> bool:
        """Whether a signal asked this crawl to stop."""
        return self.received > 0

    def exit(self, status: int) -> None:
        """End a stopped crawl now that its outcome is known, with that status.

        Python's own exit would wait for threads and run exit handlers, and it resets
        the signal handlers first: a signal in that window killed the process with a
        status that said nothing (-15).
        """
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status)

    def handle(self, signum: int, _frame: Any = None) -> None:
        self.received += 1
        name = signal.Signals(signum).name
        now = time.monotonic()
        if self.process is None:  # checking the configuration: nothing started yet
            _exit_now(f"received {name} before the crawl started")
        from twisted.internet import reactor  # Scrapy installed it by now

        if self.received == 1:
            self.deadline = now + self.timeout
            reactor.callFromThread(
                logger.info,
                "received %s: stopping gracefully (in-flight requests finish, files are "
                "closed and stored); send it again to force, within %.0f s in any case",
                name, self.timeout,
            )
            reactor.callFromThread(self._graceful)
        elif self.received == 2:
            self.deadline = min(self.deadline, now + self.grace)
            reactor.callFromThread(
                logger.warning,
                "received %s twice: forcing the stop; the next crawl recovers what this "
                "one wrote; a third signal ends the process at once", name,
            )
            reactor.callFromThread(_stop_reactor)
        else:
            _exit_now(f"received {name} {self.received} times: exiting at once")

    def _graceful(self) -> None:
        """Stop each crawl as Scrapy's first Ctrl-C does, but never before it started.

        Scrapy's stop does nothing to a crawl whose engine is still starting, and then
        stopped the reactor under it: the crawl ended with no manifest. A crawl that is
        not running yet is stopped as soon as it runs; the reactor stops when the last
        crawl has ended (``stop_after_crawl``).
        """
        from twisted.internet import reactor

        crawlers = list(self.process.crawlers)
        if not crawlers:  # a signal before the crawl was even created
            reactor.callLater(0.1, self._graceful)
        for crawler in crawlers:
            _stop_when_running(crawler)

    def _watch(self) -> None:
        # Polls instead of waiting on an Event: the handler must not take a lock.
        while time.monotonic() < self.deadline:
            time.sleep(0.25 if self.deadline < math.inf else 1.0)
        _exit_now(
            f"the stop did not end within its time (NEWSARCHIVE_STOP_TIMEOUT "
            f"{self.timeout:g} s after the first signal, {self.grace:g} s after the "
            "second): exiting now; the next crawl recovers what was written"
        )


def _stop_when_running(crawler: Any) -> None:
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    engine = crawler.engine
    if engine is None or not engine.running:
        if crawler.crawling:  # still opening: Scrapy's stop would do nothing yet
            reactor.callLater(0.1, _stop_when_running, crawler)
        return
    stopping = deferred_from_coro(crawler.stop_async())
    stopping.addErrback(lambda failure: logger.error("stopping the crawl: %s", failure))


def _stop_reactor(_: Any = None) -> None:
    from twisted.internet import reactor

    with contextlib.suppress(RuntimeError):  # ReactorNotRunning: already stopping
        reactor.stop()


def _exit_now(message: str) -> None:
    """End the process with status 6, skipping every thread and exit handler.

    Only async-signal-safe calls: this runs in a signal handler too.
    """
    os.write(2, f"newsarchive: {message}\n".encode())
    os._exit(INTERRUPTED)
