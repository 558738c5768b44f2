"""CrawlDelayMiddleware and ContactUserAgentMiddleware on their own: robots.txt's
Crawl-delay held on the site's download slot, and who is crawling said in the UA."""

from __future__ import annotations

import logging

import pytest
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, TextResponse

from newsarchive import __version__
from newsarchive.crawl.politeness import ContactUserAgentMiddleware, CrawlDelayMiddleware
from newsarchive.crawl.robots import RobotsPolicyMiddleware
from newsarchive.errors import ConfigError
from tests.helpers import run, with_downloader

HOST = "http://news.example"
ROBOTS = f"{HOST}/robots.txt"


@pytest.fixture
def downloader(make_crawler):
    """``downloader(crawl_delay, **settings)``: Scrapy's real Downloader with the project's
    middlewares, behind an engine whose robots.txt asks for ``crawl_delay``; returns
    (downloader, robots middleware, Crawl-delay middleware)."""

    def make(crawl_delay: str, **settings):
        crawler = make_crawler(**settings)
        body = f"User-agent: *\nCrawl-delay: {crawl_delay}\nDisallow: /private\n".encode()
        engine = with_downloader(crawler, {ROBOTS: TextResponse(ROBOTS, body=body)})
        robots = crawler.get_downloader_middleware(RobotsPolicyMiddleware)
        delay = crawler.get_downloader_middleware(CrawlDelayMiddleware)
        return engine.downloader, robots, delay

    return make


def _through(downloader, robots, delay, url: str):
    """The request through both middlewares in their order, then into the downloader as
    Downloader._enqueue_request takes it (its slot, request_reached_downloader)."""
    request = Request(url)
    run(robots.process_request(request))
    delay.process_request(request)
    key, slot = downloader._get_slot(request)
    request.meta[downloader.DOWNLOAD_SLOT] = key
    delay.crawler.signals.send_catch_log(
        signal=signals.request_reached_downloader, request=request, spider=delay.crawler.spider
    )
    return request, slot


def test_crawl_delay_becomes_the_slots_least_wait(downloader):
    dl, robots, delay = downloader("5")
    _, slot = _through(dl, robots, delay, f"{HOST}/story")
    assert slot.delay == 5.0
    assert slot.delay * (1 - slot.jitter) >= 5.0  # no random wait shorter than asked
    assert delay.crawler.stats.get_value("newsarchive/crawl_delay/news.example") == 5.0


def test_a_longer_download_delay_stays_with_the_jitter_narrowed(downloader):
    dl, robots, delay = downloader("5", DOWNLOAD_DELAY=8, DOWNLOAD_DELAY_JITTER=0.5)
    _, slot = _through(dl, robots, delay, f"{HOST}/story")
    assert slot.delay == 8.0
    assert slot.jitter == pytest.approx(1 - 5 / 8)


def test_a_huge_crawl_delay_is_capped_once(downloader, caplog):
    dl, robots, delay = downloader("86400", NEWSARCHIVE_MAX_CRAWL_DELAY=30)
    with caplog.at_level(logging.WARNING, logger="newsarchive.crawl.politeness"):
        _through(dl, robots, delay, f"{HOST}/a")
        _, slot = _through(dl, robots, delay, f"{HOST}/b")
    assert slot.delay == 30.0
    assert delay.crawler.stats.get_value("newsarchive/crawl/robots/crawl-delay-capped") == 1
    assert sum("capped to 30s" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_no_usable_crawl_delay_leaves_the_slot_alone(downloader, value):
    dl, robots, delay = downloader(value)
    _, slot = _through(dl, robots, delay, f"{HOST}/story")
    assert slot.delay == 0.0
    assert delay.crawler.stats.get_value("newsarchive/crawl_delay/news.example") is None


def test_the_delay_is_restored_after_each_response(downloader):
    """AutoThrottle lowers a slot's delay on fast responses; the Crawl-delay comes back
    before the next request leaves (the response_downloaded signal)."""
    dl, robots, delay = downloader("5")
    request, slot = _through(dl, robots, delay, f"{HOST}/story")
    slot.delay, slot.jitter = 0.5, 0.5  # what AutoThrottle made of a fast answer
    delay.crawler.signals.send_catch_log(
        signal=signals.response_downloaded, response=HtmlResponse(request.url, request=request),
        request=request, spider=delay.crawler.spider,
    )
    assert slot.delay == 5.0 and slot.delay * (1 - slot.jitter) >= 5.0


def test_off_without_robots_and_a_bad_cap_is_named(make_crawler):
    with pytest.raises(NotConfigured):
        CrawlDelayMiddleware.from_crawler(make_crawler(ROBOTSTXT_OBEY=False))
    with pytest.raises(ConfigError, match="NEWSARCHIVE_MAX_CRAWL_DELAY"):
        CrawlDelayMiddleware.from_crawler(make_crawler(NEWSARCHIVE_MAX_CRAWL_DELAY="-1"))


# --- the User-Agent -------------------------------------------------------------------

def _agent(middleware, request: Request | None = None) -> bytes:
    request = request or Request(f"{HOST}/story")
    middleware.process_request(request)
    return request.headers[b"User-Agent"]


def _middleware(crawler) -> ContactUserAgentMiddleware:
    return ContactUserAgentMiddleware.from_crawler(crawler)


def test_the_contact_goes_into_newsarchives_user_agent(make_crawler):
    crawler = make_crawler(NEWSARCHIVE_CONTACT=" https://lab.example/crawler ")
    assert _agent(_middleware(crawler)) == f"newsarchive/{__version__} (+https://lab.example/crawler)".encode()


def test_an_explicit_user_agent_wins_and_a_requests_own_header_stays(make_crawler):
    crawler = make_crawler(USER_AGENT="LabBot/2", NEWSARCHIVE_CONTACT="ops@lab.example")
    assert _agent(_middleware(crawler)) == b"LabBot/2"
    own = Request(f"{HOST}/story", headers={"User-Agent": "Special/1"})
    assert _agent(_middleware(make_crawler()), own) == b"Special/1"


def test_no_contact_is_said_in_the_agent_and_warned_about_at_start(make_crawler, caplog):
    crawler = make_crawler(AUTOTHROTTLE_ENABLED=False)  # its spider_opened wants an engine
    middleware = _middleware(crawler)  # held, as the downloader holds it: signals are weak
    assert b"no contact given" in _agent(middleware)
    with caplog.at_level(logging.WARNING, logger="newsarchive.crawl.politeness"):
        crawler.signals.send_catch_log(signal=signals.spider_opened, spider=crawler.spider)
    assert any("NEWSARCHIVE_CONTACT is not set" in r.getMessage() for r in caplog.records)

    caplog.clear()
    # An explicit agent: nothing to warn about.
    quiet = make_crawler(USER_AGENT="LabBot/2", AUTOTHROTTLE_ENABLED=False)
    held = _middleware(quiet)
    with caplog.at_level(logging.WARNING, logger="newsarchive.crawl.politeness"):
        quiet.signals.send_catch_log(signal=signals.spider_opened, spider=quiet.spider)
    assert held.agent == "LabBot/2"
    assert not any("NEWSARCHIVE_CONTACT" in r.getMessage() for r in caplog.records)
