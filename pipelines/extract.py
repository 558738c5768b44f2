"""Pipeline: clean text and language for article pages, in a process pool.

Pages that give no text are dropped with their reason, counted in the crawl stats
(``newsarchive/discarded/<reason>``) and in the manifest.
"""

from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured

from newsarchive.archive.session import CrawlSession
from newsarchive.crawl import errorcount
from newsarchive.crawl.items import ArticlePage
from newsarchive.crawl.pool import WorkerPool
from newsarchive.extract.extractor import Discarded, Extracted, ExtractOptions, extract

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(
        self, pool: WorkerPool, options: ExtractOptions, stats: Any, session: CrawlSession
    ) -> None:
        self.pool = pool
        self.options = options
        self.stats = stats
        self.session = session

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        session = CrawlSession.from_crawler(crawler)
        config = session.config
        if not config.extract:
            raise NotConfigured("NEWSARCHIVE_EXTRACT is off: WARC-only archiving")
        options = ExtractOptions(min_words=config.min_words, mode=config.extractor)
        return cls(WorkerPool(config.extract_workers), options, crawler.stats, session)

    def open_spider(self) -> None:
        self.pool.warm_up()

    def close_spider(self) -> None:
        self.pool.shutdown()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        options = replace(
            self.options,
            language_hint=item.language_hint,
            extra_drop_selectors=item.drop_selectors,
        )
        try:
            result = await self.pool.run(
                extract, item.body, item.capture.url, item.encoding, options
            )
        except BrokenProcessPool:
            raise
        except Exception as e:  # a worker crash on one page must not stop the crawl
            logger.warning("extraction failed for %s: %r", item.capture.url, e)
            errorcount.count(self.stats, "pipeline/ExtractPipeline", e)
            result = Discarded("extractor-error", repr(e)[:200])
        item.body = b""
        since = self.session.since
        published = result.published if isinstance(result, Extracted) else None
        if since and published and published[:10] < since.isoformat():
            result = Discarded("too-old", f"published {published[:10]} < {since}")
        item.result = result
        if isinstance(result, Discarded):
            self.stats.inc_value(f"newsarchive/discarded/{result.reason}")
            raise DropItem(f"no text ({result.reason}): {item.capture.url}", log_level="INFO")
        return item
