"""Formulas as text: a page's MathML turned into plain text before trafilatura reads it.

trafilatura drops ``<math>`` with everything in it, and with it every formula of a
science or economics article: "the solutions are" followed by nothing. Sites render
formulas with MathJax, KaTeX or MediaWiki, which all keep the MathML beside a visual
rendering (for screen readers) and the TeX source in an ``<annotation>``. So each
formula's renderer wrapper is replaced by the text of its MathML tokens, spaced as a
screen reader would read them (``a ≠ 0``), without the TeX source and without the
visual copy (glyph spans, a fallback image) that would repeat it or add noise.
A displayed formula becomes a paragraph of its own, an inline one stays in its line.

A formula whose MathML the page hides (MediaWiki shows an image of it, with the TeX
source as its ``alt``) is left alone, and goes as hidden text goes: the text is what a
reader saw, and on both development sets the truth leaves such formulas out.
"""

from __future__ import annotations

import re

from lxml import etree

_NS = "{http://www.w3.org/1998/Math/MathML}"
#: the HTML parser drops namespaces (``math``); an XHTML tree keeps them
_MATH_TAGS = ("math", f"{_NS}math")
_ANNOTATION_TAGS = ("annotation", "annotation-xml", f"{_NS}annotation", f"{_NS}annotation-xml")
#: classes of the wrappers renderers put around one formula (the MathML and its visual
#: copy): KaTeX, MathJax 2, MediaWiki
_WRAPPER_CLASSES = frozenset({
    "katex", "katex-display", "katex-mathml",
    "MathJax", "MathJax_Display", "MJX_Assistive_MathML",
    "mwe-math-element", "mwe-math-mathml-inline", "mwe-math-mathml-display",
    "mwe-math-mathml-a11y",
})
_HIDDEN_RE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_DISPLAY_CLASSES = frozenset({"katex-display", "MathJax_Display", "mwe-math-mathml-display"})


def _is_wrapper(element: etree._Element) -> bool:
    """Whether ``element`` is a renderer's wrapper of one formula: one of MathJax 3's
    elements (``mjx-container``, ``mjx-assistive-mml``) or a span with a renderer's class."""
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if tag.startswith("mjx-"):
        return True
    return bool(_WRAPPER_CLASSES.intersection((element.get("class") or "").split()))


def _is_display(math: etree._Element, outer: etree._Element) -> bool:
    if math.get("display") == "block" or outer.get("display") in ("true", "block"):
        return True
    for element in (outer, *outer.iterdescendants()):
        if isinstance(element.tag, str) and _DISPLAY_CLASSES.intersection(
            (element.get("class") or "").split()
        ):
            return True
    return False


def _hidden(math: etree._Element, outer: etree._Element) -> bool:
    """Whether the page hides the formula's MathML (``display: none`` on it or on a
    wrapper up to ``outer``)."""
    element: etree._Element | None = math
    while element is not None:
        if _HIDDEN_RE.search(element.get("style") or ""):
            return True
        if element is outer:
            return False
        element = element.getparent()
    return False


def _in_paragraph(element: etree._Element) -> bool:
    return any(ancestor.tag in ("p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")
               for ancestor in element.iterancestors())


def formulas_as_text(tree: etree._Element) -> int:
    """Replace each formula of ``tree`` (in place) by its text; how many were replaced."""
    replaced = 0
    root = tree.getroottree().getroot()
    for math in list(tree.iter(*_MATH_TAGS)):
        ancestors = list(math.iterancestors())
        if not ancestors or ancestors[-1] is not root or any(
            isinstance(a.tag, str) and etree.QName(a).localname == "math" for a in ancestors
        ):
            continue  # gone with an earlier formula's wrapper, or nested in one
        outer = math
        while (parent := outer.getparent()) is not None and _is_wrapper(parent):
            outer = parent
        parent = outer.getparent()
        if parent is None or _hidden(math, outer):
            continue
        for annotation in list(math.iter(*_ANNOTATION_TAGS)):
            annotation.getparent().remove(annotation)
        text = " ".join(t.strip() for t in math.itertext() if t.strip())
        display = _is_display(math, outer) and not _in_paragraph(outer)
        replacement = etree.Element("p" if display else "span")
        replacement.text = text if display else f" {text} "  # apart from the words around
        replacement.tail = outer.tail
        parent.replace(outer, replacement)
        replaced += 1
    return replaced
