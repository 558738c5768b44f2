"""robots.txt, the RSS feed and the XML sitemap: the ways a crawler discovers articles.

URLs in them are absolute and built from the Host the request came to, as a real site
behind a virtual host does, so that they are right whatever port the test server got.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from .article import Article
from .layout import SITE_NAME


def robots_txt(base: str) -> bytes:
    return (
        "User-agent: *\n"
        "Disallow: /private/\n"
        "\n"
        # as many news sites now say to AI crawlers (recorded, not newsarchive's group)
        "User-agent: GPTBot\n"
        "User-agent: CCBot\n"
        "Disallow: /\n"
        "\n"
        f"Sitemap: {base}/sitemap.xml\n"
    ).encode()


def rss(base: str, items: Sequence[Article], build_date: datetime) -> bytes:
    """RSS 2.0; ``pubDate`` is RFC 822, ``atom:updated`` shows edits after publication."""
    entries = []
    for a in items:
        link = escape(base + a.path)
        entries.append(f"""    <item>
      <title>{escape(a.title)}</title>
      <link>{link}</link>
      <guid isPermaLink="true">{link}</guid>
      <pubDate>{format_datetime(a.published)}</pubDate>
      <atom:updated>{a.updated.isoformat()}</atom:updated>
      <dc:creator>{escape(a.author)}</dc:creator>
      <dc:language>{a.lang}</dc:language>
      <category>{escape(a.section)}</category>
      <description>{escape(a.summary)}</description>
    </item>""")
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{SITE_NAME}</title>
    <link>{escape(base)}/</link>
    <description>Latest news from {SITE_NAME}</description>
    <lastBuildDate>{format_datetime(build_date)}</lastBuildDate>
    <atom:link href="{escape(base)}/feed.xml" rel="self" type="application/rss+xml"/>
{body}
  </channel>
</rss>
""".encode()


def sitemap(
    base: str, pages: Sequence[tuple[str, datetime]], articles: Sequence[Article]
) -> bytes:
    """``pages`` are non-article entries (home, section first pages) with their lastmod."""
    rows = [(path, when) for path, when in pages] + [(a.path, a.updated) for a in articles]
    urls = "\n".join(
        f"  <url><loc>{escape(base + path)}</loc><lastmod>{when.isoformat()}</lastmod></url>"
        for path, when in rows
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
""".encode()
