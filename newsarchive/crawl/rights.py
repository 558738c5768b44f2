"""What each host states for the whole site, read once per host before its pages.

Two site-wide signals (newsarchive.rights): the W3C TDMRep file
``/.well-known/tdmrep.json``, fetched (and so archived, like robots.txt) before the
host's first page, so every page's record carries the reservation that applies to it;
and robots.txt's groups for AI crawlers, summarised when Scrapy parses the file. Both
are kept in the crawl session and written into the crawl's manifest (``crawl.rights``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newsarchive.archive.session import CrawlSession
from newsarchive.crawl.requisites import REQUISITE_KEY
from newsarchive.rights import aibots, tdmrep

logger = logging.getLogger(__name__)

META = "newsarchive_site_rights"  # marks this middleware's own requests
MAX_BYTES = 256 * 1024


class SiteRightsMiddleware:
    """Downloader middleware (after robots.txt): one TDMRep fetch per host, awaited by
    that host's first requests; robots.txt's AI groups recorded from Scrapy's signal."""

    def __init__(self, crawler: Any, session: CrawlSession, fetch: bool) -> None:
        self.crawler = crawler
        self.session = session
        self.fetch = fetch
        self._hosts: dict[str, Deferred | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> SiteRightsMiddleware:
        session = CrawlSession.from_crawler(crawler)
        middleware = cls(crawler, session, session.config.tdmrep)
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        url = urlparse_cached(request)
        root = f"{url.scheme}://{url.netloc}/"
        self.session.rights["robots_ai"].setdefault(
            url.netloc, aibots.summary(robotparser.allowed, root)
        )

    async def process_request(self, request: Request) -> None:
        if (not self.fetch or request.meta.get(META) or request.meta.get("dont_obey_robotstxt")
                or request.meta.get(REQUISITE_KEY)):
            # a requisite's host (a CDN) holds no pages whose records would carry it
            return None
        url = urlparse_cached(request)
        if url.scheme not in ("http", "https"):
            return None
        netloc = url.netloc
        if netloc not in self._hosts:
            pending: Deferred = Deferred()
            self._hosts[netloc] = pending
            try:
                await self._read(f"{url.scheme}://{netloc}{tdmrep.PATH}", netloc)
            except Exception:  # noqa: BLE001 - a host that cannot say states nothing
                logger.debug("tdmrep.json of %s unreadable", netloc, exc_info=True)
            finally:
                self._hosts[netloc] = None
                pending.callback(None)
            return None
        waiting = self._hosts[netloc]
        if waiting is not None:
            done: Deferred = Deferred()
            waiting.addBoth(lambda result: (done.callback(None), result)[1])
            await maybe_deferred_to_future(done)
        return None

    async def _read(self, url: str, netloc: str) -> None:
        request = Request(
            url, callback=NO_CALLBACK, dont_filter=True, priority=1000,
            meta={META: True, "dont_redirect": True, "allow_offsite": True,
                  "download_maxsize": MAX_BYTES, "handle_httpstatus_all": True},
        )
        response = await self.crawler.engine.download_async(request)
        self.crawler.stats.inc_value(f"newsarchive/rights/tdmrep/status/{response.status}")
        if response.status != 200:
            return
        rules = tdmrep.parse(response.body)
        if rules:
            self.session.rights["tdmrep"][netloc] = rules


def site_rules(session: CrawlSession, url: str) -> list[dict[str, Any]]:
    """The TDMRep rules of url's host, as read this crawl ([] when it has none)."""
    return session.rights["tdmrep"].get(urlsplit(url).netloc, [])
