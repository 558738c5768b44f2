"""What a feed or sitemap URL turned out to hold, read whatever its format.

A URL is requested as a feed or sitemap because a page, robots.txt or the site entry
said so, but sites do not always serve what they announce: a dead feed redirects to the
home page or an article (HTML), a sitemap is a plain-text list (allowed by the
sitemaps protocol, as are RSS and Atom feeds), a feed is a JSON Feed, a start URL is a
feed. Reading each only as what was announced lost everything behind it without a
count. :func:`read` tries every listing format; the spider reads HTML as a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from newsarchive.discovery.links import Entry, Rejects, absolute, feed_entries, sitemap_entries

_XML_ROOTS = (b"<?xml", b"<rss", b"<feed", b"<rdf", b"<urlset", b"<sitemapindex")


@dataclass(frozen=True)
class Listing:
    """kind: "feed", "urlset" (XML or text sitemap), "sitemapindex", or "" (none)."""

    kind: str = ""
    entries: list[Entry] = field(default_factory=list)


def read(
    body: bytes, base: str, rejects: Rejects | None = None, *, text: bool = True
) -> Listing:
    """The entries of an XML sitemap or sitemap index, RSS/Atom feed, JSON Feed or (with
    ``text``) text sitemap in ``body``, in that order of trial; Listing() when it is none
    of them. Never raises."""
    kind, entries = sitemap_entries(body, base, rejects)
    if kind:
        return Listing(kind, entries)
    if entries := list(feed_entries(body, base, rejects)):
        return Listing("feed", entries)
    if entries := json_feed_entries(body, base, rejects):
        return Listing("feed", entries)
    if text and (entries := text_sitemap_entries(body, base, rejects)):
        return Listing("urlset", entries)
    return Listing()


def looks_like_xml(body: bytes) -> bool:
    """Whether a body served as HTML starts like a feed or sitemap (read it as one first)."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(_XML_ROOTS)


def json_feed_entries(body: bytes, base: str, rejects: Rejects | None = None) -> list[Entry]:
    """Items of a JSON Feed (jsonfeed.org, 1.0 and 1.1): their ``url``, else
    ``external_url``, dated by ``date_published``."""
    if body.lstrip()[:1] != b"{":
        return []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return []
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")
    ):
        return []
    items = data.get("items")
    entries = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        published = item.get("date_published")
        if isinstance(link, str) and (url := absolute(base, link, rejects)):
            entries.append(Entry(url, published if isinstance(published, str) else None))
    return entries


def text_sitemap_entries(body: bytes, base: str, rejects: Rejects | None = None) -> list[Entry]:
    """A text sitemap (sitemaps.org: UTF-8, one absolute URL per line). Not one unless
    some line starts with http:// or https:// and the body does not start like markup;
    other non-blank lines count as bad URLs. Lines past the protocol's 50,000 are read
    too, as in XML sitemaps: dropping them would lose URLs without a count."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    if text.lstrip().startswith("<"):
        return []
    lines = [line for raw in text.splitlines() if (line := raw.strip())]
    if not any(line.lower().startswith(("http://", "https://")) for line in lines):
        return []
    entries = []
    for line in lines:
        if not line.lower().startswith(("http://", "https://")):
            if rejects is not None:
                rejects["bad-url"] += 1
            continue
        if url := absolute(base, line, rejects):
            entries.append(Entry(url))
    return entries
