"""ConditionalRequestMiddleware on its own: a request for an article the archive
already holds asks only for what changed, with that article's validators."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured

from newsarchive.archive.session import CrawlSession
from newsarchive.archive.state import ArticleState
from newsarchive.crawl.incremental import ConditionalRequestMiddleware, prior_of
from newsarchive.discovery.urls import article_key

URL = "https://news.example/2026/11/story"
ETAG = '"v1-abc"'
MODIFIED = "Sun, 29 Nov 2026 08:00:00 GMT"


@pytest.fixture
def middleware(make_crawler):
    """The middleware of a crawl whose state knows one article, with both validators."""
    crawler = make_crawler()
    state = CrawlSession.from_crawler(crawler).load_state("gazette")
    state.put(article_key(URL), ArticleState(
        url=URL, fetched_at="2026-11-29T08:00:00Z", record_id="<urn:uuid:1>",
        payload_digest="sha1:AAAA", etag=ETAG, last_modified=MODIFIED,
    ))
    return ConditionalRequestMiddleware.from_crawler(crawler)


def test_a_known_article_is_asked_for_conditionally(middleware):
    request = Request(URL + "?utm_source=feed#comments")  # the same article
    assert middleware.process_request(request) is None
    assert request.headers[b"If-None-Match"] == ETAG.encode()
    assert request.headers[b"If-Modified-Since"] == MODIFIED.encode()
    key, prior = prior_of(request)
    assert key == article_key(URL) and prior.record_id == "<urn:uuid:1>"


def test_an_unknown_article_or_a_post_goes_as_it_is(middleware):
    for request in (Request("https://news.example/2026/11/other"),
                     Request(URL, method="POST", body=b"q=1")):
        middleware.process_request(request)
        assert b"If-None-Match" not in request.headers
        assert b"If-Modified-Since" not in request.headers
        assert prior_of(request) is None


def test_validators_a_request_carries_are_kept(middleware):
    request = Request(URL, headers={"If-None-Match": '"mine"'})
    middleware.process_request(request)
    assert request.headers[b"If-None-Match"] == b'"mine"'
    assert request.headers[b"If-Modified-Since"] == MODIFIED.encode()


def test_nothing_is_asked_before_the_state_is_loaded(make_crawler):
    middleware = ConditionalRequestMiddleware.from_crawler(make_crawler())
    request = Request(URL)
    middleware.process_request(request)
    assert prior_of(request) is None and b"If-None-Match" not in request.headers


def test_off_when_not_incremental(make_crawler):
    with pytest.raises(NotConfigured):
        ConditionalRequestMiddleware.from_crawler(make_crawler(NEWSARCHIVE_INCREMENTAL=False))
