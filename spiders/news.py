"""The generic news spider: one site entry (or one start URL) drives the whole crawl.

Thin Scrapy adapter: discovery, classification and extraction live in newsarchive.
Every response, article or not, is already in the WARC by the time it gets here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.log import failure_to_exc_info

from newsarchive.archive.session import CrawlSession
from newsarchive.cluster import workers
from newsarchive.config import Config
from newsarchive.crawl import errorcount
from newsarchive.crawl.capture import (
    capture_of,
    header_pairs,
    is_unchanged,
    page_metadata,
    warc_location,
    withheld,
)
from newsarchive.crawl.failures import failure_reason
from newsarchive.crawl.items import ArticlePage
from newsarchive.crawl.politeness import robots_sitemaps
from newsarchive.crawl.redirects import REFRESH_TO, REFRESHED_FROM
from newsarchive.crawl.requisites import REFUSED_KEY, Requested, requests_for, requisite_of
from newsarchive.crawl.rights import site_rules
from newsarchive.crawl.truncation import truncation
from newsarchive.discovery import links as discovery
from newsarchive.discovery import listings, requisites
from newsarchive.discovery.classify import is_article, matches_any
from newsarchive.discovery.sites import Site, load_registry, lookup
from newsarchive.discovery.urls import article_key, strip_tracking
from newsarchive.errors import ConfigError
from newsarchive.rights import tdmrep
from newsarchive.rights.signals import read_rights

logger = logging.getLogger(__name__)

SPIDER_ARGS = ("site", "url", "since")


def resolve_site(settings: Any, site: str | None, url: str | None) -> Site:
    """The crawl target from `-a site=NAME` or `-a url=URL`; ConfigError if neither/both."""
    if bool(site) == bool(url):
        raise ConfigError(
            "give exactly one of -a site=NAME (from the site registry) or -a url=START_URL"
        )
    if url:
        return Site.from_url(url)
    config = Config.from_settings(settings)
    return lookup(load_registry(config.sites_file), str(site))


def resolve_since(since: str | None, max_age_days: int, today: date | None = None) -> date | None:
    """The oldest publication date to archive: `-a since=YYYY-MM-DD` and/or the max age."""
    limits = []
    if since:
        try:
            limits.append(date.fromisoformat(since))
        except ValueError:
            raise ConfigError(f"-a since={since!r}: expected a date as YYYY-MM-DD") from None
    if max_age_days:
        limits.append((today or datetime.now(UTC).date()) - timedelta(days=max_age_days))
    return max(limits) if limits else None


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self, site: Site, session: CrawlSession, since: date | None = None,
        claims: workers.LocalClaims | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site = site
        self.session = session
        self.since = since
        self.allowed_domains = list(site.allowed_hosts)
        if site.crawl_delay is not None:
            self.download_delay = site.crawl_delay
        # One text per article: shared in Redis on several machines.
        self._articles_seen = claims if claims is not None else workers.LocalClaims()
        self._robots_read: set[str] = set()
        # Requisites requested already: not built and scheduled again for each page.
        self._requisites_requested = Requested()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        site = resolve_site(crawler.settings, kwargs.pop("site", None), kwargs.pop("url", None))
        workers.join(crawler, site)  # NEWSARCHIVE_REDIS_URL: one worker of a shared crawl
        session = CrawlSession.from_crawler(crawler)
        since = resolve_since(kwargs.pop("since", None), session.config.max_age_days)
        session.since = since
        session.load_state(site.name)
        return super().from_crawler(
            crawler, *args, site=site, session=session, since=since,
            claims=workers.article_claims(crawler), **kwargs,
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed,
                                 meta={"discovery": "start"})
        for url in self.site.feeds:
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.failed,
                                 meta={"discovery": "feed"})
        for url in self.site.sitemaps:
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.failed,
                                 meta={"discovery": "sitemap"})

    def _follow(self, url: str, discovery_kind: str, callback: Any = None) -> scrapy.Request | None:
        """A request for a URL discovery already checked (newsarchive.discovery.urls.resolve);
        whatever still goes wrong costs this URL only, counted as skipped: bad-url.

        Feeds and sitemaps (``callback`` parse_listing) are fetched on any host: the
        site announced them (robots.txt ``Sitemap:``, ``<link rel=alternate>``, its own
        sitemap index), and they often live elsewhere (a CDN, feedburner, the bare
        domain). The offsite filter dropped them without a count, and with them every
        article they list. Their entries must still be on the site's hosts."""
        url = strip_tracking(url)  # one URL per article, however it was linked
        if matches_any(url, self.site.deny_patterns):
            self.crawler.stats.inc_value("newsarchive/skipped/denied")
            return None
        try:
            meta: dict[str, Any] = {"discovery": discovery_kind}
            if callback == self.parse_listing:
                meta["allow_offsite"] = True
            return scrapy.Request(
                url, callback=callback or self.parse, errback=self.failed, meta=meta,
            )
        except ValueError as e:
            logger.debug("not following %r: %s", url, e)
            self.crawler.stats.inc_value("newsarchive/skipped/bad-url")
            return None

    def _rejected(self, rejects: Counter[str]) -> None:
        """URLs a document gave that cannot be requested, counted by reason."""
        for reason, n in rejects.items():
            self.crawler.stats.inc_value(f"newsarchive/skipped/{reason}", n)

    def _error(self, error: Exception, url: str) -> None:
        """A bug met while reading one page: logged and counted; the page's other
        work (links, metadata record) goes on."""
        logger.error("spider error processing %s (the rest of the page goes on)", url,
                     exc_info=error)
        errorcount.count(self.crawler.stats, "spider", error)

    def failed(self, failure: Any) -> None:
        """A URL that gave nothing to parse: count why (see newsarchive.crawl.failures)."""
        response = getattr(failure.value, "response", None)
        if response is not None and is_unchanged(response):
            return  # a 304 for a known article: counted unchanged, stored as a revisit
        self.crawler.stats.inc_value(f"newsarchive/failed/{failure_reason(failure.value)}")
        if errorcount.is_bug(failure.value):  # a downloader middleware raised
            request = getattr(failure, "request", None)
            logger.error("error processing %s: %r", getattr(request, "url", "?"),
                         failure.value, exc_info=failure_to_exc_info(failure))
            extension = self.crawler.get_extension(errorcount.ErrorCountExtension)
            if extension is not None:
                extension.download_error(failure)

    def _too_old(self, entry: discovery.Entry) -> bool:
        """Skip before fetching when a feed or sitemap dates the entry before `since`."""
        published = discovery.entry_date(entry.date)
        if self.since and published and published < self.since:
            self.crawler.stats.inc_value("newsarchive/skipped/too-old")
            return True
        return False

    def _robots_sitemaps(self, response: Response) -> Iterator[scrapy.Request]:
        """Sitemaps a host announces in robots.txt, read once the middleware fetched it."""
        netloc = urlsplit(response.url).netloc
        if netloc in self._robots_read:
            return
        sitemaps = robots_sitemaps(self.crawler, netloc)
        if sitemaps or not self.settings.getbool("ROBOTSTXT_OBEY"):
            self._robots_read.add(netloc)
        # Relative lines (`Sitemap: /sitemap.xml`, common) resolve against robots.txt.
        robots_url = f"{urlsplit(response.url).scheme}://{netloc}/robots.txt"
        rejects: Counter[str] = Counter()
        for line in sitemaps:
            url = discovery.absolute(robots_url, line, rejects)
            if url and (request := self._follow(url, "sitemap", self.parse_listing)):
                yield request
        self._rejected(rejects)

    def parse(self, response: Response) -> Iterator[Any]:
        yield from self._robots_sitemaps(response)
        if not isinstance(response, TextResponse):
            return  # PDFs, images: archived in the WARC, nothing to extract or follow
        listing = self._as_listing(response)
        if listing is not None:
            yield from listing
            return
        rejects: Counter[str] = Counter()
        selector, head = self._read_head(response, rejects)
        rights = tdmrep.apply(
            read_rights(header_pairs(response.headers), selector),
            site_rules(self.session, response.url), urlsplit(response.url).path,
        )
        site = self.site
        article = is_article(response.url, head.signals, site.article_patterns,
                             site.deny_patterns)
        yield from self._requisites_of(response, selector, head, article, rejects)
        if article:
            try:
                item = self._article(response, head, rights)
            except Exception as e:  # the page's links and metadata record still count
                self._error(e, response.url)
                item = None
            if item is not None:
                yield item
        outlinks: list[str] = []
        yield from self._follow_outlinks(response, selector, head, outlinks, rejects)
        self._rejected(rejects)
        try:
            metadata = page_metadata(response, self.session.crawl_id, outlinks, rights)
        except Exception as e:
            self._error(e, response.url)
            metadata = None
        if metadata:
            yield metadata  # a WARC metadata record beside the page's response

    def _as_listing(self, response: TextResponse) -> list[Any] | None:
        """The requests of a feed or sitemap reached as a page (a start URL, an
        <a href="/rss">); None when it is to be read as a page (XHTML, an XML error
        page, HTML)."""
        if isinstance(response, HtmlResponse) and not listings.looks_like_xml(response.body):
            return None
        rejects: Counter[str] = Counter()
        # Not as a text sitemap: a plain-text page quoting URLs is a page.
        listing = listings.read(response.body, response.url, rejects, text=False)
        self._rejected(rejects)
        if not listing.kind:
            return None
        self.crawler.stats.inc_value("newsarchive/discovery/listings/read-from-page")
        return list(self._listing_requests(listing))

    @staticmethod
    def _read_head(
        response: TextResponse, rejects: Counter[str]
    ) -> tuple[Selector | None, discovery.PageHead]:
        try:
            # Not response.selector: the response outlives this callback (its article
            # waits for extraction), and a cached selector would keep its lxml tree,
            # ~10x the page's size, alive with it. And parsel's, not Scrapy's, which
            # raises on a malformed <base href> (page_head falls back to the page's URL).
            selector = Selector(text=response.text)
            return selector, discovery.page_head(selector, response.url, rejects)
        except ValueError:  # undecodable bytes served as text: archived, nothing to read
            return None, discovery.PageHead()

    def _requisites_of(
        self, response: TextResponse, selector: Selector | None, head: discovery.PageHead,
        article: bool, rejects: Counter[str],
    ) -> Iterator[Any]:
        """What the page embeds, so it replays as its reader saw it; from any host (not
        for a page kept out of the archive: noarchive)."""
        mode = self.session.config.requisites
        wanted = mode == "pages" or (mode == "articles" and article)
        if selector is None or not wanted or withheld(response):
            return
        found = requisites.html_requisites(selector, head.base or response.url, rejects)
        yield from requests_for(found, response.url, response.url, 0,
                                self.parse_requisite, self.failed_requisite,
                                self._requisites_requested, self.crawler.stats)

    def _follow_outlinks(
        self, response: TextResponse, selector: Selector | None, head: discovery.PageHead,
        outlinks: list[str], rejects: Counter[str],
    ) -> Iterator[Any]:
        """Requests for the page's feeds, refresh target and links; every one is added
        to outlinks (the metadata record's), followed or not."""
        # At DEPTH_LIMIT every request from this page would be dropped by Scrapy's depth
        # middleware: its links are still recorded (metadata record), not requested.
        limit = self.settings.getint("DEPTH_LIMIT")
        follow = not limit or response.meta.get("depth", 0) < limit
        for url in head.feeds:
            outlinks.append(url)
            if follow and (request := self._follow(url, "feed", self.parse_listing)):
                yield request
        if refresh := response.meta.get(REFRESH_TO):
            outlinks.append(refresh)
            if follow and (request := self._follow(refresh, "refresh")):
                request.meta[REFRESHED_FROM] = (
                    *response.meta.get(REFRESHED_FROM, ()), response.url)
                yield request
        links = discovery.page_links(selector, head.base or response.url, rejects)
        for url in links if selector is not None else ():
            outlinks.append(url)
            if follow and (request := self._follow(url, "link")):
                yield request
        if not follow and outlinks:
            self.crawler.stats.inc_value("newsarchive/depth_limited", len(outlinks))

    def _article(
        self, response: TextResponse, head: discovery.PageHead, rights: dict[str, Any]
    ) -> ArticlePage | None:
        location = warc_location(response)
        if location is not None:
            # Counted whether or not text follows: WARC-only crawls find articles too.
            self.crawler.stats.inc_value("newsarchive/article_pages")
        if location is None or is_unchanged(response):
            return None  # unchanged: stored as a revisit, no new text
        if truncation(response.request, response):
            # Archived as far as it came (WARC-Truncated); half a page is not an article.
            self.crawler.stats.inc_value("newsarchive/discarded/truncated")
            return None
        canonical = head.canonical
        # One extraction per URL (several machines: per crawl). Pages sharing a canonical
        # URL are merged after extraction, only when their texts match (pipelines/text).
        if not self._articles_seen.claim({article_key(response.url)}):
            self.crawler.stats.inc_value("newsarchive/discarded/duplicate-url")
            return None
        capture = capture_of(
            response, location, site=self.site.name, canonical=canonical,
            crawl_id=self.session.crawl_id, discovery="link", rights=rights,
        )
        return ArticlePage(
            capture=capture,
            body=response.body,
            encoding=response.encoding,
            language_hint=head.language or self.site.language,
            drop_selectors=self.site.drop_selectors,
        )

    def parse_requisite(self, response: Response) -> Iterator[Any]:
        """A page requisite, archived by the capture middleware with a metadata record
        naming the page that needed it (``via``): what a stylesheet references (fonts,
        images, imports) and what an iframe's document embeds (one level: its iframes
        are not fetched) are fetched in turn. No text, no links followed."""
        of = requisite_of(response)
        if of is None:
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        kind = requisites.kind_of(content_type, of.hint)
        rejects: Counter[str] = Counter()
        found: list[requisites.Requisite] = []
        if isinstance(response, TextResponse) and response.status == 200:
            try:
                if kind == "stylesheet":
                    found = requisites.css_requisites(response.text, response.url, rejects)
                elif kind == "iframe" and of.level == 0:
                    selector = Selector(text=response.text)
                    base = discovery.page_head(selector, response.url, rejects).base
                    found = requisites.html_requisites(
                        selector, base or response.url, rejects, iframes=False)
            except ValueError:  # undecodable bytes served as text: archived, not read
                found = []
        self._rejected(rejects)
        yield from requests_for(found, of.page, response.url, of.level + 1,
                                self.parse_requisite, self.failed_requisite,
                                self._requisites_requested, self.crawler.stats)

    def failed_requisite(self, failure: Any) -> None:
        """A requisite that gave nothing: counted apart from pages, by reason."""
        response = getattr(failure.value, "response", None)
        if response is not None and is_unchanged(response):
            return  # a 304 for a known requisite: stored as a revisit
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get(REFUSED_KEY):
            return  # past a limit: counted as newsarchive/requisites/skipped/<reason>
        reason = failure_reason(failure.value)
        self.crawler.stats.inc_value(f"newsarchive/requisites/failed/{reason}")

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """A URL announced as a feed or sitemap, read as whatever it holds
        (newsarchive.discovery.listings): a feed, sitemap, JSON Feed or text sitemap gives its
        entries; HTML (a dead feed redirected to a page) is read as a page; anything
        else is counted as ``discarded: not-a-listing``."""
        yield from self._robots_sitemaps(response)  # feed-only sites announce them too
        rejects: Counter[str] = Counter()
        listing = listings.read(response.body, response.url, rejects)
        self._rejected(rejects)
        if listing.kind:
            yield from self._listing_requests(listing)
        elif isinstance(response, HtmlResponse):
            self.crawler.stats.inc_value("newsarchive/discovery/listings/read-as-page")
            yield from self.parse(response)
        elif response.body:
            self.crawler.stats.inc_value("newsarchive/discarded/not-a-listing")

    # Callback names stored in queued requests (Redis, newsarchive enqueue) stay valid.
    parse_feed = parse_listing
    parse_sitemap = parse_listing

    def _listing_requests(self, listing: listings.Listing) -> Iterator[scrapy.Request]:
        if listing.entries:
            self.crawler.stats.inc_value("newsarchive/feeds_ok")
        kind = "feed" if listing.kind == "feed" else "sitemap"
        for entry in listing.entries:
            if listing.kind == "sitemapindex":
                request = self._follow(entry.url, "sitemap", self.parse_listing)
            elif self._too_old(entry):
                continue
            else:
                request = self._follow(entry.url, kind)
            if request:
                yield request
