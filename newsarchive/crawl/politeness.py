"""Politeness beyond Scrapy's defaults: robots.txt Crawl-delay and a contact in the UA.

Scrapy obeys robots.txt Allow/Disallow but ignores its Crawl-delay; this middleware
reads it from the parser the robots middleware (newsarchive.crawl.robots) already
fetched and applies it to the
site's download slot before each request is queued, and again after each response,
since AutoThrottle lowers the slot's delay on fast responses while requests wait in
its queue. Scrapy's random jitter is narrowed so that no wait is shorter than the
Crawl-delay (AutoThrottle may slow down further, never below it).
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from newsarchive import __version__
from newsarchive.crawl.robots import RobotsPolicyMiddleware
from newsarchive.settings_schema import read

logger = logging.getLogger(__name__)


def robots_parser(crawler: Any, netloc: str) -> Any:
    """The robots.txt parser newsarchive's robots middleware loaded for netloc, if loaded."""
    middleware = crawler.get_downloader_middleware(RobotsPolicyMiddleware)
    parser = middleware.parsers.get(netloc) if middleware is not None else None
    return None if parser is None or hasattr(parser, "addCallback") else parser


def robots_sitemaps(crawler: Any, netloc: str) -> list[str]:
    """The `Sitemap:` URLs of netloc's robots.txt (empty until it has been fetched)."""
    parser = robots_parser(crawler, netloc)
    protego = getattr(parser, "rp", None)
    return list(getattr(protego, "sitemaps", ()) or ())


class CrawlDelayMiddleware:
    """Priority just after RobotsTxtMiddleware (100), which has the parser by then."""

    def __init__(self, crawler: Any, max_delay: float = 60.0) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get(
            "USER_AGENT"
        )
        self.max_delay = max_delay
        self._logged: set[str] = set()
        self._capped: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        middleware = cls(crawler, max_crawl_delay(crawler.settings))
        # Connected after AutoThrottle (extensions are built before the downloader), so
        # this runs after it adjusted the delay and before the next request leaves.
        crawler.signals.connect(middleware._restore, signal=signals.response_downloaded)
        crawler.signals.connect(middleware._restore, signal=signals.request_reached_downloader)
        return middleware

    def _crawl_delay(self, url: str) -> float:
        netloc = urlsplit(url).netloc
        parser = robots_parser(self.crawler, netloc)
        delay = getattr(parser, "crawl_delay", None)
        seconds = float(delay(self.user_agent) or 0) if callable(delay) else 0.0
        if not math.isfinite(seconds) or seconds <= 0:
            return 0.0
        if seconds > self.max_delay:
            if netloc not in self._capped:
                self._capped.add(netloc)
                logger.warning("robots.txt of %s asks for Crawl-delay %gs: capped to %gs "
                               "(NEWSARCHIVE_MAX_CRAWL_DELAY)", netloc, seconds, self.max_delay)
                self.crawler.stats.inc_value("newsarchive/crawl/robots/crawl-delay-capped")
            return self.max_delay
        return seconds

    def process_request(self, request: Request) -> None:
        if request.url.endswith("/robots.txt"):
            return
        netloc = urlsplit(request.url).netloc
        seconds = self._crawl_delay(request.url)
        if not seconds:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        # The host's first request has no slot yet: Scrapy makes it when the request
        # enters the downloader (request_reached_downloader applies the delay then).
        if (slot := downloader.slots.get(key)) is not None:
            hold_delay(slot, seconds)
        if key not in self._logged:
            self._logged.add(key)
            logger.info("robots.txt of %s asks for Crawl-delay %ss: honoured", netloc, seconds)
            self.crawler.stats.set_value(f"newsarchive/crawl_delay/{netloc}", seconds)

    def _restore(self, request: Request, **kwargs: Any) -> None:
        slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot"))
        if slot is not None and (seconds := self._crawl_delay(request.url)):
            hold_delay(slot, seconds)


def max_crawl_delay(settings: Any) -> float:
    """NEWSARCHIVE_MAX_CRAWL_DELAY, checked: ConfigError naming it unless a number >= 0."""
    return float(read(settings, "NEWSARCHIVE_MAX_CRAWL_DELAY"))


def hold_delay(slot: Any, seconds: float) -> None:
    """Make every wait of a download slot at least `seconds`, random jitter included.

    Scrapy waits delay × (1 ± jitter); a Crawl-delay is a minimum, so the jitter is
    narrowed (to none when the delay is the Crawl-delay itself).
    """
    if slot.delay < seconds:
        slot.delay = float(seconds)
    jitter = getattr(slot, "jitter", 0.0)
    if jitter and slot.delay * (1 - jitter) < seconds:
        slot.jitter = max(0.0, 1 - seconds / slot.delay)


def user_agent(settings: Any) -> str:
    """USER_AGENT when the user set one, else newsarchive's, with the contact if given."""
    if settings.getpriority("USER_AGENT") > 0:  # 0 = Scrapy's own default
        return str(settings.get("USER_AGENT"))
    contact = read(settings, "NEWSARCHIVE_CONTACT")
    if contact:
        return f"newsarchive/{__version__} (+{contact})"
    return f"newsarchive/{__version__} (news archiving crawler; no contact given)"


class ContactUserAgentMiddleware:
    """Sends an identifying User-Agent with the operator's contact (NEWSARCHIVE_CONTACT);
    warns at start when none is set. An explicit USER_AGENT setting still wins."""

    def __init__(self, agent: str) -> None:
        self.agent = agent

    @classmethod
    def from_crawler(cls, crawler: Any) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        middleware = cls(user_agent(settings))
        explicit = settings.getpriority("USER_AGENT") > 0
        if not read(settings, "NEWSARCHIVE_CONTACT") and not explicit:
            crawler.signals.connect(middleware._warn, signal=signals.spider_opened)
        return middleware

    def _warn(self) -> None:
        logger.warning(
            "NEWSARCHIVE_CONTACT is not set: sites cannot tell who is crawling them; "
            "set it to a URL or e-mail address (-s NEWSARCHIVE_CONTACT=https://…)"
        )

    def process_request(self, request: Request) -> None:
        request.headers.setdefault(b"User-Agent", self.agent)
