"""Page requisites: what a page embeds (stylesheets, images, fonts, scripts, icons…),
found in its HTML and CSS, and the limits a crawl spends on them.

A snapshot is the page as its reader saw it, so the archive needs what the browser
fetched to draw it, as wget ``--page-requisites``, Heritrix and Browsertrix fetch. Pure
logic: the spider and a downloader middleware (newsarchive.crawl.requisites) do the
fetching. Every URL goes through newsarchive.discovery.urls.resolve, so one malformed
URL costs itself only, counted by reason; the extractors never raise on what a site
sends.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree
from parsel import Selector

from newsarchive.discovery.links import absolute, origin_of

# What a requisite is, for counting and for the manifest. The page's markup gives a
# hint (``<script src>`` is a script); the response's Content-Type decides (kind_of).
KINDS = ("stylesheet", "image", "font", "script", "icon", "iframe", "media", "other")

# Lazy-load attributes of common libraries (lazysizes, lozad, WordPress, jQuery lazy):
# the real image sits there until a script moves it into src/srcset.
_LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-url")
_LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")
_ICON_RELS = {"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed",
              "mask-icon", "fluid-icon"}
_PRELOAD_KINDS = {"style": "stylesheet", "script": "script", "font": "font",
                  "image": "image", "document": "iframe"}
_FONT_EXTENSIONS = (".woff2", ".woff", ".ttf", ".otf", ".eot")

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_URL_BODY = r"""\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)"""
_CSS_URL = re.compile("url" + _CSS_URL_BODY, re.IGNORECASE)
# The same on lowercased CSS: ten times faster than IGNORECASE, which cannot skip
# ahead to the next "url(" (inline CSS of a news page runs to tens of KB).
_CSS_URL_LOWER = re.compile("url" + _CSS_URL_BODY)
_CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)|"([^"]*)"|'([^']*)')""",
    re.IGNORECASE)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
# Longer CSS is not a stylesheet a page needs to be drawn (a data dump, a trap).
MAX_CSS_CHARS = 4 * 1024 * 1024


@dataclass(frozen=True)
class Requisite:
    """One URL a document embeds, and what the document says it is."""

    url: str
    kind: str


class Found:
    """Requisites in document order, each URL once (the first hint wins)."""

    def __init__(self, base: str, rejects: Counter[str] | None) -> None:
        self.base = base
        self.origin = origin_of(base)  # once, not once per URL
        self.rejects = rejects
        self.items: dict[str, str] = {}
        self._seen: set[str] = set()  # hrefs as written: a page repeats its icons

    def add(self, href: str | None, kind: str) -> None:
        if not href or href in self._seen:
            return
        self._seen.add(href)
        # links.absolute: resolved once per origin for /… and absolute URLs, as links
        url = absolute(self.base, href, self.rejects, self.origin)
        if url is not None and url not in self.items:
            self.items[url] = kind

    def result(self) -> list[Requisite]:
        return [Requisite(url, kind) for url, kind in self.items.items()]


_SRCSET_URL = re.compile(r"[\s,]*(\S*)")  # separators, then a candidate's URL


def srcset_urls(value: str) -> Iterator[str]:
    """The image URLs of a ``srcset`` value (``a.jpg 1x, b.jpg 2x`` or ``w`` widths).

    Per the HTML standard a candidate's URL runs to the next whitespace, and commas
    end it only at its end, so URLs with commas inside (``/c_fill,w_400/a.jpg``,
    common on image CDNs) survive. (With regular expressions and ``str.find``, not
    character by character: a news page has dozens of ``srcset`` values.)"""
    position, length = 0, len(value)
    while position < length:
        match = _SRCSET_URL.match(value, position)
        position = match.end()  # type: ignore[union-attr]  # always matches
        candidate = match.group(1)  # type: ignore[union-attr]
        url = candidate.rstrip(",")
        if len(url) == len(candidate):  # a descriptor follows: skip to the comma ending it
            comma = value.find(",", position)
            if comma < 0:
                position = length
            elif "(" not in value[position:comma]:
                position = comma
            else:  # a descriptor with parentheses (a future syntax): commas inside stay
                depth = 0
                while position < length:
                    char = value[position]
                    if char == "(":
                        depth += 1
                    elif char == ")":
                        depth = max(0, depth - 1)
                    elif char == "," and depth == 0:
                        break
                    position += 1
        if url:
            yield url


def css_requisites(
    css: str, base: str, rejects: Counter[str] | None = None
) -> list[Requisite]:
    """What a stylesheet (or a ``style`` attribute or element) references: ``@import``
    (stylesheets), ``url()`` in ``@font-face`` (fonts) and elsewhere (images, or fonts
    by their extension). ``base`` is the stylesheet's own URL. Never raises."""
    found = Found(base, rejects)
    css = css[:MAX_CSS_CHARS]
    try:
        references = _CSS_READ.references(css)
    except (ValueError, TypeError, RecursionError):  # never: but one sheet, not the page
        if rejects is not None:
            rejects["bad-css"] += 1
        return []
    for href, kind in references:
        found.add(href, kind)
    return found.result()


def _css_references(css: str) -> tuple[tuple[str, str], ...]:
    """The URLs a CSS text references as written, in order, with their kinds."""
    references: list[tuple[str, str]] = []
    css = _CSS_COMMENT.sub(" ", css)
    for match in _CSS_IMPORT.finditer(css):
        href = next((g for g in match.groups() if g is not None), None)
        if href:
            references.append((href, "stylesheet"))
    fonts = [(m.start(), m.end()) for m in _FONT_FACE.finditer(css)]
    lowered = css.lower()
    # Matched in the lowercased copy, read from the original by position (URLs keep
    # their case); a copy of another length (a few letters lowercase to two) is not
    # aligned with it.
    aligned = len(lowered) == len(css)
    for match in (_CSS_URL_LOWER if aligned else _CSS_URL).finditer(lowered if aligned else css):
        group = next((g for g in (1, 2, 3) if match.group(g) is not None), 0)
        href = css[match.start(group):match.end(group)] if group else ""
        if not href:
            continue
        in_font_face = any(s <= match.start() < e for s, e in fonts)
        path = href.split("?", 1)[0].split("#", 1)[0].lower()
        font = in_font_face or path.endswith(_FONT_EXTENSIONS)
        references.append((href, "font" if font else "image"))
    return tuple(references)


class _CssRead:
    """What CSS texts reference, remembered by the text's digest (an LRU of
    ``size``): the pages of a site repeat their inline CSS (``<style>`` elements,
    ``style`` attributes) in every article, and a crawl reads it once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._read: OrderedDict[bytes, tuple[tuple[str, str], ...]] = OrderedDict()

    def references(self, css: str) -> tuple[tuple[str, str], ...]:
        key = hashlib.blake2b(css.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._read.get(key)
        if found is not None:
            self._read.move_to_end(key)
            return found
        found = _css_references(css)
        if len(found) <= 256:  # a few KB per text at most
            self._read[key] = found
            if len(self._read) > self.size:
                self._read.popitem(last=False)
        return found


_CSS_READ = _CssRead(2048)


def _rels(value: str | None) -> set[str]:
    return set((value or "").lower().split())


# One pass over the tree, in document order (a compiled XPath: each of parsel's own
# xpath() calls walks the whole document, and a news page was read eleven times).
_EMBEDDING = etree.XPath(
    "//link[@href] | //script[@src] | //img | //input[@type='image'] | //picture/source"
    " | //video[@poster] | //iframe | //frame | //style | //*[@style]"
    " | //meta[@property='og:image' or @property='og:image:url'"
    " or @property='og:image:secure_url' or @name='twitter:image']",
    smart_strings=False,
)


def _embedded(node: Any, found: Found, iframes: bool) -> None:
    """What one element embeds, into ``found``."""
    tag = node.tag.lower() if isinstance(node.tag, str) else ""
    get = node.get
    if tag == "link":
        rels = _rels(get("rel"))
        if "stylesheet" in rels:
            found.add(get("href"), "stylesheet")
        elif rels & _ICON_RELS:
            found.add(get("href"), "icon")
        elif rels & {"preload", "modulepreload"}:
            kind = "script" if "modulepreload" in rels else _PRELOAD_KINDS.get(
                (get("as") or "").lower())
            if kind and (iframes or kind != "iframe"):
                found.add(get("href"), kind)
    elif tag == "script":
        found.add(get("src"), "script")
    elif tag in ("img", "input", "source"):
        if tag != "source":
            for name in ("src", *_LAZY_SRC):
                found.add(get(name), "image")
        for name in ("srcset", *_LAZY_SRCSET):
            for href in srcset_urls(get(name) or ""):
                found.add(href, "image")
    elif tag == "video":
        found.add(get("poster"), "image")
    elif tag in ("iframe", "frame"):
        if iframes:
            for name in ("src", *_LAZY_SRC):
                found.add(get(name), "iframe")
    elif tag == "meta":
        found.add(get("content"), "image")
    elif tag == "style":
        for requisite in css_requisites(node.text or "", found.base, found.rejects):
            found.add(requisite.url, requisite.kind)
    if (style := get("style")) and "url(" in style.lower():
        for requisite in css_requisites(style, found.base, found.rejects):
            found.add(requisite.url, requisite.kind)


def html_requisites(
    selector: Selector, base: str, rejects: Counter[str] | None = None,
    iframes: bool = True,
) -> list[Requisite]:
    """What an HTML page embeds, in document order, each URL once; ``base`` is the
    page's base URL (``<base href>`` or its own). ``iframes=False`` for an iframe's own
    document: its iframes are not fetched (one level down at most). Never raises."""
    found = Found(base, rejects)
    try:
        for node in _EMBEDDING(selector.root):
            _embedded(node, found, iframes)
    except (ValueError, TypeError, RecursionError, etree.XPathError):  # counted, not raised
        if rejects is not None:
            rejects["bad-html"] += 1
    return found.result()


def kind_of(content_type: str | None, hint: str) -> str:
    """The requisite's kind by what the server said it is; the page's hint otherwise."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "text/css":
        return "stylesheet"
    if media.startswith("image/"):
        return "icon" if hint == "icon" else "image"
    if media.startswith("font/") or media in ("application/font-woff", "application/x-font-woff",
                                              "application/vnd.ms-fontobject",
                                              "application/x-font-ttf"):
        return "font"
    if "javascript" in media or media == "application/ecmascript":
        return "script"
    if media in ("text/html", "application/xhtml+xml"):
        return "iframe" if hint == "iframe" else "other"
    if media.startswith(("video/", "audio/")):
        return "media"
    return hint if hint in KINDS else "other"


# -- limits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What a crawl may spend on requisites; 0 means no limit for that one.

    ``per_page``: requisite requests made for one page (its stylesheets' fonts and
    images included); ``page_bytes``: bytes they may bring; ``max_size``: one
    requisite's size (a bigger one is not archived); ``share``: the share of all bytes
    the crawl fetches that requisites may take (1 = no limit).
    """

    per_page: int = 400
    page_bytes: int = 32 * 1024 * 1024
    max_size: int = 8 * 1024 * 1024
    share: float = 0.9


class Budget:
    """Accounting of requisites against :class:`Limits`, per page and for the crawl.

    A requisite counts against the page that first needed it: one fetched for an
    earlier page is not fetched again (the duplicate filter), so it costs later pages
    nothing. The share applies once the crawl has fetched a page's worth of
    requisites (``page_bytes``, or 1 MiB without that limit), so the first pages of a
    crawl are not refused theirs for want of a history.
    """

    PAGES_TRACKED = 4096  # pages whose requisites may still be in flight

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.page_bytes_total = 0  # everything that is not a requisite
        self.requisite_bytes = 0
        self._pages: OrderedDict[str, list[int]] = OrderedDict()  # page -> [count, bytes]

    def _page(self, page: str) -> list[int]:
        spent = self._pages.get(page)
        if spent is None:
            spent = self._pages[page] = [0, 0]
            if len(self._pages) > self.PAGES_TRACKED:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        return spent

    def refusal(self, page: str) -> str | None:
        """Why one more requisite of ``page`` may not be fetched (None: it may), and,
        when it may, count it against the page."""
        limits = self.limits
        spent = self._page(page)
        if limits.per_page and spent[0] >= limits.per_page:
            return "page-count"
        if limits.page_bytes and spent[1] >= limits.page_bytes:
            return "page-bytes"
        if limits.share < 1:
            floor = limits.page_bytes or 1024 * 1024
            total = self.page_bytes_total + self.requisite_bytes
            if self.requisite_bytes >= floor and self.requisite_bytes > limits.share * total:
                return "crawl-share"
        spent[0] += 1
        return None

    def fetched(self, page: str | None, size: int) -> None:
        """A response came: a requisite of ``page``, or (None) anything else."""
        if page is None:
            self.page_bytes_total += size
            return
        self.requisite_bytes += size
        self._page(page)[1] += size
