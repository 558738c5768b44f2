"""`scrapy crawl`, checking newsarchive's configuration before the crawl starts.

Scrapy reports a component that fails to start with a traceback. A wrong archive
path, an unknown site or a malformed URL deserves one clear line and exit status 2,
before any request is made.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from newsarchive import frontier, robots
from newsarchive.config import Config
from newsarchive.errors import ConfigError, NewsarchiveError, StorageError
from newsarchive.storage import open_store


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # Runs after -s/-a are parsed and before Scrapy starts logging: the error can be
        # the only line printed.
        super().process_options(args, opts)
        if args and args[0] == "news":
            try:
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
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats:
            # 3 storage failed, 4 too many errors, 5 no article (see newsarchive.outcome)
            self.exitcode = crawler.stats.get_value("newsarchive/exit_status", 0)


def preflight(settings: object, spargs: dict[str, str]) -> None:
    """Everything that can be checked without the network; raises NewsarchiveError."""
    from spiders.news import SPIDER_ARGS, resolve_since, resolve_site

    config = Config.from_settings(settings)
    robots.retry_policy(settings)
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
    from newsarchive.session import default_spool

    check_spool(Path(config.spool) if config.spool else default_spool(config.archive, store))


def check_spool(spool: Path) -> None:
    """The spool must take files too: every file passes through it."""
    try:
        spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=spool, prefix=".write-check-"):
            pass
    except OSError as e:
        reason = e.strerror or str(e)
        raise StorageError(f"spool folder {spool} is not writable: {reason}") from None
