"""Pipeline: append clean-text records to gzip JSONL shards in the archive."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured

from newsarchive.extract import Extracted
from newsarchive.items import ArticlePage
from newsarchive.records import build_record
from newsarchive.session import CrawlSession
from newsarchive.shards import ShardWriter


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
            session.crawl_id, session.spool, session.config.shard_max_records, on_close
        )
        session.add_closer(writer.close)
        return cls(session, writer, crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage) and isinstance(item.result, Extracted):
            self.writer.write(build_record(item.capture, item.result))
            self.stats.inc_value("newsarchive/articles")
        return item
