"""newsarchive.extract.metadata gives the same metadata as trafilatura's extract_metadata, and
newsarchive.extract.xpaths' rewrites select the same elements as trafilatura's expressions."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura.metadata
from lxml import etree
from lxml.html import document_fromstring
from trafilatura import xpaths

from newsarchive.extract import metadata
from newsarchive.extract.metadata import DATE_PARAMS
from newsarchive.extract.xpaths import (
    REGEXP_NS,
    _alternatives,
    _required,
    _Unsupported,
    native_xpath,
    prefiltered,
)

DATA = Path(__file__).parent / "data"
FIELDS = ("title", "author", "date", "sitename", "description", "tags", "url")

#: Markup that trafilatura's author, discard and tag expressions pick (and nearly pick).
PAGE = """<html><head><title>Budget passed - The Daily Test</title></head><body>
<div class="sidebar"><span class="author">Sidebar Person</span></div>
<section id="comments-3"><a rel="author">Comment Writer</a></section>
<div class="article-share"><p class="byline">Share Box</p></div>
<div class="Comments"><span class="author-name">Comment Name</span></div>
<p class="byline">By <time>Monday</time> Jane Roe<figure>photo</figure> and John Doe</p>
<div class="post-author">Post Author</div><span id="theAuthor">Id Author</span>
<span class="AuthorName">Second Name</span><div data-component="Byline">Component</div>
<div class="tags"><a href="/tag/budget/">Budget</a><a href="/about/">About</a></div>
<div class="metabox"><a href="/tags/city/">City</a></div>
<p class="entry-tags x"><a href="/tag/council">Council</a></p>
<h1 class="post-title">Budget passed</h1><h2 id="mainheadline">Sub</h2>
<div class="printable commentlist is-hidden quote category meta-date">x</div>
</body></html>"""


def _regex_expressions() -> list[etree.XPath]:
    found = []
    for name in dir(xpaths):
        value = getattr(xpaths, name)
        if name.isupper() and isinstance(value, list):
            found.extend(x for x in value if "re:test" in getattr(x, "path", ""))
    return found


def test_literal_patterns_become_alternatives() -> None:
    assert _alternatives("^[Cc]omments|comment-?list") == [
        (True, "Comments"),
        (True, "comments"),
        (False, "comment-list"),
        (False, "commentlist"),
    ]
    assert _alternatives("^(?:tag|meta)") == [(True, "tag"), (True, "meta")]
    assert _alternatives("article-(?:share|support)") == [
        (False, "article-share"),
        (False, "article-support"),
    ]


@pytest.mark.parametrize(
    "pattern", ["a.b", "a+", "[a-z]x", "[^a]", "(a)", "a(?:^b)", "a?", "x|", "a)b", r"a\b"]
)
def test_other_patterns_are_left_alone(pattern: str) -> None:
    with pytest.raises(_Unsupported):
        _alternatives(pattern)
    expression = etree.XPath(f"//*[re:test(@class, '{pattern}')]", namespaces=REGEXP_NS)
    assert native_xpath(expression).path == expression.path


@pytest.mark.parametrize("expression", _regex_expressions(), ids=lambda x: x.path.split()[0][:40])
def test_rewritten_expressions_select_the_same_elements(expression: etree.XPath) -> None:
    tree = document_fromstring(PAGE)
    assert native_xpath(expression)(tree) == expression(tree)


@pytest.mark.parametrize(
    ("predicate", "needs"),
    [
        ("@a='x' or (contains(@b, 'y') or rel='me')", {"@a", "@b", "rel"}),
        ("(@a='x') or (starts-with(@b, 'y'))", {"@a", "@b"}),
        ("self::a or self::b", None),
        ("not(@a)", None),
        ("@a='x' and @b='y'", None),
        ("(@a='x') and (@b='y')", None),
        ("@a!='x'", None),
        ("contains(@a, 'x') or string-length(@b) > 3", None),
    ],
)
def test_what_a_predicate_requires(predicate: str, needs: set[str] | None) -> None:
    assert _required(predicate) == needs


def test_prefilter() -> None:
    path = "//*[self::a or self::p][@rel='author' or contains(@class, 'x')]|//author"
    assert prefiltered(etree.XPath(path)).path == (
        "//*[self::a or self::p][@class or @rel][@rel='author' or contains(@class, 'x')] | //author"
    )
    for unchanged in ("//*[@a='x'][1]", "//div//a[@href='x']", "//*[not(@a)]"):
        assert prefiltered(etree.XPath(unchanged)).path == unchanged


@pytest.mark.parametrize("expression", xpaths.AUTHOR_XPATHS, ids=["0", "1", "2"])
def test_prefiltered_author_expressions_select_the_same_elements(
    expression: etree.XPath,
) -> None:
    tree = document_fromstring(PAGE.replace("<body>", "<body><author>A Name</author>"))
    rewritten = prefiltered(native_xpath(expression))
    assert "[@class or " in rewritten.path  # a prefilter was added
    assert rewritten(tree) == expression(tree) != []


def test_author_tag_expressions_need_no_python_callbacks() -> None:
    authors, discard, tags = metadata._expressions()
    assert discard is not None
    paths = [x.path for x in authors + tags] + [x.path for pair in discard for x in pair]
    assert not any("re:test" in path for path in paths)


@pytest.mark.parametrize(
    "body",
    [
        PAGE,
        # the byline holds a date and a figure: pruned from a copy of the byline only
        '<p class="byline">By <time>Monday</time> Jane Roe<figure>x</figure> and Al</p>',
        # the only bylines are inside parts that trafilatura prunes
        '<div class="sidebar"><span class="author">Side Bar</span></div><figure>'
        '<span class="author">Photo Person</span></figure>',
        # a byline that is nothing but a date: empty once pruned, the next one wins
        '<span class="author"><time>2024-01-02</time></span><a rel="author">Real Name</a>',
        # too long for a name
        f'<span class="author">{"word " * 40}</span><div class="writer">Short Name</div>',
        "<p>No byline at all</p>",
    ],
)
def test_author_is_trafilaturas(body: str) -> None:
    tree = document_fromstring(f"<html><body>{body}</body></html>")
    before = etree.tostring(tree)
    assert metadata.extract_author(tree) == trafilatura.metadata.extract_author(tree)
    assert etree.tostring(tree) == before  # the page is not changed


@pytest.mark.parametrize(
    ("body", "tags"),
    [
        (PAGE, ["Budget"]),
        ('<div class="tags"><a href="/topic/x/">X</a></div><a href="/tags/y/">Y</a>', []),
        ('<div class="tags"><a href="/topic/x/">X</a></div>', []),
    ],
)
def test_tags_are_trafilaturas(body: str, tags: list[str]) -> None:
    tree = document_fromstring(f"<html><body>{body}</body></html>")
    assert metadata.extract_tags(tree) == tags
    assert metadata.extract_tags(tree) == trafilatura.metadata.extract_catstags("tag", tree)


@pytest.mark.parametrize("name", ["PAGE", "reference_article.html"])
def test_metadata_is_trafilaturas(name: str) -> None:
    page = PAGE if name == "PAGE" else (DATA / name).read_text(encoding="utf-8")
    url = "https://example-news.test/2020/09/27/story/"
    ours = metadata.extract_metadata(document_fromstring(page), url)
    theirs = trafilatura.metadata.extract_metadata(
        document_fromstring(page), url, DATE_PARAMS, extensive=False
    )
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(theirs, f) for f in FIELDS}
    assert ours.license is None  # not looked for: no record field holds it


def _titled(head_title: str, body: str) -> str:
    return f"<html><head><title>{head_title}</title></head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("page", "title"),
    [
        # the only <h1> is the section's name; <title> repeats the article's <h2>
        (_titled("Superbugs: What They Are | Health", "<h1>Information and Resources</h1>"
                 "<h2>Tools</h2><h2>Superbugs: What They Are</h2><p>Text.</p>"),
         "Superbugs: What They Are"),
        # <title> repeats the <h1>: it stays, whatever the other headings say
        (_titled("Markets fall again - Paper", "<h1>Markets fall again</h1>"
                 "<h2>Paper</h2><p>Text.</p>"), "Markets fall again"),
        # nothing in <title> matches a heading of three words or more: trafilatura's choice
        (_titled("Paper", "<h1>Markets fall again</h1><h2>Paper</h2>"), "Markets fall again"),
    ],
)
def test_headline_is_the_heading_the_page_title_repeats(page: str, title: str) -> None:
    assert metadata.extract_metadata(document_fromstring(page), None).title == title


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("Nelson D Schwartz", ["Nelson D. Schwartz"]),  # the initial's full stop is back
        ("Username", []),  # a form's label, not a name
        ("John C Welch; Username", ["John C. Welch"]),
        ("Theresa May", ["Theresa May"]),
        ("Malcolm X", ["Malcolm X"]),  # a final capital is no initial of a following word
        ("A Correspondent", ["A Correspondent"]),  # nor is a first one: an article
        ("I Love News; Mary J Blige", ["I Love News", "Mary J. Blige"]),
    ],
)
def test_byline_names(byline: str, names: list[str]) -> None:
    from newsarchive.extract.extractor import _split_authors

    assert _split_authors(byline) == names
