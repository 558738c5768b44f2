"""Formulas reach the clean text: the MathML of MathJax 3, MathJax 2 and KaTeX becomes
text (without its TeX source or visual copy); a formula the page hides is left out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.html import fromstring

from newsarchive.extract.extractor import Extracted, extract
from newsarchive.extract.mathml import formulas_as_text

MATHML = (
    '<math xmlns="http://www.w3.org/1998/Math/MathML"><semantics><mrow><mi>a</mi>'
    "<mo>≠</mo><mn>0</mn></mrow><annotation encoding=\"application/x-tex\">a \\neq 0"
    "</annotation></semantics></math>"
)
PROSE = (
    "<p>The quadratic formula is one of the first results a pupil meets in algebra, "
    "and it is worth stating the condition under which it applies with some care.</p>"
    "<p>Teachers tend to repeat it many times, because the condition matters for what "
    "follows in the rest of the chapter, and because pupils forget it quickly.</p>"
)


def _page(formula: str) -> bytes:
    return (
        "<html><head><title>Formulas</title></head><body><article><h1>Formulas</h1>"
        f"{PROSE}<p>The formula holds when {formula}, which the chapter assumes from "
        "here on, in every example that follows.</p>"
        f"{PROSE}</article></body></html>"
    ).encode()


def _text(formula: str) -> str:
    result = extract(_page(formula), "http://127.0.0.1/formulas")
    assert isinstance(result, Extracted), result
    return result.text


def test_mathjax3_formula_is_read_once_without_its_glyphs() -> None:
    formula = (
        '<mjx-container class="MathJax" jax="CHTML"><mjx-math aria-hidden="true">'
        '<mjx-mi><mjx-c class="mjx-c1D44E"></mjx-c></mjx-mi></mjx-math>'
        f"<mjx-assistive-mml>{MATHML}</mjx-assistive-mml></mjx-container>"
    )
    text = _text(formula)
    assert "holds when a ≠ 0 , which" in text
    assert "neq" not in text  # the TeX source is not text


def test_katex_formula_drops_the_visual_copy() -> None:
    formula = (
        f'<span class="katex"><span class="katex-mathml">{MATHML}</span>'
        '<span class="katex-html" aria-hidden="true"><span class="mord">a</span>'
        '<span class="mrel">≠</span><span class="mord">0</span>GLYPHS</span></span>'
    )
    text = _text(formula)
    assert "a ≠ 0" in text
    assert "GLYPHS" not in text and "neq" not in text


def test_mathjax2_formula() -> None:
    formula = (
        '<span class="MathJax_Preview"></span><span class="MathJax"><nobr>GLYPHS</nobr>'
        f'<span class="MJX_Assistive_MathML">{MATHML}</span></span>'
        '<script type="math/tex">a \\neq 0</script>'
    )
    text = _text(formula)
    assert "a ≠ 0" in text and "GLYPHS" not in text


def test_displayed_formula_is_a_paragraph_of_its_own() -> None:
    tree = fromstring(
        "<html><body><div><p>Before.</p>"
        f'<mjx-container display="true"><mjx-assistive-mml>{MATHML}</mjx-assistive-mml>'
        "</mjx-container>After.</div></body></html>"
    )
    assert formulas_as_text(tree) == 1
    (paragraph,) = tree.xpath("//div/p[2]")
    assert paragraph.text == "a ≠ 0" and paragraph.tail == "After."


def test_formula_hidden_by_the_page_is_left_to_go() -> None:
    """MediaWiki hides its MathML and shows an image: a reader saw no formula text."""
    formula = (
        '<span class="mwe-math-element"><span class="mwe-math-mathml-inline" '
        f'style="display: none;">{MATHML}</span><img alt="a \\neq 0" src="f.svg"></span>'
    )
    text = _text(formula)
    assert "≠" not in text
    assert "The formula holds when" in text


def test_formula_is_recorded_in_the_extractor_options() -> None:
    result = extract(_page(MATHML), "http://127.0.0.1/formulas")
    assert isinstance(result, Extracted)
    assert result.extractor["options"]["formulas"] == "mathml-text"


_words = st.text(alphabet="abcdefgh xyz", min_size=1, max_size=12)


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A body of paragraphs, some holding formulas in the renderers' wrappers (nested
    ones too), and the words outside every formula."""
    parts, words = [], []
    for _ in range(draw(st.integers(1, 6))):
        before, after = draw(_words), draw(_words)
        words += [before.strip(), after.strip()]
        inner = f"<math><mi>{draw(_words)}</mi>" + draw(st.sampled_from(
            ["", "<math><mn>1</mn></math>", "<annotation>x</annotation>"])) + "</math>"
        wrapper = draw(st.sampled_from([
            "{m}", '<span class="katex">{m}</span>', "<mjx-container>{m}</mjx-container>",
            '<span class="MathJax"><span class="MJX_Assistive_MathML">{m}</span></span>',
            '<span style="display:none">{m}</span>',
        ]))
        parts.append(f"<p>{before}{wrapper.format(m=inner)}{after}</p>")
    return f"<html><body>{''.join(parts)}</body></html>", [w for w in words if w]


@settings(max_examples=150, deadline=None)
@given(_documents())
def test_words_outside_formulas_are_kept(document: tuple[str, list[str]]) -> None:
    html, words = document
    tree = fromstring(html)
    formulas_as_text(tree)
    text = " ".join(tree.itertext())
    for word in words:
        for token in word.split():
            assert token in text
    # no TeX source left in a replaced formula (a hidden one is left as it was)
    assert not tree.xpath("//annotation[not(ancestor::*[contains(@style, 'none')])]")
    etree.tostring(tree)  # still a tree that serialises
