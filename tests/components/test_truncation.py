"""TruncationMiddleware on its own: bodies cut at DOWNLOAD_MAXSIZE keep what came and
say so, bodies cut off by the server are retried, whole bodies pass untouched."""

from __future__ import annotations

import pytest
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import HtmlResponse, Response

from newsarchive.crawl.truncation import (
    DISCONNECT,
    LENGTH,
    TRUNCATED_KEY,
    TruncationMiddleware,
    truncation,
)

URL = "http://news.example/story"


def _stopped(results: list) -> list[StopDownload]:
    """The StopDownload raised by the signal's handlers, as Scrapy's HTTP handler sees it."""
    return [r.value for _, r in results if isinstance(getattr(r, "value", None), StopDownload)]


@pytest.fixture
def middleware(make_crawler):
    crawler = make_crawler(DOWNLOAD_MAXSIZE=1000, RETRY_TIMES=2)
    return crawler, TruncationMiddleware.from_crawler(crawler)


def test_no_size_limit_means_not_configured(make_crawler):
    with pytest.raises(NotConfigured):
        TruncationMiddleware.from_crawler(make_crawler(DOWNLOAD_MAXSIZE=0))


def test_a_declared_length_over_the_limit_stops_keeping_the_headers(middleware):
    crawler, mw = middleware
    request = Request(URL)
    results = crawler.signals.send_catch_log(
        signal=signals.headers_received, headers={}, body_length=5000, request=request,
        spider=crawler.spider,
    )
    (stop,) = _stopped(results)
    assert stop.fail is False  # the response goes on, with what came
    assert request.meta[TRUNCATED_KEY] == LENGTH
    response = HtmlResponse(URL, body=b"", request=request)
    assert mw.process_response(request, response) is response
    assert truncation(request, response) == LENGTH
    assert crawler.stats.get_value("newsarchive/truncated/length") == 1


def test_bytes_stop_when_they_reach_the_limit_not_before(middleware):
    crawler, mw = middleware
    request = Request(URL)

    def chunk(size: int) -> list:
        return crawler.signals.send_catch_log(
            signal=signals.bytes_received, data=b"x" * size, request=request,
            spider=crawler.spider,
        )

    assert _stopped(chunk(600)) == []
    assert TRUNCATED_KEY not in request.meta
    assert len(_stopped(chunk(400))) == 1  # 1000 bytes: at the limit
    assert request.meta[TRUNCATED_KEY] == LENGTH


def test_a_request_may_carry_its_own_limit(middleware):
    crawler, mw = middleware
    small = Request(URL, meta={"download_maxsize": 100})
    mw.headers_received({}, 50, small)
    with pytest.raises(StopDownload):
        mw.bytes_received(b"x" * 100, small)
    unlimited = Request(URL, meta={"download_maxsize": 0})
    mw.headers_received({}, 10**9, unlimited)  # 0: no limit for this one
    mw.bytes_received(b"x" * 5000, unlimited)
    assert TRUNCATED_KEY not in unlimited.meta


def test_a_whole_body_passes_untouched(middleware):
    crawler, mw = middleware
    request = Request(URL)
    response = HtmlResponse(URL, body=b"<p>whole</p>", request=request)
    assert mw.process_response(request, response) is response
    assert truncation(request, response) is None
    assert not any(k.startswith("newsarchive/truncated") for k in crawler.stats.get_stats())


def test_a_body_the_server_cut_off_is_retried_then_kept(middleware):
    crawler, mw = middleware
    request = Request(URL)
    attempts = 0
    while True:
        attempts += 1
        response = Response(URL, body=b"half", flags=["dataloss"], request=request)
        assert truncation(request, response) == DISCONNECT
        result = mw.process_response(request, response)
        if not isinstance(result, Request):
            break
        assert result.url == URL and result.meta["retry_times"] == attempts
        request = result
    assert result is response  # RETRY_TIMES=2 spent: the last attempt stays, truncated
    assert attempts == 3
    assert crawler.stats.get_value("newsarchive/truncated/disconnect") == 3
    assert crawler.stats.get_value("retry/count") == 2


def test_a_retry_forgets_the_mark_of_the_attempt_before(middleware):
    crawler, mw = middleware
    retry = Request(URL, meta={TRUNCATED_KEY: LENGTH})  # copied from the cut attempt
    mw.headers_received({}, 10, retry)
    assert TRUNCATED_KEY not in retry.meta
    response = HtmlResponse(URL, body=b"<p>whole this time</p>", request=retry)
    assert truncation(retry, response) is None
