"""Pipeline: append clean-text records to gzip JSONL shards in the archive."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured

from newsarchive.extract import Extracted
from newsarchive.items import ArticlePage
from newsarchive.records import build_record
from newsarchive.session import CrawlSession
from newsarchive.shards import ShardWriter
from newsarchive.state import ArticleState
from newsarchive.urls import article_key


class TextShardPipeline:
    def __init__(self, session: CrawlSession, writer: ShardWriter, stats: Any) -> None:
        self.session = session
        self.writer = writer
        self.stats = stats

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
        return cls(session, writer, crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not (isinstance(item, ArticlePage) and isinstance(item.result, Extracted)):
            return item
        capture = item.capture
        state = self.session.state
        found = state.lookup(capture.canonical_url or capture.url) if state else None
        key, prior = found if found else (article_key(capture.canonical_url or capture.url), None)
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
        self.writer.write(record)
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
