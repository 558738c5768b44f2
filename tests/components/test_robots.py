"""RobotsPolicyMiddleware on its own: what each robots.txt answer means for the host's
requests (RFC 9309), decided from real Responses handed over by a scripted engine."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.internet.error import ConnectionRefusedError

from newsarchive.crawl.robots import MAX_ROBOTS_BYTES, RobotsPolicyMiddleware
from newsarchive.errors import ConfigError
from tests.helpers import AnsweringEngine, run

HOST = "http://news.example"
ROBOTS = f"{HOST}/robots.txt"
RULES = b"User-agent: *\nDisallow: /private\n"


def rules(body: bytes = RULES, content_type: bytes = b"text/plain") -> TextResponse:
    return TextResponse(ROBOTS, body=body, headers={"Content-Type": content_type})


def status(code: int, location: str | None = None) -> Response:
    return Response(ROBOTS, status=code, headers={"Location": location} if location else {})


@pytest.fixture
def robots(make_crawler):
    """``robots(script, **settings)``: the middleware of a crawler whose engine answers
    from ``script``; retries of an unreachable robots.txt come without delay."""

    def make(script: dict, **settings):
        crawler = make_crawler(**{
            "NEWSARCHIVE_ROBOTS_RETRY_DELAY": 0, "NEWSARCHIVE_ROBOTS_RETRIES": 2, **settings,
        })
        crawler.engine = AnsweringEngine(script)
        return RobotsPolicyMiddleware.from_crawler(crawler)

    return make


def allowed(mw: RobotsPolicyMiddleware, path: str) -> bool:
    try:
        run(mw.process_request(Request(f"{HOST}{path}")))
    except IgnoreRequest:
        return False
    return True


def counted(mw: RobotsPolicyMiddleware) -> dict:
    prefix = "newsarchive/crawl/robots/"
    stats = mw.crawler.stats.get_stats()
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}


def test_rules_of_a_2xx_apply_and_robots_txt_is_fetched_once(robots):
    mw = robots({ROBOTS: rules()})
    assert allowed(mw, "/public/story")
    assert not allowed(mw, "/private/story")
    assert mw.crawler.engine.asked == [ROBOTS]
    assert counted(mw) == {"fetched": 1}
    assert mw.crawler.stats.get_value("robotstxt/forbidden") == 1


def test_requests_waiting_for_the_fetch_get_the_rules_too(robots):
    mw = robots({ROBOTS: rules()})

    async def together() -> list:
        return await asyncio.gather(
            *(mw.process_request(Request(f"{HOST}/private/{n}")) for n in range(3)),
            return_exceptions=True,
        )

    outcomes = run(together())
    assert [type(o) for o in outcomes] == [IgnoreRequest] * 3
    assert mw.crawler.engine.asked == [ROBOTS]


@pytest.mark.parametrize("code", [404, 403, 410])
def test_a_4xx_is_unavailable_everything_allowed(robots, code):
    mw = robots({ROBOTS: status(code)})
    assert allowed(mw, "/private/story")
    assert counted(mw) == {"unavailable": 1}


@pytest.mark.parametrize("answer", [status(503), status(429), ConnectionRefusedError()])
def test_unreachable_disallows_the_host_after_every_retry(robots, answer):
    mw = robots({ROBOTS: answer})
    assert not allowed(mw, "/public/story")
    assert not allowed(mw, "/")  # the rest of the crawl: no new fetch
    assert mw.crawler.engine.asked == [ROBOTS] * 3  # NEWSARCHIVE_ROBOTS_RETRIES=2
    assert counted(mw) == {
        "unreachable": 3, "retried": 2, "hosts-disallowed": 1, "refused-unreachable": 2,
    }


def test_unreachable_then_rules_on_a_retry(robots):
    mw = robots({ROBOTS: [status(503), rules()]})
    assert allowed(mw, "/public/story")
    assert not allowed(mw, "/private/story")
    assert counted(mw) == {"unreachable": 1, "retried": 1, "fetched": 1}


def test_a_stopping_crawl_does_not_wait_for_retries(robots):
    mw = robots({ROBOTS: status(503)}, NEWSARCHIVE_ROBOTS_RETRY_DELAY=600)
    mw.crawler.engine.running = False
    assert not allowed(mw, "/")  # at once, not after 600 s (run() gives up after 30)
    assert mw.crawler.engine.asked == [ROBOTS]


def test_redirects_are_followed_to_another_host(robots):
    elsewhere = "http://cdn.example/shared/robots.txt"
    mw = robots({ROBOTS: status(301, elsewhere), elsewhere: rules()})
    assert not allowed(mw, "/private/story")
    assert allowed(mw, "/public/story")
    assert mw.crawler.engine.asked == [ROBOTS, elsewhere]
    assert counted(mw) == {"redirects": 1, "fetched": 1}


def test_more_than_five_redirects_or_a_bad_location_mean_unavailable(robots):
    hops = {f"{HOST}/hop{n}": status(302, f"{HOST}/hop{n + 1}") for n in range(10)}
    looping = robots({ROBOTS: status(302, f"{HOST}/hop0"), **hops})
    assert allowed(looping, "/private/story")
    assert len(looping.crawler.engine.asked) == 6  # robots.txt and five hops
    assert counted(looping) == {"redirects": 5, "too-many-redirects": 1}

    nowhere = robots({ROBOTS: status(301, "ftp://files.example/robots.txt")})
    assert allowed(nowhere, "/private/story")
    assert counted(nowhere) == {"bad-redirect": 1}


def test_a_utf16_robots_txt_is_obeyed(robots):
    mw = robots({ROBOTS: rules(RULES.decode().encode("utf-16"))})
    assert not allowed(mw, "/private/story")
    assert counted(mw) == {"fetched": 1, "utf16": 1}


def test_an_oversized_robots_txt_is_read_up_to_the_limit(robots):
    padding = b"# padding\n" * (MAX_ROBOTS_BYTES // 10)
    body = RULES + padding + b"Disallow: /beyond-the-limit\n"
    mw = robots({ROBOTS: rules(body)})
    assert not allowed(mw, "/private/story")
    assert allowed(mw, "/beyond-the-limit")
    assert counted(mw) == {"fetched": 1, "truncated": 1}


@pytest.mark.parametrize("name, value", [
    ("NEWSARCHIVE_ROBOTS_RETRIES", "-1"),
    ("NEWSARCHIVE_ROBOTS_RETRIES", "many"),
    ("NEWSARCHIVE_ROBOTS_RETRY_DELAY", "7200"),
])
def test_bad_retry_settings_are_named(make_crawler, name, value):
    with pytest.raises(ConfigError, match=name):
        RobotsPolicyMiddleware.from_crawler(make_crawler(**{name: value}))
