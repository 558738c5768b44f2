"""The extractor's modes (fast | accurate), chunk joining, the fallback for short texts,
structured blocks the cleaner keeps, bylines, and the NEWSARCHIVE_EXTRACTOR setting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy.settings import Settings
from trafilatura.utils import load_html

from newsarchive.config import Config
from newsarchive.errors import ConfigError
from newsarchive.extract import chunks
from newsarchive.extract import extractor as extract_module
from newsarchive.extract.extractor import (
    Discarded,
    Extracted,
    ExtractOptions,
    _split_authors,
    extract,
)

DATA = Path(__file__).parent / "data"
REFERENCE_URL = "https://example-news.test/2020/09/27/downed-helicopter-nagorno-karabakh/"
FAST = ExtractOptions(mode="fast")
ACCURATE = ExtractOptions(mode="accurate")

SENTENCES = [
    "The city council approved the new budget on Tuesday evening after a long debate.",
    "Members argued for hours about the cost of repairing old school buildings in the north.",
    "The mayor said the plan would be reviewed again in June, when spending is known.",
    "Opposition members asked for an independent audit of the tram project before any money.",
    "Residents who attended the meeting said they hoped repairs would begin before winter.",
    "The transport authority will publish its own figures for the tram line next month.",
    "Teachers' unions welcomed the repairs but said the money would not cover new staff.",
    "A final vote on the tram project is expected after the summer recess, officials said.",
    "The council's finance chief warned that interest rates could raise the cost further.",
]


#: Paragraphs of two sentences: a chunk of three is long enough for trafilatura to stop
#: at it (a shorter first pass makes it search the whole page for loose text).
PARAGRAPHS = [f"{a} {b}" for a, b in zip(SENTENCES, SENTENCES[1:] + SENTENCES[:1], strict=True)]


def _ok(body: bytes | str, options: ExtractOptions = ACCURATE) -> Extracted:
    if isinstance(body, str):
        body = body.encode()
    result = extract(body, "https://x.test/2024/05/07/budget", None, options)
    assert isinstance(result, Extracted), result
    return result


def chunked_page(parts: list[list[str]]) -> str:
    """An article cut into same-class chunks, each in its own grid cell, ads between."""
    cells = []
    for i, paragraphs in enumerate(parts):
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        cells.append(
            f'<div class="grid"><div class="grid--item body body__container article-body">'
            f"{body}</div></div>"
        )
        if i < len(parts) - 1:
            cells.append('<div class="ad-slot"><span>Advertisement</span></div>')
    return (
        "<html><head><title>Council approves budget</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<main><article><h1>Council approves budget</h1>"
        f'<div class="article__chunks">{"".join(cells)}</div>'
        "</article></main><footer><p>Contact us</p></footer></body></html>"
    )


# --- modes on the reference article --------------------------------------------------------


def test_both_modes_give_the_reference_article_and_say_which_made_it() -> None:
    body = (DATA / "reference_article.html").read_bytes()
    fast = extract(body, REFERENCE_URL, None, FAST)
    accurate = extract(body, REFERENCE_URL, None, ACCURATE)
    assert isinstance(fast, Extracted) and isinstance(accurate, Extracted)
    assert fast.text == accurate.text  # a plain one-container article: nothing to redo
    assert fast.extractor["options"]["mode"] == "fast"
    assert accurate.extractor["options"]["mode"] == "accurate"
    assert fast.extractor["options"]["fallback_below"] is None
    assert accurate.extractor["options"]["fallback_below"] == extract_module.FALLBACK_BELOW
    assert accurate.extractor["options"]["fallback_used"] is False
    assert accurate.extractor["options"]["chunks_joined"] is False
    assert ExtractOptions().mode == "accurate"  # the default is the mode that meets the goal


def test_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="mode"):
        ExtractOptions(mode="thorough")


# --- chunk joining -------------------------------------------------------------------------


def test_an_article_split_into_chunks_is_joined_in_accurate_mode() -> None:
    page = chunked_page([PARAGRAPHS[:3], PARAGRAPHS[3:6], PARAGRAPHS[6:]])
    fast = _ok(page, FAST)
    accurate = _ok(page, ACCURATE)
    # trafilatura alone reads the first chunk only
    assert fast.text.split("\n\n") == PARAGRAPHS[:3]
    assert fast.extractor["options"]["chunks_joined"] is False
    assert accurate.text.split("\n\n") == PARAGRAPHS
    assert accurate.extractor["options"]["chunks_joined"] is True
    assert "Advertisement" not in accurate.text


def test_joined_leaves_the_page_alone_and_ignores_other_classes() -> None:
    page = chunked_page([PARAGRAPHS[:3], PARAGRAPHS[3:6]])
    tree = load_html(page)
    before = etree.tostring(tree)
    copy = chunks.joined(tree)
    assert copy is not None and copy is not tree
    assert etree.tostring(tree) == before  # the page itself is not changed
    bodies = copy.xpath('//div[contains(@class, "body__container")]')
    assert len(bodies) == 1 and len(bodies[0].findall("p")) == 6
    # one container, or containers of another class: nothing to join
    assert chunks.joined(load_html(chunked_page([PARAGRAPHS]))) is None
    other = page.replace("body__container article-body", "teaser-card", 1)
    assert chunks.joined(load_html(other)) is None


def test_chunks_are_searched_only_when_the_paragraphs_hold_much_more_than_the_text() -> None:
    tree = load_html(chunked_page([PARAGRAPHS[:3], PARAGRAPHS[3:6], PARAGRAPHS[6:]]))
    first_chunk = sum(len(p) for p in PARAGRAPHS[:3])
    assert chunks.may_be_missing(tree, first_chunk)  # a third of the paragraphs' text
    assert not chunks.may_be_missing(tree, sum(len(p) for p in PARAGRAPHS))


def test_a_joined_text_that_loses_what_the_plain_pass_found_is_not_taken() -> None:
    plain = ["First paragraph of the article.", "Second paragraph of the article."]
    assert extract_module._covers([*plain, "A third one, and more."], plain)
    assert not extract_module._covers(["Second paragraph of the article.", "x " * 40], plain)
    assert not extract_module._covers(plain, plain)  # not longer: nothing gained


# --- the fallback for short texts ----------------------------------------------------------


def test_a_short_first_pass_is_redone_with_the_fallbacks_in_accurate_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the fast pass finds only a scrap (here: made to keep one paragraph), accurate
    mode extracts again with trafilatura's fallbacks and keeps the longer text."""
    real = extract_module._main_text
    passes: list[bool] = []

    def short_fast_pass(*args, fast: bool):
        passes.append(fast)
        document, cleaned = real(*args, fast=fast)
        if fast:
            cleaned = replace(cleaned, blocks=cleaned.blocks[:1])
        return document, cleaned

    monkeypatch.setattr(extract_module, "_main_text", short_fast_pass)
    page = (
        "<html><body><article><h1>Council approves budget</h1>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES)
        + "</article></body></html>"
    )
    options = ExtractOptions(min_words=0)
    fast = _ok(page, replace(options, mode="fast"))
    assert passes == [True]
    assert fast.text == SENTENCES[0]
    passes.clear()
    accurate = _ok(page, options)
    assert passes == [True, False]
    assert accurate.text.split("\n\n") == SENTENCES
    assert accurate.extractor["options"]["fallback_used"] is True


def test_a_long_first_pass_is_not_redone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = extract_module._main_text
    passes: list[bool] = []

    def counted(*args, fast: bool):
        passes.append(fast)
        return real(*args, fast=fast)

    monkeypatch.setattr(extract_module, "_main_text", counted)
    _ok((DATA / "reference_article.html").read_bytes())
    assert passes == [True]


# --- blocks the cleaner keeps --------------------------------------------------------------


def test_a_numbered_ranking_is_not_taken_for_a_menu() -> None:
    countries = ["Finland", "Norway", "Australia", "Canada", "Germany", "France",
                 "United Kingdom", "Italy", "Spain", "United States"]
    ranking = "<p>" + "<br>".join(f"{i}. {c}" for i, c in enumerate(countries, 1)) + "</p>"
    page = (
        "<html><body><article><h1>Where the birth lottery matters</h1>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES[:4])
        + ranking
        + "".join(f"<p>{s}</p>" for s in SENTENCES[4:])
        + "</article></body></html>"
    )
    text = _ok(page).text
    assert "1. Finland" in text and "10. United States" in text
    sections = ["Sport", "Weather", "Travel", "Culture", "Opinion", "Science", "Health",
                "Money", "Style", "Food"]
    menu = page.replace(ranking, "<p>" + "<br>".join(countries + sections) + "</p>")
    assert "Finland" not in _ok(menu).text  # 20 such labels unnumbered are a menu


def test_a_code_block_keeps_its_punctuation_lines() -> None:
    code = "WITH series AS (\n  SELECT *\n  FROM unnest(array[2, 3, 5])\n)\nSELECT * FROM series;"
    page = (
        "<html><body><article><h1>Finding anomalies in SQL</h1>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES[:4])
        + f"<pre><code>{code}</code></pre>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES[4:])
        + "</article></body></html>"
    )
    text = _ok(page).text
    assert "\n)\n" in text  # a line holding only ")" is code, not a promo


# --- bylines -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, names", [
    ("Nathan Willis March", ["Nathan Willis"]),
    ("Laura June Topolsky July", ["Laura June Topolsky"]),
    ("Theresa May", ["Theresa May"]),
    ("Joe Wee Monday; February", ["Joe Wee"]),
    ("Jeffrey Gettleman; JEFFREY GETTLEMAN", ["Jeffrey Gettleman"]),
    ("STEVEN SOLOMON; Steven Solomon", ["Steven Solomon"]),
    ("Stella Kim; Jennifer Jett", ["Stella Kim", "Jennifer Jett"]),
    (None, []),
])
def test_bylines(raw: str | None, names: list[str]) -> None:
    assert _split_authors(raw) == names


# --- the setting ---------------------------------------------------------------------------


def _config(**values: object) -> Config:
    settings = Settings()
    settings.setmodule("newsarchive.settings")
    settings.set("NEWSARCHIVE_ARCHIVE", "/tmp/archive")
    for name, value in values.items():
        settings.set(name, value)
    return Config.from_settings(settings)


def test_extractor_setting_defaults_to_accurate_and_is_validated() -> None:
    assert _config().extractor == "accurate"
    assert _config(NEWSARCHIVE_EXTRACTOR="fast").extractor == "fast"
    assert _config(NEWSARCHIVE_EXTRACTOR=" Accurate ").extractor == "accurate"
    assert _config(NEWSARCHIVE_EXTRACTOR="fast").summary()["extractor"] == "fast"
    with pytest.raises(ConfigError, match="NEWSARCHIVE_EXTRACTOR must be fast or accurate") as e:
        _config(NEWSARCHIVE_EXTRACTOR="thorough")
    assert "\n" not in str(e.value)
    assert extract_module.MODES == ("fast", "accurate")  # what config.EXTRACTOR_MODES names


# --- never raises --------------------------------------------------------------------------

_TAGS = st.sampled_from(["div", "p", "article", "main", "section", "span", "pre", "code",
                         "table", "td", "li", "ul", "h2", "br",
                         # formulas, layout tables and loose text, read before trafilatura
                         "math", "mi", "annotation", "mjx-container", "tr", "tbody",
                         "center", "blockquote"])
_CLASSES = st.sampled_from(["article-body", "body__container article-body", "post-content",
                            "teaser", "", "article-body x", "katex", "MathJax_Display"])


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        tag, cls = draw(_TAGS), draw(_CLASSES)
        text = draw(st.text(max_size=80))
        closed = draw(st.booleans())
        parts.append(f'<{tag} class="{cls}">{text}' + (f"</{tag}>" if closed else ""))
    return "<html><body>" + "".join(parts) + draw(st.text(max_size=40)) + "</body></html>"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_pages())
def test_arbitrary_html_never_raises_in_either_mode(page: str) -> None:
    for options in (FAST, ACCURATE):
        result = extract(page.encode("utf-8", "surrogatepass"), "https://x.test/a", None,
                         options)
        assert isinstance(result, (Extracted, Discarded))
        if isinstance(result, Discarded):
            assert result.reason != "extractor-error", result.detail
    tree = load_html(page)
    if tree is not None:
        chunks.joined(tree)  # returns a copy or None, never raises
