"""Property and unit tests for what a server sends: robots.txt, headers, failure causes.

Parsers of site input must never raise, whatever the bytes; headers must come out of
the WARC writer as the very bytes that came in.
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DownloadFailedError
from scrapy.http import Request, Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.settings import Settings
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseFailed, ResponseNeverReceived

from newsarchive.crawl.capture import to_exchange
from newsarchive.crawl.failures import failure_reason
from newsarchive.crawl.politeness import max_crawl_delay
from newsarchive.crawl.robots import DisallowAll, redirect_target, retry_policy
from newsarchive.errors import ConfigError
from newsarchive.warc.writer import RollingWarcWriter, WarcOptions, http_head

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
AGENT = "newsarchive"


# --- robots.txt ------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=4000), st.text(max_size=80))
def test_any_robots_txt_bytes_parse_and_answer_without_raising(body, path):
    parser = ProtegoRobotParser(body, None)
    url = "http://127.0.0.1/" + path.lstrip("/")
    assert parser.allowed(url, AGENT) in (True, False)
    assert parser.allowed(url, AGENT) == parser.allowed(url, AGENT)  # stable
    delay = parser.crawl_delay(AGENT)
    assert delay is None or delay >= 0
    assert isinstance(list(parser.rp.sitemaps), list)


_SEGMENT = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)


@FAST
@given(st.lists(_SEGMENT, min_size=1, max_size=5, unique=True), _SEGMENT, _SEGMENT,
       st.binary(max_size=200).filter(lambda b: b":" not in b))
def test_disallow_rules_decide_consistently(prefixes, below, other, junk):
    """A path under a Disallow prefix is refused, any other allowed, whatever lines
    without a colon (not directives) sit in the file."""
    lines = [b"User-agent: *"] + [f"Disallow: /{p}/".encode() for p in prefixes]
    parser = ProtegoRobotParser(b"\n".join(lines) + b"\n" + junk + b"\n", None)
    for prefix in prefixes:
        assert not parser.allowed(f"http://127.0.0.1/{prefix}/{below}", AGENT)
    if other not in prefixes:
        assert parser.allowed(f"http://127.0.0.1/{other}/{below}", AGENT)


def test_unreachable_rules_refuse_everything_and_announce_no_sitemap():
    rules = DisallowAll()
    assert not rules.allowed("http://127.0.0.1/", AGENT)
    assert rules.crawl_delay(AGENT) is None and rules.rp is None


@FAST
@given(st.binary(max_size=300))
def test_any_redirect_location_gives_an_absolute_http_url_or_none(location):
    response = Response("http://127.0.0.1:8080/robots.txt", status=301,
                        headers={"Location": location} if location else {})
    target = redirect_target(response)
    if target is not None:
        parts = urlsplit(target)
        assert parts.scheme in ("http", "https") and parts.hostname
        assert not any(c in target for c in " \r\n\t")


def test_redirect_target_resolves_like_scrapy():
    def target(location: bytes) -> str | None:
        return redirect_target(Response("http://127.0.0.1:8080/a/robots.txt", status=301,
                                        headers={"Location": location}))

    assert target(b"/caf\xc3\xa9") == "http://127.0.0.1:8080/caf%C3%A9"
    assert target(b"//127.0.0.2:9/r.txt") == "http://127.0.0.2:9/r.txt"
    assert target(b"rules.txt") == "http://127.0.0.1:8080/a/rules.txt"
    assert target(b"file:///etc/passwd") is None  # never anything but http(s)
    # checked like any URL a site supplies: credentials dropped, bad hosts refused
    assert target(b"http://user:s3cret@127.0.0.2:9/r.txt") == "http://127.0.0.2:9/r.txt"
    assert target(b"http://a..b/robots.txt") is None
    assert target(b"http://127.0.0.1:0/robots.txt") is None
    assert target(b"http://127.0.0.1:99999/") is None


@pytest.mark.parametrize("name, value", [
    ("NEWSARCHIVE_ROBOTS_RETRY_DELAY", "soon"),
    ("NEWSARCHIVE_ROBOTS_RETRY_DELAY", "-1"),
    ("NEWSARCHIVE_ROBOTS_RETRIES", "2.5"),
    ("NEWSARCHIVE_ROBOTS_RETRIES", "1000"),
])
def test_bad_robots_retry_settings_are_refused(name, value):
    values = {"NEWSARCHIVE_ROBOTS_RETRY_DELAY": 30, "NEWSARCHIVE_ROBOTS_RETRIES": 2,
              name: value}
    with pytest.raises(ConfigError, match=name):
        retry_policy(Settings(values))


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon"])
def test_bad_max_crawl_delay_is_refused(value):
    with pytest.raises(ConfigError, match="NEWSARCHIVE_MAX_CRAWL_DELAY"):
        max_crawl_delay(Settings({"NEWSARCHIVE_MAX_CRAWL_DELAY": value}))
    assert max_crawl_delay(Settings({"NEWSARCHIVE_MAX_CRAWL_DELAY": "2.5"})) == 2.5


# --- header bytes ----------------------------------------------------------------------

_NAME = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-!#$%&'*+.^_`|~",
                min_size=1, max_size=20)
# What can arrive in a header value: any byte but CR and LF (they end the line), with
# no leading or trailing whitespace (the HTTP client strips it).
_VALUE = st.binary(max_size=60).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").strip(b" \t")
)


def _stored_head(headers: list[tuple[bytes, bytes]], body: bytes = b"x") -> bytes:
    request = Request("http://127.0.0.1:8080/page")
    response = Response(request.url, status=200, headers=headers, body=body, request=request)
    with tempfile.TemporaryDirectory() as spool:
        written = []
        writer = RollingWarcWriter(
            WarcOptions(crawl_id="c", spool=Path(spool), host="h"),
            on_close=lambda path, key, n: written.append(path.read_bytes()),
        )
        location = writer.write_exchange(to_exchange(request, response))
        writer.close()
    member = written[0][location.offset:location.offset + location.length]
    return http_head(zlib.decompress(member, zlib.MAX_WBITS | 16))


@FAST
@given(st.lists(st.tuples(_NAME, _VALUE), max_size=8))
def test_any_header_bytes_are_stored_byte_for_byte(pairs):
    headers = [(b"X-" + name.encode(), value) for name, value in pairs]
    head = _stored_head(headers)
    response = Response("http://127.0.0.1/", headers=headers)
    for name, values in response.headers.items():  # names as Scrapy normalised them
        if name.lower() in (b"content-length", b"transfer-encoding"):
            continue
        for value in values:
            assert b"\r\n" + name + b": " + value + b"\r\n" in head


def test_raw_utf8_location_is_stored_as_sent():
    head = _stored_head([(b"Location", b"/caf\xc3\xa9"), (b"Set-Cookie", b"a=\xe9")])
    assert b"\r\nLocation: /caf\xc3\xa9\r\n" in head
    assert b"\r\nSet-Cookie: a=\xe9\r\n" in head


# --- failure reasons -------------------------------------------------------------------

def _response_failed(*reasons: BaseException, cls: type = ResponseFailed) -> Exception:
    """As Scrapy's download handler raises them: DownloadFailedError from ResponseFailed."""
    try:
        raise DownloadFailedError("failed") from cls([Failure(r) for r in reasons])
    except DownloadFailedError as e:
        return e


@pytest.mark.parametrize("error, reason", [
    (_response_failed(ValueError("Invalid response: conflicting Content-Length headers")),
     "bad-content-length"),
    (_response_failed(ValueError("Value contains non-decimal digits: b'-5'")),
     "bad-content-length"),
    (_response_failed(ParseError("non-integer status code", b"HTTP/1.1 abc")),
     "bad-status-line"),
    (_response_failed(ValueError("not enough values to unpack (expected 2, got 1)")),
     "bad-header"),
    (_response_failed(ValueError("something new")), "bad-response"),
    (_response_failed(ConnectionError("x"), cls=ResponseNeverReceived), "no-response"),
    (zlib.error("invalid stored block lengths"), "bad-encoding"),
    (ValueError("a bug of ours, not the server's"), "value"),
])
def test_failure_reasons_name_the_protocol_fault(error, reason):
    assert failure_reason(error) == reason


def test_bad_brotli_and_zstd_bodies_are_bad_encoding():
    import brotli

    try:
        from compression import zstd
    except ImportError:
        from backports import zstd
    for decode in (brotli.decompress, zstd.decompress):
        with pytest.raises(Exception) as caught:  # noqa: B017 - each library has its own
            decode(b"not compressed at all")
        assert failure_reason(caught.value) == "bad-encoding"
