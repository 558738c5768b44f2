"""Page requisites, pure logic: what HTML and CSS embed, and the limits' accounting."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from parsel import Selector

from newsarchive.discovery.requisites import (
    Budget,
    Limits,
    Requisite,
    css_requisites,
    html_requisites,
    kind_of,
    srcset_urls,
)
from newsarchive.discovery.urls import check

BASE = "https://news.example/2026/01/02/story.html"

PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="/css/site.css">
<link rel="preload" as="font" href="/fonts/a.woff2" crossorigin>
<link rel="shortcut icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/touch.png">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="canonical" href="/2026/01/02/story.html">
<meta property="og:image" content="https://img.example/og/story.jpg">
<script src="https://cdn.example/js/app.js"></script>
<script>var notAUrl = "/x.js";</script>
<style>.hero { background: url('/img/bg.png') } @import "/css/print.css";</style>
</head><body>
<a href="/other.html">a link, not a requisite</a>
<img src="/img/a.jpg" srcset="/img/a-640.jpg 640w, https://img.example/c_fill,w_1280/a.jpg 1280w">
<img class="lazy" src="data:image/gif;base64,R0lGOD" data-src="/img/lazy.jpg"
     data-srcset="/img/lazy-1x.jpg 1x, /img/lazy-2x.jpg 2x">
<picture><source type="image/webp" srcset="/img/p.webp 1x, /img/p@2x.webp 2x">
  <img src="/img/p.jpg"></picture>
<video poster="/img/poster.jpg" src="/video/clip.mp4"></video>
<div style="background-image: url(&quot;/img/inline.png&quot;)"></div>
<iframe src="https://embed.example/widget.html"></iframe>
<img src="http://[bad/x.png">
<img src="mailto:someone@example.org">
</body></html>"""


def _found(html: str = PAGE, **kwargs) -> dict[str, str]:
    return {r.url: r.kind for r in html_requisites(Selector(text=html), BASE, **kwargs)}


def test_everything_a_page_embeds_is_found_with_its_kind():
    found = _found()
    expected = {
        "https://news.example/css/site.css": "stylesheet",
        "https://news.example/fonts/a.woff2": "font",
        "https://news.example/favicon.ico": "icon",
        "https://news.example/touch.png": "icon",
        "https://img.example/og/story.jpg": "image",
        "https://cdn.example/js/app.js": "script",
        "https://news.example/img/bg.png": "image",
        "https://news.example/css/print.css": "stylesheet",
        "https://news.example/img/a.jpg": "image",
        "https://news.example/img/a-640.jpg": "image",
        "https://img.example/c_fill,w_1280/a.jpg": "image",  # a comma inside the URL
        "https://news.example/img/lazy.jpg": "image",
        "https://news.example/img/lazy-1x.jpg": "image",
        "https://news.example/img/lazy-2x.jpg": "image",
        "https://news.example/img/p.webp": "image",
        "https://news.example/img/p@2x.webp": "image",
        "https://news.example/img/p.jpg": "image",
        "https://news.example/img/poster.jpg": "image",
        "https://news.example/img/inline.png": "image",
        "https://embed.example/widget.html": "iframe",
    }
    assert found == expected
    # not links, feeds, the canonical, the video itself, a data: placeholder, mailto:
    assert "https://news.example/other.html" not in found
    assert "https://news.example/video/clip.mp4" not in found


def test_rejected_urls_are_counted_by_reason():
    rejects: Counter[str] = Counter()
    html_requisites(Selector(text=PAGE), BASE, rejects)
    assert rejects == {"bad-url": 1, "not-http": 0} or rejects == {"bad-url": 1}


def test_an_iframes_own_document_does_not_fetch_its_iframes():
    found = _found(iframes=False)
    assert "https://embed.example/widget.html" not in found
    assert "https://news.example/css/site.css" in found


def test_a_base_element_is_the_callers_to_apply():
    found = {r.url for r in html_requisites(Selector(text='<img src="a.png">'),
                                            "https://static.example/dir/")}
    assert found == {"https://static.example/dir/a.png"}


def test_stylesheet_imports_fonts_and_images_resolve_against_the_stylesheet():
    css = """
    @import url("base.css"); @import 'theme.css' screen;
    /* url(commented-out.png) */
    @font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"),
                 url("../fonts/x.bin") format("truetype"); }
    .a { background: url( 'img/a.png' ) no-repeat; }
    .b { background-image: url(img/b.svg#frag), url(data:image/png;base64,AAAA); }
    .c { src: url(../fonts/y.ttf?v=2); }
    """
    found = {r.url: r.kind for r in css_requisites(css, "https://cdn.example/css/site.css")}
    assert found == {
        "https://cdn.example/css/base.css": "stylesheet",
        "https://cdn.example/css/theme.css": "stylesheet",
        "https://cdn.example/fonts/x.woff2": "font",
        "https://cdn.example/fonts/x.bin": "font",  # inside @font-face
        "https://cdn.example/css/img/a.png": "image",
        "https://cdn.example/css/img/b.svg": "image",
        "https://cdn.example/fonts/y.ttf?v=2": "font",  # by its extension
    }


def test_srcset_candidates():
    assert list(srcset_urls("a.jpg 1x, b.jpg 2x")) == ["a.jpg", "b.jpg"]
    assert list(srcset_urls("a.jpg")) == ["a.jpg"]
    assert list(srcset_urls(" a.jpg, b.jpg 2x ,, c.jpg")) == ["a.jpg", "b.jpg", "c.jpg"]
    assert list(srcset_urls("a.jpg,b.jpg 2x")) == ["a.jpg,b.jpg"]  # as the standard says
    assert list(srcset_urls("/c_fill,w_400/a.jpg 400w, /c_fill,w_800/a.jpg 800w")) == [
        "/c_fill,w_400/a.jpg", "/c_fill,w_800/a.jpg"]
    assert list(srcset_urls("")) == []


def test_the_response_says_what_a_requisite_is():
    assert kind_of("text/css; charset=utf-8", "image") == "stylesheet"
    assert kind_of("image/svg+xml", "icon") == "icon"
    assert kind_of("image/png", "stylesheet") == "image"
    assert kind_of("font/woff2", "image") == "font"
    assert kind_of("application/javascript", "script") == "script"
    assert kind_of("text/html", "iframe") == "iframe"
    assert kind_of(None, "font") == "font"
    assert kind_of("application/octet-stream", "nonsense") == "other"


def test_limits_per_page_count_and_bytes():
    budget = Budget(Limits(per_page=2, page_bytes=100, max_size=0, share=1))
    assert budget.refusal("p1") is None
    assert budget.refusal("p1") is None
    assert budget.refusal("p1") == "page-count"
    assert budget.refusal("p2") is None  # another page has its own budget
    budget.fetched("p2", 150)
    assert budget.refusal("p2") == "page-bytes"


def test_limits_share_of_the_crawl_after_a_first_pages_worth():
    budget = Budget(Limits(per_page=0, page_bytes=1000, max_size=0, share=0.5))
    budget.fetched(None, 100)  # a page
    assert budget.refusal("p") is None  # under the floor: the first pages get theirs
    budget.fetched("p", 1200)
    assert budget.refusal("q") == "crawl-share"  # 1200 of 1300 bytes > 0.5
    budget.fetched(None, 2000)
    assert budget.refusal("q") is None  # 1200 of 3300 bytes


def test_no_limits():
    budget = Budget(Limits(per_page=0, page_bytes=0, max_size=0, share=1))
    for _ in range(1000):
        assert budget.refusal("p") is None
        budget.fetched("p", 10**6)


def test_pages_tracked_are_bounded():
    budget = Budget(Limits())
    for i in range(Budget.PAGES_TRACKED + 10):
        budget.refusal(f"p{i}")
    assert len(budget._pages) == Budget.PAGES_TRACKED


_HTML_PIECES = st.sampled_from([
    "<img src=", "<img srcset=", "<img data-src=", "<img data-srcset=",
    "<link rel=stylesheet href=",
    "<link rel=icon href=", "<link rel=preload as=font href=", "<script src=", "<iframe src=",
    "<video poster=", "<picture><source srcset=", '<meta property="og:image" content=',
    "<style>", "</style>", '<div style="', "url(", "@import ", ")", '"', "'", ">", " ", ",",
    "1x", "640w", "http://", "https://", "//", "/", "\\", "[", "]", ":", "@", "%", "#", "?",
    "\x00", "\u00e9", "\ud800", "xn--", "data:", "javascript:",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HTML_PIECES, st.text(max_size=20)), max_size=40),
       st.sampled_from([BASE, "http://127.0.0.1:8080/", "https://xn--nxasmq6b.example/a/b"]))
def test_html_extractor_never_raises_and_gives_only_requestable_urls(pieces, base):
    rejects: Counter[str] = Counter()
    try:
        selector = Selector(text="".join(pieces))
    except ValueError:
        return  # parsel refuses it: the spider archives such a page without reading it
    for requisite in html_requisites(selector, base, rejects):
        assert check(requisite.url) == requisite.url
        assert requisite.kind in ("stylesheet", "image", "font", "script", "icon", "iframe")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([
    "url(", ")", "@import ", "@font-face {", "}", '"', "'", "/*", "*/", "a.png", "../",
    "//cdn.example/x.woff2", "http://[::1", "\\", " ", "\n", "data:", "%zz", "\x7f",
]), st.text(max_size=20)), max_size=40))
def test_css_extractor_never_raises_and_gives_only_requestable_urls(pieces):
    for requisite in css_requisites("".join(pieces), "https://cdn.example/css/a.css", Counter()):
        assert check(requisite.url) == requisite.url
        assert requisite.kind in ("stylesheet", "image", "font")


def test_a_requisite_requested_for_an_earlier_page_is_not_requested_again():
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from newsarchive.crawl.requisites import REQUESTED_BEFORE, Requested, requests_for

    stats = MemoryStatsCollector(get_crawler())
    requested = Requested()
    page = [Requisite("https://news.example/site.css", "stylesheet"),
            Requisite("https://img.example/a.jpg", "image")]
    first = list(requests_for(page, "https://news.example/1.html", "https://news.example/1.html",
                              0, None, None, requested, stats))
    assert [r.url for r in first] == [p.url for p in page]
    other = [*page, Requisite("https://img.example/b.jpg", "image")]
    second = list(requests_for(other, "https://news.example/2.html",
                               "https://news.example/2.html", 0, None, None, requested, stats))
    assert [r.url for r in second] == ["https://img.example/b.jpg"]
    assert stats.get_value(REQUESTED_BEFORE) == 2
    # without the set, as before: every URL is requested (the duplicate filter drops them)
    assert len(list(requests_for(other, "p", "p", 0, None, None))) == 3


def test_requested_requisites_are_bounded_and_keep_the_most_used():
    from newsarchive.crawl.requisites import Requested

    requested = Requested(size=3)
    for url in ("a", "b", "c"):
        requested.add(url)
    assert "a" in requested  # used again: kept
    requested.add("d")  # the least recently used ("b") goes
    assert "b" not in requested
    assert all(url in requested for url in ("a", "c", "d"))


def test_css_read_once_still_resolves_against_each_stylesheet():
    # the same inline CSS on two pages (read once, remembered): each page's URLs
    css = ".a { background: url(img/a.png) } .b { background: URL('/b.png') }"
    first = css_requisites(css, "https://news.example/2026/01/one.html")
    second = css_requisites(css, "https://other.example/x/two.html")
    assert [r.url for r in first] == ["https://news.example/2026/01/img/a.png",
                                      "https://news.example/b.png"]
    assert [r.url for r in second] == ["https://other.example/x/img/a.png",
                                       "https://other.example/b.png"]
    # a letter that lowercases to two characters does not shift what is read
    odd = "/* \u0130 */ .c { background: url(C\u0130.png) }"
    assert [r.url for r in css_requisites(odd, "https://news.example/")] == [
        "https://news.example/C%C4%B0.png"]
