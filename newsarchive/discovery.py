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
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from w3lib.url import safe_url_string

from newsarchive.classify import PageSignals

_SKIP_SCHEMES = ("mailto:", "javascript:", "tel:", "data:", "#")


def absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url = safe_url_string(urljoin(base, href)).split("#", 1)[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def page_links(selector: Selector, base: str) -> Iterator[str]:
    seen: set[str] = set()
    for href in selector.xpath("//a/@href").getall():
        url = absolute(base, href)
        if url and url not in seen:
            seen.add(url)
            yield url


def canonical_url(selector: Selector, base: str) -> str | None:
    for xpath in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        value = selector.xpath(xpath).get()
        if value and (url := absolute(base, value)):
            return url
    return None


def language_hint(selector: Selector) -> str | None:
    for xpath in ("/html/@lang", "//meta[@property='og:locale']/@content"):
        value = selector.xpath(xpath).get()
        if value:
            return value.strip().replace("_", "-").split("-")[0].lower() or None
    return None


def _jsonld_types(selector: Selector) -> Iterator[str]:
    for raw in selector.xpath("//script[@type='application/ld+json']/text()").getall():
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


def page_signals(selector: Selector) -> PageSignals:
    return PageSignals(
        og_type=selector.xpath("//meta[@property='og:type']/@content").get(),
        jsonld_types=tuple(_jsonld_types(selector)),
        has_published_time=bool(
            selector.xpath("//meta[@property='article:published_time']/@content").get()
        ),
    )


def feed_alternates(selector: Selector, base: str) -> Iterator[str]:
    xpath = (
        "//link[@rel='alternate'][@type='application/rss+xml' or "
        "@type='application/atom+xml']/@href"
    )
    for href in selector.xpath(xpath).getall():
        if url := absolute(base, href):
            yield url


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
