"""Loose text between a container's blocks reaches the clean text, as the paragraph a
reader sees, with the links and emphasis that go on from it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import fromstring

from newsarchive.extract.extractor import Extracted, extract
from newsarchive.extract.loose_text import BLOCKS, CONTAINERS, paragraphs_of_loose_text

LEDE = "The council met on Tuesday to vote on a budget that had divided the city for months"
MIDDLE = ("The vote itself took less than a minute, after a debate that lasted most of the "
          "afternoon and touched on every line of the spending plan for the coming year.")
CLOSE = ("What happens next depends on the state, which must approve any tax rise above "
         "two per cent before the end of the financial year, a spokesman said.")


def _page(article: str) -> bytes:
    return (
        "<html><head><title>Council votes</title></head><body><h1>Council votes</h1>"
        f"<section class=\"article-body\">{article}</section></body></html>"
    ).encode()


def test_loose_text_beside_paragraphs_is_kept_as_paragraphs() -> None:
    article = (
        f'{LEDE}, <a href="/budget">the budget page</a> says, <em>after all</em>.'
        f"<p>{MIDDLE}</p>{CLOSE}"
    )
    result = extract(_page(article), "http://127.0.0.1/council")
    assert isinstance(result, Extracted), result
    assert result.text.split("\n\n") == [
        f"{LEDE}, the budget page says, after all.", MIDDLE, CLOSE,
    ]
    assert result.extractor["options"]["loose_text"] == "paragraphs"


def test_text_alone_in_a_container_is_left_as_it_is() -> None:
    tree = fromstring(f"<html><body><div>{LEDE} <b>and more</b></div></body></html>")
    assert paragraphs_of_loose_text(tree) == 0


_inline = st.sampled_from(["a", "em", "b", "span", "br"])
_block = st.sampled_from(["p", "div", "ul", "h2", "figure"])
_words = st.text(alphabet="abc xyz.,", max_size=15)


@st.composite
def _containers(draw: st.DrawFn) -> str:
    parts = [draw(_words)]
    for _ in range(draw(st.integers(0, 8))):
        tag = draw(st.one_of(_inline, _block))
        inner = "" if tag == "br" else draw(_words)
        parts.append(f"<{tag}>{inner}</{tag}>" if tag != "br" else "<br>")
        parts.append(draw(_words))
    container = draw(st.sampled_from(CONTAINERS))
    return f"<html><body><{container}>{''.join(parts)}</{container}></body></html>"


@settings(max_examples=200, deadline=None)
@given(_containers())
def test_text_keeps_its_order_and_nothing_is_left_loose(html: str) -> None:
    tree = fromstring(html)
    before = "".join(tree.itertext())
    paragraphs_of_loose_text(tree)
    assert "".join(tree.itertext()) == before
    for container in tree.iter(*CONTAINERS):
        if any(isinstance(c.tag, str) and c.tag in BLOCKS for c in container):
            loose = [container.text] + [c.tail for c in container if c.tag in BLOCKS]
            assert not any(t and any(ch.isalnum() for ch in t) for t in loose), html
