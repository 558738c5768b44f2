"""robots.txt as RFC 9309 says, in place of Scrapy's RobotsTxtMiddleware.

Scrapy treats any robots.txt it cannot get as "allow everything": a robots.txt that
answers 503 or a host that refuses the connection let the whole site be crawled, and
one redirecting to another host was dropped as offsite, so the site was crawled with
no rules. RFC 9309 (2.3.1) asks otherwise, and this middleware does that:

- **2xx**: the rules apply.
- **3xx**: followed, up to 5 redirects, to any host (each hop archived like any
  exchange); the rules found at the end apply to the host that was asked. More hops,
  or a Location that cannot be followed, count as "unavailable" (the RFC's choice).
- **4xx** ("unavailable"): no rules, everything allowed.
- **5xx, 429 or no response** ("unreachable"): complete disallow for that host. Its
  requests wait and robots.txt is fetched again ``NEWSARCHIVE_ROBOTS_RETRY_DELAY``
  seconds later, at most ``NEWSARCHIVE_ROBOTS_RETRIES`` times (each fetch itself retried
  by Scrapy's RetryMiddleware); if it never answers, every request to the host is
  refused for the rest of the crawl (``failed: robots-unreachable``) and the next
  crawl asks again. 429 is a server asking to slow down, so it counts with the 5xx.

Every outcome is counted under ``newsarchive/crawl/robots/<outcome>`` (the manifest's
``counts.robots``); refused URLs also count in ``robots_forbidden``. The parsers stay
in ``parsers`` keyed by netloc, for :mod:`newsarchive.crawl.politeness`. Of Scrapy's
RobotsTxtMiddleware only the public part is used: ``process_request`` (which asks
``robot_parser``, replaced here) and ``process_request_2``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from newsarchive.discovery.urls import Rejected, check
from newsarchive.settings_schema import read

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: "at least five consecutive redirects"
# RFC 9309 2.5: a parsing limit, of at least 500 KiB. Without one, a multi-megabyte
# robots.txt cost a third of a second of the reactor per request (8.8 MB, 400k rules).
MAX_ROBOTS_BYTES = 500 * 1024
STATS = "newsarchive/crawl/robots/"
_REDIRECTS = {301, 302, 303, 307, 308}


class DisallowAll:
    """The rules of a host whose robots.txt is unreachable: nothing may be fetched."""

    rp = None  # no Sitemap lines (newsarchive.crawl.politeness.robots_sitemaps)

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        return None


def retry_policy(settings: Any) -> tuple[float, int]:
    """(seconds between fetches of an unreachable robots.txt, how many more fetches)."""
    return (float(read(settings, "NEWSARCHIVE_ROBOTS_RETRY_DELAY")),
            read(settings, "NEWSARCHIVE_ROBOTS_RETRIES"))


def redirect_target(response: Response) -> str | None:
    """Where a redirect points, resolved as Scrapy's RedirectMiddleware does and checked
    like every URL a site supplies (newsarchive.discovery.urls.check: credentials dropped); None if
    it has no Location or points to anything that cannot be fetched."""
    location = response.headers.get(b"Location")
    if not location:
        return None
    try:
        url = safe_url_string(location)
        if location.startswith(b"//"):
            url = f"{urlsplit(response.url).scheme}://{url.lstrip('/')}"
        target = urljoin(response.url, url)
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:
        return None
    # A Location with credentials made the host "unreachable" (ValueError building the
    # request), so disallowed, with the password in the log.
    checked = check(target)
    return None if isinstance(checked, Rejected) else checked


def as_utf8(body: bytes, content_type: bytes | None = None) -> bytes:
    """A UTF-16 robots.txt (a BOM, or charset=utf-16 declared) re-encoded as UTF-8; any
    other body as it is.

    RFC 9309 asks for UTF-8, and Scrapy decodes as UTF-8 ignoring errors: a UTF-16 file
    (what Windows editors save as "Unicode") became NUL-riddled lines that match no
    rule, so the site's Disallow lines were silently not obeyed. Reading it as the site
    wrote it can only obey more, never less.
    """
    charset = b""
    if content_type and b"charset=" in content_type.lower():
        charset = content_type.lower().split(b"charset=", 1)[1].split(b";")[0].strip(b" \"'")
    bom = body.startswith((b"\xff\xfe", b"\xfe\xff"))
    if bom or charset.startswith(b"utf-16"):
        codec = "utf-16" if bom else charset.decode("latin-1")
        try:
            return body.decode(codec, errors="replace").lstrip("\ufeff").encode("utf-8")
        except LookupError:  # a charset like utf-16-nonsense
            return body
    return body


def _waiter(pending: Deferred) -> Deferred:
    """A Deferred of its own for each request waiting on one robots.txt fetch: awaiting
    the shared one directly would hand every waiter after the first None (Twisted's
    asFuture fires the chain with None), i.e. no rules at all."""
    mine: Deferred = Deferred()

    def fire(result: Any) -> Any:
        mine.callback(result)
        return result

    pending.addCallback(fire)
    return mine


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    """Priority 100, in place of Scrapy's RobotsTxtMiddleware (see the module doc)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.retry_delay, self.retries = retry_policy(crawler.settings)
        # Our own state, not the parent's private attributes: netloc -> parser, or a
        # Deferred while robots.txt is being fetched (newsarchive.crawl.politeness reads it).
        self.stats = crawler.stats
        self.parsers: dict[str, Any] = {}
        self.parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))

    # -- deciding ---------------------------------------------------------------------

    def process_request_2(self, rp: Any, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            self.stats.inc_value("robotstxt/forbidden")
            self.stats.inc_value(f"{STATS}refused-unreachable")
            raise IgnoreRequest(
                f"robots.txt unreachable: {urlparse_cached(request).netloc} is disallowed"
            )
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> Any:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self.parsers:
            pending: Deferred = Deferred()
            self.parsers[netloc] = pending
            try:
                parser = await self._settle(f"{url.scheme}://{netloc}/robots.txt", request)
            except Exception:  # never leave the host's waiters hanging
                logger.exception("robots.txt of %s: unexpected error; disallowing", netloc)
                parser = DisallowAll()
            self.parsers[netloc] = parser
            self.stats.inc_value("robotstxt/request_count")
            pending.callback(parser)
            return parser
        parser = self.parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(_waiter(parser))
        return parser

    # -- fetching ---------------------------------------------------------------------

    async def _settle(self, robots_url: str, request: Request) -> Any:
        """The host's rules: fetched, or DisallowAll once every retry found it unreachable."""
        netloc = urlsplit(robots_url).netloc
        why = ""
        for attempt in range(self.retries + 1):
            if attempt:
                if not await self._wait(self.retry_delay):
                    why += "; the crawl is stopping"
                    break
                self.stats.inc_value(f"{STATS}retried")
            parser, why = await self._fetch(robots_url, request)
            if parser is not None:
                return parser
            left = self.retries - attempt
            if left:
                logger.warning(
                    "robots.txt of %s unreachable (%s): the host is disallowed; "
                    "asking again in %gs (%d more time(s))", netloc, why, self.retry_delay, left,
                )
        logger.error(
            "robots.txt of %s unreachable (%s): every request to it is refused for "
            "the rest of this crawl (RFC 9309: unreachable means disallow)", netloc, why,
        )
        self.stats.inc_value(f"{STATS}hosts-disallowed")
        return DisallowAll()

    async def _wait(self, seconds: float) -> bool:
        """Wait before asking again; False as soon as the crawl is stopping (a SIGTERM
        must not wait for robots.txt retries)."""
        from twisted.internet import reactor, task

        end = reactor.seconds() + seconds
        while (left := end - reactor.seconds()) > 0:
            if not self.crawler.engine.running:
                return False
            await maybe_deferred_to_future(
                task.deferLater(reactor, min(left, 0.25), lambda: None)
            )
        return bool(self.crawler.engine.running)

    async def _fetch(self, url: str, request: Request) -> tuple[Any, str]:
        """(parser, "") or (None, why) when unreachable; follows redirects itself."""
        for hop in range(MAX_REDIRECTS + 1):
            robots_request = Request(
                url, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK, dont_filter=True,
                # redirects followed here, to any host (the offsite filter would drop them)
                meta={"dont_obey_robotstxt": True, "dont_redirect": True,
                      "allow_offsite": True},
            )
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except Exception as e:
                self.stats.inc_value(f"{STATS}unreachable")
                self.stats.inc_value(f"robotstxt/exception_count/{type(e)}")
                return None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            status = response.status
            self.stats.inc_value("robotstxt/response_count")
            self.stats.inc_value(f"robotstxt/response_status_count/{status}")
            if status in _REDIRECTS:
                target = redirect_target(response)
                if target is None or hop == MAX_REDIRECTS:
                    reason = "bad-redirect" if target is None else "too-many-redirects"
                    self.stats.inc_value(f"{STATS}{reason}")
                    logger.warning("robots.txt %s: %s; treated as unavailable (allow all)",
                                   url, reason.replace("-", " "))
                    return self._allow_all(), ""
                self.stats.inc_value(f"{STATS}redirects")
                url = target
                continue
            if 200 <= status < 300:
                self.stats.inc_value(f"{STATS}fetched")
                body = as_utf8(response.body, response.headers.get(b"Content-Type"))
                if body is not response.body:
                    self.stats.inc_value(f"{STATS}utf16")
                if len(body) > MAX_ROBOTS_BYTES:
                    body = body[:MAX_ROBOTS_BYTES].rpartition(b"\n")[0]
                    self.stats.inc_value(f"{STATS}truncated")
                    logger.warning("robots.txt %s is over %d KiB: read up to there "
                                   "(RFC 9309 2.5)", url, MAX_ROBOTS_BYTES // 1024)
                parser = build_from_crawler(self.parser_class, self.crawler, body)
                await self.crawler.signals.send_catch_log_async(
                    signal=signals.robots_parsed, robotparser=parser, request=request
                )
                return parser, ""
            if 400 <= status < 500 and status != 429:
                self.stats.inc_value(f"{STATS}unavailable")
                return self._allow_all(), ""
            self.stats.inc_value(f"{STATS}unreachable")
            return None, f"HTTP {status}"
        raise AssertionError("unreachable")  # the loop returns on its last hop

    def _allow_all(self) -> Any:
        return build_from_crawler(self.parser_class, self.crawler, b"")
