"""An article's metadata (title, authors, date, site, description, tags) from its tree.

This is trafilatura's ``extract_metadata`` built from trafilatura's own helpers, minus
what a news archive record does not hold, and with its costliest step (the search of
the markup for a byline) made cheaper. On the article-extraction-benchmark's 181 pages
it gives the same title, authors, date, site name, description and tags in about half
the time (see tests/test_extract_metadata.py and benchmarks/extraction.py).

- Left out: the licence, and the search of the markup for category links (no record
  field holds them; ``categories`` is what JSON-LD declares, if anything).
- Same fields, same order of sources: ``<meta>``/Open Graph, then JSON-LD, then the
  page's markup for the title, authors (bylines), canonical URL and site name; the date
  from htmldate with :data:`DATE_PARAMS`; tags from ``<meta>`` (``article:tag``,
  keywords) and JSON-LD, else from tag links in the markup, as trafilatura finds them.
- Bylines: trafilatura copies the whole page, prunes comments, dates, figures and
  sidebars from the copy, then searches it; :func:`extract_author` searches the page
  itself and checks each byline found against the pruning expressions instead.
- The title, when no ``<meta>`` or JSON-LD gives one: trafilatura takes a page's only
  ``<h1>``, which on some sites is the section's name; :func:`_headline` prefers the
  heading that the page's ``<title>`` repeats (readability set: title exact 78% -> 80%).
- The author and tag expressions are trafilatura's, with each EXSLT
  ``re:test(@attr, 'a|b')`` (a call back into Python for every element tested)
  rewritten as the equivalent ``contains()``/``starts-with()`` tests, which stay in
  libxml2: 10–40% faster; the author expressions also get a cheap first test of the
  attributes they read, which most elements fail: ~20% less (``newsarchive.extract.xpaths``).
"""

from __future__ import annotations

import functools
import logging
import re
from copy import deepcopy

from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.baseline import block_text
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import (
    META_URL,
    Document,
    examine_meta,
    extract_meta_json,
    extract_metainfo,
    extract_sitename,
    extract_title,
    extract_url,
    normalize_authors,
)
from trafilatura.utils import line_processing, trim
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, TAGS_XPATHS

from newsarchive.extract.xpaths import axis_forms, native_xpath, prefiltered

logger = logging.getLogger(__name__)

#: htmldate: no "extensive" search of the page text for dates; structured dates (JSON-LD,
#: <meta>, <time>) are what news pages carry, and the free-text search costs ~10 ms a page.
DATE_PARAMS = {"original_date": True, "extensive_search": False}
#: How the metadata is made: recorded in each record's ``extractor``.
SOURCE = "newsarchive (trafilatura helpers)"

#: trafilatura's test of a tag link, and a quick check that a page has any (one pass
#: over its links instead of four searches of the whole page for tag boxes)
_TAG_HREF_RE = re.compile("/tag(?:y|ies|s)?/")
_TAG_LINK = XPath("boolean(//a[contains(@href, '/tag')])")
_TAG_XPATHS_FIND_LINKS = all(x.path.rstrip().endswith("//a[@href]") for x in TAGS_XPATHS)


@functools.lru_cache(maxsize=1)
def _expressions() -> tuple[list[XPath], list[tuple[XPath, XPath]] | None, list[XPath]]:
    """trafilatura's author, author-discard and tag expressions, rewritten (once per process);
    the discard expressions on the two axes of :func:`axis_forms` (None if they can't be)."""
    discard = [native_xpath(x) for x in AUTHOR_DISCARD_XPATHS]
    forms = [axis_forms(x) for x in discard]
    return (
        [prefiltered(native_xpath(x)) for x in AUTHOR_XPATHS],
        None if None in forms else forms,  # type: ignore[arg-type]
        [native_xpath(x) for x in TAGS_XPATHS],
    )


def extract_author(tree: HtmlElement) -> str | None:
    """trafilatura's ``extract_author``: the first byline in the markup, outside comments,
    dates, figures, sidebars and the like, with the rewritten expressions.

    trafilatura prunes those parts from a copy of the whole page and then searches it;
    here the page is searched as it is, a byline found inside a part to prune is skipped,
    and only a byline that holds such parts is copied and pruned: the same result for a
    fraction of the work (most bylines hold no such part). ``tree`` is not changed.
    """
    authors, discard, _ = _expressions()
    if discard is None:
        subtree = prune_unwanted_nodes(deepcopy(tree), list(AUTHOR_DISCARD_XPATHS))
        author = extract_metainfo(subtree, authors, len_limit=120)
        return normalize_authors(None, author) if author else None
    for expression in authors:
        for element in expression(tree):
            if any(up(element) for up, _ in discard):
                continue  # pruned with a part that is not the article's byline
            if any(down(element) for _, down in discard):
                element = prune_unwanted_nodes(deepcopy(element), [down for _, down in discard])
            content = trim(" ".join(element.itertext()))
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


_TITLE = XPath("string(//head/title)")
_HEADINGS = XPath("//h1|//h2|//h3")
_WORDS_RE = re.compile(r"\w+")


def _words(text: str) -> str:
    return " ".join(_WORDS_RE.findall(text.casefold()))


def _headline(tree: HtmlElement) -> str | None:
    """trafilatura's ``extract_title`` (a page's only ``<h1>`` first), checked against the
    page's ``<title>``: when that does not repeat the ``<h1>`` and does repeat another
    heading, the other heading is the article's (the ``<h1>`` is then the site's or the
    section's name: "Health Center" over the article's ``<h2>``)."""
    title = extract_title(tree)
    page_title = _words(_TITLE(tree))
    if not title or not page_title or _words(title) in page_title:
        return title
    for heading in _HEADINGS(tree):
        text = trim(" ".join(heading.itertext()))
        words = _words(text)
        if len(words.split()) >= 3 and words in page_title:
            return text
    return title


def extract_tags(tree: HtmlElement) -> list[str]:
    """trafilatura's ``extract_catstags("tag", …)``: the texts of links to ``/tag/``,
    ``/tags/`` pages inside tag boxes, with the rewritten expressions; not searched for
    when the page links to no such page."""
    _, _, expressions = _expressions()
    if _TAG_XPATHS_FIND_LINKS and not _TAG_LINK(tree):
        return []  # what the expressions find must be a link to a tag page: none
    results: list[str] = []
    for expression in expressions:
        results.extend(
            block_text(element)
            for element in expression(tree)
            if _TAG_HREF_RE.search(element.attrib["href"])
        )
        if results:
            break
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


def extract_metadata(tree: HtmlElement, url: str | None) -> Document:
    """The article's metadata as a trafilatura ``Document`` (``title``, ``author``,
    ``date``, ``sitename``, ``description``, ``tags``, ``url``...; no ``license``, and
    ``categories`` only from JSON-LD), cleaned and trimmed as trafilatura does.
    ``tree`` is not changed.

    Follows trafilatura's ``extract_metadata`` step by step.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a user name, not a person's name
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as exc:  # trafilatura's JSON-LD reader has bugs on odd data
        logger.debug("error in JSON-LD metadata: %s", exc)
    if not metadata.title:
        metadata.title = _headline(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    metadata.date = find_date(tree, **DATE_PARAMS, url=metadata.url)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    sitename = metadata.sitename
    if sitename:
        sitename = sitename.lstrip("@")  # a Twitter handle
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
        metadata.sitename = sitename
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    if not metadata.tags:
        metadata.tags = extract_tags(tree)
    metadata.clean_and_trim()
    return metadata
