"""Pages a spider hands over for clean text: the contract with anyone's spiders.

A spider marks the request of a page it wants as an article::

    yield response.follow(url, self.parse_story, meta={"newsarchive_article": True})

(or ``meta={"newsarchive_article": "my-site"}`` to name the site its text records
are filed under; by default the page's host). When the response comes back, this
spider middleware hands the text pipelines a small :class:`ArticlePage` beside
whatever the callback yields: the page's bytes, where its response record is in the
WARC, its canonical URL and language hint. The callback need not yield anything for
it, and its own items are the project's business.

A marked page gives no text record when it was never captured (another middleware
answered it), when its body was cut short (``discarded: truncated``), when its URL
already gave one in this crawl (``discarded: duplicate-url``), or when extraction
finds no article text (``discarded: <reason>``, newsarchive.pipelines.extract).
The ``news`` spider builds its articles itself, with its site entry's selectors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse

from newsarchive.archive.session import CrawlSession
from newsarchive.crawl.capture import capture_of, header_pairs, is_unchanged, warc_location
from newsarchive.crawl.items import ArticlePage
from newsarchive.crawl.rights import site_rules
from newsarchive.crawl.truncation import truncation
from newsarchive.discovery.links import page_head
from newsarchive.discovery.urls import article_key
from newsarchive.rights import tdmrep
from newsarchive.rights.signals import read_rights

ARTICLE_KEY = "newsarchive_article"


class ArticleHandoverMiddleware:
    """Spider middleware: an ArticlePage for each response requested as an article."""

    def __init__(self, session: CrawlSession, stats: Any) -> None:
        self.session = session
        self.stats = stats
        self.seen: set[str] = set()  # one text per URL in a crawl

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArticleHandoverMiddleware:
        session = CrawlSession.from_crawler(crawler)
        if not session.config.extract:
            raise NotConfigured("NEWSARCHIVE_EXTRACT is off: WARC-only archiving")
        return cls(session, crawler.stats)

    def process_spider_output(
        self, response: Response, result: Iterable[Any]
    ) -> Iterable[Any]:
        article = self.article(response)
        if article is not None:
            yield article
        yield from result

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        article = self.article(response)
        if article is not None:
            yield article
        async for item in result:
            yield item

    def article(self, response: Response) -> ArticlePage | None:
        """The page as an article to extract, if its request asked for one."""
        wanted = response.meta.get(ARTICLE_KEY)
        if not wanted or not isinstance(response, TextResponse):
            return None
        location = warc_location(response)
        if location is None or is_unchanged(response):
            return None
        self.stats.inc_value("newsarchive/article_pages")
        if truncation(response.request, response):
            self.stats.inc_value("newsarchive/discarded/truncated")
            return None
        key = article_key(response.url)
        if key in self.seen:
            self.stats.inc_value("newsarchive/discarded/duplicate-url")
            return None
        self.seen.add(key)
        try:
            selector: Selector | None = Selector(text=response.text)
            head = page_head(selector, response.url)
        except ValueError:  # undecodable bytes served as text: extraction says why
            selector, head = None, None
        site = wanted if isinstance(wanted, str) else urlsplit(response.url).hostname or "site"
        # what the publisher allows is recorded for foreign spiders' pages too
        rights = tdmrep.apply(
            read_rights(header_pairs(response.headers), selector),
            site_rules(self.session, response.url), urlsplit(response.url).path,
        )
        capture = capture_of(
            response, location, site=site, canonical=head.canonical if head else None,
            crawl_id=self.session.crawl_id, discovery="spider", rights=rights,
        )
        return ArticlePage(
            capture=capture,
            body=response.body,
            encoding=response.encoding,
            language_hint=head.language if head else None,
        )
