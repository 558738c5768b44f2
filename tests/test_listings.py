"""A URL announced as a feed or sitemap is read as whatever it holds, in a real crawl.

Sites do not always serve what they announce: a dead feed redirects to a page, a
sitemap is a text file (allowed by the sitemaps protocol), a feed is a JSON Feed, the
start URL is a feed. Each used to be read only as announced, losing what was behind
it without a count.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.discovery import listings
from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.hostile_server import HostileServer, response
from tests.newsserver import article_html, index_html, rss_feed, urlset
from tests.test_discovery_properties import BASES, PROPERTY, assert_usable

HTML = ("Content-Type", "text/html; charset=utf-8")
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
        "-s", "RETRY_TIMES=0")
STORY = "/2024/03/15/{}-story"
# Reached only through: a feed link to an HTML page (a dead feed moved to a page), a
# robots.txt text sitemap, a JSON Feed, a feed in an <a href>, and a feed URL given as
# the start URL (second crawl).
BEHIND = {kind: STORY.format(kind) for kind in
          ("html-feed", "text-sitemap", "json-feed", "a-href-feed", "start-feed",
           "cdn-sitemap", "cdn-feed")}
OFFSITE_STORY = "/2024/03/15/on-the-cdn-story"  # an entry on the CDN: not the site's


def _serve(server: HostileServer, cdn: HostileServer) -> None:
    """``cdn`` (127.0.0.2) hosts a sitemap and a feed the site announces, as CDNs and
    feed services do; their entries point back at the site."""
    url = server.url
    server.script("/robots.txt", response(200, [("Content-Type", "text/plain")], (
        f"User-agent: *\nAllow: /\nSitemap: /sitemap.txt\nSitemap: {cdn.url('/sm.xml')}\n"
    ).encode()))
    cdn.script("/robots.txt", response(404))
    cdn.script("/sm.xml", response(200, [("Content-Type", "application/xml")], urlset(
        [url(BEHIND["cdn-sitemap"]), cdn.url(OFFSITE_STORY)])))
    cdn.script("/feed", response(200, [("Content-Type", "application/rss+xml")],
                                 rss_feed([(url(BEHIND["cdn-feed"]), "t")])))
    for path in BEHIND.values():
        server.script(path, response(200, [HTML], article_html(path[12:], url(path))))
    server.script("/moved-feed", response(200, [HTML], index_html([url(BEHIND["html-feed"])])))
    server.script("/sitemap.txt", response(200, [("Content-Type", "text/plain")], (
        f"\ufeff{url(BEHIND['text-sitemap'])}\r\n\r\nnot a url\n").encode()))
    server.script("/feed.json", response(200, [("Content-Type", "application/feed+json")],
                  json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
                      {"url": BEHIND["json-feed"]}, {"url": 7}, {"id": "x"}]}).encode()))
    server.script("/rss", response(200, [("Content-Type", "application/rss+xml")],
                                   rss_feed([(url(BEHIND["a-href-feed"]), "t")])))
    server.script("/start.xml", response(200, [("Content-Type", "text/html")],
                                         rss_feed([(url(BEHIND["start-feed"]), "t")])))
    server.script("/broken-feed", response(200, [("Content-Type", "application/octet-stream")],
                                           b"\x00\x01 not a feed"))
    head = "".join(f'<link rel="alternate" type="{kind}" href="{href}">' for kind, href in (
        ("application/rss+xml", "/moved-feed"), ("application/feed+json", "/feed.json"),
        ("application/atom+xml", "/broken-feed"), ("application/rss+xml", cdn.url("/feed"))))
    server.script("/", response(200, [HTML], f"<html><head>{head}</head><body>"
                                f'<a href="/rss">RSS</a></body></html>'.encode()))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("listings")
    with HostileServer(max_requests=100) as server, HostileServer("127.0.0.2") as cdn:
        _serve(server, cdn)
        results = []
        for start in ("/", "/start.xml"):
            archive = tmp / ("front" if start == "/" else "feed")
            process = scrapy_crawl("-a", f"url={server.url(start)}",
                                   "-s", f"NEWSARCHIVE_ARCHIVE={archive}", *FAST, timeout=120)
            assert process.returncode == 0, process.stderr[-3000:]
            assert "Traceback" not in process.stderr, process.stderr[-3000:]
            manifest = load_manifest(archive)
            results.append((manifest, {r["url"] for r in text_records(archive, manifest)}))
        return server, results


def test_what_a_listing_url_really_holds_is_read(crawled):
    server, [(manifest, texts), _] = crawled
    for kind in ("html-feed", "text-sitemap", "json-feed", "a-href-feed"):
        assert server.url(BEHIND[kind]) in texts, (kind, sorted(texts))


def test_listings_the_site_announces_on_another_host_are_read(crawled):
    """A robots.txt Sitemap line or a feed link to another host was dropped as offsite,
    without a count, and every article it listed with it. Entries off the site are
    still not followed, and counted."""
    server, [(manifest, texts), _] = crawled
    for kind in ("cdn-sitemap", "cdn-feed"):
        assert server.url(BEHIND[kind]) in texts, (kind, sorted(texts))
    assert manifest["counts"]["skipped"].get("offsite") == 1  # the CDN's own story
    assert manifest["counts"]["skipped"].get("bad-url") == 1  # "not a url" in the text sitemap
    assert manifest["counts"]["discarded"].get("not-a-listing") == 1  # /broken-feed


def test_a_feed_given_as_the_start_url_is_read_as_a_feed(crawled):
    server, [_, (_, texts)] = crawled
    # (the crawl also starts at the site's home page, which does not link it)
    assert server.url(BEHIND["start-feed"]) in texts, sorted(texts)


def test_text_sitemap_and_json_feed_units():
    rejects: Counter[str] = Counter()
    body = b"https://n.example/a\n  \nhttps://n.example/b  \r\nftp://x/\n"
    assert [e.url for e in listings.text_sitemap_entries(body, BASES[0], rejects)] == [
        "https://n.example/a", "https://n.example/b"]
    assert rejects == {"bad-url": 1}
    assert listings.text_sitemap_entries(b"<html>https://n.example/a</html>", BASES[0]) == []
    assert listings.text_sitemap_entries(b"Not Found\n", BASES[0]) == []
    feed = {"version": "https://jsonfeed.org/version/1", "items": [
        {"external_url": "/x", "date_published": "2024-03-15T00:00:00Z"}, None, {"url": None}]}
    assert listings.json_feed_entries(json.dumps(feed).encode(), "https://n.example/f") == [
        listings.Entry("https://n.example/x", "2024-03-15T00:00:00Z")]
    assert listings.json_feed_entries(b'{"items": [{"url": "/x"}]}', BASES[0]) == []


@PROPERTY
@given(body=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                      st.lists(st.sampled_from(["http://", "https://a.b/", "\n", "{", "[",
                               '"url":', "http://[::1/", "\ufeff", " "]), max_size=30)
                      .map(lambda parts: "".join(parts).encode())),
       url=st.sampled_from(BASES))
def test_any_body_read_as_a_listing(body, url):
    for text in (True, False):
        for entry in listings.read(body, url, Counter(), text=text).entries:
            assert_usable(entry.url)
