"""Discovery, classification and URL hygiene, on small documents written here."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import date

from parsel import Selector

from newsarchive.crawl.politeness import hold_delay
from newsarchive.discovery import links as discovery
from newsarchive.discovery.classify import PageSignals, is_article
from newsarchive.discovery.urls import article_key, strip_tracking

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
    head = discovery.page_head(page, base)
    assert head.canonical == "https://n.example/x"
    assert head.language == "de"
    assert head.feeds == ("https://n.example/feed.xml",)
    assert head.signals.og_type == "article"


def test_article_classification():
    none = PageSignals()
    assert is_article("https://n.example/2026/11/02/story", none)
    assert is_article("https://n.example/world/big-story-about-many-things.html", none)
    assert not is_article("https://n.example/section/world/", none)
    assert is_article("https://n.example/x", PageSignals(jsonld_types=("NewsArticle",)))
    assert is_article("https://n.example/p/1", none, article_patterns=[r"/p/\d+"])
    assert not is_article("https://n.example/2026/11/02/story", none, deny_patterns=["story"])


# --- the source kinds scheduled crawls meet -------------------------------------------

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
<url><image:image><image:loc>https://n.example/img/e.jpg</image:loc></image:image>
  <loc>https://n.example/e</loc><lastmod>2026-11-20T08:00:00Z</lastmod>
  <news:news><news:publication><news:name>N</news:name><news:language>en</news:language>
  </news:publication><news:publication_date>2026-11-02T10:00:00+01:00</news:publication_date>
  <news:title>E</news:title></news:news></url>
<url><loc> https://n.example/f </loc></url>
</urlset>"""


def test_news_sitemap_dates_entries_by_publication_date():
    kind, entries = discovery.sitemap_entries(NEWS_SITEMAP, "https://n.example/")
    assert kind == "urlset"
    assert [e.url for e in entries] == ["https://n.example/e", "https://n.example/f"]
    assert entries[0].date == "2026-11-02T10:00:00+01:00"  # not the later lastmod
    assert entries[1].date is None


def test_gzipped_sitemap_is_read():
    # robots.txt often names sitemap.xml.gz, served as a file, not Content-Encoding
    kind, entries = discovery.sitemap_entries(gzip.compress(INDEX), "https://n.example/")
    assert kind == "sitemapindex" and entries[0].url == "https://n.example/s1.xml"
    assert discovery.sitemap_entries(b"\x1f\x8b\x08garbage", "https://n.example/") == ("", [])


def test_feed_entry_links_and_dates():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="/atom"/>
    <entry><link rel="enclosure" href="/g.mp3"/><link href="/g"/>
    <published>2026-11-01T09:00:00Z</published><updated>2026-11-03T09:00:00Z</updated></entry>
    </feed>"""
    (entry,) = discovery.feed_entries(atom, "https://n.example/atom")
    assert entry == discovery.Entry("https://n.example/g", "2026-11-01T09:00:00Z")
    rss = b"""<rss><channel><item><guid isPermaLink="false">tag:n.example,1</guid></item>
    <item><guid>https://n.example/h</guid><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/"
    >2026-11-04</dc:date></item></channel></rss>"""
    assert list(discovery.feed_entries(rss, "https://n.example/")) == [
        discovery.Entry("https://n.example/h", "2026-11-04")
    ]


def test_entry_date_formats():
    assert discovery.entry_date("Mon, 02 Nov 2026 10:00:00 GMT") == date(2026, 11, 2)
    assert discovery.entry_date("2026-11-02T23:30:00Z") == date(2026, 11, 2)
    assert discovery.entry_date("2026-11-02T10:00:00+01:00") == date(2026, 11, 2)
    assert discovery.entry_date("2026-11-02") == date(2026, 11, 2)
    assert discovery.entry_date("yesterday") is None
    assert discovery.entry_date(None) is None


def test_tracking_parameters_and_article_keys():
    url = "https://n.example/a?id=7&utm_source=x&utm_medium=y&fbclid=z#comments"
    assert strip_tracking(url) == "https://n.example/a?id=7"
    assert strip_tracking("https://n.example/a?gclid=1") == "https://n.example/a"
    same = {
        article_key("https://n.example/a?id=7"),
        article_key("HTTPS://N.EXAMPLE:443/a?id=7&utm_campaign=c"),
        article_key("https://n.example/a?id=7&fbclid=z"),
    }
    assert len(same) == 1
    assert article_key("https://n.example/a?id=8") not in same


def test_crawl_delay_is_a_floor_under_scrapy_jitter():
    from scrapy.core.downloader import Slot

    slot = Slot(concurrency=4, delay=0.0, jitter=0.5)  # Scrapy's default jitter
    hold_delay(slot, 1.0)
    assert min(slot.download_delay() for _ in range(200)) >= 1.0
    slot = Slot(concurrency=4, delay=3.0, jitter=0.5)  # DOWNLOAD_DELAY above Crawl-delay
    hold_delay(slot, 2.0)
    waits = [slot.download_delay() for _ in range(200)]
    assert min(waits) >= 2.0 - 1e-9 and max(waits) > 3.0
    slot.delay = 0.5  # AutoThrottle lowered it on a fast response
    hold_delay(slot, 2.0)
    assert slot.delay == 2.0 and min(slot.download_delay() for _ in range(50)) >= 2.0


def test_atom_xml_base_is_honoured_per_entry_and_a_bad_one_falls_back():
    """RFC 4287: relative links resolve against xml:base (feed, then entry, nested);
    ignoring it requested URLs the site never linked (404s, articles never fetched)."""
    atom = """<?xml version="1.0" encoding="utf-16"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://n.example/news/">
    <entry><link href="one"/></entry>
    <entry xml:base="2024/"><link href="two"/></entry>
    <entry xml:base="https://cdn.example/x/"><link xml:base="../y/" href="three"/></entry>
    <entry xml:base="http://[::1/"><link href="four"/></entry>
    </feed>""".encode("utf-16")
    rejects: Counter[str] = Counter()
    urls = [e.url for e in discovery.feed_entries(atom, "https://n.example/atom.xml", rejects)]
    assert urls == ["https://n.example/news/one", "https://n.example/news/2024/two",
                    "https://cdn.example/y/three", "https://n.example/news/four"]
    assert rejects == {"bad-url": 1}


def test_link_rel_is_a_token_set_and_feed_types_may_carry_parameters():
    """HTML: rel holds space-separated tokens in any case; a MIME type may be any case
    and carry parameters. Exact matches missed these feeds and canonical silently."""
    html = """<html><head><link rel="Canonical" href="/c">
    <link rel="alternate feed" type="application/rss+xml" href="/f1">
    <link rel=alternate type="application/rss+xml; charset=utf-8" href="/f2">
    <link rel=ALTERNATE type="Application/Atom+XML" href="/f3">
    <link rel=alternate hreflang=de href="/de"><link rel="stylesheet alternate" href="/s.css">
    </head></html>"""
    head = discovery.page_head(Selector(text=html), "https://n.example/p")
    assert head.canonical == "https://n.example/c"
    assert head.feeds == ("https://n.example/f1", "https://n.example/f2", "https://n.example/f3")


def test_feed_and_sitemap_ampersands_give_the_urls_the_site_meant():
    """libxml2's recovery dropped a bare "&b" (?a=1&b=2 became ?a=1=2), and after one
    HTML entity XML does not define (&nbsp; in a title) every later &amp; (?p=1&amp;q=2
    became ?p=1q=2): wrong URLs requested, the articles never fetched."""
    rss = b"""<?xml version="1.0"?><rss><channel>
    <item><title>A&nbsp;B &rsquo;s &bogus; &#38;</title><link>http://n.example/a?p=1&amp;q=2</link></item>
    <item><link>http://n.example/c?x=1&y=2&z</link></item>
    <item><link><![CDATA[http://n.example/d?x=1&y=2]]></link></item></channel></rss>"""
    assert [e.url for e in discovery.feed_entries(rss, "https://n.example/f")] == [
        "http://n.example/a?p=1&q=2", "http://n.example/c?x=1&y=2&z",
        "http://n.example/d?x=1&y=2"]
    sitemap = b"<urlset><url><loc>http://n.example/e?a=1&b=2</loc></url></urlset>"
    for body in (sitemap, gzip.compress(sitemap)):
        assert discovery.sitemap_entries(body, "https://n.example/")[1] == [
            discovery.Entry("http://n.example/e?a=1&b=2")]
