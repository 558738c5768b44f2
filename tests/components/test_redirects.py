"""CheckedRedirectMiddleware and CheckedMetaRefreshMiddleware on their own: a target a
site wrote is checked before it is followed, and costs only itself when it is bad."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response

from newsarchive.crawl.redirects import (
    REFRESH_TO,
    REFRESHED_FROM,
    CheckedMetaRefreshMiddleware,
    CheckedRedirectMiddleware,
)

URL = "http://news.example/2026/old-story"


def skipped(crawler) -> dict:
    prefix = "newsarchive/skipped/"
    stats = crawler.stats.get_stats()
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}


# --- Location ---------------------------------------------------------------------------

@pytest.fixture
def redirect(make_crawler):
    return CheckedRedirectMiddleware.from_crawler(make_crawler())


def _moved(location: str, status: int = 301) -> tuple[Request, Response]:
    request = Request(URL)
    return request, Response(URL, status=status, headers={"Location": location}, request=request)


def test_a_good_location_is_followed(redirect):
    request, response = _moved("/2026/new-story")
    result = redirect.process_response(request, response)
    assert isinstance(result, Request)
    assert result.url == "http://news.example/2026/new-story"
    assert result.meta["redirect_urls"] == [URL]


def test_credentials_in_a_location_are_dropped(redirect):
    request, response = _moved("http://editor:hunter2@news.example/2026/new-story", 302)
    result = redirect.process_response(request, response)
    assert result.url == "http://news.example/2026/new-story"
    assert "hunter2" not in result.url


@pytest.mark.parametrize("location, reason", [
    ("http://[::1/", "bad-url"),
    ("http://news.example:99999/x", "bad-url"),
    ("javascript:alert(1)", "bad-url"),  # Scrapy refuses to build the request
])
def test_a_bad_location_keeps_the_response_and_is_counted(redirect, location, reason):
    request, response = _moved(location)
    assert redirect.process_response(request, response) is response
    assert skipped(redirect.crawler) == {reason: 1}


# --- meta refresh and the Refresh header ------------------------------------------------

@pytest.fixture
def refresh(make_crawler):
    return CheckedMetaRefreshMiddleware.from_crawler(make_crawler(METAREFRESH_MAXDELAY=100))


def _page(head: str = "", request: Request | None = None, **headers: str) -> HtmlResponse:
    body = f"<html><head>{head}</head><body><p>Moved.</p></body></html>".encode()
    return HtmlResponse(URL, body=body, headers=headers, request=request or Request(URL))


def _meta(content: str) -> str:
    return f'<meta http-equiv="refresh" content="{content}">'


def test_a_refresh_target_goes_to_the_spider_with_the_page(refresh):
    response = _page(_meta("0; url=/2026/new-story"))
    assert refresh.process_response(response.request, response) is response  # parsed too
    assert response.request.meta[REFRESH_TO] == "http://news.example/2026/new-story"
    assert skipped(refresh.crawler) == {}


def test_a_refresh_header_counts_as_the_element_resolved_against_the_url(refresh):
    response = _page('<base href="http://cdn.example/">', Refresh="0; url=new-story")
    refresh.process_response(response.request, response)
    assert response.request.meta[REFRESH_TO] == "http://news.example/2026/new-story"


def test_a_bad_base_href_falls_back_to_the_pages_url(refresh):
    response = _page('<base href="http://[bad/">' + _meta("0; url=new-story"))
    refresh.process_response(response.request, response)
    assert response.request.meta[REFRESH_TO] == "http://news.example/2026/new-story"


@pytest.mark.parametrize("head, request_meta, reason", [
    (_meta("0; url=http://[::1/"), {}, "bad-url"),
    (_meta("0"), {}, None),  # a reload without a URL: not a redirect at all
    (_meta("5; url=old-story#top"), {}, "refresh-to-self"),
    (_meta("0; url=/2026/a"), {REFRESHED_FROM: ["http://news.example/2026/a"]}, "refresh-loop"),
    (_meta("0; url=/2026/a"), {"redirect_urls": ["http://news.example/2026/a"]}, "refresh-loop"),
    (_meta("3600; url=/2026/a"), {}, None),  # beyond METAREFRESH_MAXDELAY: a page
])
def test_refreshes_that_are_not_followed(refresh, head, request_meta, reason):
    request = Request(URL, meta=request_meta)
    response = _page(head, request)
    assert refresh.process_response(request, response) is response
    assert REFRESH_TO not in request.meta
    assert skipped(refresh.crawler) == ({reason: 1} if reason else {})


def test_dont_redirect_is_obeyed(refresh):
    request = Request(URL, meta={"dont_redirect": True})
    response = _page(_meta("0; url=/2026/new-story"), request)
    refresh.process_response(request, response)
    assert REFRESH_TO not in request.meta
