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
- The author and tag expressions are trafilatura's, with each EXSLT
  ``re:test(@attr, 'a|b')`` (a call back into Python for every element tested)
  rewritten as the equivalent ``contains()``/``starts-with()`` tests, which stay in
  libxml2 (:func:`native_xpath`): 10–40% faster. A pattern that cannot be rewritten
  exactly is left as it is. The author expressions also get a cheap first test of
  the attributes they read (:func:`prefiltered`), which most elements fail: ~20% less.
"""

from __future__ import annotations

import functools
import itertools
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

logger = logging.getLogger(__name__)

#: htmldate: no "extensive" search of the page text for dates; structured dates (JSON-LD,
#: <meta>, <time>) are what news pages carry, and the free-text search costs ~10 ms a page.
DATE_PARAMS = {"original_date": True, "extensive_search": False}
#: How the metadata is made: recorded in each record's ``extractor``.
SOURCE = "newsarchive (trafilatura helpers)"

_REGEXP_NS = {"re": "http://exslt.org/regular-expressions"}
_RE_TEST = re.compile(r"re:test\(\s*(@[\w:-]+)\s*,\s*'([^']*)'\s*\)")
_LITERAL = re.compile(r"[\w \-]")
_MAX_ALTERNATIVES = 64
#: trafilatura's test of a tag link, and a quick check that a page has any (one pass
#: over its links instead of four searches of the whole page for tag boxes)
_TAG_HREF_RE = re.compile("/tag(?:y|ies|s)?/")
_TAG_LINK = XPath("boolean(//a[contains(@href, '/tag')])")
_TAG_XPATHS_FIND_LINKS = all(x.path.rstrip().endswith("//a[@href]") for x in TAGS_XPATHS)


class _Unsupported(Exception):
    """A regular expression outside the literal subset :func:`_alternatives` reads."""


def _alternatives(pattern: str) -> list[tuple[bool, str]]:
    """``(anchored, literal)`` pairs such that ``re.search(pattern, s)`` matches exactly
    when ``s`` starts with (anchored) or contains one of the literals.

    Reads literals (letters, digits, ``_``, ``-``, space), ``[Aa]`` classes of such
    characters, ``(?:…|…)`` groups, ``?`` after a character, class or group, ``|`` and a
    ``^`` opening a top-level alternative; raises :class:`_Unsupported` on anything else.
    """
    pos = 0

    def alternation(top: bool) -> list[tuple[bool, str]]:
        nonlocal pos
        options: list[tuple[bool, str]] = []
        while True:
            anchored = False
            if pattern.startswith("^", pos):
                if not top:
                    raise _Unsupported(pattern)
                anchored, pos = True, pos + 1
            options.extend((anchored, s) for s in sequence())
            if pos < len(pattern) and pattern[pos] == "|":
                pos += 1
                continue
            return options

    def sequence() -> list[str]:
        nonlocal pos
        strings = [""]
        while pos < len(pattern) and pattern[pos] not in "|)":
            char = pattern[pos]
            if char == "(":
                if not pattern.startswith("(?:", pos):
                    raise _Unsupported(pattern)
                pos += 3
                atom = [s for anchored, s in alternation(top=False)]
                if pos >= len(pattern) or pattern[pos] != ")":
                    raise _Unsupported(pattern)
                pos += 1
            elif char == "[":
                end = pattern.find("]", pos)
                chars = pattern[pos + 1 : end] if end > pos else ""
                if not chars or chars.startswith("^") or not all(map(_LITERAL.fullmatch, chars)):
                    raise _Unsupported(pattern)
                if "-" in chars[1:-1]:  # a range such as a-z
                    raise _Unsupported(pattern)
                atom, pos = list(dict.fromkeys(chars)), end + 1
            elif _LITERAL.fullmatch(char):
                atom, pos = [char], pos + 1
            else:
                raise _Unsupported(pattern)
            if pos < len(pattern) and pattern[pos] == "?":
                atom, pos = [*atom, ""], pos + 1
            strings = ["".join(p) for p in itertools.product(strings, atom)]
            if len(strings) > _MAX_ALTERNATIVES:
                raise _Unsupported(pattern)
        return strings

    options = alternation(top=True)
    if pos != len(pattern) or any(not s for _, s in options):
        raise _Unsupported(pattern)  # an unbalanced ")", or a match of the empty string
    return list(dict.fromkeys(options))


def _native_test(match: re.Match[str]) -> str:
    attribute, pattern = match.group(1), match.group(2)
    try:
        options = _alternatives(pattern)
    except _Unsupported:
        return match.group(0)
    tests = (
        f"{'starts-with' if anchored else 'contains'}({attribute}, '{literal}')"
        for anchored, literal in options
    )
    return f"({' or '.join(tests)})"


def native_xpath(expression: XPath) -> XPath:
    """``expression`` with each ``re:test(@attr, '…')`` that has a plain-string equivalent
    rewritten as ``contains()``/``starts-with()`` tests: same elements, no Python calls."""
    return XPath(_RE_TEST.sub(_native_test, expression.path), namespaces=_REGEXP_NS)


_ABSOLUTE_STEP_RE = re.compile(r"\s*(\.?)//(?=[\w*])")
_STRING_RE = re.compile(r"'[^']*'|\"[^\"]*\"")
_POSITIONAL_RE = re.compile(r"\[\s*\d|position\(|last\(")


def _union_parts(path: str) -> list[str]:
    """``path`` split at its top-level ``|`` (outside predicates and strings)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(path):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(path[start:i])
            start = i + 1
    return [*parts, path[start:]]


def axis_forms(expression: XPath) -> tuple[XPath, XPath] | None:
    """For a pruning expression made of ``//step[predicates]`` (or ``.//``) parts, the
    same steps on the ``ancestor-or-self`` and on the ``descendant`` axis of an element.

    Evaluated with an element as context, the first says whether pruning the page with
    ``expression`` would remove the element; the second finds what it would remove
    inside it. None when a part has another shape (a path of several steps, a
    positional predicate), where that equivalence is not guaranteed.
    """
    ups, downs = [], []
    for part in _union_parts(expression.path):
        match = _ABSOLUTE_STEP_RE.match(part)
        rest = part[match.end() :].strip() if match else ""
        bare = _STRING_RE.sub("", rest)
        if not rest or "/" in bare or "|" in bare or _POSITIONAL_RE.search(bare):
            return None
        name, _, predicates = rest.partition("[")
        # ".//" starts below the context (the root element): "[parent::*]" leaves it out
        root = "[parent::*]" if match.group(1) else ""
        ups.append(f"ancestor-or-self::{name}{root}{'[' if predicates else ''}{predicates}")
        downs.append(f"descendant::{rest}")
    return (
        XPath(" | ".join(ups), namespaces=_REGEXP_NS),
        XPath(" | ".join(downs), namespaces=_REGEXP_NS),
    )


_ATTRIBUTE_TEST_RE = re.compile(
    r"(?:contains|starts-with)\(\s*(@[\w:-]+)\s*,\s*'[^']*'\s*\)"  # contains(@class, 'x')
    r"|(@[\w:-]+)\s*=\s*'[^']*'"  # @class='x'
    r"|([a-z][\w-]*)\s*=\s*'[^']*'"  # rel='me': a child element's text
)
_OR_RE = re.compile(r"\s+or\s+")
_NAME_TEST_RE = re.compile(r"\*|[\w-]+")


def _top_level(text: str, separator: re.Pattern[str] | None = None) -> list[str]:
    """``text`` split at ``separator`` outside brackets and strings, or (no separator)
    the ``[…]`` blocks that follow each other at its top level."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        char = text[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            if depth == 0 and separator is None and char == "[":
                start = i
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0 and separator is None and char == "]":
                parts.append(text[start : i + 1])
        elif depth == 0 and separator is not None and (match := separator.match(text, i)):
            parts.append(text[start:i])
            start = i = match.end()
            continue
        i += 1
    return parts if separator is None else [*parts, text[start:]]


def _enclosed(text: str) -> bool:
    """Whether ``text`` is one parenthesised group: "(a or b)", not "(a) or (b)"."""
    if not text.startswith("("):
        return False
    depth, quote = 0, ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def _required(predicate: str) -> set[str] | None:
    """What an element needs for ``predicate`` to hold when it is an ``or`` of attribute
    tests: the attributes (``@class``) and child elements (``rel``) they read. None for
    any other predicate (a name test, ``not()``, ``and``...), which may hold without."""
    needs: set[str] = set()
    for part in _top_level(predicate.strip(), _OR_RE):
        part = part.strip()
        if _enclosed(part):
            inner = _required(part[1:-1])
            if inner is None:
                return None
            needs |= inner
            continue
        match = _ATTRIBUTE_TEST_RE.fullmatch(part)
        if match is None:
            return None
        needs.add(next(group for group in match.groups() if group))
    return needs


def prefiltered(expression: XPath) -> XPath:
    """``expression`` with a cheap test before its first predicate that is an ``or`` of
    attribute tests: ``//*[@rel='author' or contains(@class, 'byline')]`` becomes
    ``//*[@rel or @class][…]``. Same elements (predicates are and-ed, none positional);
    most elements of a page have none of the attributes and fail at once."""
    parts = []
    for part in _union_parts(expression.path):
        match = _ABSOLUTE_STEP_RE.match(part)
        blocks = _top_level(part, None) if match else []
        step = part[match.end() :].strip() if match else ""
        name = step.split("[", 1)[0]
        if (
            not match
            or not _NAME_TEST_RE.fullmatch(name)  # one step only
            or "".join(blocks) != step[len(name) :]
            or _POSITIONAL_RE.search(_STRING_RE.sub("", step))
        ):
            parts.append(part)
            continue
        for n, block in enumerate(blocks):
            needs = _required(block[1:-1])
            if needs:
                blocks.insert(n, f"[{' or '.join(sorted(needs))}]")
                break
        parts.append(f"{part[: match.end()]}{name}{''.join(blocks)}")
    return XPath(" | ".join(parts), namespaces=_REGEXP_NS)


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
        metadata.title = extract_title(tree)
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
