"""A page laid out in a table reads as an article: its paragraphs stay apart and the data
tables inside it survive; a table of data stays a table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import fromstring

from newsarchive.extract.extractor import Extracted, extract
from newsarchive.extract.layout_tables import is_layout, unwrap_layout_tables

PARAGRAPHS = [
    "In the one-year period since late March, there have been 381 changesets committed "
    "to the repository by a small number of developers, most of them paid for the work.",
    "The most active committers are listed below; the list is not just the most active "
    "developers, it is all of them, and one of them accounts for most of the changes.",
    "Those developers changed 528,000 lines of code, mostly updates to translation files, "
    "which says less about the project's health than the number of changesets does.",
]
DATA = (
    "<table><tr><th>Developer</th><th>Changesets</th></tr>"
    "<tr><td>Herbert Dürr</td><td>63</td></tr><tr><td>Armin Le Grand</td><td>56</td></tr>"
    "</table>"
)


def _laid_out_page() -> bytes:
    article = (
        "<h2>Development statistics</h2>"
        + f"<p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p>{DATA}"
        + f"<p>{PARAGRAPHS[2]}</p>"
    )
    return (
        "<html><head><title>Development statistics</title></head><body>"
        '<table width="100%"><tr><td class="LeftColumn"><a href="/">Home</a><br>'
        '<a href="/archive">Archive</a></td>'
        f'<td class="MidColumn"><div class="ArticleText">{article}</div></td></tr></table>'
        "</body></html>"
    ).encode()


def test_an_article_in_a_layout_table_keeps_its_paragraphs_and_data() -> None:
    result = extract(_laid_out_page(), "http://127.0.0.1/a")
    assert isinstance(result, Extracted), result
    blocks = result.text.split("\n\n")
    for paragraph in PARAGRAPHS:
        assert paragraph in blocks  # a paragraph of its own, not one line of a cell
    assert "| Herbert Dürr | 63 |" in result.text  # the nested data table survives
    assert result.extractor["options"]["layout_tables"] == "unwrapped"


def test_layout_tables_within_layout_tables_are_all_undone() -> None:
    """A frame table around the columns table: the article reads as paragraphs."""
    page = _laid_out_page()
    start, end = page.index(b"<table width"), page.rindex(b"</table>") + len(b"</table>")
    for depth in (1, 2):
        for _ in range(depth):
            page = (page[:start] + b'<table><tr><td class="frame">' + page[start:end]
                    + b"</td></tr></table>" + page[end:])
            end += len(b'<table><tr><td class="frame">') + len(b"</td></tr></table>")
        result = extract(page, "http://127.0.0.1/a")
        assert isinstance(result, Extracted), result
        for paragraph in PARAGRAPHS:
            assert paragraph in result.text.split("\n\n"), depth
        assert "| Herbert Dürr | 63 |" in result.text  # the data table stays a table


def test_a_data_table_stays_a_table() -> None:
    tree = fromstring(f"<html><body>{DATA}</body></html>")
    assert unwrap_layout_tables(tree) == 0
    assert tree.xpath("//table/tr/td")


def test_only_the_layout_is_unwrapped() -> None:
    tree = fromstring(_laid_out_page().decode())
    assert unwrap_layout_tables(tree) == 1
    assert len(tree.xpath("//table")) == 1 and tree.xpath("//div/table")


_cell = st.text(alphabet="abcdefghij 0123456789.,%", max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_cell, min_size=1, max_size=6), min_size=1, max_size=30))
def test_tables_of_data_are_never_layout(rows: list[list[str]]) -> None:
    """Cells of words and numbers, however many, are data: one cell holds no prose."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    tree = fromstring(f"<html><body><table>{body}</table></body></html>")
    assert not is_layout(tree.xpath("//table")[0])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["p", "ul", "h2", "div", "table"]), min_size=1, max_size=8),
    st.integers(0, 3),
)
def test_unwrapping_keeps_every_word(tags: list[str], depth: int) -> None:
    """Layout tables nested in layout tables: the text is the same, in the same order."""
    inner = "".join(
        f"<{t}>word{i} " + "prose " * 60 + f"</{t}>" if t != "table"
        else f"<table><tr><td>cell{i}</td></tr></table>"
        for i, t in enumerate(tags)
    )
    for _ in range(depth):
        inner = f"<table><tr><td>side</td><td>{inner}</td></tr></table>"
    tree = fromstring(f"<html><body>{inner}</body></html>")
    before = "".join(tree.itertext())
    unwrap_layout_tables(tree)
    assert "".join(tree.itertext()) == before


def test_a_layout_table_in_capitals_is_found_too() -> None:
    """The page is searched for a table before its tree is walked: ``<TABLE>`` counts."""
    page = _laid_out_page().replace(b"<table", b"<TABLE").replace(b"</table>", b"</TABLE>")
    assert b"<table" not in page
    result = extract(page, "http://127.0.0.1/a")
    assert isinstance(result, Extracted), result
    assert PARAGRAPHS[0] in result.text.split("\n\n")
