"""Pipeline: append clean-text records to gzip JSONL shards in the archive.

Captures that share a canonical URL are merged here, after extraction, and only when
their texts match (newsarchive.archive.canonical): different texts under one canonical are
all kept, each its own record, and counted as ``canonical_conflicts``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from newsarchive.archive import canonical
from newsarchive.archive.records import build_record, content_hash
from newsarchive.archive.session import CrawlSession
from newsarchive.archive.shards import ShardWriter
from newsarchive.archive.state import ArticleState
from newsarchive.cluster import workers
from newsarchive.crawl.items import ArticlePage
from newsarchive.discovery.urls import article_key
from newsarchive.extract.extractor import Extracted
from newsarchive.warc.writer import SpoolError

logger = logging.getLogger(__name__)


class TextShardPipeline:
    def __init__(
        self, session: CrawlSession, writer: ShardWriter, stats: Any, crawler: Any = None,
        claims: canonical.Claims | None = None,
    ) -> None:
        self.session = session
        self.writer = writer
        self.stats = stats
        self.crawler = crawler
        self.claims = claims

    @classmethod
    def from_crawler(cls, crawler: Any) -> TextShardPipeline:
        session = CrawlSession.from_crawler(crawler)
        if not session.config.extract:
            raise NotConfigured("NEWSARCHIVE_EXTRACT is off: no clean-text shards")

        def on_close(path: Any, key: str, records: int) -> None:
            # Shards roll over on the reactor thread: never wait for an upload slot there.
            session.publish(path, key, "text", records, wait_for_slot=False)

        writer = ShardWriter(
            session.crawl_id, session.spool, session.config.shard_max_records, on_close,
            worker=session.config.worker_id,
        )
        session.add_closer(writer.close)
        return cls(session, writer, crawler.stats, crawler)

    def _claims(self) -> canonical.Claims:
        # Made on first use: on several machines they live in Redis, joined by the spider.
        if self.claims is None:
            self.claims = workers.article_claims(self.crawler)
        return self.claims

    def _stop(self, error: SpoolError) -> None:
        """The spool refused text: stop the crawl once, as the WARC writer does."""
        if self.stats.get_value("newsarchive/spool_errors"):
            return
        self.stats.set_value("newsarchive/spool_errors", 1)
        logger.error("%s: stopping the crawl", error)
        if self.crawler is not None and self.crawler.engine is not None:
            reason = "spool_full" if error.full else "spool_error"
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def process_item(self, item: Any) -> Any:
        if not (isinstance(item, ArticlePage) and isinstance(item.result, Extracted)):
            return item
        capture = item.capture
        text_hash = content_hash(item.result.text)
        verdict = canonical.judge(self._claims(), capture.url, capture.canonical_url, text_hash)
        if verdict == "merged":  # a copy of a text already archived under this canonical
            self.stats.inc_value("newsarchive/discarded/canonical-duplicate")
            return item
        # Another article under the same canonical: versioned under its own URL.
        url = capture.url if verdict == "conflict" else capture.canonical_url or capture.url
        if verdict == "conflict":
            self.stats.inc_value("newsarchive/canonical_conflicts")
        state = self.session.state
        found = state.lookup(url) if state else None
        key, prior = found if found else (article_key(url), None)
        record = build_record(
            capture, item.result,
            version=(prior.version + 1) if prior else 1,
            previous_id=prior.text_id if prior else None,
        )
        if prior is not None and prior.content_hash == record["content_hash"]:
            # New bytes, same text (a rotated ad, a new timestamp): no new version.
            self.stats.inc_value("newsarchive/articles/unchanged")
            if state is not None:
                state.touch(key, checked_at=capture.fetched_at)
            return item
        try:
            self.writer.write(record)
        except SpoolError as e:
            self._stop(e)
            raise DropItem(f"text of {capture.url} not archived: {e}", log_level="DEBUG") from None
        self.stats.inc_value("newsarchive/articles")
        self.stats.inc_value(f"newsarchive/articles/{'changed' if prior else 'new'}")
        if state is not None:
            state.put(key, ArticleState(
                url=capture.url,
                fetched_at=capture.fetched_at,
                record_id=capture.warc.record_id,
                payload_digest=capture.warc.payload_digest,
                content_hash=record["content_hash"],
                text_id=record["id"],
                version=record["version"],
                etag=capture.etag,
                last_modified=capture.last_modified,
                checked_at=capture.fetched_at,
            ))
        return item
