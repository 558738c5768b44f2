"""Is this page an article? URL patterns from the site entry, then page signals.

News sites mark articles in their markup (``og:type=article``, JSON-LD NewsArticle,
``article:published_time``) far more reliably than in their URLs, so markup wins;
URL heuristics catch article URLs whose page is too broken to show any markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "blogposting",
    "liveblogposting", "report",
}
# /2026/11/20/…, /2026-11-20/…, or a long hyphenated slug ending in .html/.htm
_DATE_PATH = re.compile(r"/(19|20)\d{2}[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])/")
_SLUG = re.compile(r"/[a-z0-9]+(?:-[a-z0-9]+){3,}(?:\.html?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class PageSignals:
    og_type: str | None = None
    jsonld_types: tuple[str, ...] = ()
    has_published_time: bool = False


def matches_any(url: str, patterns: Iterable[str]) -> bool:
    return any(re.search(p, url) for p in patterns)


def is_article(
    url: str,
    signals: PageSignals,
    article_patterns: Iterable[str] = (),
    deny_patterns: Iterable[str] = (),
) -> bool:
    if matches_any(url, deny_patterns):
        return False
    if matches_any(url, article_patterns):
        return True
    if signals.og_type and signals.og_type.lower() == "article":
        return True
    if any(t.lower() in ARTICLE_TYPES for t in signals.jsonld_types):
        return True
    if signals.has_published_time:
        return True
    path = url.split("?", 1)[0]
    return bool(_DATE_PATH.search(path) or _SLUG.search(path))
