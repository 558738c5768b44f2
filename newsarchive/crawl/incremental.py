"""Conditional requests for articles the archive already holds.

An article known from an earlier complete crawl is asked for with If-None-Match /
If-Modified-Since; the capture middleware then stores a 304, or a 200 whose payload
is unchanged, as a revisit record pointing at the original, not as a second copy.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.exceptions import NotConfigured

from newsarchive.archive.session import CrawlSession
from newsarchive.archive.state import ArticleState

PRIOR_KEY = "newsarchive_prior"


def prior_of(request: Request) -> tuple[str, ArticleState] | None:
    """(state key, last stored capture) for a request to a known article."""
    return request.meta.get(PRIOR_KEY)


class ConditionalRequestMiddleware:
    def __init__(self, session: CrawlSession) -> None:
        self.session = session

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        session = CrawlSession.from_crawler(crawler)
        if not session.config.incremental:
            raise NotConfigured("NEWSARCHIVE_INCREMENTAL is off")
        return cls(session)

    def process_request(self, request: Request) -> None:
        state = self.session.state
        if state is None or request.method != "GET" or PRIOR_KEY in request.meta:
            return
        found = state.lookup(request.url)
        if found is None:
            return
        request.meta[PRIOR_KEY] = found
        prior = found[1]
        if prior.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = prior.etag
        if prior.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = prior.last_modified
