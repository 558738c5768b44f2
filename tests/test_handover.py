"""The hand-over spider middleware on its own: which responses become articles, and how."""

from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newsarchive.crawl.capture import META_KEY
from newsarchive.crawl.handover import ARTICLE_KEY, ArticleHandoverMiddleware
from newsarchive.crawl.items import ArticlePage
from newsarchive.warc.writer import RecordLocation

PAGE = b"""<html lang="fr"><head><title>A story</title>
<link rel="canonical" href="https://paper.example/story"></head>
<body><p>Text.</p></body></html>"""
WHERE = RecordLocation("warc/x.warc.gz", 10, 200, "<urn:uuid:1>", "sha1:X", "2026-11-30T12:00:00Z")


@pytest.fixture
def crawler(tmp_path):
    crawler = get_crawler(Spider, {
        "ADDONS": {"newsarchive.NewsArchiveAddon": 0},
        "NEWSARCHIVE_ARCHIVE": str(tmp_path / "archive"),
    })
    crawler.stats.open_spider()
    return crawler


def _response(url: str = "https://paper.example/story?x=1", body: bytes = PAGE,
              cls: type = HtmlResponse, **meta: object) -> TextResponse:
    request = Request(url, meta={META_KEY: WHERE, **meta})
    return cls(url, body=body, request=request, encoding="utf-8")


def test_a_marked_page_becomes_an_article_beside_the_callback_output(crawler) -> None:
    middleware = build_from_crawler(ArticleHandoverMiddleware, crawler)
    response = _response(**{ARTICLE_KEY: True})
    out = list(middleware.process_spider_output(response, iter([{"mine": 1}])))
    assert out[1:] == [{"mine": 1}]
    (article,) = out[:1]
    assert isinstance(article, ArticlePage)
    capture = article.capture
    assert (capture.url, capture.canonical_url, capture.site) == (
        response.url, "https://paper.example/story", "paper.example")
    assert capture.warc is WHERE and capture.fetched_at == WHERE.date
    assert capture.crawl_id == middleware.session.crawl_id
    assert article.body == PAGE and article.language_hint == "fr"
    assert crawler.stats.get_value("newsarchive/article_pages") == 1


def test_a_site_name_given_files_the_text_under_it(crawler) -> None:
    middleware = build_from_crawler(ArticleHandoverMiddleware, crawler)
    article = middleware.article(_response(**{ARTICLE_KEY: "le-journal"}))
    assert article is not None and article.capture.site == "le-journal"


def test_unmarked_uncaptured_cut_short_and_repeated_pages_give_none(crawler) -> None:
    middleware = build_from_crawler(ArticleHandoverMiddleware, crawler)
    assert middleware.article(_response()) is None  # not handed over
    uncaptured = HtmlResponse("https://paper.example/a", body=PAGE, encoding="utf-8",
                              request=Request("https://paper.example/a",
                                              meta={ARTICLE_KEY: True}))
    assert middleware.article(uncaptured) is None
    cut = _response("https://paper.example/cut", **{ARTICLE_KEY: True})
    cut.flags.append("dataloss")
    assert middleware.article(cut) is None
    assert crawler.stats.get_value("newsarchive/discarded/truncated") == 1
    assert middleware.article(_response(**{ARTICLE_KEY: True})) is not None
    assert middleware.article(_response(**{ARTICLE_KEY: True})) is None  # same URL again
    assert crawler.stats.get_value("newsarchive/discarded/duplicate-url") == 1


def test_no_extraction_no_middleware(tmp_path) -> None:
    crawler = get_crawler(Spider, {
        "ADDONS": {"newsarchive.NewsArchiveAddon": 0},
        "NEWSARCHIVE_ARCHIVE": str(tmp_path / "archive"), "NEWSARCHIVE_EXTRACT": False,
    })
    with pytest.raises(NotConfigured):
        build_from_crawler(ArticleHandoverMiddleware, crawler)
