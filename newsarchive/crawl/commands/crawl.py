"""`scrapy crawl`, checking newsarchive's configuration before the crawl starts.

Scrapy reports a component that fails to start with a traceback. A wrong archive
path, an unknown site or a malformed URL deserves one clear line and exit status 2,
before any request is made.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from newsarchive.archive.recovery import check_crawl_id_free
from newsarchive.cluster import frontier
from newsarchive.config import Config
from newsarchive.crawl import robots
from newsarchive.crawl.outcome import INTERRUPTED, STORAGE_FAILED
from newsarchive.crawl.politeness import max_crawl_delay
from newsarchive.crawl.status import status_interval
from newsarchive.crawl.stopping import Stopper, stop_timeout
from newsarchive.errors import ConfigError, NewsarchiveError, StorageError
from newsarchive.storage import open_store

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # Runs after -s/-a are parsed and before Scrapy starts logging: the error can be
        # the only line printed.
        super().process_options(args, opts)
        if args and args[0] == "news":
            try:
                self.stopper = Stopper(stop_timeout(self.settings))
                self.stopper.install()  # ours instead of Scrapy's: a stop ends in time
                preflight(self.settings, opts.spargs)
            except NewsarchiveError as e:
                print(f"newsarchive: error: {e}", file=sys.stderr)
                sys.exit(2)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # Scrapy's own run(), keeping the crawler to read the outcome from its stats.
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process
        stopper = getattr(self, "stopper", None)
        if stopper is None:  # another spider than news
            stopper = self.stopper = Stopper(stop_timeout(self.settings))
            stopper.install()
        stopper.attach(self.crawler_process)
        crawler = self.crawler_process.create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        failed: list[NewsarchiveError] = []
        _catch_start_error(started, failed)
        self.crawler_process.start(install_signal_handlers=False)
        if failed:
            # Opening the archive failed before any request: one line, not a traceback.
            print(f"newsarchive: error: {failed[0]}", file=sys.stderr)
            self.exitcode = 2 if isinstance(failed[0], ConfigError) else STORAGE_FAILED
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats:
            # 3 storage failed, 4 too many errors, 5 no article (see newsarchive.crawl.outcome)
            status = crawler.stats.get_value("newsarchive/exit_status")
            # None after a forced stop: the archive extension never judged the crawl.
            self.exitcode = INTERRUPTED if status is None and stopper.stopped else status or 0
        if stopper.stopped:
            stopper.exit(self.exitcode)


def _catch_start_error(started: Any, failed: list[NewsarchiveError]) -> None:
    """Keep a NewsarchiveError raised while the crawler starts (the archive session opens
    then) for run() to print as one line; anything else is left to Scrapy's report."""
    if isinstance(started, asyncio.Future):

        def done(task: asyncio.Future[Any]) -> None:
            if task.cancelled():
                return
            error = task.exception()  # retrieved: asyncio does not print it again
            if isinstance(error, NewsarchiveError):
                failed.append(error)
            elif error is not None:
                logger.error("the crawl failed to start", exc_info=error)

        started.add_done_callback(done)
    elif isinstance(started, Deferred):

        def errback(failure: Failure) -> Failure | None:
            if isinstance(failure.value, NewsarchiveError):
                failed.append(failure.value)
                return None
            return failure

        started.addErrback(errback)


def preflight(settings: object, spargs: dict[str, str]) -> None:
    """Everything that can be checked without the network; raises NewsarchiveError."""
    from newsarchive.spiders.news import SPIDER_ARGS, resolve_since, resolve_site

    config = Config.from_settings(settings)
    robots.retry_policy(settings)
    max_crawl_delay(settings)
    stop_timeout(settings)
    status_interval(settings)
    unknown = sorted(set(spargs) - set(SPIDER_ARGS))
    if unknown:
        raise ConfigError(
            f"unknown spider argument -a {unknown[0]}=…; known: {', '.join(SPIDER_ARGS)}"
        )
    resolve_site(settings, spargs.get("site"), spargs.get("url"))
    resolve_since(spargs.get("since"), config.max_age_days)
    frontier.check(settings)  # NEWSARCHIVE_REDIS_URL: reachable before anything starts
    store = open_store(config.archive, config.s3)
    store.check_writable()
    from newsarchive.archive.session import default_spool

    spool = Path(config.spool) if config.spool else default_spool(config.archive, store)
    check_spool(spool)
    if config.crawl_id:
        check_crawl_id_free(spool, config.crawl_id)


def check_spool(spool: Path) -> None:
    """The spool must take files too: every file passes through it."""
    try:
        spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=spool, prefix=".write-check-"):
            pass
    except OSError as e:
        reason = e.strerror or str(e)
        raise StorageError(f"spool folder {spool} is not writable: {reason}") from None
