"""What a page says about itself: JSON-LD, ``<meta>`` tags and its declared language.

trafilatura reads the visible page; news pages also describe the article in structured
data (schema.org ``NewsArticle`` in JSON-LD, Open Graph ``<meta>``). The extractor uses
it to date the article precisely, to recognise the headline and standfirst when they
slip into the body, to cross-check the body against ``articleBody``, and to notice a
paywall (``isAccessibleForFree: false``). Pure functions of a parsed lxml tree.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_ISO_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publish-date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
)
_HEADLINE_META = ("og:title", "twitter:title", "headline", "title", "dc.title")
_DESCRIPTION_META = ("og:description", "description", "twitter:description")
_LOCKED_TIERS = ("locked", "metered", "premium", "subscriber", "subscribers")
_ARTICLE_TYPES = ("article", "posting", "report")
_TAG_RE = re.compile(r"<[^>]{0,500}>")
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class PageInfo:
    """The page's own account of itself; every field may be missing."""

    html_lang: str | None = None
    og_locale: str | None = None
    published: str | None = None
    modified: str | None = None
    #: og:title, JSON-LD headline, <h1> texts...: what a headline in the body looks like
    headlines: tuple[str, ...] = ()
    #: og:description / meta description / JSON-LD description: the standfirst
    descriptions: tuple[str, ...] = ()
    #: JSON-LD ``articleBody`` (the longest one of an article object), plain text
    article_body: str | None = None
    #: JSON-LD ``wordCount`` of the article
    word_count: int | None = None
    #: False when the page declares the article is not free to read
    accessible_for_free: bool | None = None

    @property
    def language_hints(self) -> tuple[str, ...]:
        return tuple(h for h in (self.html_lang, self.og_locale) if h)


def iso(value: Any) -> str | None:
    """``value`` as an ISO 8601 date/datetime string (as found), or None if it is not one."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _ISO_DATE_RE.match(value):
        return None
    return value.replace(" ", "T", 1)


def json_ld_objects(tree: HtmlElement) -> list[dict]:
    """Every JSON object in the page's JSON-LD scripts, ``@graph`` members included."""
    objects: list[dict] = []
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(reversed(item["@graph"]))
    return objects


def is_article(obj: dict) -> bool:
    types = obj.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.lower().endswith(_ARTICLE_TYPES) for t in names)


def plain_text(value: Any) -> str | None:
    """A JSON-LD text value as plain text: entities decoded, tags removed, lines kept."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = html.unescape(value)
    if "<" in text:
        text = re.sub(r"(?i)<br\s*/?>|</p\s*>", "\n", text)
        text = html.unescape(_TAG_RE.sub(" ", text))
    lines = (_SPACE_RE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line) or None


def _free(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _word_count(value: Any) -> int | None:
    try:
        count = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return count if count > 0 else None


def _unique(values: list[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(_SPACE_RE.sub(" ", value).strip(), None)
    return tuple(seen)


def page_info(tree: HtmlElement) -> PageInfo:
    """Read the declared language, dates, headlines, standfirst and structured body."""
    root = tree.getroottree().getroot()
    metas: dict[str, str] = {}
    for meta in root.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        key = key or (meta.get("http-equiv") or "").lower()
        content = meta.get("content")
        if key and content and key not in metas:
            metas[key] = content.strip()
    html_lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    og_locale = metas.get("og:locale") or metas.get("content-language")

    published = modified = None
    headlines: list[str | None] = [metas.get(key) for key in _HEADLINE_META]
    descriptions: list[str | None] = [metas.get(key) for key in _DESCRIPTION_META]
    bodies: list[str] = []
    word_count: int | None = None
    free: bool | None = None
    objects = json_ld_objects(root)
    for obj in sorted(objects, key=lambda o: not is_article(o)):  # articles first
        published = published or iso(obj.get("datePublished"))
        modified = modified or iso(obj.get("dateModified"))
        if not is_article(obj):
            continue
        headlines.extend(v for v in (obj.get("headline"), obj.get("name")) if isinstance(v, str))
        if isinstance(obj.get("description"), str):
            descriptions.append(obj["description"])
        body = plain_text(obj.get("articleBody"))
        if body:
            bodies.append(body)
        word_count = word_count or _word_count(obj.get("wordCount"))
        if free is None:
            free = _free(obj.get("isAccessibleForFree"))
        parts = obj.get("hasPart")
        for part in parts if isinstance(parts, list) else [parts]:
            if isinstance(part, dict) and _free(part.get("isAccessibleForFree")) is False:
                free = False
    for key in _PUBLISHED_META:
        published = published or iso(metas.get(key))
    for key in _MODIFIED_META:
        modified = modified or iso(metas.get(key))
    if not published:
        for time_el in root.iterfind(".//time[@itemprop='datePublished']"):
            published = iso(time_el.get("datetime"))
            if published:
                break
    if free is None and metas.get("article:content_tier", "").lower() in _LOCKED_TIERS:
        free = False
    for h1 in root.iterfind(".//h1"):
        headlines.append(h1.text_content())
    return PageInfo(
        html_lang=html_lang,
        og_locale=og_locale,
        published=published,
        modified=modified,
        headlines=_unique(headlines),
        descriptions=_unique(descriptions),
        article_body=max(bodies, key=len) if bodies else None,
        word_count=word_count,
        accessible_for_free=free,
    )


def choose_published(found: str | None, structured: str | None) -> str | None:
    """Prefer the page's own datetime when it agrees with trafilatura's (date-only) find."""
    if structured and (not found or structured[:10] == found[:10]):
        return structured if len(structured) > len(found or "") else found
    return found or structured
