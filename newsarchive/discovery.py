"""Finding URLs: links in pages, items in RSS/Atom feeds, locations in sitemaps.

Pure functions over bytes or a parsel Selector, so they are tested without a crawl.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from w3lib.url import safe_url_string

from newsarchive.classify import PageSignals

_SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "#")
_ORIGIN_ONLY = ("/", "http://", "https://")


def absolute(base: str, href: str) -> str | None:
    href = href.strip()
    lowered = href.lower()
    if not href or lowered.startswith(_SKIP_SCHEMES):
        return None
    if lowered.startswith(_ORIGIN_ONLY):
        # Path-absolute, scheme-relative and absolute links resolve the same against
        # any page of the origin: resolved once per origin, not once per page. News
        # pages repeat the same ~100 navigation links on every page, and resolving
        # them (urljoin + safe_url_string) was the crawl's largest cost on the reactor.
        return _resolve_cached(_origin(base), href)
    return _resolve(base, href)


def _origin(base: str) -> str:
    scheme, netloc, *_ = urlsplit(base)
    return f"{scheme}://{netloc}"


def _resolve(base: str, href: str) -> str | None:
    url = safe_url_string(urljoin(base, href)).split("#", 1)[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


# Bounded (~10 MB at most); keys and values are plain strings, never lxml "smart"
# strings, which would keep their whole page tree alive.
_resolve_cached = lru_cache(maxsize=1 << 15)(_resolve)
_HREFS = etree.XPath("//a/@href", smart_strings=False)


def page_links(selector: Selector, base: str) -> Iterator[str]:
    """Every http(s) link of the page, resolved, once each, in page order."""
    hrefs = dict.fromkeys(_HREFS(selector.root))  # lxml directly: no Selector per link
    seen: set[str] = set()
    for href in hrefs:
        url = absolute(base, href)
        if url and url not in seen:
            seen.add(url)
            yield url


@dataclass(frozen=True)
class PageHead:
    """What the crawl reads from a page besides its links, in one pass over the tree.

    Why one pass: each ``//meta[...]`` query walks the whole document (news pages run
    to thousands of elements), and the crawl asked seven of them per page on the
    reactor thread.
    """

    signals: PageSignals = PageSignals()
    canonical: str | None = None  # <link rel=canonical>, else og:url; resolved
    language: str | None = None  # <html lang>, else og:locale; primary subtag, lowercase
    feeds: tuple[str, ...] = ()  # RSS/Atom <link rel=alternate>, resolved


_HEAD_NODES = etree.XPath(
    "//meta[@property='og:type' or @property='og:url' or @property='og:locale'"
    " or @property='article:published_time']"
    " | //link[@rel='canonical' or @rel='alternate']"
    " | //script[@type='application/ld+json']",
    smart_strings=False,
)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")


def page_head(selector: Selector, base: str = "") -> PageHead:
    """``base`` resolves the canonical and feed URLs (relative ones are dropped without)."""
    meta: dict[str, str] = {}
    canonical: list[str] = []
    feeds: list[str] = []
    jsonld: list[str] = []
    for node in _HEAD_NODES(selector.root):
        tag = node.tag
        if tag == "meta":
            if (content := node.get("content")) is not None:
                meta.setdefault(node.get("property"), content)
        elif tag == "script":
            jsonld.append(node.text or "")
        elif node.get("rel") == "canonical":
            if (href := node.get("href")) is not None:
                canonical.append(href)
        elif node.get("type") in _FEED_TYPES and (url := absolute(base, node.get("href") or "")):
            feeds.append(url)
    og_url = meta.get("og:url")
    return PageHead(
        signals=PageSignals(
            og_type=meta.get("og:type"),
            jsonld_types=tuple(_jsonld_types(jsonld)),
            has_published_time=bool(meta.get("article:published_time")),
        ),
        canonical=next((url for value in (*canonical[:1], og_url) if value
                        and (url := absolute(base, value))), None),
        language=_language((selector.root.get("lang") or "").strip() or meta.get("og:locale")),
        feeds=tuple(feeds),
    )


def _language(value: str | None) -> str | None:
    return (value or "").strip().replace("_", "-").split("-")[0].lower() or None


def _jsonld_types(scripts: list[str]) -> Iterator[str]:
    for raw in scripts:
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kind = node.get("@type")
                if isinstance(kind, str):
                    yield kind
                elif isinstance(kind, list):
                    yield from (k for k in kind if isinstance(k, str))
                if "@graph" in node:
                    stack.append(node["@graph"])


@dataclass(frozen=True)
class Entry:
    """A URL found in a feed or sitemap, with the date the source gave for it."""

    url: str
    date: str | None = None


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def feed_entries(body: bytes, base: str) -> Iterator[Entry]:
    """Links of RSS 0.9x/1.0/2.0 items and Atom entries."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return
    if root is None:
        return
    for node in root.iter():
        if _local(node.tag) not in ("item", "entry"):
            continue
        link = date = None
        for child in node:
            name = _local(child.tag)
            if name == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate":
                    link = href
                elif not href and child.text:
                    link = child.text
            elif name == "guid" and not link and child.get("isPermaLink", "true") == "true":
                link = child.text
            elif name in ("pubdate", "published", "updated", "date") and child.text:
                date = date or child.text.strip()
        if link and (url := absolute(base, link)):
            yield Entry(url, date)


_MAX_SITEMAP = 50 * 1024 * 1024  # the sitemaps protocol's limit, uncompressed


def _gunzip(body: bytes) -> bytes:
    """A gzipped sitemap (`sitemap.xml.gz`, served as a file, so Scrapy leaves it
    compressed) as XML, at most the protocol's size; b"" when broken."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        return zlib.decompressobj(wbits=31).decompress(body, _MAX_SITEMAP)
    except zlib.error:
        return b""


def sitemap_entries(body: bytes, base: str) -> tuple[str, list[Entry]]:
    """('urlset' | 'sitemapindex' | '', entries) for a sitemap, sitemap index or Google
    News sitemap, plain or gzipped; an entry's date is news:publication_date, else
    lastmod."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(_gunzip(body), parser=parser)
    except etree.XMLSyntaxError:
        return "", []
    if root is None:
        return "", []
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        return "", []
    entries = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = published = None
        for child in node.iter():
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name == "loc" and loc is None and child.getparent() is node:
                loc = text  # not an image:loc or video:…loc nested in the entry
            elif name == "lastmod":
                lastmod = text
            elif name == "publication_date":
                published = text
        if loc and (url := absolute(base, loc)):
            entries.append(Entry(url, published or lastmod))
    return kind, entries


def entry_date(value: str | None) -> date | None:
    """The calendar date of a feed or sitemap date (RFC 822 or ISO 8601), if readable."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None
