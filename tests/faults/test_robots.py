"""robots.txt per RFC 9309, against real servers on 127.0.0.1: one crawl, one host each.

Every host (a HostileServer on its own port) serves a front page linking to
``/public`` and ``/private/linked``, and is also started from ``/private/start``; what
differs is how its robots.txt answers. The crawl's request logs say what was fetched.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.crawl.robots import as_utf8
from tests.helpers import load_manifest, scrapy_crawl
from tests.hostile_server import HostileServer, response
from tests.newsserver import index_html, registry

TEXT = ("Content-Type", "text/plain")
HTML = ("Content-Type", "text/html; charset=utf-8")
PRIVATE = b"User-agent: *\nDisallow: /private/\n"
NOTHING = b"User-agent: *\nDisallow: /\n"
RETRY_DELAY = 1  # seconds between fetches of an unreachable robots.txt


def _rules(body: bytes) -> bytes:
    return response(200, [TEXT], body)


def _moved(target: str) -> bytes:
    return response(301, [("Location", target)])


@dataclass
class RobotsCrawl:
    hosts: dict[str, HostileServer]
    other: HostileServer  # 127.0.0.2, where a robots.txt redirects to
    process: subprocess.CompletedProcess
    manifest: dict

    def paths(self, host: str) -> list[str]:
        return self.hosts[host].paths()

    def pages(self, host: str) -> set[str]:
        return {p for p in self.paths(host) if p.startswith(("/public", "/private", "/front"))}


@pytest.fixture(scope="module")
def robots_crawl(tmp_path_factory) -> RobotsCrawl:
    tmp = tmp_path_factory.mktemp("robots")
    names = ("rules", "503", "503-then-rules", "closed", "404-with-rules", "403",
             "cross-host", "5-hops", "6-hops", "utf16-bom", "utf16-declared",
             "over-500k")
    hosts = {name: HostileServer().start() for name in names}
    other = HostileServer("127.0.0.2").start()
    try:
        hosts["rules"].script("/robots.txt", _rules(PRIVATE))
        hosts["503"].script("/robots.txt", response(503, [TEXT], b"busy"))
        # three 500s use up the first fetch (Scrapy retries it twice), then it recovers
        hosts["503-then-rules"].script("/robots.txt", [
            response(500, [TEXT], b"oops"), response(500, [TEXT], b"oops"),
            response(500, [TEXT], b"oops"), _rules(PRIVATE),
        ])
        hosts["closed"].script("/robots.txt", b"")  # closes without answering
        # a 4xx means no rules, whatever its body says
        hosts["404-with-rules"].script("/robots.txt", response(404, [TEXT], NOTHING))
        hosts["403"].script("/robots.txt", response(403, [TEXT], NOTHING))
        # UTF-16, as Windows editors save "Unicode": with a BOM, or only declared
        hosts["utf16-bom"].script("/robots.txt", _rules(PRIVATE.decode().encode("utf-16")))
        hosts["utf16-declared"].script("/robots.txt", response(
            200, [("Content-Type", "text/plain; charset=UTF-16LE")],
            PRIVATE.decode().encode("utf-16-le")))
        # a parsing limit of 500 KiB (RFC 9309 2.5): a rule past it is not read
        hosts["over-500k"].script("/robots.txt", _rules(
            PRIVATE + b"Disallow: /nothing-here/*/x$\n" * 20_000 + b"Disallow: /public\n"))
        hosts["cross-host"].script("/robots.txt", _moved(other.url("/shared/robots.txt")))
        other.script("/shared/robots.txt", _rules(PRIVATE))
        for name, hops in (("5-hops", 5), ("6-hops", 6)):
            server = hosts[name]
            server.script("/robots.txt", _moved("/hop1"))
            for i in range(1, hops):
                server.script(f"/hop{i}", _moved(f"/hop{i + 1}"))
            server.script(f"/hop{hops}", _rules(NOTHING))
        start_urls = []
        for server in hosts.values():
            server.script("/front", response(200, [HTML], index_html(
                [server.url("/public"), server.url("/private/linked")])))
            for path in ("/public", "/private/linked", "/private/start"):
                server.script(path, response(200, [HTML], index_html([], path)))
            start_urls += [server.url("/front"), server.url("/private/start")]
        # Two more requests waiting for the same robots.txt fetch: Scrapy handed every
        # waiter after the first no rules at all.
        hosts["rules"].script("/private/start2", response(200, [HTML], index_html([])))
        hosts["rules"].script("/private/start3", response(200, [HTML], index_html([])))
        start_urls[2:2] = [hosts["rules"].url("/private/start2"),
                           hosts["rules"].url("/private/start3")]
        sites = registry(tmp / "sites.toml", "robots", start_urls=start_urls)
        archive = tmp / "archive"
        process = scrapy_crawl(
            "-a", "site=robots", "-s", f"NEWSARCHIVE_SITES={sites}",
            "-s", f"NEWSARCHIVE_ARCHIVE={archive}", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1", "-s", "NEWSARCHIVE_MAX_ERROR_RATE=1",
            "-s", "NEWSARCHIVE_ROBOTS_RETRIES=1",
            "-s", f"NEWSARCHIVE_ROBOTS_RETRY_DELAY={RETRY_DELAY}",
            timeout=240,
        )
        # Its pages are no articles: the crawl ends "no article found" (5), not 0.
        assert process.returncode == 5, process.stderr[-3000:]
        assert "no article found" in process.stderr
        return RobotsCrawl(hosts, other, process, load_manifest(archive))
    finally:
        for server in (*hosts.values(), other):
            server.stop()


def test_rules_apply_to_every_request_even_those_waiting_for_robots_txt(robots_crawl):
    # /private/start… were queued while robots.txt was being fetched: they waited for it.
    assert robots_crawl.pages("rules") == {"/front", "/public"}
    assert robots_crawl.manifest["counts"]["failed"]["robots-forbidden"] >= 4


@pytest.mark.parametrize("host", ["503", "closed"])
def test_unreachable_robots_txt_disallows_the_whole_host(robots_crawl, host):
    assert robots_crawl.pages(host) == set()
    # asked again after the delay: (1 + RETRY_TIMES) fetches, twice
    assert robots_crawl.paths(host).count("/robots.txt") == 6


def test_unreachable_robots_txt_is_counted(robots_crawl):
    counts = robots_crawl.manifest["counts"]
    robots = counts["robots"]
    assert robots["unreachable"] == 2 * 2 + 1  # 503 and closed twice, the recovering one once
    assert robots["hosts-disallowed"] == 2
    assert robots["retried"] == 3
    assert counts["failed"]["robots-unreachable"] == 4  # /front and /private/start, twice
    assert counts["robots_forbidden"] >= 4


def test_robots_txt_that_recovers_later_in_the_crawl_is_obeyed(robots_crawl):
    assert robots_crawl.pages("503-then-rules") == {"/front", "/public"}
    assert robots_crawl.paths("503-then-rules").count("/robots.txt") == 4


@pytest.mark.parametrize("host", ["404-with-rules", "403"])
def test_4xx_robots_txt_allows_everything(robots_crawl, host):
    assert robots_crawl.pages(host) == {"/front", "/public", "/private/linked", "/private/start"}


def test_redirect_to_another_host_is_followed_and_its_rules_apply(robots_crawl):
    assert robots_crawl.other.paths() == ["/shared/robots.txt"]
    assert robots_crawl.pages("cross-host") == {"/front", "/public"}


def test_five_redirects_are_followed_six_are_not(robots_crawl):
    assert robots_crawl.pages("5-hops") == set()  # the rules at the end: Disallow: /
    assert "/hop5" in robots_crawl.paths("5-hops")
    # the sixth redirect is not followed: unavailable, so everything is allowed
    assert "/hop6" not in robots_crawl.paths("6-hops")
    assert robots_crawl.pages("6-hops") == {"/front", "/public", "/private/linked",
                                            "/private/start"}
    assert robots_crawl.manifest["counts"]["robots"]["too-many-redirects"] == 1


def test_robots_txt_exchanges_are_archived(robots_crawl):
    from warcio.archiveiterator import ArchiveIterator

    uris = set()
    for entry in robots_crawl.manifest["files"]:
        if entry["kind"] == "warc":
            with open(_archive_path(robots_crawl) / entry["key"], "rb") as f:
                for record in ArchiveIterator(f):
                    if record.rec_type == "response":
                        uris.add(record.rec_headers.get_header("WARC-Target-URI"))
    assert robots_crawl.other.url("/shared/robots.txt") in uris
    assert robots_crawl.hosts["cross-host"].url("/robots.txt") in uris
    assert robots_crawl.hosts["503"].url("/robots.txt") in uris


def _archive_path(crawl: RobotsCrawl) -> Path:
    args = crawl.process.args
    setting = next(a for a in args if str(a).startswith("NEWSARCHIVE_ARCHIVE="))
    return Path(str(setting).split("=", 1)[1])


@pytest.mark.e2e
def test_a_stop_does_not_wait_for_robots_txt_retries(tmp_path):
    """SIGTERM while a host waits for its robots.txt to be asked again (an hour away):
    the crawl stops like any other, the host's page never fetched."""
    import signal
    import sys
    import time

    from tests.helpers import ROOT

    with HostileServer() as server:
        server.script("/robots.txt", response(503, [TEXT], b"busy"))
        server.script("/", response(200, [HTML], index_html([])))
        archive = tmp_path / "archive"
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={server.url('/')}",
             "-s", f"NEWSARCHIVE_ARCHIVE={archive}", "-s", "RETRY_TIMES=0",
             "-s", "NEWSARCHIVE_ROBOTS_RETRY_DELAY=3600"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            deadline = time.monotonic() + 120  # only against a crawl that never starts
            while "/robots.txt" not in server.paths():
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
            time.sleep(1)
            process.send_signal(signal.SIGTERM)
            stderr = process.communicate(timeout=120)[1]  # would be an hour without the fix
        finally:
            if process.poll() is None:
                process.kill()
        assert "/" not in server.paths()
        manifest = load_manifest(archive)
        assert manifest["crawl"]["finish_reason"] == "shutdown", stderr[-3000:]
        assert manifest["counts"]["robots"]["hosts-disallowed"] == 1


@pytest.mark.parametrize("host", ["utf16-bom", "utf16-declared"])
def test_utf16_robots_txt_is_obeyed(robots_crawl, host):
    """Read as UTF-8 (Scrapy ignores decode errors) its rules matched nothing: every
    disallowed page was fetched."""
    assert robots_crawl.pages(host) == {"/front", "/public"}
    assert robots_crawl.manifest["counts"]["robots"]["utf16"] == 2



def test_robots_txt_is_read_up_to_500_kib(robots_crawl):
    """Unbounded, a multi-megabyte robots.txt cost the reactor a third of a second per
    request (400k rules); RFC 9309 allows a limit of at least 500 KiB."""
    assert robots_crawl.pages("over-500k") == {"/front", "/public"}
    assert robots_crawl.manifest["counts"]["robots"]["truncated"] == 1


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200), content_type=st.one_of(
    st.none(), st.binary(max_size=40),
    st.sampled_from([b"text/plain; charset=utf-16", b"text/plain;charset='utf-16x'",
                     b"text/plain; charset=UTF-16BE; x", b"charset=utf-16\xff"])))
def test_any_robots_body_decodes_without_raising(body, content_type):
    out = as_utf8(body, content_type)
    assert out is body or isinstance(out.decode("utf-8"), str)  # valid UTF-8


@pytest.mark.e2e
def test_a_huge_crawl_delay_is_capped_not_waited_for(tmp_path):
    """`Crawl-delay: 100000` stalled the crawl after robots.txt (a day per page): the
    process outlived any timeout. Capped at NEWSARCHIVE_MAX_CRAWL_DELAY, and counted."""
    with HostileServer(max_requests=20) as server:
        server.script("/robots.txt", _rules(b"User-agent: *\nCrawl-delay: 100000\n"))
        pages = [f"/page{i}" for i in range(2)]
        for path in pages:
            server.script(path, response(200, [HTML], index_html([], path)))
        server.script("/front", response(200, [HTML], index_html([server.url(p) for p in pages])))
        process = scrapy_crawl(
            "-a", f"url={server.url('/front')}", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path / 'a'}",
            "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1", "-s", "NEWSARCHIVE_MAX_CRAWL_DELAY=0.5",
            timeout=90,
        )
        assert process.returncode == 5, process.stderr[-3000:]  # no article pages: 5
        assert {"/front", *pages} <= set(server.paths())
        manifest = load_manifest(tmp_path / "a")
        assert manifest["counts"]["robots"]["crawl-delay-capped"] == 1
        assert "capped to 0.5s" in process.stderr

