"""Pipeline: WARC metadata records (outlinks, discovery, crawl id) for the pages crawled.

The spider yields a small PageMetadata item per page; this hands it to the capture
middleware, which writes the record on its writer thread next to the page's response.
"""

from __future__ import annotations

import logging
from typing import Any

from newsarchive.crawl.capture import capture_middleware
from newsarchive.crawl.items import PageMetadata

logger = logging.getLogger(__name__)


class WarcMetadataPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcMetadataPipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageMetadata):
            # Looked up here, not at start-up: the middleware is built by the downloader.
            capture = capture_middleware(self.crawler)
            if capture is None:
                logger.debug("no WARC capture in this crawl: metadata for %s dropped", item.url)
            else:
                await capture.write_metadata(item)
        return item
