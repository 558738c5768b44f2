"""Malformed URLs, refresh tricks and shared canonicals, through one real crawl.

A purpose-built site (tests/newsserver) where every route to an article passes next to
a URL that cannot be fetched: the article behind it must still be requested, the bad
URL counted by reason in the manifest, and the crawl exit 0. Then the silent drops:
a refresh to self, a refresh loop, four articles sharing one (wrong) canonical URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.newsserver import (
    TEXT,
    NewsServer,
    article_html,
    index_html,
    paragraphs,
    registry,
    rss_feed,
    urlset,
)

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1")
DATE = "Fri, 15 Mar 2024 09:00:00 GMT"
BAD_IPV6 = "http://[::1/"
STORY = "/2024/03/15/{}"


def story(name: str) -> str:
    return STORY.format(name)


AFTER_BAD_LINKS = [story(f"after-bad-link-{n}") for n in ("one", "two", "three")]
FEED_GOOD = [story(f"feed-story-{n}") for n in ("one", "two", "three")]
ROBOTS_RELATIVE = story("robots-relative-sitemap-story")
BAD_CANONICAL = story("bad-canonical-story")
BEHIND_BAD_CANONICAL = story("behind-bad-canonical-story")
BASED = "/2024/03/16/based-story"  # reached only through <base href="/2024/03/16/">
BAD_BASE = story("bad-base-fallback-story")
BEHIND_SELF_REFRESH = story("behind-self-refresh-story")
BEHIND_LOOP_B = story("behind-loop-b-story")
BEHIND_BAD_REFRESH = story("behind-bad-refresh-story")
# A three-page loop, each page with a story behind it; and a stub refreshing to a page
# the crawl fetched already (the refresh is a duplicate, the stub's own link is not).
LOOP3 = ["/loop3-a", "/loop3-b", "/loop3-c"]
BEHIND_LOOP3 = [story(f"behind-loop3-{n}") for n in ("a", "b", "c")]
BEHIND_SEEN_REFRESH = story("behind-seen-refresh-story")
# Linked with credentials in the URL: fetched without them, and they appear nowhere.
WITH_CREDENTIALS = story("linked-with-credentials-story")
SECRET = "s3cret-in-a-link"
CANONICAL = story("the-one-canonical")  # claimed by four different pages; never served
SHARED = [story(f"shares-canonical-{n}") for n in ("one", "two", "three", "four")]


def refresh_page(target: str, links: list[str], title: str) -> bytes:
    anchors = "".join(f'<a href="{u}">{u}</a>' for u in links)
    return (
        f'<!doctype html><html lang="en"><head><meta http-equiv="refresh" '
        f'content="0; url={target}"><title>{title}</title></head><body>{anchors}</body></html>'
    ).encode()


def _site(server: NewsServer, robots: NewsServer, tmp: Path) -> None:
    """Each case behind its own start URL, so that on a crawler that loses a whole
    document to one bad URL, each case still fails on its own."""
    url = server.url
    server.set("/robots.txt", (200, TEXT, b"User-agent: *\nAllow: /\n"))
    # A bad line first, then a relative one: the relative one must still be read.
    robots.set("/robots.txt", (200, TEXT, (
        f"User-agent: *\nAllow: /\nSitemap: {BAD_IPV6}sitemap.xml\nSitemap: /sitemap.xml\n"
    ).encode()))
    robots.set("/", (200, "text/html", index_html([], "Nothing but robots.txt")))
    robots.set("/sitemap.xml", (200, "application/xml", urlset(
        ["http://127.0.0.1:99999/sm", robots.url(ROBOTS_RELATIVE)]
    )))
    robots_story = article_html("Robots", robots.url(ROBOTS_RELATIVE))
    robots.set(ROBOTS_RELATIVE, (200, "text/html", robots_story))
    server.set("/feed.xml", (200, "application/rss+xml", rss_feed(
        [(url(FEED_GOOD[0]), DATE), (BAD_IPV6, DATE), *((url(p), DATE) for p in FEED_GOOD[1:])]
    )))
    server.set("/links", (200, "text/html", index_html([
        BAD_IPV6, AFTER_BAD_LINKS[0], "http://127.0.0.1:99999/port", AFTER_BAD_LINKS[1],
        "http://exa\u0001mple.com/", "http://" + "x" * 300 + ".example/", AFTER_BAD_LINKS[2],
        url(WITH_CREDENTIALS).replace("http://", f"http://user:{SECRET}@"),
    ])))
    for path in [*AFTER_BAD_LINKS, *FEED_GOOD, BASED, BEHIND_SELF_REFRESH, BEHIND_LOOP_B,
                 BEHIND_BAD_REFRESH, BEHIND_BAD_CANONICAL, *BEHIND_LOOP3, BEHIND_SEEN_REFRESH,
                 WITH_CREDENTIALS]:
        server.set(path, (200, "text/html", article_html(path.rsplit("/", 1)[1], url(path))))
    server.set(BAD_CANONICAL, (200, "text/html", article_html(
        "Bad canonical", BAD_IPV6, links=[BEHIND_BAD_CANONICAL])))
    server.set("/based/", (200, "text/html", index_html(["based-story"]).replace(
        b"<head>", b'<head><base href="/2024/03/16/">'
    )))
    server.set("/bad-base/", (200, "text/html", index_html([BAD_BASE.rsplit("/", 1)[1]]).replace(
        b"<head>", f'<head><base href="{BAD_IPV6}">'.encode()
    )))
    # Where the fallback resolves it: relative to the page itself.
    server.set("/bad-base/" + BAD_BASE.rsplit("/", 1)[1],
               (200, "text/html", article_html("Bad base", url(BAD_BASE))))
    server.set("/refresh-self", (200, "text/html", refresh_page(
        url("/refresh-self"), [BEHIND_SELF_REFRESH], "Refreshes itself")))
    server.set("/loop-a", (200, "text/html", refresh_page("/loop-b", [], "Loop A")))
    server.set("/loop-b", (200, "text/html", refresh_page("/loop-a", [BEHIND_LOOP_B], "Loop B")))
    server.set("/refresh-bad", (200, "text/html", refresh_page(
        BAD_IPV6, [BEHIND_BAD_REFRESH], "Refreshes nowhere")))
    for n, path in enumerate(LOOP3):
        target = LOOP3[(n + 1) % len(LOOP3)]
        server.set(path, (200, "text/html", refresh_page(target, [BEHIND_LOOP3[n]], path)))
    server.set("/refresh-seen", (200, "text/html", refresh_page(
        "/links", [BEHIND_SEEN_REFRESH], "Refreshes to a page crawled before")))
    server.set("/redirect-bad", (302, TEXT, b"", {"Location": BAD_IPV6}))
    # Four pages, one canonical: one and two carry the same story word for word.
    same = paragraphs("shared story same text")
    for n, path in enumerate(SHARED):
        body = same if n < 2 else paragraphs(f"shared story other text {n}")
        html = article_html("Shared canonical story", url(CANONICAL), body=body)
        server.set(path, (200, "text/html", html))
    server.set("/shared", (200, "text/html", index_html(SHARED)))
    starts = ["/links", BAD_CANONICAL, "/based/", "/bad-base/", "/refresh-self", "/loop-a",
              "/refresh-bad", "/redirect-bad", "/shared", LOOP3[0], "/refresh-seen"]
    registry(tmp / "sites.toml", "stage", start_urls=[*map(url, starts), robots.url("/")],
             feeds=[url("/feed.xml")])


class Result:
    def __init__(self, server: NewsServer, robots: NewsServer, archive: Path, process) -> None:
        self.server = server
        self.robots = robots
        self.archive = archive
        self.process = process
        self.manifest = load_manifest(archive)

    def texts(self) -> list[dict]:
        return text_records(self.archive, self.manifest)

    @property
    def counts(self) -> dict:
        return self.manifest["counts"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Result:
    tmp = tmp_path_factory.mktemp("hostile")
    with NewsServer() as server, NewsServer() as robots:
        _site(server, robots, tmp)
        process = scrapy_crawl(
            "-a", "site=stage", "-s", f"NEWSARCHIVE_SITES={tmp / 'sites.toml'}",
            "-s", f"NEWSARCHIVE_ARCHIVE={tmp / 'archive'}", *FAST,
            env={"GITHUB_STEP_SUMMARY": None},
        )
        yield Result(server, robots, tmp / "archive", process)


def test_a_bad_url_costs_only_itself_and_the_crawl_exits_0(hostile):
    assert hostile.process.returncode == 0, hostile.process.stderr[-3000:]
    assert "Traceback" not in hostile.process.stderr, hostile.process.stderr[-3000:]
    paths = hostile.server.paths()
    for path in [*AFTER_BAD_LINKS, *FEED_GOOD]:
        assert path in paths, path
    assert hostile.counts["errors"] == {}


def test_robots_sitemap_lines_bad_and_relative(hostile):
    paths = hostile.robots.paths()
    assert "/sitemap.xml" in paths  # `Sitemap: /sitemap.xml`, after a malformed line
    assert ROBOTS_RELATIVE in paths
    assert hostile.robots.url(ROBOTS_RELATIVE) in {r["url"] for r in hostile.texts()}


def test_bad_urls_are_counted_by_reason(hostile):
    skipped = hostile.counts["skipped"]
    # page: [::1, port 99999, control char, over-long label; canonical; base href;
    # feed: one; robots: one; sitemap: port 99999; meta refresh; Location
    assert skipped["bad-url"] == 4 + 1 + 1 + 1 + 1 + 1 + 1 + 1
    assert "failed" not in hostile.counts or "value" not in hostile.counts["failed"]


def test_malformed_canonical_keeps_the_article_and_its_links(hostile):
    assert BEHIND_BAD_CANONICAL in hostile.server.paths()
    records = {r["url"]: r for r in hostile.texts()}
    url = hostile.server.url(BAD_CANONICAL)
    assert records[url]["canonical_url"] == url  # unusable canonical: the page's own URL


def test_base_href_resolves_relative_links_and_a_bad_one_falls_back(hostile):
    paths = hostile.server.paths()
    assert BASED in paths
    assert "/based/based-story" not in paths
    assert "/bad-base/" + BAD_BASE.rsplit("/", 1)[1] in paths


def test_refresh_to_self_and_refresh_loops_are_parsed_and_counted(hostile):
    paths = hostile.server.paths()
    assert BEHIND_SELF_REFRESH in paths  # the self-refreshing page was read for links
    assert BEHIND_LOOP_B in paths  # the last page of the loop was read
    assert BEHIND_BAD_REFRESH in paths  # so was the page refreshing to a malformed URL
    assert paths.count("/refresh-self") == 1 and paths.count("/loop-a") == 1
    skipped = hostile.counts["skipped"]
    assert skipped["refresh-to-self"] == 1
    assert skipped["refresh-loop"] == 2  # loop-b back to loop-a, loop3-c back to loop3-a


def test_every_page_of_a_refresh_chain_is_read_once(hostile):
    paths = hostile.server.paths()
    for path in [*LOOP3, *BEHIND_LOOP3]:
        assert paths.count(path) == 1, path
    # A refresh to a page fetched before is a duplicate request, counted; the stub that
    # carried it is still read for links.
    assert BEHIND_SEEN_REFRESH in paths
    assert paths.count("/links") == 1
    assert hostile.counts["duplicate_requests"] >= 1


def test_one_canonical_merges_only_equal_texts(hostile):
    url = hostile.server.url
    shared = [r for r in hostile.texts() if r["canonical_url"] == url(CANONICAL)]
    assert len(shared) == 3  # one of the two equal texts, and both different ones
    assert len({r["content_hash"] for r in shared}) == 3
    assert {r["url"] for r in shared} >= {url(SHARED[2]), url(SHARED[3])}
    assert hostile.counts["canonical_conflicts"] == 2
    assert hostile.counts["discarded"]["canonical-duplicate"] == 1
    assert re.search(r"'newsarchive/duplicate_urls'", hostile.process.stderr) is None


def test_canonical_verdicts_do_not_depend_on_arrival_order():
    from itertools import permutations

    from newsarchive.archive import canonical
    from newsarchive.cluster.workers import LocalClaims

    pages = [("https://n.example/a", "h1"), ("https://n.example/b", "h1"),
             ("https://n.example/c", "h3"), ("https://n.example/d", "h4")]
    for order in permutations(pages):
        claims = LocalClaims()
        verdicts = [canonical.judge(claims, url, "https://n.example/wrong", h) for url, h in order]
        assert sorted(verdicts) == ["conflict", "conflict", "first", "merged"]
    # A copy whose canonical names the original, in either order: one text.
    for order in (["https://n.example/o", "https://n.example/amp/o"],
                  ["https://n.example/amp/o", "https://n.example/o"]):
        claims = LocalClaims()
        assert [canonical.judge(claims, url, "https://n.example/o", "h") for url in order] == [
            "first", "merged"]


def test_credentials_in_a_link_are_dropped(hostile):
    assert WITH_CREDENTIALS in hostile.server.paths()
    assert hostile.server.url(WITH_CREDENTIALS) in {r["url"] for r in hostile.texts()}
    assert SECRET not in hostile.process.stderr
    assert "robots-unreachable" not in hostile.counts.get("failed", {})
