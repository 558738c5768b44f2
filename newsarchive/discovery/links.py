"""Finding URLs: links in pages, items in RSS/Atom feeds, locations in sitemaps.

Pure functions over bytes or a parsel Selector, so they are tested without a crawl.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from html.entities import html5
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from newsarchive.discovery.classify import PageSignals
from newsarchive.discovery.urls import Rejected, resolve

_ORIGIN_ONLY = ("/", "http://", "https://")
Rejects = Counter  # reasons (urls.Rejected.reason) of the URLs a document gave that were not usable


def absolute(
    base: str, href: str, rejects: Rejects | None = None, origin: str | None = None
) -> str | None:
    """``href`` resolved and checked (newsarchive.discovery.urls.resolve); a rejected one is
    counted in ``rejects`` by reason. ``origin``: ``origin_of(base)``, when the caller
    resolves many hrefs against one base and has it already. Never raises."""
    lowered = href.lstrip().lower()
    if lowered.startswith(_ORIGIN_ONLY):
        # Path-absolute, scheme-relative and absolute links resolve the same against
        # any page of the origin: resolved once per origin, not once per page. News
        # pages repeat the same ~100 navigation links on every page, and resolving
        # them (urljoin + safe_url_string) was the crawl's largest cost on the reactor.
        result = _resolve_cached(origin_of(base) if origin is None else origin, href)
    else:
        result = resolve(base, href)
    if isinstance(result, Rejected):
        if rejects is not None:
            rejects[result.reason] += 1
        return None
    return result


def origin_of(base: str) -> str:
    """``scheme://host[:port]`` of ``base`` (``base`` itself when it does not split)."""
    try:
        scheme, netloc, *_ = urlsplit(base)
    except ValueError:
        return base
    return f"{scheme}://{netloc}"


# Bounded (~10 MB at most); keys and values are plain strings, never lxml "smart"
# strings, which would keep their whole page tree alive.
_resolve_cached = lru_cache(maxsize=1 << 15)(resolve)
_HREFS = etree.XPath("//a/@href", smart_strings=False)


def page_links(selector: Selector, base: str, rejects: Rejects | None = None) -> Iterator[str]:
    """Every http(s) link of the page, resolved against ``base`` (the page's
    PageHead.base), once each, in page order; bad ones counted in ``rejects``."""
    hrefs = dict.fromkeys(_HREFS(selector.root))  # lxml directly: no Selector per link
    seen: set[str] = set()
    for href in hrefs:
        url = absolute(base, href, rejects)
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
    base: str = ""  # what relative URLs resolve against: <base href>, else the page's URL


_HEAD_NODES = etree.XPath(
    "//meta[@property='og:type' or @property='og:url' or @property='og:locale'"
    " or @property='article:published_time']"
    " | //link[@rel]"
    " | //script[@type='application/ld+json'] | //base[@href]",
    smart_strings=False,
)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def page_head(selector: Selector, base: str = "", rejects: Rejects | None = None) -> PageHead:
    """``base`` is the page's URL; the first ``<base href>`` (resolved against it)
    replaces it for canonical, feed and link URLs unless it is unusable. Relative URLs
    are rejected without a base; bad ones are counted in ``rejects``."""
    meta: dict[str, str] = {}
    canonical: list[str] = []
    hrefs: list[str] = []
    jsonld: list[str] = []
    base_href: str | None = None
    for node in _HEAD_NODES(selector.root):
        tag = node.tag
        if tag == "base":
            base_href = node.get("href") if base_href is None else base_href
        elif tag == "meta":
            if (content := node.get("content")) is not None:
                meta.setdefault(node.get("property"), content)
        elif tag == "script":
            jsonld.append(node.text or "")
        else:  # rel is a set of tokens, any case; a type may carry parameters (HTML)
            rels = (node.get("rel") or "").lower().split()
            if "canonical" in rels:
                if (href := node.get("href")) is not None:
                    canonical.append(href)
            elif ("alternate" in rels and node.get("href")
                  and (node.get("type") or "").split(";")[0].strip().lower() in _FEED_TYPES):
                hrefs.append(node.get("href"))
    if base_href is not None and (resolved := absolute(base, base_href, rejects)):
        base = resolved
    feeds = [url for href in hrefs if (url := absolute(base, href, rejects))]
    og_url = meta.get("og:url")
    return PageHead(
        signals=PageSignals(
            og_type=meta.get("og:type"),
            jsonld_types=tuple(_jsonld_types(jsonld)),
            has_published_time=bool(meta.get("article:published_time")),
        ),
        canonical=next((url for value in (*canonical[:1], og_url) if value
                        and (url := absolute(base, value, rejects))), None),
        language=_language((selector.root.get("lang") or "").strip() or meta.get("og:locale")),
        feeds=tuple(feeds),
        base=base,
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


def feed_entries(body: bytes, base: str, rejects: Rejects | None = None) -> Iterator[Entry]:
    """Links of RSS 0.9x/1.0/2.0 items and Atom entries; bad ones counted in ``rejects``."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(_ampersands(body), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return
    if root is None:
        return
    # Atom (RFC 4287 section 2) resolves relative links against xml:base, set on the
    # feed or on one entry; ignoring it requests URLs the site never linked.
    for node in root.iter():
        if _local(node.tag) not in ("item", "entry"):
            continue
        link = date = None
        link_node = node
        for child in node:
            name = _local(child.tag)
            if name == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate":
                    link, link_node = href, child
                elif not href and child.text:
                    link, link_node = child.text, child
            elif name == "guid" and not link and child.get("isPermaLink", "true") == "true":
                link, link_node = child.text, child
            elif name in ("pubdate", "published", "updated", "date") and child.text:
                date = date or child.text.strip()
        if link and (url := absolute(_xml_base(link_node, base, rejects), link, rejects)):
            yield Entry(url, date)


def _xml_base(node: etree._Element, base: str, rejects: Rejects | None) -> str:
    """The base URL in effect at ``node``: its xml:base and its ancestors', resolved
    against ``base``; ``base`` itself when there is none or it is unusable (counted)."""
    chain = []
    while node is not None:
        if (value := node.get("{http://www.w3.org/XML/1998/namespace}base")) is not None:
            chain.append(value)
        node = node.getparent()
    for value in reversed(chain):  # outermost first, each relative to the one above
        base = absolute(base, value, rejects) or base
    return base


# Ampersands libxml2's recovery gets wrong. A bare "&" (CMSs write ?a=1&b=2 in URLs)
# loses "&b"; an HTML entity XML does not define (&nbsp; in a title, common) makes it
# drop every later &amp; in the document, so ?a=1&amp;b=2 was requested as ?a=1b=2.
_AMPERSAND = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|&(#[0-9]{1,8};|#x[0-9a-fA-F]{1,8};|([A-Za-z][A-Za-z0-9]{0,31});)?",
    re.DOTALL,
)
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _ampersand(match: re.Match[bytes], named: bool) -> bytes:
    whole, ref, name = match.group(0), match.group(1), match.group(2)
    if whole.startswith(b"<!"):  # a CDATA section: "&" is text there
        return whole
    if ref is None:
        return b"&amp;" + whole[1:]
    if name is None or name in _XML_ENTITIES or not named:
        return whole
    char = html5.get(name.decode("ascii") + ";")
    if char:  # an HTML entity: as character references, which XML knows
        return "".join(f"&#{ord(c)};" for c in char).encode("ascii")
    return b"&amp;" + ref


def _ampersands(body: bytes) -> bytes:
    """Bare ampersands escaped and HTML entities made character references, outside
    CDATA, unless the document declares its own entities; in ASCII-compatible encodings
    only (a NUL near the start means UTF-16 or UTF-32, left to the parser as it is)."""
    if b"&" not in body or b"\x00" in body[:256]:
        return body
    named = b"<!ENTITY" not in body
    return _AMPERSAND.sub(lambda m: _ampersand(m, named), body)


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


def sitemap_entries(
    body: bytes, base: str, rejects: Rejects | None = None
) -> tuple[str, list[Entry]]:
    """('urlset' | 'sitemapindex' | '', entries) for a sitemap, sitemap index or Google
    News sitemap, plain or gzipped; an entry's date is news:publication_date, else
    lastmod; bad locations counted in ``rejects``."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(_ampersands(_gunzip(body)), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
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
        if loc and (url := absolute(base, loc, rejects)):
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
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
