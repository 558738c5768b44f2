"""Property tests: the parsers of what a site sends never raise, and every URL they
give is absolute, http(s), and accepted by ``scrapy.Request`` and ``urlsplit().port``.

Inputs mix arbitrary text and bytes with the hostile pieces seen on the real web
(broken IPv6 literals, out-of-range ports, control characters, bad IDNA, over-long
hosts, other schemes), spliced into generated HTML, RSS, Atom and sitemaps.
"""

from __future__ import annotations

import gzip
from collections import Counter
from html import escape
from urllib.parse import urlsplit

import scrapy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parsel import Selector
from scrapy.utils.request import fingerprint

from newsarchive.discovery import links as discovery
from newsarchive.discovery.urls import (
    MAX_URL_LENGTH,
    Rejected,
    article_key,
    check,
    resolve,
    strip_tracking,
)

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
BASES = (
    "http://n.example/", "https://n.example/a/b?c=d", "http://127.0.0.1:8080/x/",
    "https://xn--bcher-kva.example/", "http://[::1]:8000/p",
)
HOSTILE = (
    "http://[::1/", "http://[::1]x/", "http://[zz]/", "http://h:99999/", "http://h:-1/",
    "http://h:0/", "http://h:8o/", "http://ex\x00ample.com/", "http://a b.example/",
    "http://\udcff.example/", "http://xn--zz.example/", "http://" + "a" * 64 + ".example/",
    "http://" + "a." * 200 + "example/", "http://" + "x" * 5000, "/" + "p" * 5000,
    "ftp://files.example/x", "javascript:alert(1)", "about:blank", "http:", "http://",
    "https:///path", "//", "///x", "http://user:pa ss@h/", "http://h/\r\nX: y",
    "http://exa\u3002mple/", "http://ｅｘａｍｐｌｅ.com/", "http://münchen.example/ü?q=ü#f",
    "\x00", "\t http://n.example/ok \n", "?a=1&utm_source=x", "#frag", "../../..", "%zz",
    "http://h/%", "http://[fe80::1%25eth0]/", "HTTP://N.EXAMPLE:80/A",
    "http://user:secret@n.example/x", "https://@n.example/", "http://a@b@n.example/?q=@x",
    "\\\\n.example\\a\\b", "/a\\b",
)
hrefs = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["http", "https", "HtTp", "ftp", ""]),
        st.one_of(st.sampled_from(["n.example", "[::1]", "[::1", "127.0.0.1"]),
                  st.text(max_size=12)),
        st.one_of(st.just(""), st.integers(-5, 200_000).map(lambda p: f":{p}"),
                  st.text(max_size=4)),
        st.text(max_size=20),
    ),
)


def assert_usable(url: str) -> None:
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname, url
    assert "@" not in parts.netloc, url  # credentials a site wrote are never sent
    assert "\\" not in url, url
    parts.port  # noqa: B018 - raises ValueError when out of range
    assert len(url) <= MAX_URL_LENGTH
    assert check(url) == url
    request = scrapy.Request(url)
    fingerprint(request)  # the duplicate filter's key
    article_key(url)


@PROPERTY
@given(base=st.sampled_from(BASES), href=hrefs)
def test_resolve_gives_a_usable_url_or_a_reason(base, href):
    result = resolve(base, href)
    if isinstance(result, str):
        assert_usable(result)
    else:
        assert result is None or result.reason in ("bad-url", "not-http")


@PROPERTY
@given(text=st.one_of(hrefs, st.text()))
def test_url_hygiene_never_raises(text):
    strip_tracking(text)
    article_key(text)
    result = check(text)
    assert isinstance(result, Rejected) or result == text or "@" in text
    if not isinstance(result, Rejected):
        assert check(result) == result  # a checked URL stays as it is


def _page(links, base_href, canonical, feed, lang) -> str:
    head = "".join([
        f'<base href="{escape(base_href)}">' if base_href is not None else "",
        f'<link rel="canonical" href="{escape(canonical)}">',
        f'<meta property="og:url" content="{escape(canonical)}">',
        f'<link rel="alternate" type="application/rss+xml" href="{escape(feed)}">',
        '<script type="application/ld+json">{"@type": ["NewsArticle", 3], "@graph": [{}]}'
        "</script>",
    ])
    body = "".join(f'<a href="{escape(href)}">x</a>' for href in links)
    return f'<html lang="{escape(lang)}"><head>{head}</head><body>{body}</body></html>'


def _selector(text: str) -> Selector | None:
    try:
        return Selector(text=text)
    except ValueError:  # the spider archives such a page and reads nothing from it
        return None


@PROPERTY
@given(
    links=st.lists(hrefs, max_size=8), base_href=st.one_of(st.none(), hrefs),
    canonical=hrefs, feed=hrefs, lang=st.text(max_size=10), url=st.sampled_from(BASES),
)
def test_page_head_and_links_never_raise_and_give_usable_urls(
    links, base_href, canonical, feed, lang, url
):
    selector = _selector(_page(links, base_href, canonical, feed, lang))
    if selector is None:
        return
    rejects: Counter[str] = Counter()
    head = discovery.page_head(selector, url, rejects)
    assert_usable(head.base)
    for found in (head.canonical, *head.feeds, *discovery.page_links(selector, head.base, rejects)):
        if found is not None:
            assert_usable(found)
    assert set(rejects) <= {"bad-url", "not-http"}


@PROPERTY
@given(text=st.text(max_size=300), url=st.sampled_from(BASES))
def test_any_text_as_a_page(text, url):
    selector = _selector(text)
    if selector is not None:
        head = discovery.page_head(selector, url)
        for found in discovery.page_links(selector, head.base or url):
            assert_usable(found)


def _xml(template: str, links: list[str]) -> bytes:
    items = "".join(t.format(escape(h)) for h, t in zip(links, _ITEMS, strict=False))
    return template.format(items).encode("utf-8", "surrogatepass")


_ITEMS = ("<item><link>{}</link></item>", '<entry><link href="{}"/></entry>',
          "<item><guid>{}</guid></item>", "<url><loc>{}</loc><lastmod>x</lastmod></url>",
          "<sitemap><loc>{}</loc></sitemap>") * 4


@PROPERTY
@given(links=st.lists(hrefs, max_size=10), url=st.sampled_from(BASES), gz=st.booleans())
def test_feeds_and_sitemaps_give_usable_urls(links, url, gz):
    for template in ("<rss><channel>{}</channel></rss>", '<feed xmlns="http://www.w3.org/2005/Atom">{}</feed>',
                     '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>',
                     "<sitemapindex>{}</sitemapindex>"):
        body = _xml(template, links)
        for entry in discovery.feed_entries(body, url):
            assert_usable(entry.url)
            discovery.entry_date(entry.date)
        _, entries = discovery.sitemap_entries(gzip.compress(body) if gz else body, url)
        for entry in entries:
            assert_usable(entry.url)


@PROPERTY
@given(body=st.binary(max_size=400), url=st.sampled_from(BASES))
def test_any_bytes_as_a_feed_or_sitemap(body, url):
    for entry in discovery.feed_entries(body, url):
        assert_usable(entry.url)
    for entry in discovery.sitemap_entries(body, url)[1]:
        assert_usable(entry.url)


@PROPERTY
@given(value=st.one_of(st.none(), st.text(max_size=40), st.sampled_from([
    "2024-03-15T09:00:00Z", "Fri, 15 Mar 2024 09:00:00 GMT", "Fri, 15 Mar 99999 09:00:00 GMT",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "Mon, 32 Foo 2024", "-1",
])))
def test_entry_date_never_raises(value):
    discovery.entry_date(value)


def test_credentials_and_backslashes_in_links_are_read_as_browsers_do():
    base = "http://n.example/dir/page"
    assert resolve(base, "http://user:secret@n.example/x?q=@y") == "http://n.example/x?q=@y"
    assert resolve(base, "\\\\n.example\\a\\b") == "http://n.example/a/b"
    assert resolve(base, "..\\up") == "http://n.example/up"
    assert check("http://u:p@[::1]:8/x") == "http://[::1]:8/x"
