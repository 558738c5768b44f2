"""Scrapy glue for page requisites: their requests, and the limits they are fetched within.

What a page embeds is found by newsarchive.discovery.requisites; this builds the requests
(any host: ``allow_offsite``; a depth of their own, so a page at DEPTH_LIMIT still gets
its stylesheet) and a downloader middleware that refuses a requisite past the page's or
the crawl's budget before it is fetched, and caps its size. Each URL is fetched once per
crawl by Scrapy's duplicate filter, whichever page asked first; across runs the
conditional requests of newsarchive.crawl.incremental apply, and the capture middleware
stores unchanged and identical payloads as revisits.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from newsarchive.archive.session import CrawlSession
from newsarchive.discovery.requisites import Budget, Limits, Requisite

logger = logging.getLogger(__name__)

REQUISITE_KEY = "newsarchive_requisite"
REFUSED_KEY = "newsarchive_requisite_refused"  # past a limit: why (counted already)
_COUNTED_KEY = "newsarchive_requisite_counted"  # its retries and redirects count once
# Stylesheets importing stylesheets: deeper chains are not drawn by any real page.
MAX_LEVEL = 3
STATS = "newsarchive/requisites/"
REQUESTED_BEFORE = f"{STATS}requested_before"  # not requested again (Requested)


@dataclass(frozen=True)
class RequisiteOf:
    """What a requisite request is for: the page that needed it and what embeds it."""

    page: str  # the archived page that needed it (the metadata record's ``via``)
    parent: str  # the document that embeds it: the page, a stylesheet, an iframe
    hint: str  # what the embedding document says it is (kinds of discovery.requisites)
    level: int = 0  # 0: embedded by the page; 1: by its stylesheet or iframe; …


def requisite_of(request_or_response: Request | Response) -> RequisiteOf | None:
    """The requisite a request (or its response) is for; None for pages."""
    return request_or_response.meta.get(REQUISITE_KEY)


class Requested:
    """The requisite URLs this crawl requested most recently (a bounded LRU set).

    Why: the pages of one site share most of what they embed (its stylesheet, fonts,
    logo), so nearly every requisite a page names was requested for an earlier page.
    Scrapy's duplicate filter would drop it, but only after a Request was built, passed
    every spider middleware and been fingerprinted (URL canonicalisation) and signalled
    to the scheduler: some 60 such requests per article on the crawl benchmark's real
    pages cost the reactor more than the article itself. A URL found here is not
    requested again; the duplicate filter stays the authority for everything else (URLs
    that dropped out of this set, spelled differently, or requested on another machine).
    Exact URLs as requested, at most ``size`` of them (~250 bytes each).
    """

    SIZE = 1 << 14

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._urls: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, url: str) -> bool:
        if url in self._urls:
            self._urls.move_to_end(url)
            return True
        return False

    def add(self, url: str) -> None:
        self._urls[url] = None
        if len(self._urls) > self.size:
            self._urls.popitem(last=False)


def requests_for(
    found: Iterable[Requisite], page: str, parent: str, level: int,
    callback: Any, errback: Any, requested: Requested | None = None,
    stats: Any = None,
) -> Iterator[scrapy.Request]:
    """Requests for requisites found in ``parent``, except those in ``requested``
    (counted in ``stats`` as ``newsarchive/requisites/requested_before``: duplicate
    requests, as the duplicate filter's own); a URL that still cannot be requested
    costs itself only (counted as skipped: bad-url by the caller's rejects)."""
    if level > MAX_LEVEL:
        return
    before = 0
    for requisite in found:
        if requested is not None and requisite.url in requested:
            before += 1
            continue
        try:
            request = scrapy.Request(
                requisite.url, callback=callback, errback=errback,
                # Just above pages: a page's requisites come close after it, so its
                # budget is spent while it is still tracked, and a browser's order.
                priority=1,
                meta={
                    REQUISITE_KEY: RequisiteOf(page, parent, requisite.kind, level),
                    "allow_offsite": True,  # CDNs: robots.txt and politeness still apply
                    "depth_reset": True,  # not a link: DEPTH_LIMIT is for pages
                    "discovery": "requisite",
                },
            )
        except ValueError as e:
            logger.debug("not requesting requisite %r: %s", requisite.url, e)
            continue
        if requested is not None:
            requested.add(requisite.url)
        yield request
    if before and stats is not None:
        stats.inc_value(REQUESTED_BEFORE, before)


class RequisiteLimitsMiddleware:
    """Refuses requisites past their page's count or bytes, or the crawl's share of
    bytes (IgnoreRequest, counted as ``newsarchive/requisites/skipped/<reason>``), caps
    a requisite's size (``download_maxsize``: a bigger one is archived truncated, as
    any download past its limit), and counts the bytes that came."""

    def __init__(self, budget: Budget, stats: Any) -> None:
        self.budget = budget
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RequisiteLimitsMiddleware:
        config = CrawlSession.from_crawler(crawler).config
        if config.requisites == "off":
            raise NotConfigured("NEWSARCHIVE_REQUISITES is off")
        limits = Limits(
            per_page=config.requisites_per_page, page_bytes=config.requisites_page_bytes,
            max_size=config.requisites_max_size, share=config.requisites_share,
        )
        return cls(Budget(limits), crawler.stats)

    def process_request(self, request: Request) -> None:
        of = requisite_of(request)
        if of is None or request.meta.get(_COUNTED_KEY):
            return  # a page; or a requisite's retry or redirect, already counted
        reason = self.budget.refusal(of.page)
        if reason is not None:
            self.stats.inc_value(f"{STATS}skipped/{reason}")
            request.meta[REFUSED_KEY] = reason
            raise IgnoreRequest(f"requisite limit ({reason}) reached for {of.page}")
        request.meta[_COUNTED_KEY] = True
        max_size = self.budget.limits.max_size
        if max_size and "download_maxsize" not in request.meta:
            request.meta["download_maxsize"] = max_size

    def process_response(self, request: Request, response: Response) -> Response:
        of = requisite_of(request)
        self.budget.fetched(of.page if of is not None else None, len(response.body))
        return response
