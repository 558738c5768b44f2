"""Discovery and classification, on small documents written here."""

from __future__ import annotations

from parsel import Selector

from newsarchive import discovery
from newsarchive.classify import PageSignals, is_article

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>A</title><link>https://n.example/a</link>
<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>B</title><guid>https://n.example/b</guid></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
<entry><title>C</title><link rel="alternate" href="/c"/>
<updated>2026-11-02T10:00:00Z</updated></entry>
</feed>"""
SITEMAP = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://n.example/d</loc><lastmod>2026-11-01</lastmod></url></urlset>"""
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://n.example/s1.xml</loc></sitemap></sitemapindex>"""


def test_feeds():
    rss = list(discovery.feed_entries(RSS, "https://n.example/feed"))
    assert [e.url for e in rss] == ["https://n.example/a", "https://n.example/b"]
    assert rss[0].date.startswith("Mon, 02 Nov 2026")
    atom = list(discovery.feed_entries(ATOM, "https://n.example/atom"))
    assert [e.url for e in atom] == ["https://n.example/c"]
    assert list(discovery.feed_entries(b"\x00garbage", "https://n.example/")) == []


def test_sitemaps():
    kind, entries = discovery.sitemap_entries(SITEMAP, "https://n.example/")
    assert kind == "urlset" and entries[0].url == "https://n.example/d"
    kind, entries = discovery.sitemap_entries(INDEX, "https://n.example/")
    assert kind == "sitemapindex" and entries[0].url == "https://n.example/s1.xml"


def test_page_links_and_metadata():
    page = Selector(
        text='<html lang="de-DE"><head><link rel="canonical" href="/x">'
        '<meta property="og:type" content="article">'
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
        '<body><a href="/a#top">a</a><a href="mailto:x@y">m</a><a href="/a">again</a>'
        '<a href="https://other.example/b">b</a></body></html>'
    )
    base = "https://n.example/page"
    assert list(discovery.page_links(page, base)) == [
        "https://n.example/a", "https://other.example/b"
    ]
    assert discovery.canonical_url(page, base) == "https://n.example/x"
    assert discovery.language_hint(page) == "de"
    assert list(discovery.feed_alternates(page, base)) == ["https://n.example/feed.xml"]
    assert discovery.page_signals(page).og_type == "article"


def test_article_classification():
    none = PageSignals()
    assert is_article("https://n.example/2026/11/02/story", none)
    assert is_article("https://n.example/world/big-story-about-many-things.html", none)
    assert not is_article("https://n.example/section/world/", none)
    assert is_article("https://n.example/x", PageSignals(jsonld_types=("NewsArticle",)))
    assert is_article("https://n.example/p/1", none, article_patterns=[r"/p/\d+"])
    assert not is_article("https://n.example/2026/11/02/story", none, deny_patterns=["story"])
