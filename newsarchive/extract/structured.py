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
from dataclasses import dataclass, field
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


def _meta_tags(root: HtmlElement) -> dict[str, str]:
    """The page's ``<meta>`` contents by lowercased name; the first of a name wins."""
    metas: dict[str, str] = {}
    for meta in root.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        key = key or (meta.get("http-equiv") or "").lower()
        content = meta.get("content")
        if key and content and key not in metas:
            metas[key] = content.strip()
    return metas


@dataclass
class _Declared:
    """What the JSON-LD objects say, gathered article objects first."""

    published: str | None = None
    modified: str | None = None
    headlines: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    word_count: int | None = None
    free: bool | None = None

    def add(self, obj: dict) -> None:
        """Take the dates of any object; the rest only from an article object."""
        self.published = self.published or iso(obj.get("datePublished"))
        self.modified = self.modified or iso(obj.get("dateModified"))
        if not is_article(obj):
            return
        self.headlines.extend(
            v for v in (obj.get("headline"), obj.get("name")) if isinstance(v, str)
        )
        if isinstance(obj.get("description"), str):
            self.descriptions.append(obj["description"])
        body = plain_text(obj.get("articleBody"))
        if body:
            self.bodies.append(body)
        self.word_count = self.word_count or _word_count(obj.get("wordCount"))
        self.free = _accessible_for_free(obj, self.free)


def _accessible_for_free(obj: dict, free: bool | None) -> bool | None:
    """The article's own flag decides first; any part marked not free makes it not free."""
    if free is None:
        free = _free(obj.get("isAccessibleForFree"))
    parts = obj.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _free(part.get("isAccessibleForFree")) is False:
            free = False
    return free


def _json_ld(root: HtmlElement) -> _Declared:
    declared = _Declared()
    for obj in sorted(json_ld_objects(root), key=lambda o: not is_article(o)):  # articles first
        declared.add(obj)
    return declared


def _first_date(metas: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        found = iso(metas.get(key))
        if found:
            return found
    return None


def _time_published(root: HtmlElement) -> str | None:
    """A ``<time itemprop="datePublished">``: the fallback when nothing else dates it."""
    for time_el in root.iterfind(".//time[@itemprop='datePublished']"):
        published = iso(time_el.get("datetime"))
        if published:
            return published
    return None


def page_info(tree: HtmlElement) -> PageInfo:
    """Read the declared language, dates, headlines, standfirst and structured body.

    JSON-LD comes first (articles before other objects), then ``<meta>`` tags, then
    the page's ``<time>`` and ``<h1>`` elements.
    """
    root = tree.getroottree().getroot()
    metas = _meta_tags(root)
    declared = _json_ld(root)
    published = declared.published or _first_date(metas, _PUBLISHED_META) or _time_published(
        root
    )
    free = declared.free
    if free is None and metas.get("article:content_tier", "").lower() in _LOCKED_TIERS:
        free = False
    headlines = [metas.get(key) for key in _HEADLINE_META] + declared.headlines
    headlines += [h1.text_content() for h1 in root.iterfind(".//h1")]
    descriptions = [metas.get(key) for key in _DESCRIPTION_META] + declared.descriptions
    return PageInfo(
        html_lang=root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        og_locale=metas.get("og:locale") or metas.get("content-language"),
        published=published,
        modified=declared.modified or _first_date(metas, _MODIFIED_META),
        headlines=_unique(headlines),
        descriptions=_unique(descriptions),
        article_body=max(declared.bodies, key=len) if declared.bodies else None,
        word_count=declared.word_count,
        accessible_for_free=free,
    )


def choose_published(found: str | None, structured: str | None) -> str | None:
    """Prefer the page's own datetime when it agrees with trafilatura's (date-only) find."""
    if structured and (not found or structured[:10] == found[:10]):
        return structured if len(structured) > len(found or "") else found
    return found or structured
