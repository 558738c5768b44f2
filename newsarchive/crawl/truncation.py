"""Bodies cut short, kept as such: too large for DOWNLOAD_MAXSIZE, or cut off mid-way.

Scrapy drops a response whose body grows past ``DOWNLOAD_MAXSIZE`` and one whose
connection broke before the declared end, so neither would reach the WARC. An archive
keeps what it received and says it is incomplete, as Heritrix does: the body stops at
the limit (or where the connection broke) and the record carries ``WARC-Truncated``
(``length`` or ``disconnect``). A truncated body is never extracted as an article.
A body cut off by the server is still retried like any failed download (RETRY_TIMES);
each attempt is archived as it came.
"""

from __future__ import annotations

import logging
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response

logger = logging.getLogger(__name__)

TRUNCATED_KEY = "newsarchive_truncated"  # request.meta: why the body was cut short
LENGTH, DISCONNECT = "length", "disconnect"  # WARC-Truncated values (WARC 1.1, 5.14)


def truncation(request: Request, response: Response) -> str | None:
    """The WARC-Truncated reason for this response's body, None if it is whole."""
    if reason := request.meta.get(TRUNCATED_KEY):
        return str(reason)
    if "dataloss" in response.flags:  # DOWNLOAD_FAIL_ON_DATALOSS=False
        return DISCONNECT
    return None


class TruncationMiddleware:
    """Stops oversized downloads at DOWNLOAD_MAXSIZE keeping the bytes received, and
    retries bodies the server cut off (after the capture middleware archived them)."""

    def __init__(self, maxsize: int, stats: Any, crawler: Any) -> None:
        self.maxsize = maxsize
        self.stats = stats
        self.crawler = crawler
        self._received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Any) -> TruncationMiddleware:
        maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if maxsize <= 0:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0: no size limit")
        middleware = cls(maxsize, crawler.stats, crawler)
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def _stop(self, request: Request, size: int, declared: bool) -> None:
        request.meta[TRUNCATED_KEY] = LENGTH
        what = "declares" if declared else "passed"
        logger.warning(
            "%s %s %d bytes, more than DOWNLOAD_MAXSIZE (%d): archived truncated",
            request.url, what, size, self.maxsize,
        )
        raise StopDownload(fail=False)

    def headers_received(self, headers: Any, body_length: Any, request: Request,
                         spider: Any = None) -> None:
        request.meta.pop(TRUNCATED_KEY, None)  # a retry carries a copy of the old meta
        limit = request.meta.get("download_maxsize", self.maxsize)
        if limit and isinstance(body_length, int) and body_length > limit:
            self._stop(request, body_length, declared=True)  # the headers alone are kept

    def bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        received = self._received.get(request, 0) + len(data)
        self._received[request] = received
        limit = request.meta.get("download_maxsize", self.maxsize)
        if limit and received >= limit:
            self._received.pop(request, None)
            self._stop(request, received, declared=False)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        self._received.pop(request, None)
        reason = truncation(request, response)
        if reason is None:
            return response
        self.stats.inc_value(f"newsarchive/truncated/{reason}")
        if reason == DISCONNECT:
            retry = get_retry_request(
                request, spider=self.crawler.spider, reason="dataloss", logger=logger
            )
            if retry is not None:
                return retry
        return response
