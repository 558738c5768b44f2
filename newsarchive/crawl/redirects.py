"""Redirects and meta refreshes whose target a site wrote: checked, loops and self
refreshes read as pages.

Scrapy builds the next request straight from ``Location`` or ``<meta http-equiv=
refresh>``: a malformed target (``http://[::1/``, port 99999) raises inside the
middleware and the response, already archived, is never read. A refresh to the page
itself is dropped by the duplicate filter, and the last page of a refresh loop too, so
neither is ever parsed although a browser shows it. Here such a target costs only
itself, counted under ``skipped`` (``bad-url``, ``refresh-to-self``, ``refresh-loop``),
and the page that carried it goes to the spider like any other page.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import get_base_url
from w3lib.html import get_meta_refresh
from w3lib.url import canonicalize_url

from newsarchive.discovery.urls import Rejected, check

logger = logging.getLogger(__name__)

# Request meta: the checked target of the page's meta refresh, for the spider to follow
# (REFRESH_TO), and the pages that refreshed to this one (REFRESHED_FROM), for loops.
REFRESH_TO = "newsarchive_refresh_to"
REFRESHED_FROM = "newsarchive_refreshed_from"


def _skip(crawler: Any, reason: str, response: Response, target: str) -> Response:
    logger.debug("not following %s of %s (%s)", target[:200], response.url, reason)
    crawler.stats.inc_value(f"newsarchive/skipped/{reason}")
    return response


def _checked(crawler: Any, result: Request | Response, response: Response) -> Request | Response:
    if isinstance(result, Request):
        checked = check(result.url)
        if isinstance(checked, Rejected):
            return _skip(crawler, checked.reason, response, result.url)
        if checked != result.url:  # credentials dropped
            return result.replace(url=checked)
    return result


def _same(a: str, b: str) -> bool:
    try:
        return canonicalize_url(a) == canonicalize_url(b)
    except ValueError:
        return a == b


def header_refresh(value: bytes, base: str) -> tuple[float, str] | tuple[None, None]:
    """A ``Refresh: 0; url=…`` HTTP header read as the meta element it stands for
    (every browser follows both; Scrapy only the element): same syntax, same parser.
    It resolves against the response's URL, never ``<base href>``."""
    content = escape(value.decode("latin-1"), quote=True)
    return get_meta_refresh(f'<meta http-equiv="refresh" content="{content}">', base)


class CheckedRedirectMiddleware(RedirectMiddleware):
    """Scrapy's, with the ``Location`` target checked (newsarchive.discovery.urls.check)."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        try:
            result = super().process_response(request, response)
        except ValueError as e:  # urljoin / Request() on a malformed Location
            return _skip(self.crawler, "bad-url", response, str(e))
        return _checked(self.crawler, result, response)


class CheckedMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's reading of the refresh (the ``<meta>`` element, else the ``Refresh``
    header), with the target checked and a bad ``<base href>`` falling back to the
    page's URL (Scrapy raises on it, losing the page). The page always goes to the
    spider, which follows a valid target like a link; a refresh to the page itself or
    back into its own chain is not followed (counted)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        # Read here, not from the parent's private attributes.
        self.ignore_tags = settings.getlist("METAREFRESH_IGNORE_TAGS")
        self.max_delay = settings.getint("METAREFRESH_MAXDELAY")

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        try:
            base = get_base_url(response)
        except ValueError:  # a bad <base href>: the spider counts it, and does the same
            base = response.url
        try:
            interval, url = get_meta_refresh(
                response.text, base, response.encoding, ignore_tags=self.ignore_tags
            )
            if url is None and (header := response.headers.get(b"Refresh")):
                interval, url = header_refresh(header, response.url)
        except ValueError as e:  # a malformed target
            return _skip(self.crawler, "bad-url", response, str(e))
        if not url or interval is None or interval >= self.max_delay:
            return response
        checked = check(url)
        if isinstance(checked, Rejected):
            return _skip(self.crawler, checked.reason, response, url)
        url = checked
        if _same(url, response.url) or _same(url, request.url):
            return _skip(self.crawler, "refresh-to-self", response, url)
        chain = (*request.meta.get("redirect_urls", ()), *request.meta.get(REFRESHED_FROM, ()))
        if any(_same(url, seen) for seen in chain):
            # A loop: the page a reader ends up looking at is this one.
            return _skip(self.crawler, "refresh-loop", response, url)
        # Not a redirect: the page is parsed like any other and the spider follows the
        # target like a link. A redirect would lose the page whenever its target is
        # dropped as already seen (a stub refreshing to an article crawled before).
        request.meta[REFRESH_TO] = url
        return response
