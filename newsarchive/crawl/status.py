"""A one-line crawl status every NEWSARCHIVE_STATUS_INTERVAL seconds, in Scrapy's log.

Scrapy's own LogStats line counts pages and items; an archivist watching a long crawl
wants to know whether articles are coming in and whether fetches fail, so this line
says pages, articles (new/changed/unchanged), errors and the page rate. It reads the
same stats the manifest's counts come from (newsarchive.crawl.extension), so the last
status line and the end summary agree.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from newsarchive.crawl import runsummary
from newsarchive.crawl.extension import counts_from_stats
from newsarchive.settings_schema import read

logger = logging.getLogger(__name__)

SETTING = "NEWSARCHIVE_STATUS_INTERVAL"


def status_interval(settings: Any) -> float:
    """The interval in seconds (0 = no status lines); ConfigError for anything else."""
    return float(read(settings, SETTING))


def status_line(stats: dict[str, Any], pages_per_minute: float) -> str:
    counts = counts_from_stats(stats)
    kinds = counts["articles_by_kind"]
    errors = runsummary.failed_fetches(counts) + sum(counts["errors"].values())
    return (
        f"status: {counts['responses']} pages ({pages_per_minute:.0f}/min), "
        f"{counts['articles']} articles ({kinds['new']} new, {kinds['changed']} changed, "
        f"{kinds['unchanged']} unchanged), errors: {errors}"
    )


class CrawlStatus:
    """Logs :func:`status_line` every interval while the spider runs."""

    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: Any = None
        self._last = (0, time.monotonic())

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlStatus:
        interval = status_interval(crawler.settings)
        if not interval:
            raise NotConfigured
        status = cls(crawler, interval)
        crawler.signals.connect(status.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(status.spider_closed, signal=signals.spider_closed)
        return status

    def spider_opened(self, spider: Any) -> None:
        self._last = (0, time.monotonic())
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def log(self) -> None:
        stats = self.crawler.stats.get_stats()
        pages, now = stats.get("downloader/response_count", 0), time.monotonic()
        before, then = self._last
        rate = (pages - before) * 60 / max(now - then, 1e-9)
        self._last = (pages, now)
        logger.info("%s", status_line(stats, rate))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
