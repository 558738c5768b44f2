"""Components with a bug on purpose, for crawls that check no exception goes uncounted.

Each raises only for URLs holding its trigger word, so the rest of the crawl shows
that the work went on.
"""

from __future__ import annotations

from typing import Any

from newsarchive.crawl.items import ArticlePage, PageMetadata


class FaultyPipeline:
    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage) and "pipeline-bug" in item.capture.url:
            raise KeyError("no such field")
        return item


class FaultySpiderMiddleware:
    async def process_spider_output(self, response: Any, result: Any) -> Any:
        async for output in result:
            if isinstance(output, PageMetadata) and "spidermw-bug" in output.url:
                raise ValueError("cannot handle this page's metadata")
            yield output


class FaultyDownloaderMiddleware:
    def process_response(self, request: Any, response: Any) -> Any:
        if "dlmw-bug" in request.url:
            raise TypeError("unexpected response")
        return response
