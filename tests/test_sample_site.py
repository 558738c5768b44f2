"""The bundled sample news site, exercised over real HTTP against a port-0 server.

Other components' tests crawl this site, so here we pin down what they rely on: the URL
map, the content (languages, reference article, syndicated pair), and the HTTP details
(gzip, chunked feed, validators and 304s, redirect, 404, odd pages, live edits).
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from html import unescape
from urllib.parse import urlsplit

import pytest

from newsarchive.sample_site import LANGUAGES, Article, SampleSite

RSS_ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes

    @property
    def html(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    """One request, no redirects followed, HTTP errors returned rather than raised."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=5) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Fetched(error.code, error.headers, error.read())


def visible_text(html: str) -> str:
    """Tags stripped, entities decoded, whitespace collapsed (for 'is this text shown')."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    blocks = r"p|div|h[1-6]|li|ul|ol|br|section|article|aside|nav|header|footer"
    html = re.sub(rf"(?i)</?({blocks})\b[^>]*>", " ", html)
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def links(html: str) -> set[str]:
    return {unescape(href) for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', html)}


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    with SampleSite() as running:
        yield running


@pytest.fixture
def fresh_site() -> Iterator[SampleSite]:
    """A private site for tests that change content."""
    with SampleSite() as running:
        yield running


# -- content ------------------------------------------------------------------------


def test_base_url_is_loopback_with_real_port(site: SampleSite) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)
    assert int(site.base_url.rsplit(":", 1)[1]) > 0


def test_languages_and_article_count() -> None:
    articles = SampleSite().articles
    per_lang = Counter(a.lang for a in articles)
    assert len(articles) >= 30
    assert set(per_lang) == set(LANGUAGES)
    assert all(count >= 6 for count in per_lang.values()), per_lang
    assert len({a.slug for a in articles}) == len({a.path for a in articles}) == len(articles)
    assert {a.section for a in articles} == set(SampleSite.SECTIONS)


def test_articles_are_plausible_news_stories() -> None:
    site = SampleSite()
    for a in site.articles:
        assert a.published.utcoffset() is not None
        assert datetime(2026, 9, 1, tzinfo=UTC) <= a.published < datetime(2026, 12, 1, tzinfo=UTC)
        assert a.summary and a.author and a.tags
        if a.slug == site.reference_article.slug:
            continue
        words = len(a.text.split())
        assert 4 <= len(a.paragraphs) <= 8, a.slug
        assert 150 <= words <= 400, (a.slug, words)
    assert len({a.published.date() for a in site.articles}) > 20


def test_articles_detect_as_their_declared_language() -> None:
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    wrong = {a.slug: detect(a.text) for a in SampleSite().articles if detect(a.text) != a.lang}
    assert not wrong


def test_syndicated_wire_story_is_published_twice_with_small_edits() -> None:
    copies = [a for a in SampleSite().articles if a.syndication_id]
    assert len(copies) == 2
    first, second = copies
    assert first.syndication_id == second.syndication_id
    assert first.section != second.section and first.path != second.path
    assert first.title != second.title
    assert first.paragraphs[0] != second.paragraphs[0]
    same = set(first.paragraphs) & set(second.paragraphs)
    assert len(same) >= len(first.paragraphs) - 3


def test_reference_article_is_the_fixture_text() -> None:
    ref = SampleSite().reference_article
    assert ref.lang == "en" and ref.expected_body == ref.paragraphs
    assert ref.title.startswith("Downed helicopter and destroyed missile systems")
    assert len(ref.paragraphs) == 27
    assert ref.teaser == ("24/7 – All about Nagorno-Karabakh conflict", "/section/world/")
    assert ref.inline_boilerplate[-1] == "Editorial team"
    assert "Subscribe to Google News" in ref.inline_boilerplate


def test_boilerplate_is_localised() -> None:
    site = SampleSite()
    english = set(site.boilerplate("en"))
    for lang in LANGUAGES:
        strings = site.boilerplate(lang)
        assert len(strings) >= 25
        if lang != "en":
            assert len(set(strings) - english) >= 20, lang
    with pytest.raises(ValueError):
        site.boilerplate("xx")


# -- pages --------------------------------------------------------------------------


def test_robots_txt(site: SampleSite) -> None:
    r = fetch(site.url("/robots.txt"))
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    lines = r.body.decode().splitlines()
    assert "User-agent: *" in lines and "Disallow: /private/" in lines
    assert f"Sitemap: {site.base_url}/sitemap.xml" in lines
    rules = urllib.robotparser.RobotFileParser()
    rules.parse(lines)
    assert not rules.can_fetch("newsarchive", site.url(SampleSite.PRIVATE_PATH))
    assert rules.can_fetch("newsarchive", site.article_urls()[0])


def test_every_article_is_served_with_its_title_and_metadata(site: SampleSite) -> None:
    articles = site.articles
    assert site.article_urls() == [site.base_url + a.path for a in articles]
    for article in articles:
        r = fetch(site.url(article.path))
        assert r.status == 200, article.path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        html = r.html
        assert html.startswith("<!doctype html>")
        assert f'<html lang="{article.lang}">' in html
        assert f'<link rel="canonical" href="{site.url(article.path)}">' in html
        assert article.title in visible_text(html)
        ld = json.loads(re.search(r'(?s)application/ld\+json">(.*?)</script>', html).group(1))
        assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
        assert ld["inLanguage"] == article.lang
        assert ld["datePublished"] == article.published.isoformat()
        assert ld["author"] == {"@type": "Person", "name": article.author}
        assert f'datetime="{article.published.isoformat()}"' in html


def test_article_page_has_realistic_publisher_chrome(site: SampleSite) -> None:
    article = next(a for a in site.articles if a.lang == "de")
    html = fetch(site.url(article.path)).html
    for needle in (
        '<meta charset="utf-8">', '<meta name="description"', '<meta name="author"',
        '<meta property="og:type" content="article">', 'property="og:locale" content="de_DE"',
        '<meta property="og:site_name" content="The Sample Gazette">',
        'property="article:published_time"', 'property="article:modified_time"',
        '<link rel="alternate" type="application/rss+xml"', 'href="/feed.xml"',
        'class="cookie-banner"', 'class="share-bar"', 'class="article-body',
        'class="read-more"', 'class="newsletter-signup"', 'class="social-follow"',
        'class="related', 'class="most-read', 'class="site-footer"', "<h1",
    ):
        assert needle in html, needle
    related = re.search(r'(?s)<aside class="related.*?</aside>', html).group(0)
    assert len(links(related)) == 3
    # the inline teaser sits after the second paragraph and links another article
    body = re.search(r'(?s)<div class="article-body.*?</div>', html).group(0)
    blocks = re.findall(r"<p[^>]*>.*?</p>", body)
    assert 'class="read-more"' in blocks[2]
    assert links(blocks[2]) <= {a.path for a in site.articles}
    text = visible_text(html)
    for paragraph in article.paragraphs:
        assert paragraph in text


def test_boilerplate_appears_on_pages_but_not_in_bodies(site: SampleSite) -> None:
    for lang in LANGUAGES:
        article = next(a for a in site.articles if a.lang == lang)
        html = unescape(fetch(site.url(article.path)).html)
        for line in site.page_boilerplate(article):
            assert line in html or line in visible_text(html), (lang, line)
    # so that "no boilerplate string in the extracted text" is a fair substring test
    for article in site.articles:
        for line in site.page_boilerplate(article):
            assert line not in article.text and line not in article.title, (article.slug, line)


def test_reference_article_page(site: SampleSite) -> None:
    ref = site.reference_article
    html = fetch(site.url(ref.path)).html
    text = visible_text(html)
    assert f'<h1 class="entry-title">{ref.title}</h1>' in html
    for paragraph in ref.expected_body or ():
        assert paragraph in text
    for line in ref.inline_boilerplate:
        assert line in text
    assert "Read more: 24/7 – All about Nagorno-Karabakh conflict" in text
    # boilerplate where the source has it: teaser after the first paragraph, promos at the end
    teaser = text.index("Read more: 24/7")
    assert text.index(ref.paragraphs[0]) < teaser < text.index(ref.paragraphs[1])
    assert text.index(ref.paragraphs[-1]) < text.index("Follow us everywhere")
    for heading in ("Nagorno-Karabakh conflict",):
        assert f"<h2>{heading}</h2>" in html


def test_home_page_links(site: SampleSite) -> None:
    r = fetch(site.url("/"))
    assert r.status == 200
    found = links(r.html)
    assert {f"/section/{s}/" for s in SampleSite.SECTIONS} <= found
    assert {a.path for a in site.articles[:8]} <= found
    assert {SampleSite.PRIVATE_PATH, SampleSite.REDIRECT_PATH} <= found
    assert set(SampleSite.BROKEN_PATHS.values()) <= found


def test_sections_are_paginated_and_cover_every_article(site: SampleSite) -> None:
    seen: set[str] = set()
    for section in SampleSite.SECTIONS:
        path, pages = f"/section/{section}/", 0
        while path:
            r = fetch(site.url(path))
            assert r.status == 200, path
            pages += 1
            listed = {h for h in links(r.html) if h.startswith("/news/")}
            assert len(listed) <= 5
            seen |= listed
            older = re.search(r'<a class="pagination__older" rel="next" href="([^"]+)"', r.html)
            path = older.group(1) if older else ""
        expected = -(-sum(a.section == section for a in site.articles) // 5)
        assert pages == expected
        assert fetch(site.url(f"/section/{section}/page/{pages + 1}/")).status == 404
    assert {a.path for a in site.articles} <= seen
    assert fetch(site.url("/section/world/page/2/")).status == 200
    assert fetch(site.url("/section/nowhere/")).status == 404


def test_redirect_from_old_url(site: SampleSite) -> None:
    r = fetch(site.url(SampleSite.REDIRECT_PATH))
    assert r.status == 301
    location = r.headers["Location"]
    assert location.startswith(site.base_url + "/news/")
    assert location in site.article_urls()
    assert fetch(location).status == 200


def test_removed_story_and_unknown_paths_are_404(site: SampleSite) -> None:
    assert any(SampleSite.REMOVED_PATH in links(fetch(u).html) for u in site.article_urls())
    for path in (SampleSite.REMOVED_PATH, "/nope", "/news/2026/10/01/", "/feed.xml/x"):
        r = fetch(site.url(path))
        assert r.status == 404, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Page not found" in r.html


def test_pdf_report(site: SampleSite) -> None:
    assert any(SampleSite.PDF_PATH in links(fetch(u).html) for u in site.article_urls())
    r = fetch(site.url(SampleSite.PDF_PATH))
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.body.startswith(b"%PDF-1.4") and r.body.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)", r.body).group(1))
    assert r.body[xref:].startswith(b"xref")


def test_broken_pages_are_served(site: SampleSite) -> None:
    broken = fetch(site.url(SampleSite.BROKEN_PATHS["broken_html"]))
    assert broken.status == 200 and b"auditors" in broken.body and b"</h2>" in broken.body
    binary = fetch(site.url(SampleSite.BROKEN_PATHS["binary"]))
    assert binary.status == 200 and binary.headers["Content-Type"].startswith("text/html")
    with pytest.raises(UnicodeDecodeError):
        binary.body.decode("utf-8")
    empty = fetch(site.url(SampleSite.BROKEN_PATHS["empty"]))
    assert empty.status == 200 and empty.body == b""
    assert empty.headers["Content-Length"] == "0"


def test_private_memo_is_served_if_asked(site: SampleSite) -> None:
    assert fetch(site.url(SampleSite.PRIVATE_PATH)).status == 200
    assert ("GET", SampleSite.PRIVATE_PATH) in site.requests


# -- HTTP behaviour -----------------------------------------------------------------


def test_gzip_only_when_asked(site: SampleSite) -> None:
    url = site.article_urls()[0]
    plain = fetch(url)
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert int(plain.headers["Content-Length"]) == len(plain.body)
    zipped = fetch(url, {"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) == len(zipped.body) < len(plain.body)
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    small = fetch(site.url("/robots.txt"), {"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    refused = fetch(url, {"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_feed_is_chunked_rss(site: SampleSite) -> None:
    r = fetch(site.url("/feed.xml"))
    assert r.status == 200 and r.headers["Content-Type"] == "application/rss+xml"
    assert r.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in r.headers
    channel = ET.fromstring(r.body).find("channel")
    items = channel.findall("item")
    assert len(items) == SampleSite.FEED_SIZE
    urls = set(site.article_urls())
    for item in items:
        assert item.findtext("title") and item.findtext("description")
        assert item.findtext("link") in urls and item.findtext("guid") == item.findtext("link")
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    # the framing itself, read off the socket
    host, port = urlsplit(site.base_url).hostname, urlsplit(site.base_url).port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(f"GET /feed.xml HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    body, sizes = b"", []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        sizes.append(size)
        body, rest = body + rest[:size], rest[size + 2:]
        if size == 0:
            break
    assert body == r.body and len(sizes) > 2 and rest == b""


def test_sitemap_lists_articles_home_and_sections(site: SampleSite) -> None:
    r = fetch(site.url("/sitemap.xml"))
    assert r.status == 200 and r.headers["Content-Type"] == "application/xml"
    entries = ET.fromstring(r.body).findall(f"{SITEMAP_NS}url")
    locs = {e.findtext(f"{SITEMAP_NS}loc") for e in entries}
    assert set(site.article_urls()) <= locs
    assert site.url("/") in locs
    assert {site.url(f"/section/{s}/") for s in SampleSite.SECTIONS} <= locs
    assert all(e.findtext(f"{SITEMAP_NS}lastmod") for e in entries)


def test_conditional_requests_get_304(site: SampleSite) -> None:
    url = site.article_urls()[3]
    first = fetch(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and first.headers["Date"]
    again = fetch(url, {"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag
    assert fetch(url, {"If-None-Match": '"other"'}).status == 200
    assert fetch(url, {"If-Modified-Since": modified}).status == 304
    earlier = parsedate_to_datetime(modified) - timedelta(days=1)
    assert fetch(url, {"If-Modified-Since": format_datetime(earlier, usegmt=True)}).status == 200
    zipped = fetch(url, {"Accept-Encoding": "gzip"})
    assert fetch(url, {"If-None-Match": zipped.headers["ETag"],
                       "Accept-Encoding": "gzip"}).status == 304
    for path in ("/feed.xml", "/sitemap.xml", "/", SampleSite.PDF_PATH):
        tag = fetch(site.url(path)).headers["ETag"]
        assert fetch(site.url(path), {"If-None-Match": tag}).status == 304, path


def test_head_and_post(site: SampleSite) -> None:
    url = site.article_urls()[0]
    head = fetch(url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(fetch(url).body)
    post = urllib.request.Request(site.url("/newsletter/subscribe"), data=b"email=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        _OPENER.open(post, timeout=5)
    assert error.value.code == 405


def test_requests_are_recorded(site: SampleSite) -> None:
    fetch(site.url("/?probe=recorded"))
    fetch(site.url("/robots.txt"), method="HEAD")
    assert ("GET", "/?probe=recorded") in site.requests
    assert ("HEAD", "/robots.txt") in site.requests


def test_concurrent_requests(site: SampleSite) -> None:
    urls = site.article_urls()[:16]
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda u=u: statuses.append(fetch(u).status))
               for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert statuses == [200] * len(urls)


# -- live changes and lifecycle -----------------------------------------------------


def _new_article() -> Article:
    return Article(
        slug="late-night-test-story",
        section="science",
        lang="en",
        title="Late night test story about a comet",
        author="Test Writer",
        published=datetime(2026, 11, 25, 22, 0, tzinfo=UTC),
        paragraphs=("A comet was seen over the harbour late last night.", "Nobody slept."),
        summary="A comet over the harbour.",
    )


def test_add_article_updates_feed_sitemap_home_and_section(fresh_site: SampleSite) -> None:
    site = fresh_site
    before = {p: fetch(site.url(p)) for p in ("/", "/feed.xml", "/sitemap.xml")}
    article = _new_article()
    site.add_article(article)
    assert article in site.articles and site.url(article.path) in site.article_urls()
    page = fetch(site.url(article.path))
    assert page.status == 200 and article.title in page.html
    for path, old in before.items():
        new = fetch(site.url(path))
        assert new.headers["ETag"] != old.headers["ETag"], path
        assert article.path in new.html, path
    section = fetch(site.url("/section/science/"))
    assert article.path in links(section.html)
    with pytest.raises(ValueError):
        site.add_article(article)


def test_edit_article_changes_page_validators_and_feed(fresh_site: SampleSite) -> None:
    site = fresh_site
    article = site.articles[-1]  # the oldest: not in the feed until it is updated
    url = site.url(article.path)
    old_page, old_feed = fetch(url), fetch(site.url("/feed.xml"))
    assert url not in old_feed.html
    edited = site.edit_article(article.slug, paragraphs=[*article.paragraphs, "Correction."])
    assert edited.modified is not None and edited.modified > article.updated
    assert site.article(article.slug) == edited
    page = fetch(url, {"If-None-Match": old_page.headers["ETag"]})
    assert page.status == 200 and "Correction." in page.html
    assert page.headers["ETag"] != old_page.headers["ETag"]
    new_modified = parsedate_to_datetime(page.headers["Last-Modified"])
    assert new_modified > parsedate_to_datetime(old_page.headers["Last-Modified"])
    assert f'content="{edited.modified.isoformat()}"' in page.html
    feed = fetch(site.url("/feed.xml"), {"If-Modified-Since": old_feed.headers["Last-Modified"]})
    assert feed.status == 200 and url in feed.html
    updated = {i.findtext("link"): i.findtext(f"{RSS_ATOM}updated")
               for i in ET.fromstring(feed.body).iter("item")}
    assert updated[url] == edited.modified.isoformat()
    with pytest.raises(KeyError):
        site.edit_article("no-such-story", paragraphs=["x"])


@pytest.mark.e2e
def test_stop_is_quick_even_with_an_open_keep_alive_connection() -> None:
    site = SampleSite()
    base = site.start()
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()  # connection stays open (HTTP/1.1 keep-alive)
    site.stop()
    # The server closed the open keep-alive connection: the client reads EOF (one left
    # open would time out here after the client's 5 s and fail the test).
    assert conn.sock.recv(1) == b""
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    with pytest.raises(RuntimeError):
        site.url("/")
    site.stop()  # idempotent


@pytest.mark.e2e
def test_module_entry_point_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.sample_site", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        assert fetch(base + "/robots.txt").status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 130  # interrupted, as shells report Ctrl-C
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
