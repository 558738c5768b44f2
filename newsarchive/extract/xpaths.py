"""Cheaper equivalents of trafilatura's XPath expressions: same elements, less work.

trafilatura's expressions are written for clarity: EXSLT ``re:test()`` on attributes
(which lxml answers by calling into Python for every element tested), one search of
the whole page per pruning rule. The rewrites here keep what an expression selects and
change only how libxml2 finds it; each one is applied only to expressions of the shape
it can prove equivalent, and anything else is left as it is:

- :func:`native_xpath`: ``re:test(@attr, 'a|^b')`` → ``contains(@attr, 'a') or
  starts-with(@attr, 'b')`` when the pattern is a finite set of literals;
- :func:`prefiltered`: ``[@rel or @class]`` before a predicate that is an ``or`` of
  tests on those attributes, so that most elements fail at the first, cheap test;
- :func:`axis_forms`: a pruning expression ``//step[…]`` on the ``ancestor-or-self``
  and ``descendant`` axes of one element, to ask whether pruning would remove it, or
  what it would remove inside it, without pruning a copy of the whole page.
"""

from __future__ import annotations

import itertools
import re

from lxml.etree import XPath

REGEXP_NS = {"re": "http://exslt.org/regular-expressions"}
_RE_TEST = re.compile(r"re:test\(\s*(@[\w:-]+)\s*,\s*'([^']*)'\s*\)")
_LITERAL = re.compile(r"[\w \-]")
_MAX_ALTERNATIVES = 64


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
    return XPath(_RE_TEST.sub(_native_test, expression.path), namespaces=REGEXP_NS)


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
        XPath(" | ".join(ups), namespaces=REGEXP_NS),
        XPath(" | ".join(downs), namespaces=REGEXP_NS),
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
    return XPath(" | ".join(parts), namespaces=REGEXP_NS)
