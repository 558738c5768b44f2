"""Join an article body that the page splits into several same-class containers.

Publishers cut long articles into chunks between ads or embeds: ``<div
class="body__container">`` several times, each under its own parent. trafilatura's first
expression for article bodies selects such a container per parent and then uses the
first one in the document only, so everything after the first ad is lost (two pages of
the ScrapingHub set kept 35 % and 45 % of their text).

:func:`joined` returns a copy of the page with the later chunks' content moved into the
first chunk (same tag, the first chunk's classes, not nested in it), or None when the
page has no such chunks. The caller extracts both and keeps the joined text only when
it holds what the plain extraction found: on some pages trafilatura already reads a
wider container than the first chunk, and joining would narrow it. The search costs
about 1 ms a page, so it runs only when :func:`may_be_missing` says the page's
paragraphs hold much more text than was extracted.
"""

from __future__ import annotations

import copy
import logging

from lxml import etree
from trafilatura.xpaths import BODY_XPATH

logger = logging.getLogger(__name__)

#: The first chunk must hold at least this many characters of ``<p>`` text.
MIN_CHUNK_CHARS = 100
#: Chunks are looked for only when the page's ``<p>`` text is over this many times the
#: extracted text: a text that holds most of the page's paragraphs has lost no chunk
#: worth the search (about 1 ms a page; the check costs a fifth of that). The chunked
#: pages of both development sets are at 2.3 to 3.1; 6 % of the ScrapingHub pages and
#: 22 % of the Readability ones pass the check.
MISSING_RATIO = 2.0
_P_TEXT = etree.XPath("//p//text()")


def may_be_missing(tree: etree._Element, extracted_chars: int) -> bool:
    """Whether the page's paragraphs hold much more text than was extracted from it."""
    return sum(len(text) for text in _P_TEXT(tree)) > MISSING_RATIO * extracted_chars


def _paragraph_chars(element: etree._Element) -> int:
    return sum(len(" ".join(p.itertext()).strip()) for p in element.iter("p"))


def _chunks(tree: etree._Element) -> list[etree._Element]:
    """The first body container and the later ones of its kind (empty: nothing to join)."""
    matches = BODY_XPATH[0](tree)
    if len(matches) < 2:
        return []
    first = matches[0]
    classes = set((first.get("class") or "").split())
    if not classes or _paragraph_chars(first) < MIN_CHUNK_CHARS:
        return []
    chunks = [
        chunk
        for chunk in matches[1:]
        if chunk.tag == first.tag
        and classes <= set((chunk.get("class") or "").split())
        and not any(ancestor is first for ancestor in chunk.iterancestors())
    ]
    return [first, *chunks] if chunks else []


def joined(tree: etree._Element) -> etree._Element | None:
    """A copy of ``tree`` with its article chunks joined into the first, or None."""
    if not _chunks(tree):
        return None
    tree = copy.deepcopy(tree)
    first, *rest = _chunks(tree)
    for chunk in rest:
        for child in list(chunk):
            first.append(child)  # moves the child, with its tail
        parent = chunk.getparent()
        if parent is not None:
            parent.remove(chunk)
    logger.debug("joined %d article chunks of class %r", len(rest), first.get("class"))
    return tree
