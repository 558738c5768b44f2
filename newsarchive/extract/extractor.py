"""Clean article text and metadata from one fetched HTML page, as a pure function.

``extract`` runs in a ``ProcessPoolExecutor`` worker fed by a Scrapy pipeline, so it is a
top-level function of picklable frozen dataclasses, keeps its expensive state (langdetect
profiles, compiled boilerplate rules and selectors) in per-process lazy caches, and never
raises on bad input: every page ends as :class:`Extracted` or :class:`Discarded` with a
short reason code, because in a research archive why a page was dropped is data.

Pipeline: decode (BOM > HTTP charset > ``<meta charset>`` > UTF-8 > detection) → parse
with lxml → read the page's declared language and structured dates → metadata
(``newsarchive.extract.metadata``: trafilatura's helpers) → trafilatura ``bare_extraction``
(main-content tree only) → one block of text per top-level
element of trafilatura's tree → paragraph-level boilerplate filter → language detection.

Text format: blocks (paragraphs, sub-headings, lists, tables, quotes) are separated by a
blank line ("\\n\\n"); lines inside one block (list items, table rows, ``<br>``) by "\\n".
The headline is not part of the text; it is in ``title``.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import trafilatura
from charset_normalizer import from_bytes
from lxml import etree
from lxml.cssselect import CSSSelector
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt

from newsarchive.extract import chunks, mathml, metadata, quality
from newsarchive.extract.boilerplate import Rules, classify, default_rules
from newsarchive.extract.language import identify
from newsarchive.extract.layout_tables import unwrap_layout_tables
from newsarchive.extract.loose_text import paragraphs_of_loose_text
from newsarchive.extract.metadata import DATE_PARAMS
from newsarchive.extract.structured import PageInfo, choose_published, page_info

logger = logging.getLogger(__name__)

#: Skip trafilatura's fallback extractors (readability, jusText) on the first pass.
#: Measured on both development sets (benchmarks/extraction.py): run on every page, the
#: fallbacks cost a third of the extraction time and lower F1 (they swap in a whole other
#: extraction, teasers and all, on pages where trafilatura's own was right).
FAST = True

#: ``fast``: one trafilatura pass without its fallbacks. ``accurate``: the same, and
#: - an article body split into same-class chunks (``newsarchive.extract.chunks``) is extracted
#:   joined too, and the joined text kept when it holds the plain one (the search, about
#:   1 ms, runs only where the page's paragraphs hold over twice the extracted text);
#: - a page whose clean text is under ``FALLBACK_BELOW`` words is extracted again with
#:   the fallbacks (readability, jusText), keeping whichever text is longer: short
#:   results are where trafilatura's main pass most often missed the article (a teaser
#:   strip taken for it, a slideshow, an unusual layout), and rerunning only those costs
#:   little.
MODES = ("fast", "accurate")
FALLBACK_BELOW = 50

DISCARD_REASONS = (
    "empty-body",  # no bytes, or only whitespace
    "not-html",  # binary content (NUL bytes, control characters, known magic) or no markup
    "parse-error",  # lxml could not build a document tree
    "no-text",  # trafilatura found no main text, or all of it was boilerplate
    "too-short",  # fewer words than ExtractOptions.min_words
    "extractor-error",  # unexpected exception inside the extractor (a bug: see the log)
)


@dataclass(frozen=True)
class ExtractOptions:
    """Everything that changes what :func:`extract` returns; passed whole, picklable."""

    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    min_words: int = 30
    drop_boilerplate: bool = True
    extra_drop_selectors: tuple[str, ...] = ()
    language_hint: str | None = None
    mode: str = "accurate"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"ExtractOptions: mode must be one of {', '.join(MODES)}")
        if self.favor_precision and self.favor_recall:
            raise ValueError("ExtractOptions: favor_precision and favor_recall are exclusive")
        if self.min_words < 0:
            raise ValueError("ExtractOptions: min_words must be >= 0")
        if isinstance(self.extra_drop_selectors, str):
            raise ValueError("ExtractOptions: extra_drop_selectors must be a tuple of strings")
        # a list from a config file is accepted; stored as a tuple to stay hashable
        object.__setattr__(self, "extra_drop_selectors", tuple(self.extra_drop_selectors))
        for selector in self.extra_drop_selectors:
            _selector_xpath(selector)  # raises ValueError on a bad selector


@dataclass(frozen=True)
class Extracted:
    """Clean text and metadata of one article page."""

    text: str
    title: str | None
    authors: list[str]
    published: str | None
    modified: str | None
    sitename: str | None
    description: str | None
    tags: list[str]
    language: str | None
    language_probability: float | None
    word_count: int
    boilerplate_removed: int
    extractor: dict
    quality: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Discarded:
    """A page that yields no record, and why (``reason`` is one of ``DISCARD_REASONS``)."""

    reason: str
    detail: str = ""


# --- decoding ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = {
    b"%PDF-": "pdf",
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF8": "gif",
    b"PK\x03\x04": "zip",
    b"\x1f\x8b": "gzip",
    b"RIFF": "riff",
    b"\x00\x00\x01\x00": "ico",
}
_CONTROL_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13, 27})
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)|<\?xml[^>]{0,100}?encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_MARKUP_RE = re.compile(
    r"<\s*(!doctype|html|head|body|meta|title|div|p|article|main|section|span|br|h[1-6]|table|ul)\b",
    re.IGNORECASE,
)
_HTML_LANG_RE = re.compile(
    rb"""<html[^>]{0,200}?\blang\s*=\s*["']?([a-z]{2,3}(?:[-_][a-z]{2,4})?)""", re.I
)
_LEGACY_BY_LANG = {
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg"), "cp1251"),
    **dict.fromkeys(("pl", "cs", "sk", "hu", "sl", "hr", "ro", "bs", "sq"), "cp1250"),
    **dict.fromkeys(("lt", "lv", "et"), "cp1257"),
    "el": "cp1253",
    "tr": "cp1254",
    "az": "cp1254",
    "he": "cp1255",
    "ar": "cp1256",
    "fa": "cp1256",
    "ur": "cp1256",
    "vi": "cp1258",
    "th": "cp874",
    "ja": "shift_jis",
    "ko": "euc_kr",
    "zh": "gb18030",
    "zh-tw": "big5",
    "zh-hk": "big5",
    **dict.fromkeys(("en", "de", "fr", "es", "it", "pt", "nl", "da", "sv", "no", "nb"), "cp1252"),
    **dict.fromkeys(("nn", "fi", "is", "ga", "ca", "eu", "gl", "af", "sw", "id", "ms"), "cp1252"),
}
#: WHATWG: labels that browsers decode as windows-1252, and UTF-16 declared in an
#: ASCII-compatible document (which cannot be true) meaning UTF-8.
_ENCODING_ALIASES = {"latin_1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return _ENCODING_ALIASES.get(name, name)


def _binary_kind(body: bytes) -> str | None:
    """Name the kind of non-text content in ``body``, or None when it looks like text."""
    for magic, kind in _MAGIC.items():
        if body.startswith(magic):
            return kind
    sample = body[:4096]
    if b"\x00" in sample:
        return "NUL bytes"
    controls = len(sample.translate(None, _NOT_CONTROL))  # C speed: keep control bytes only
    if controls > len(sample) * 0.05:
        return "control characters"
    return None


def decode_body(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``body`` and return ``(text, codec)``; never fails (``errors="replace"``)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace"), codec
    declared = _codec(encoding)
    if declared:
        return body.decode(declared, "replace"), declared
    match = _META_CHARSET_RE.search(body[:4096])
    meta = _codec(match.group(1) or match.group(2)) if match else None
    if meta:
        return body.decode(meta, "replace"), meta
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = _guess_encoding(body)
    return body.decode(codec, "replace"), codec


def _guess_encoding(body: bytes) -> str:
    """Legacy encoding of an undeclared, non-UTF-8 page, as a browser would guess it.

    The declared page language picks the locale's legacy encoding (what browsers fall
    back to); without one, charset_normalizer decides, but windows-1252 wins whenever it
    decodes as cleanly as the best guess (statistical detectors confuse the Latin code
    pages, and windows-1252 is by far the most common of them).
    """
    match = _HTML_LANG_RE.search(body[:4096])
    if match:
        lang = match.group(1).decode("ascii").lower().replace("_", "-")
        codec = _LEGACY_BY_LANG.get(lang) or _LEGACY_BY_LANG.get(lang.split("-")[0])
        if codec:
            try:
                body.decode(codec)
                return codec
            except UnicodeDecodeError:
                pass
    results = list(from_bytes(body[:65536]))
    if not results:
        return "cp1252"
    near_best = [r for r in results if r.chaos <= results[0].chaos + 0.05]
    if any("cp1252" in r.could_be_from_charset for r in near_best):
        return "cp1252"
    return _codec(results[0].encoding) or "cp1252"


_TITLE_OPEN_RE = re.compile(r"<title\b[^>]*>", re.IGNORECASE)
_TITLE_CLOSE_RE = re.compile(r"</title\s*>", re.IGNORECASE)


def _close_unterminated_title(text: str) -> str:
    """Close a ``<title>`` that is never closed, at the next tag.

    A parser reads everything after an unclosed ``<title>`` as its text, so the whole
    page would vanish into the title; a broken template is more likely than a title
    that holds markup.
    """
    opening = _TITLE_OPEN_RE.search(text)
    if opening is None or _TITLE_CLOSE_RE.search(text, opening.end()):
        return text
    tag = text.find("<", opening.end())
    if tag == -1:
        return text
    logger.debug("closing an unterminated <title> at offset %d", tag)
    return f"{text[:tag]}</title>{text[tag:]}"


# --- selectors ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _selector_xpath(selector: str) -> str:
    """XPath for a per-site selector: XPath as is (starts with "/", "./" or "("), else CSS."""
    selector = selector.strip()
    if not selector:
        raise ValueError("ExtractOptions: empty selector in extra_drop_selectors")
    try:
        if selector.startswith(("/", "./", "(")):
            etree.XPath(selector)
            return selector
        return CSSSelector(selector).path
    except Exception as exc:  # lxml's XPathSyntaxError or cssselect's SelectorError
        raise ValueError(f"ExtractOptions: bad selector {selector!r}: {exc}") from exc


# --- text ---------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")
_SPACE_RE = re.compile(r"\s+")


def count_words(text: str) -> int:
    """Word tokens; each Chinese/Japanese character counts as one (they are unspaced)."""
    return len(_WORD_RE.findall(text))


def _split_at_double_breaks(element: etree._Element) -> list[etree._Element]:
    """``<p>a<lb/><lb/>b</p>`` → ``[<p>a</p>, <p>b</p>]``: pages that separate paragraphs
    with ``<br><br>`` get the same blank-line separated text as pages that use ``<p>``."""
    if element.tag != "p" or element.find("lb") is None:
        return [element]
    children = list(element)
    parts: list[etree._Element] = []
    current = etree.Element("p")
    current.text = element.text
    i = 0
    while i < len(children):
        child = children[i]
        if child.tag == "lb" and not (child.tail or "").strip():
            j = i
            while j + 1 < len(children) and children[j + 1].tag == "lb":
                if (children[j].tail or "").strip():
                    break
                j += 1
            if j > i:  # two or more breaks in a row
                parts.append(current)
                current = etree.Element("p")
                current.text = children[j].tail
                i = j + 1
                continue
        current.append(child)  # moves the child, with its tail
        i += 1
    parts.append(current)
    return parts


def _strip_title(text: str, title: str) -> str:
    """Cut a headline that a fallback extractor glued to the first paragraph (not the
    headline followed by the site's name: "Title | Site" is dropped whole as a headline)."""
    if len(title.split()) >= 3 and text.startswith(title + " "):
        rest = text[len(title) + 1 :].lstrip()
        if rest[:1].isalnum() or rest[:1] in "\"'“‘«„":
            return rest
    return text


#: The JSON-LD articleBody replaces trafilatura's text when less than this share of it
#: was found (and trafilatura's text lies within it): trafilatura missed the article.
REPLACE_BELOW = 0.5
#: This many short label lines in a row (menu entries, archive months) are navigation.
#: 20, not 10: a recipe's ingredients or a team's line-up are shorter runs of the same
#: kind of line (both sets score the same with 10 and 20; the menus they hold are longer).
NAV_RUN = 20
_LABEL_WORDS = 4
#: A teaser after a "Related stories" heading: one line, no closing punctuation.
_TEASER_MAX_CHARS = 150
_KEY_RE = re.compile(r"\w+")
#: A line that ends a sentence or a clause, in any script: Latin, CJK (full-width), Arabic,
#: Devanagari, Armenian, Ethiopic, Myanmar, Khmer; a closing quote or bracket may follow.
#: Not a question mark: headlines end with one ("Who will make the Hall of Fame?").
_CLOSED_RE = re.compile(
    r"""[.!:;,…。．！；：，、۔؛،।॥։።။។]["'”’»)）」』]?$"""
)
_NUMBERED_RE = re.compile(r"\d{1,3}[.)]\s")


#: A closed line of this many words reads like article text, not page chrome.
_BODY_WORDS = 8
_HEADLINE_SEARCH_LINES = 300


def _is_body(line: str) -> bool:
    return bool(_CLOSED_RE.search(line)) and count_words(line) >= _BODY_WORDS


def _key(text: str) -> str:
    """Comparison key: the words of ``text``, lower-cased, single-spaced."""
    return " ".join(_KEY_RE.findall(text.casefold()))


def _is_label(line: str) -> bool:
    """Short and unclosed: a menu entry. Words are counted as :func:`count_words` does
    (a Chinese or Japanese character is a word), so a sentence written without spaces is
    not a label."""
    return count_words(line) <= _LABEL_WORDS and not _CLOSED_RE.search(line)


def _is_teaser(line: str) -> bool:
    return len(line) <= _TEASER_MAX_CHARS and not _CLOSED_RE.search(line)


def _is_ranking(run: list[str]) -> bool:
    """Whether most lines of ``run`` are numbered ("1. Finland", "2) Norway"): a ranked
    list in the article, not a menu (menus are not numbered)."""
    return sum(bool(_NUMBERED_RE.match(line)) for line in run) * 2 > len(run)


def _without_navigation(lines: list[str]) -> list[str]:
    """Drop runs of ``NAV_RUN`` or more label lines (a menu flattened into the body),
    unless they are numbered (a ranking)."""
    kept: list[str] = []
    run: list[str] = []
    for line in [*lines, "."]:  # a closed sentinel line ends the last run
        if _is_label(line):
            run.append(line)
            continue
        if len(run) < NAV_RUN or _is_ranking(run):
            kept.extend(run)
        run = []
        kept.append(line)
    return kept[:-1]


@dataclass
class _Cleaned:
    blocks: list[str] = field(default_factory=list)
    removed: int = 0  # boilerplate lines dropped
    paywall: int = 0  # of which paywall notices


class _Cleaner:
    """Turns trafilatura's tree into text blocks, dropping what is not the article.

    - at the top, until the first line of body text: the headline (as trafilatura, the
      page's ``<h1>``, ``og:title`` or JSON-LD give it, with or without the site name),
      the standfirst (a heading that repeats the page's description: measured on the
      benchmark, a *paragraph* that does so is the lede and belongs to the text), and
      the page's URL;
    - runs of menu labels (``_without_navigation``);
    - boilerplate lines (``newsarchive.extract.boilerplate`` rules), and after the heading of a
      teaser list ("Related stories"), the teaser headlines that follow it;
    - everything before the headline when the headline turns up inside the text and
      nothing before it reads like the article (no sentence of ``_BODY_WORDS`` words or
      more): that is page chrome (menus, breadcrumbs) that trafilatura took in.
    """

    def __init__(self, title: str | None, page: PageInfo, url: str, rules: Rules | None):
        self.title = title
        self.heads = {k for k in (_key(h) for h in (title or "", *page.headlines)) if k}
        self.descriptions = {k for k in (_key(d) for d in page.descriptions) if k}
        self.url = url
        self.rules = rules
        self.result = _Cleaned()
        self.in_lead = True  # no body text seen yet
        self.in_teasers = False  # after a teaser-list heading

    def _is_lead(self, line: str, heading: bool) -> bool:
        """Headline, standfirst or URL, in the lead: not body text."""
        if line.strip() == self.url:
            return True
        key = _key(line)
        if not key:
            return False
        if key in self.heads:
            return True
        for head in self.heads:
            # the headline without the site's name, or with it ("Title | Site")
            if len(key) >= 12 and key in head and len(key) * 2 >= len(head):
                return True
            if head in key and len(key) <= len(head) + 40:
                return True
        return heading and any(
            len(key) * 5 >= len(d) * 4 and d.startswith(key) for d in self.descriptions
        )

    def _keep(self, line: str, heading: bool) -> bool:
        if self.in_lead and self._is_lead(line, heading):
            return False
        if self.rules is None:
            self.in_lead = False
            return True
        kind = classify(line, self.rules)
        if kind is None and self.in_teasers and _is_teaser(line):
            kind = "teaser"
        self.in_teasers = kind in ("section", "teaser")
        if kind is None:
            self.in_lead = False
            return True
        self.result.removed += 1
        self.result.paywall += kind == "paywall"
        logger.debug("dropped %s line: %.80r", kind, line)
        return False

    def trim_before_headline(self) -> None:
        blocks = self.result.blocks
        lines = [(i, line) for i, block in enumerate(blocks) for line in block.split("\n")]
        longest = max((len(h) for h in self.heads), default=0) * 2 + 20
        for n, (_, line) in enumerate(lines[:_HEADLINE_SEARCH_LINES]):
            if len(line) > longest or _key(line) not in self.heads:
                continue
            before = [text for _, text in lines[:n]]
            if before and not any(_is_body(text) for text in before):
                blocks: dict[int, list[str]] = {}
                for index, text in lines[n + 1 :]:
                    blocks.setdefault(index, []).append(text)
                self.result.blocks = ["\n".join(block) for block in blocks.values()]
                self.result.removed += n + 1
                logger.debug("dropped %d lines before the headline", n)
            return

    def add(self, element: etree._Element) -> None:
        text = xmltotxt(element, False).strip()
        if not text:
            return
        if self.in_lead and not self.result.blocks and self.title:
            text = _strip_title(text, self.title)
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if element.tag == "table":  # rows of data: never filtered line by line
            self.in_lead = self.in_teasers = False
            self.result.blocks.append("\n".join(lines))
            return
        if element.tag == "code":  # a program's lines are not promos or menus
            if not (self.in_lead and self._is_lead(text, False)):
                self.in_lead = self.in_teasers = False
                self.result.blocks.append("\n".join(lines))
            return
        if self.rules is not None and len(lines) >= NAV_RUN:
            kept = _without_navigation(lines)
            self.result.removed += len(lines) - len(kept)
            lines = kept
        heading = element.tag == "head"
        kept = [line for line in lines if self._keep(line, heading)]
        if kept:
            self.result.blocks.append("\n".join(kept))


#: "3/50 Caption…", "- 3 of 50 Caption…": a slide's counter, at the start of its caption.
_COUNTER_RE = re.compile(r"^(?:[-•*]\s*)?(\d{1,3})\s*(?:/|of)\s*(\d{1,3})\b")
#: Slides of one slideshow the text must hold before they are taken for one.
SLIDES = 3


def _without_slideshows(result: _Cleaned) -> None:
    """Drop the captions of a slideshow (a gallery of other stories, often): lines that
    start with a slide counter over the same total, from slide 1, at least ``SLIDES``
    different slides and half the total ("1/50 …" … "50/50 …"). Fractions, scores,
    ratings and dates in the text ("1/2 tsp", "23/16", "7/10 …", "8/10 …", "3/15 …",
    "4/15 …") do not count through one total from its start."""
    slides: dict[int, set[int]] = {}
    for block in result.blocks:
        for line in block.split("\n"):
            if (match := _COUNTER_RE.match(line)) and 0 < int(match[1]) <= int(match[2]):
                slides.setdefault(int(match[2]), set()).add(int(match[1]))
    totals = {
        total for total, seen in slides.items()
        if 1 in seen and len(seen) >= SLIDES and 2 * len(seen) >= total
    }
    if not totals:
        return
    blocks = []
    for block in result.blocks:
        lines = block.split("\n")
        kept = [
            line for line in lines
            if not ((match := _COUNTER_RE.match(line)) and int(match[2]) in totals)
        ]
        result.removed += len(lines) - len(kept)
        if kept:
            blocks.append("\n".join(kept))
    result.blocks = blocks


def _clean(
    body: etree._Element, title: str | None, page: PageInfo, url: str, drop: bool
) -> _Cleaned:
    cleaner = _Cleaner(title, page, url, default_rules() if drop else None)
    for element in body:
        for part in _split_at_double_breaks(element):
            cleaner.add(part)
    cleaner.trim_before_headline()
    if drop:
        _without_slideshows(cleaner.result)
    return cleaner.result


#: Month and weekday names (en, de, fr, es) that a byline's markup runs into the name
#: ("By Nathan Willis March 25, 2015" gives "Nathan Willis March").
_DATE_WORDS = frozenset(
    [
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
        "friday", "saturday", "sunday", "januar", "februar", "märz", "juni", "juli", "oktober",
        "dezember", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag",
        "sonntag", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre", "lundi", "mardi", "mercredi", "jeudi",
        "vendredi", "samedi", "dimanche", "enero", "febrero", "marzo", "abril", "mayo",
        "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre", "lunes",
        "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
    ]
)


def _without_date_words(name: str) -> str:
    """``name`` without a month or weekday name trailing it ("Laura June Topolsky July":
    "June" inside a name stays) when two words remain (so "Theresa May" stays); empty
    when it is nothing but such words ("February")."""
    words = name.split()
    if all(word.casefold() in _DATE_WORDS for word in words):
        return ""
    while len(words) > 2 and words[-1].casefold().strip(".,") in _DATE_WORDS:
        words.pop()
    return " ".join(words)


#: Bylines that are a form's or a template's label, not a name ("Username").
_NOT_NAMES = frozenset({"username", "user", "admin", "administrator", "author", "authors",
                        "by", "autor", "auteur", "作者"})
#: A single capital letter between two words: a middle initial whose full stop
#: trafilatura's byline cleaning took ("Nelson D Schwartz"). Not a first one: "A
#: Correspondent" is no initial.
_INITIAL_RE = re.compile(r"(?<=\w )([A-Z])(?= \w)")


def _split_authors(author: str | None) -> list[str]:
    """The byline's names: without trailing date words, with their initials' full stops,
    each once (case-insensitively; "Jeffrey Gettleman" wins over "JEFFREY GETTLEMAN"),
    and not a label such as "Username"."""
    names: dict[str, str] = {}
    for name in (author or "").split(";"):
        name = _without_date_words(name.strip())
        if name.casefold() in _NOT_NAMES:
            continue
        name = _INITIAL_RE.sub(r"\1.", name)
        key = name.casefold()
        if name and (key not in names or names[key].isupper() and not name.isupper()):
            names[key] = name
    return list(names.values())


def warm_up() -> None:
    """Fill this process's lazy caches (e.g. as a ``ProcessPoolExecutor`` initializer)."""
    default_rules()
    identify("warm up the language profiles of this worker process")


# --- entry point --------------------------------------------------------------------------


def extract(
    body: bytes,
    url: str,
    encoding: str | None = None,
    options: ExtractOptions = ExtractOptions(),  # noqa: B008 - frozen, so a safe default
) -> Extracted | Discarded:
    """Extract clean text and metadata from one HTML page.

    Never raises on bad input: malformed HTML, binary bytes, empty body all return
    Discarded with a reason.
    """
    try:
        return _extract(body, url, encoding, options)
    except Exception as exc:  # the worker must survive any page; the reason is recorded
        logger.exception("extraction failed for %s", url)
        return Discarded("extractor-error", f"{type(exc).__name__}: {exc}"[:200])


def _extract(
    body: bytes, url: str, encoding: str | None, options: ExtractOptions
) -> Extracted | Discarded:
    parsed = _parse(body, encoding)
    if isinstance(parsed, Discarded):
        return parsed
    tree, codec = parsed
    page = page_info(tree)
    meta = metadata.extract_metadata(tree, url)
    title = meta.title or None
    # (each a walk of the whole tree: skipped when the bytes hold no such element)
    if _holds(body, b"math"):
        mathml.formulas_as_text(tree)  # trafilatura would drop them
    if _holds(body, b"table"):
        unwrap_layout_tables(tree)  # trafilatura would read the article as one table cell
    paragraphs_of_loose_text(tree)  # trafilatura would drop text outside <p> beside <p>s
    found = _best_text(tree, url, title, page, options)
    blocks, cleaned = found.blocks, found.cleaned
    if not blocks:
        if found.document is None or found.document.body is None:
            return Discarded("no-text", "trafilatura found no main text")
        return Discarded("no-text", f"all {cleaned.removed} paragraphs were boilerplate")
    clean = "\n\n".join(blocks)
    words = count_words(clean)
    if words < options.min_words:
        return Discarded("too-short", f"{words} words < {options.min_words}")

    language = identify(clean, (options.language_hint, *page.language_hints))
    flags = quality.flags(
        words=words,
        text=clean,
        paywall_lines=cleaned.paywall,
        accessible_for_free=page.accessible_for_free,
        structured_words=page.word_count,
        jsonld_agreement=found.agreement,
    )
    return Extracted(
        text=clean,
        title=title or (page.headlines[0] if page.headlines else None),
        authors=_split_authors(meta.author),
        published=choose_published(meta.date, page.published),
        modified=page.modified,
        sitename=meta.sitename or None,
        description=meta.description or None,
        tags=[t for t in (meta.tags or []) if t],
        language=language.language,
        language_probability=language.probability,
        word_count=words,
        boilerplate_removed=cleaned.removed,
        extractor={
            "name": "trafilatura",
            "version": trafilatura.__version__,
            "options": _options_used(options, found),
            "encoding": codec,
            "text_source": found.source,
            "metadata": metadata.SOURCE,
            "language_source": language.source,
        },
        quality=flags,
    )


_OPENS = {tag: re.compile(rb"<" + tag + rb"[\s>/]", re.IGNORECASE) for tag in (b"math", b"table")}


def _holds(body: bytes, tag: bytes) -> bool:
    """Whether ``body`` may hold a ``tag`` element (a quick search of the bytes: 13 of the
    181 ScrapingHub pages have a table, none a formula); a UTF-16 page is assumed to."""
    return bool(_OPENS[tag].search(body)) or b"\x00" in body[:200]


def _parse(body: bytes, encoding: str | None) -> tuple[etree._Element, str] | Discarded:
    """The page's document tree and the codec its bytes were decoded with, or why there
    is no HTML to read (empty, binary, no markup, unparsable)."""
    if not body or not body.strip():
        return Discarded("empty-body")
    if not body.startswith(tuple(bom for bom, _ in _BOMS)):
        kind = _binary_kind(body)
        if kind:
            return Discarded("not-html", kind)
    text, codec = decode_body(body, encoding)
    if not _MARKUP_RE.search(text):
        return Discarded("not-html", "no HTML markup")
    text = _close_unterminated_title(text)
    try:
        tree = load_html(text)
    except (ValueError, etree.LxmlError) as exc:
        return Discarded("parse-error", str(exc)[:200])
    if tree is None or len(tree) == 0:
        return Discarded("parse-error", "no document tree")
    return tree, codec


@dataclass
class _Found:
    """The main text chosen for a page, and how it was reached."""

    document: Any
    cleaned: _Cleaned
    blocks: list[str]
    source: str
    agreement: float | None
    chunks_joined: bool = False
    fallback: bool = False


def _best_text(
    tree: etree._Element, url: str, title: str | None, page: PageInfo, options: ExtractOptions
) -> _Found:
    """trafilatura's main text, checked against the page's JSON-LD; in accurate mode an
    article split into chunks is joined first, and a text under FALLBACK_BELOW words is
    extracted again with trafilatura's fallbacks (each kept only when it finds more)."""
    document, cleaned = _main_text(tree, url, title, page, options, fast=FAST)
    chunks_joined = False
    joined = None
    if options.mode == "accurate" and chunks.may_be_missing(tree, _chars(cleaned.blocks)):
        joined = chunks.joined(tree)
    if joined is not None:  # an article split into chunks: keep the joined text if it
        document2, cleaned2 = _main_text(joined, url, title, page, options, fast=FAST)
        if _covers(cleaned2.blocks, cleaned.blocks):  # holds what the plain pass found
            document, cleaned, tree = document2, cleaned2, joined
            chunks_joined = True
    found = _Found(document, cleaned, *_cross_check(cleaned.blocks, page, options),
                   chunks_joined=chunks_joined)
    if options.mode != "accurate" or count_words("\n\n".join(found.blocks)) >= FALLBACK_BELOW:
        return found
    document2, cleaned2 = _main_text(tree, url, title, page, options, fast=False)
    again = _Found(document2, cleaned2, *_cross_check(cleaned2.blocks, page, options),
                   chunks_joined=chunks_joined, fallback=True)
    if count_words("\n\n".join(again.blocks)) > count_words("\n\n".join(found.blocks)):
        return again
    return found


def _options_used(options: ExtractOptions, found: _Found) -> dict[str, Any]:
    """The options that shaped the text, recorded with it (``extractor.options``)."""
    rules = default_rules()
    return {
        "mode": options.mode,
        "fast": FAST,
        "fallback_below": FALLBACK_BELOW if options.mode == "accurate" else None,
        "fallback_used": found.fallback,
        "chunks_joined": found.chunks_joined,
        "favor_precision": options.favor_precision,
        "favor_recall": options.favor_recall,
        "include_tables": options.include_tables,
        "include_comments": False,
        "formulas": "mathml-text",
        "layout_tables": "unwrapped",
        "loose_text": "paragraphs",
        "date_extensive_search": DATE_PARAMS["extensive_search"],
        "drop_boilerplate": options.drop_boilerplate,
        "boilerplate_rules": rules.fingerprint if options.drop_boilerplate else None,
        "extra_drop_selectors": list(options.extra_drop_selectors),
    }


#: The joined chunks' text replaces the plain one when it holds this share of its lines.
COVER_SHARE = 0.9


def _chars(blocks: list[str]) -> int:
    return sum(len(block) for block in blocks)


def _covers(longer: list[str], shorter: list[str]) -> bool:
    """Whether the text ``longer`` has more words than ``shorter`` and holds at least
    ``COVER_SHARE`` of its lines."""
    if count_words("\n".join(longer)) <= count_words("\n".join(shorter)):
        return False
    have = {_key(line) for block in longer for line in block.split("\n")}
    lines = [_key(line) for block in shorter for line in block.split("\n")]
    lines = [line for line in lines if line]
    return not lines or sum(line in have for line in lines) >= COVER_SHARE * len(lines)


def _main_text(
    tree: etree._Element,
    url: str,
    title: str | None,
    page: PageInfo,
    options: ExtractOptions,
    *,
    fast: bool,
) -> tuple[object | None, _Cleaned]:
    """trafilatura's main-content tree of ``tree`` (which it copies, so this can run
    twice on one tree), turned into clean text blocks."""
    prune = [_selector_xpath(s) for s in options.extra_drop_selectors] or None
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=options.favor_precision,
        favor_recall=options.favor_recall,
        include_comments=False,
        include_tables=options.include_tables,
        include_images=False,
        include_links=False,
        with_metadata=False,  # newsarchive.extract.metadata reads it, faster
        output_format="txt",  # we render the tree ourselves: skip trafilatura's rendering
        prune_xpath=prune,
    )
    if document is None or document.body is None:
        return None, _Cleaned()
    return document, _clean(document.body, title, page, url, options.drop_boilerplate)


def _cross_check(
    blocks: list[str], page: PageInfo, options: ExtractOptions
) -> tuple[list[str], str, float | None]:
    """Check the extracted blocks against the page's JSON-LD ``articleBody``.

    Returns the blocks to keep, where they come from (``"trafilatura"`` or ``"json-ld"``)
    and the share of the declared body found in them (None when there is none to compare).
    The declared body replaces trafilatura's text only when trafilatura found little of
    it and nothing else (its text lies inside the declared body): declared bodies are
    often teasers, or carry captions and embeds that are not on the page, so otherwise
    the visible page wins and the agreement is only reported.
    """
    declared = page.article_body
    if not declared or count_words(declared) < quality.MIN_STRUCTURED_WORDS:
        return blocks, "trafilatura", None
    text = "\n\n".join(blocks)
    agreement = quality.agreement(text, declared)
    if blocks and not (
        agreement.body_in_text < REPLACE_BELOW
        and agreement.text_in_body >= 0.8
        and not quality.looks_cut(declared)
    ):
        return blocks, "trafilatura", round(agreement.body_in_text, 3)
    rules = default_rules() if options.drop_boilerplate else None
    lines = [line for line in declared.split("\n") if rules is None or not classify(line, rules)]
    if count_words("\n".join(lines)) <= count_words(text):
        return blocks, "trafilatura", round(agreement.body_in_text, 3)
    logger.debug("using the JSON-LD articleBody (agreement %.2f)", agreement.body_in_text)
    return lines, "json-ld", 1.0
