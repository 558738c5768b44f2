"""Tests for clean-text extraction: the reference article, bad input, languages, workers."""

from __future__ import annotations

import html
import json
import pickle
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import pytest

from newsarchive.extract.boilerplate import (
    classify,
    default_rules,
    filter_paragraphs,
    is_boilerplate,
    parse_rules,
)
from newsarchive.extract.extractor import (
    DISCARD_REASONS,
    Discarded,
    Extracted,
    ExtractOptions,
    count_words,
    decode_body,
    extract,
)
from newsarchive.extract.language import Language, detect_language, identify, normalize_hint

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
REFERENCE_URL = "https://example-news.test/2020/09/27/downed-helicopter-nagorno-karabakh/"
REFERENCE_TITLE = (
    "Downed helicopter and destroyed missile systems in Nagorno-Karabakh, US warned its citizens"
)


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


EXPECTED = _lines("000_002ce271bc7acb85.expected-body.txt")
BOILERPLATE = _lines("000_002ce271bc7acb85.boilerplate.txt")

# Short real-world-style paragraphs, one per language.
PARAGRAPHS = {
    "en": "The city council approved the new budget on Tuesday evening after a long debate "
    "about public transport and the cost of repairing old school buildings.",
    "de": "Der Stadtrat hat am Dienstagabend nach einer langen Debatte über den öffentlichen "
    "Nahverkehr und die Kosten für die Sanierung alter Schulgebäude den neuen Haushalt "
    "beschlossen.",
    "fr": "Le conseil municipal a adopté mardi soir le nouveau budget après un long débat sur "
    "les transports publics et le coût de la rénovation des vieilles écoles.",
    "es": "El ayuntamiento aprobó el martes por la noche el nuevo presupuesto tras un largo "
    "debate sobre el transporte público y el coste de reparar los viejos edificios escolares.",
    "ru": "Городской совет во вторник вечером утвердил новый бюджет после долгих споров об "
    "общественном транспорте и стоимости ремонта старых школьных зданий.",
}

# Second paragraphs so that the pages pass min_words.
MORE = {
    "en": "Opposition members said the plan did too little for families in the outer districts, "
    "where buses run only once an hour and several schools have closed in recent years.",
    "de": "Die Opposition kritisierte, der Plan tue zu wenig für Familien in den Außenbezirken, "
    "wo Busse nur einmal pro Stunde fahren und mehrere Schulen geschlossen wurden.",
    "fr": "L'opposition a estimé que le plan ne faisait pas assez pour les familles des quartiers "
    "périphériques, où les bus ne passent qu'une fois par heure.",
    "es": "La oposición criticó que el plan hace muy poco por las familias de los barrios "
    "periféricos, donde los autobuses pasan solo una vez por hora.",
    "ru": "Оппозиция заявила, что план слишком мало делает для семей на окраинах, где автобусы "
    "ходят раз в час, а несколько школ за последние годы закрылись.",
}

# Promos as publishers put them inside the article container, per language.
PROMOS = {
    "en": [
        "Read also: Council elections set for May",
        "Follow us on Facebook and Twitter!",
        "Sign up for our daily newsletter",
        "Advertisement",
        "Editorial team",
    ],
    "de": [
        "Lesen Sie auch: Kommunalwahl im Mai",
        "Folgen Sie uns auf Facebook und Instagram!",
        "Abonnieren Sie unseren Newsletter",
        "Anzeige",
        "Die Redaktion",
    ],
    "fr": [
        "À lire aussi : les élections municipales en mai",
        "Suivez-nous sur Twitter et Facebook",
        "Abonnez-vous à notre newsletter",
        "Publicité",
        "La rédaction",
    ],
    "es": [
        "Lee también: Las elecciones municipales serán en mayo",
        "Síguenos en Twitter y Facebook",
        "Suscríbete a nuestro boletín",
        "Publicidad",
        "Redacción",
    ],
    "ru": [
        "Читайте также: Выборы в городской совет пройдут в мае",
        "Подписывайтесь на наш Telegram-канал",
        "Реклама",
        "Редакция",
        "Мы используем файлы cookie, чтобы сайт работал лучше.",
    ],
}


def make_page(lang: str, title: str, paragraphs: list[str], promos: Sequence[str] = ()) -> str:
    """A small publisher page: nav, article with promos after the body, footer."""
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    promo = "\n".join(f"<p>{e(p)}</p>" for p in promos)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}</title></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/politics/">Politics</a></li>
<li><a href="/sport/">Sport</a></li></ul></nav>
<main><article>
<h1>{e(title)}</h1>
<div class="content">
{body}
{promo}
</div>
</article></main>
<footer><p>© 2024 Example Daily</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def reference() -> Extracted:
    result = extract((DATA / "reference_article.html").read_bytes(), REFERENCE_URL)
    assert isinstance(result, Extracted), result
    return result


# --- the reference article -----------------------------------------------------------------


def test_reference_body_is_exactly_the_expected_paragraphs(reference: Extracted) -> None:
    assert reference.text.split("\n\n") == EXPECTED
    assert REFERENCE_TITLE not in reference.text


def test_reference_has_no_boilerplate(reference: Extracted) -> None:
    for line in BOILERPLATE:
        assert line not in reference.text
    for fragment in ("Read more", "Follow us", "Subscribe", "Be a reporter", "Editorial team"):
        assert fragment not in reference.text
    for chrome in ("We use cookies", "Related posts", "All rights reserved", "Most read"):
        assert chrome not in reference.text


def test_reference_metadata(reference: Extracted) -> None:
    assert reference.title == REFERENCE_TITLE
    assert reference.authors == ["Boyko Nikolov"]
    assert reference.published == "2020-09-27T14:32:05+03:00"  # full datetime from JSON-LD
    assert reference.modified == "2020-09-27T18:05:41+03:00"
    assert reference.sitename == "BulgarianMilitary.com"
    assert reference.description and reference.description.startswith("Tensions between")
    assert reference.tags == ["Nagorno-Karabakh", "Azerbaijan", "Armenia"]
    assert reference.language == "en"
    assert reference.language_probability is not None and reference.language_probability > 0.9
    assert reference.word_count == count_words(reference.text) > 900
    assert reference.boilerplate_removed >= 2
    assert reference.extractor["name"] == "trafilatura"
    assert reference.extractor["version"]
    assert reference.extractor["options"]["boilerplate_rules"] == default_rules().fingerprint


def test_reference_boilerplate_lines_are_caught_by_the_filter_alone() -> None:
    # the published text with its promos, as a reader sees it
    source = _lines("000_002ce271bc7acb85.txt")[1:]  # without the headline
    kept, dropped = filter_paragraphs(source)
    assert kept == EXPECTED
    assert dropped == len(BOILERPLATE)


def test_without_filter_the_promos_survive_trafilatura() -> None:
    options = ExtractOptions(drop_boilerplate=False)
    result = extract((DATA / "reference_article.html").read_bytes(), REFERENCE_URL, None, options)
    assert isinstance(result, Extracted)
    assert result.boilerplate_removed == 0
    assert "Read more: 24/7" in result.text  # the filter is what removes it


def test_paragraphs_separated_by_double_br() -> None:
    paragraphs = [PARAGRAPHS["en"], MORE["en"], EXPECTED[2]]
    page = make_page("en", "Budget", []).replace(
        '<div class="content">',
        '<div class="content"><div class="text">'
        + "<br><br>\n".join(html.escape(p) for p in paragraphs)
        + "<br>Reporting by Ann Smith.</div>",
    )
    result = extract(page.encode(), "https://x.test/br")
    assert isinstance(result, Extracted), result
    assert result.text.split("\n\n") == [
        *paragraphs[:2],
        f"{paragraphs[2]}\nReporting by Ann Smith.",
    ]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \r\n\t  "])
def test_empty_body(body: bytes) -> None:
    assert extract(body, "https://x.test/") == Discarded("empty-body")


def test_binary_bytes() -> None:
    noise = random.Random(0).randbytes(20_000)
    result = extract(noise, "https://x.test/a.bin")
    assert isinstance(result, Discarded) and result.reason == "not-html"
    png = b"\x89PNG\r\n\x1a\n" + noise
    assert extract(png, "https://x.test/a.png") == Discarded("not-html", "png")
    nul = b"<html><body><p>text</p>\x00\x00\x00</body></html>"
    assert extract(nul, "https://x.test/").reason == "not-html"


def test_plain_text_is_not_html() -> None:
    result = extract(b'{"status": "ok", "items": []}', "https://x.test/api")
    assert result == Discarded("not-html", "no HTML markup")


def test_truncated_html_still_extracts() -> None:
    page = (DATA / "reference_article.html").read_bytes()
    cut = page[: page.index(EXPECTED[6].encode()) + 40]  # mid-paragraph, no closing tags
    result = extract(cut, REFERENCE_URL)
    assert isinstance(result, Extracted)
    for paragraph in EXPECTED[:6]:
        assert paragraph in result.text
    assert "Read more" not in result.text


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><div><<<>>></p></span><p <a href=>",
        b"<!DOCTYPE html><html><head><title>x</title></head><body></body></html>",
        b"<html>" + b"<div>" * 3000 + b"deep" + b"</div>" * 10,
        "<html><body><p>\ud800 lone surrogate</p></body></html>".encode("utf-8", "surrogatepass"),
    ],
)
def test_broken_html_is_discarded_not_raised(body: bytes) -> None:
    result = extract(body, "https://x.test/broken")
    assert isinstance(result, Discarded)
    assert result.reason in DISCARD_REASONS


def test_short_page_is_too_short() -> None:
    page = make_page("en", "Short note", ["The meeting was postponed until Friday."])
    result = extract(page.encode(), "https://x.test/short")
    assert isinstance(result, Discarded)
    assert result.reason == "too-short"
    relaxed = extract(page.encode(), "https://x.test/short", options=ExtractOptions(min_words=3))
    assert isinstance(relaxed, Extracted)


# --- decoding ------------------------------------------------------------------------------

FRENCH = [
    "Les élèves du lycée Molière ont déjà commencé à préparer la fête de fin d'année, "
    "qui aura lieu à la mi-juin dans la cour de l'établissement.",
    "Selon la directrice, près de trois cents familles sont attendues et une trentaine de "
    "bénévoles se relaieront pour tenir les stands, la buvette et l'accueil.",
]


def test_latin1_body_with_meta_charset() -> None:
    page = make_page("fr", "Fête de l'école", FRENCH).replace(
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">',
    )
    result = extract(page.encode("latin-1"), "https://x.test/fete")
    assert isinstance(result, Extracted), result
    assert "Les élèves du lycée Molière ont déjà commencé" in result.text
    assert "\ufffd" not in result.text
    assert result.extractor["encoding"] == "cp1252"
    assert result.language == "fr"


def test_http_encoding_wins_and_detection_is_the_fallback() -> None:
    page = make_page("fr", "Fête", FRENCH).replace('<meta charset="utf-8">', "")
    body = page.encode("cp1252")
    declared = extract(body, "https://x.test/fete", encoding="ISO-8859-1")
    assert isinstance(declared, Extracted) and "élèves" in declared.text
    guessed = extract(body, "https://x.test/fete")  # no header, no meta: not valid UTF-8
    assert isinstance(guessed, Extracted) and "élèves" in guessed.text


def test_decode_body_never_fails() -> None:
    assert decode_body(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>") == ("<p>café</p>", "utf-8")
    assert decode_body(b"<p>caf\xe9</p>", "no-such-codec")[0].startswith("<p>caf")
    text, codec = decode_body(b"<p>\xff\xfe\xfa broken</p>", "utf-8")
    assert "\ufffd" in text and codec == "utf-8"


# --- languages -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_detect_language(lang: str) -> None:
    language, probability = detect_language(PARAGRAPHS[lang])
    assert language == lang
    assert probability is not None and probability > 0.9


@pytest.mark.parametrize("lang", sorted(PROMOS))
def test_page_per_language_drops_its_promos(lang: str) -> None:
    page = make_page(lang, "Budget", [PARAGRAPHS[lang], MORE[lang]], PROMOS[lang])
    result = extract(page.encode(), f"https://x.test/{lang}/budget")
    assert isinstance(result, Extracted), result
    assert result.text == f"{PARAGRAPHS[lang]}\n\n{MORE[lang]}"
    assert result.language == lang
    assert result.boilerplate_removed == len(PROMOS[lang])  # each promo found, as one


def test_too_short_to_tell() -> None:
    assert detect_language("OK, 42.") == (None, None)
    assert detect_language("") == (None, None)


def test_hint_breaks_ties_only() -> None:
    ambiguous = "Hotel Restaurant Bar Taxi Pizza Radio Video Hotel Restaurant"
    top, probability = detect_language(ambiguous)
    assert probability is not None and probability < 0.7
    other = "es" if top != "es" else "it"
    assert detect_language(ambiguous, hint=f"{other}-XX")[0] == other
    assert detect_language(ambiguous, hint="ja")[0] == top  # not a candidate: ignored
    assert detect_language(PARAGRAPHS["de"], hint="en-US")[0] == "de"  # confident: hint ignored


def test_normalize_hint() -> None:
    assert normalize_hint("en-US") == "en"
    assert normalize_hint("de_DE") == "de"
    assert normalize_hint("zh-CN") == "zh-cn"
    assert normalize_hint("zh-Hant-TW") == "zh-tw"
    assert normalize_hint("") is None
    assert normalize_hint("x-default") is None


@pytest.mark.e2e
def test_detection_is_deterministic_within_and_across_processes() -> None:
    text = PARAGRAPHS["es"][:60]  # short text: langdetect's randomness shows most here
    first = detect_language(text)
    assert all(detect_language(text) == first for _ in range(5))
    code = (
        "import sys; from newsarchive.extract.language import detect_language; "
        "print(repr(detect_language(sys.argv[1])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, text],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == repr(first)


# --- boilerplate filter --------------------------------------------------------------------


def test_long_paragraph_mentioning_newsletter_is_kept() -> None:
    paragraph = (
        "The company said its newsletter, which reaches more than two million readers every "
        "week, would move behind a paywall next year; subscribers who follow the markets "
        "closely told us they would sign up for the paid tier anyway."
    )
    assert not is_boilerplate(paragraph)
    kept, dropped = filter_paragraphs([paragraph, "Subscribe to our newsletter"])
    assert kept == [paragraph] and dropped == 1


@pytest.mark.parametrize(
    "paragraph",
    [
        "Twitter said on Tuesday it would ban political ads. Facebook declined to comment.",
        "Download speeds doubled last year, the regulator said.",
        "Like our ancestors, we must adapt.",
        "Copyright infringement claims rose sharply in 2019.",
        "Register to vote by Friday, officials said.",
        "Die Redaktion der Zeitung hat den Bericht am Montag veröffentlicht.",
        "Read the statement below.",
        "“Follow the money,” the prosecutor told the jury on Monday.",
    ],
)
def test_news_sentences_are_not_boilerplate(paragraph: str) -> None:
    assert not is_boilerplate(paragraph)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Facebook Twitter WhatsApp E-Mail",
        "Share this article",
        "Tags: Armenia, Azerbaijan",
        "• See also: the full timeline",
        "Stay informed. Follow us on Telegram and subscribe to our newsletter.",
        "This website uses cookies to improve your experience.",
        "Wir verwenden Cookies, um Ihnen ein optimales Erlebnis zu bieten.",
        "Mehr zum Thema: Die Lage in Berlin",
        "Nous utilisons des cookies pour améliorer votre expérience.",
        "Te puede interesar: La crisis del agua",
        "Нашли опечатку? Выделите её и нажмите Ctrl+Enter",
    ],
)
def test_promos_are_boilerplate(paragraph: str) -> None:
    assert is_boilerplate(paragraph)


def test_rule_file_is_validated() -> None:
    limits = (
        "[limits]\nexact_max_chars = 1\nprefix_max_chars = 1\n"
        "promo_max_chars = 1\npromo_min_share = 0.5\n"
    )
    assert parse_rules(limits + "[xx]\nexact = ['a']\n").exact is not None
    with pytest.raises(ValueError, match=r"\[xx\]"):
        parse_rules(limits + "[xx]\nexcat = ['a']\n")
    with pytest.raises(ValueError, match="bad pattern"):
        parse_rules(limits + "[xx]\nprefix = ['(']\n")
    with pytest.raises(ValueError, match="cta"):
        parse_rules(limits + "[xx]\ncta = ['follow us']\n")


# --- options -------------------------------------------------------------------------------


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="exclusive"):
        ExtractOptions(favor_precision=True, favor_recall=True)
    with pytest.raises(ValueError, match="selector"):
        ExtractOptions(extra_drop_selectors=("div[",))
    with pytest.raises(ValueError, match="selector"):
        ExtractOptions(extra_drop_selectors=("//div[",))


def test_extra_drop_selectors() -> None:
    page = make_page("en", "Budget", [PARAGRAPHS["en"], MORE["en"]]).replace(
        f"<p>{html.escape(MORE['en'])}</p>",
        f'<div class="inline-box"><p>{html.escape(MORE["en"])}</p></div>',
    )
    base = ExtractOptions(min_words=5)
    assert MORE["en"] in extract(page.encode(), "https://x.test/", options=base).text
    for selector in ("div.inline-box", "//div[@class='inline-box']"):
        options = replace(base, extra_drop_selectors=(selector,))
        result = extract(page.encode(), "https://x.test/", options=options)
        assert isinstance(result, Extracted)
        assert MORE["en"] not in result.text and PARAGRAPHS["en"] in result.text
        assert result.extractor["options"]["extra_drop_selectors"] == [selector]


# --- workers ---------------------------------------------------------------------------------


def test_results_and_options_pickle(reference: Extracted) -> None:
    options = ExtractOptions(favor_precision=True, extra_drop_selectors=(".ad",), min_words=5)
    for value in (reference, Discarded("too-short", "3 words < 30"), options):
        assert pickle.loads(pickle.dumps(value)) == value


def test_extract_runs_in_a_process_pool(reference: Extracted) -> None:
    body = (DATA / "reference_article.html").read_bytes()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(extract, body, REFERENCE_URL),
            pool.submit(extract, b"", "https://x.test/"),
        ]
        remote, empty = (f.result(timeout=60) for f in futures)
    assert remote == reference  # same text, metadata and language probability
    assert empty == Discarded("empty-body")


# --- the bundled sample site -----------------------------------------------------------------


def _fetch(url: str) -> tuple[bytes, str | None]:
    """Body and charset of ``url``, error pages included."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read(), response.headers.get_content_charset()
    except urllib.error.HTTPError as error:
        return error.read(), error.headers.get_content_charset()


@pytest.mark.e2e
def test_sample_site_articles() -> None:
    from newsarchive.sample_site import SampleSite

    with SampleSite() as site:
        assert site.articles
        for article in site.articles:
            url = site.url(article.path)
            body, charset = _fetch(url)
            result = extract(body, url, charset)
            assert isinstance(result, Extracted), (url, result)
            for paragraph in article.paragraphs:
                assert paragraph in result.text, (url, paragraph)
            lines = {line.strip() for line in result.text.splitlines()}
            for boilerplate in site.page_boilerplate(article):
                assert boilerplate not in lines, (url, boilerplate)
                # short UI labels ("Sport") may occur inside a sentence; longer ones may not
                assert len(boilerplate) < 30 or boilerplate not in result.text, (url, boilerplate)
            assert result.language == article.lang, url
            assert result.title == article.title, url
            assert result.authors == [article.author], url
            assert result.published == article.published.isoformat(), url
            if article.expected_body is not None:
                assert result.text.split("\n\n") == list(article.expected_body), url

        odd = {
            kind: extract(*_fetch(site.url(path)), site.url(path))
            for kind, path in {**site.BROKEN_PATHS, "pdf": site.PDF_PATH}.items()
        }
    assert odd["binary"].reason == "not-html"
    assert odd["empty"] == Discarded("empty-body")
    assert odd["pdf"] == Discarded("not-html", "pdf")
    # the broken page's unclosed <title> would swallow the whole story without the repair
    assert isinstance(odd["broken_html"], Extracted)
    assert odd["broken_html"].text.startswith("The row over the city council's budget")


# --- structured data, page chrome and quality flags -------------------------------------------

BODY = [PARAGRAPHS["en"], MORE["en"], EXPECTED[2], EXPECTED[3]]


def structured_page(
    paragraphs: Sequence[str] = BODY,
    *,
    head: str = "",
    before: str = "",
    after: str = "",
    json_ld: dict | None = None,
) -> bytes:
    """A publisher page with optional JSON-LD and markup before/after the body."""
    e = html.escape
    script = (
        f'<script type="application/ld+json">{json.dumps(json_ld)}</script>' if json_ld else ""
    )
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Council approves budget | Example Daily</title>
<meta property="og:title" content="Council approves budget">
<meta property="og:description" content="A long debate ends with a vote on Tuesday evening.">
{head}{script}</head>
<body><nav><a href="/">Home</a> <a href="/news/">News</a></nav>
<main><article>
<h1>Council approves budget</h1>
<div class="content">
{before}
{body}
{after}
</div></article></main>
<footer><p>© 2024 Example Daily</p></footer>
</body></html>""".encode()


def _extract_ok(page: bytes, **options: object) -> Extracted:
    result = extract(page, "https://x.test/2024/05/07/budget", None, ExtractOptions(**options))
    assert isinstance(result, Extracted), result
    return result


def test_quality_flags_of_a_plain_article() -> None:
    result = _extract_ok(structured_page())
    assert result.text.split("\n\n") == BODY
    assert result.quality == {
        "short_body": False,
        "likely_paywall": False,
        "likely_truncated": False,
        "jsonld_agreement": None,
    }
    assert result.extractor["text_source"] == "trafilatura"
    assert result.extractor["language_source"] == "text"
    assert result.extractor["options"]["fast"] is True


def test_short_body_flag() -> None:
    result = _extract_ok(structured_page(BODY[:1]), min_words=5)
    assert result.quality["short_body"] is True


def test_json_ld_body_agreement_is_recorded() -> None:
    article = {"@context": "https://schema.org", "@type": "NewsArticle",
               "headline": "Council approves budget", "articleBody": "\n\n".join(BODY)}
    result = _extract_ok(structured_page(json_ld=article))
    assert result.quality["jsonld_agreement"] == 1.0
    assert result.extractor["text_source"] == "trafilatura"


def test_json_ld_body_replaces_a_page_that_shows_only_the_first_paragraphs() -> None:
    # A script-rendered page: the visible HTML holds the first two paragraphs, the JSON-LD
    # the whole article (HTML entities and <p> tags included, as publishers write it).
    full = [*BODY, *EXPECTED[4:8]]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in full)
    article = {"@type": ["NewsArticle"], "articleBody": body}
    result = _extract_ok(structured_page(BODY[:2], json_ld={"@graph": [article]}))
    assert result.extractor["text_source"] == "json-ld"
    assert result.text.split("\n\n") == full
    assert result.quality["jsonld_agreement"] == 1.0
    # without the structured body the same page gives its two paragraphs
    assert _extract_ok(structured_page(BODY[:2])).text.split("\n\n") == BODY[:2]


def test_a_short_json_ld_teaser_is_not_compared() -> None:
    article = {"@type": "NewsArticle", "articleBody": BODY[0][:80] + "…"}
    result = _extract_ok(structured_page(json_ld=article))
    assert result.quality["jsonld_agreement"] is None
    assert result.text.split("\n\n") == BODY


def test_paywall_is_flagged_from_structured_data_and_from_the_notice() -> None:
    locked = {"@type": "NewsArticle", "isAccessibleForFree": "False"}
    result = _extract_ok(structured_page(json_ld=locked))
    assert result.quality["likely_paywall"] is True
    assert result.quality["likely_truncated"] is True

    notice = "<p>Subscribe to continue reading.</p><p>Already a subscriber? Log in</p>"
    result = _extract_ok(structured_page(after=notice))
    assert result.text.split("\n\n") == BODY
    assert result.quality["likely_paywall"] is True
    assert result.boilerplate_removed == 2


def test_declared_word_count_flags_truncation() -> None:
    result = _extract_ok(structured_page(json_ld={"@type": "NewsArticle", "wordCount": "2400"}))
    assert result.quality["likely_truncated"] is True
    assert result.quality["likely_paywall"] is False


def test_standfirst_heading_is_dropped_but_a_lede_paragraph_is_kept() -> None:
    dek = "A long debate ends with a vote on Tuesday evening."
    result = _extract_ok(structured_page(before=f"<h2>{dek}</h2>"))
    assert result.text.split("\n\n") == BODY
    # the same sentence as the first paragraph is the lede: it stays
    result = _extract_ok(structured_page([dek, *BODY]))
    assert result.text.split("\n\n") == [dek, *BODY]


def test_headline_with_site_name_and_page_url_are_not_body_text() -> None:
    before = (
        "<p>Council approves budget | Example Daily</p>"
        "<p>https://x.test/2024/05/07/budget</p>"
    )
    result = _extract_ok(structured_page(before=before))
    assert result.text.split("\n\n") == BODY


def test_menu_flattened_into_the_body_is_dropped() -> None:
    menu = "<p>" + "<br>".join(f"Section {i}" for i in range(24)) + "</p>"
    result = _extract_ok(structured_page(before=menu))
    assert result.text.split("\n\n") == BODY
    assert result.boilerplate_removed == 24


@pytest.mark.parametrize("items", [
    ["2 eggs", "1 cup flour", "200 g butter", "1 tsp salt", "3 apples", "1 lemon",
     "2 tbsp sugar", "100 ml milk", "1 pinch cinnamon", "50 g almonds", "1 vanilla pod"],
    ["Manuel Neuer", "Joshua Kimmich", "Antonio Rüdiger", "Jonathan Tah", "David Raum",
     "Robert Andrich", "Jamal Musiala", "Florian Wirtz", "Kai Havertz", "Leroy Sané",
     "İlkay Gündoğan", "Thomas Müller"],
])
def test_a_list_in_the_article_is_no_menu(items: list[str]) -> None:
    """A recipe's ingredients, a team's line-up: short unclosed lines, but fewer than a
    site's menu has (``NAV_RUN``); with 10 they were dropped as navigation."""
    block = "<h2>What you need</h2><ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>"
    result = _extract_ok(structured_page(after=block))
    assert all(item in result.text for item in items)


def test_chrome_before_an_in_text_headline_is_dropped() -> None:
    chrome = "<p>Home<br>Politics<br>Local news, weather<br>Council approves budget</p>"
    result = _extract_ok(structured_page(before=chrome))
    assert result.text.split("\n\n") == BODY


def test_teasers_after_a_related_heading_are_dropped() -> None:
    teasers = (
        "<h3>Related stories</h3>"
        "<p>Mayor unveils plan for new tram line</p>"
        "<p>Why the school repairs keep getting delayed</p>"
    )
    closing = "The council will meet again in June to review the first quarter's spending."
    result = _extract_ok(structured_page([*BODY[:2], *BODY[2:], closing], after=""))
    assert closing in result.text
    page = structured_page(BODY, after=teasers + f"<p>{closing}</p>")
    result = _extract_ok(page)
    assert result.text.split("\n\n") == [*BODY, closing]
    assert result.boilerplate_removed == 3


def test_language_falls_back_to_the_declared_one() -> None:
    georgian = "ႠႡႢႣႤႥႦႧႨႩႪႫႬႭႮႯႰႱႲႳႴႵႶႷႸႹႺႻ ႼႽႾႿჀჁჂჃჄჅ"
    assert identify(georgian, ["ka-GE"]) == Language("ka", None, "declared")
    assert identify(georgian) == Language(None, None, None)
    ambiguous = "Hotel Restaurant Bar Taxi Pizza Radio Video Hotel Restaurant"
    assert identify(ambiguous, [None, "it-IT"]).source == "hint"
    assert identify(PARAGRAPHS["de"], ["en"]).source == "text"
    assert identify("OK, 42.", ["en"]) == Language(None, None, None)  # too short to tell


def test_rule_file_refuses_upper_case_and_unanchored_paywall_patterns() -> None:
    limits = (
        "[limits]\nexact_max_chars = 1\nprefix_max_chars = 1\n"
        "promo_max_chars = 1\npromo_min_share = 0.5\n"
    )
    with pytest.raises(ValueError, match="lower case"):
        parse_rules(limits + "[xx]\nexact = ['Advert']\n")
    assert parse_rules(limits + "[xx]\nexact = ['\\Sadvert']\n").exact is not None
    with pytest.raises(ValueError, match="paywall"):
        parse_rules(limits + "[xx]\npaywall = ['subscribers only']\n")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Related stories", "section"),
        ("Don't miss", "section"),
        ("Lesen Sie auch", "promo"),
        ("Subscribe to continue reading", "paywall"),
        ("Cet article est réservé aux abonnés.", "paywall"),
        ("Este contenido es exclusivo para suscriptores", "paywall"),
        ("Материал доступен только по подписке", "paywall"),
        ("Follow us on Twitter @example and on Facebook.", "promo"),
        ("Copyright Example Daily 2024 - ISSN 1234", "promo"),
        ("Copyright infringement claims rose sharply in 2019.", None),
        ("Leia também: a nova linha de metrô", "promo"),
        ("Seguici su Facebook", "promo"),
    ],
)
def test_classify(line: str, kind: str | None) -> None:
    assert classify(line) == kind


def test_record_carries_the_quality_object(reference: Extracted) -> None:
    from newsarchive.archive.records import Capture, build_record
    from newsarchive.warc.writer import RecordLocation

    location = RecordLocation("warc/x.warc.gz", 0, 10, "<urn:uuid:1>", None, "2024-05-07T10:00:00Z")
    capture = Capture(REFERENCE_URL, None, "x", "2024-05-07T10:00:00Z", 200, "c", "link", location)
    record = build_record(capture, reference)
    assert record["quality"]["boilerplate_removed"] == reference.boilerplate_removed
    assert record["quality"]["short_body"] is False
    assert record["extractor"]["text_source"] == "trafilatura"


# --- slideshows -----------------------------------------------------------------------------


def _gallery(total: int, shown: int, form: str = "{k}/{total}") -> str:
    items = "".join(
        f"<li><h2>{form.format(k=k, total=total)} Story number {k} of the day</h2>"
        f"<p>What happened in the markets today, in two sentences of text. More of it.</p></li>"
        for k in range(1, shown + 1)
    )
    return f'<ul class="legends">{items}</ul>'


@pytest.mark.parametrize("form", ["{k}/{total}", "{k} of {total}", "{k} / {total}"])
def test_a_slideshows_captions_are_dropped(form: str) -> None:
    result = _extract_ok(structured_page(after=_gallery(12, 6, form)))
    assert "Story number" not in result.text
    assert result.text.split("\n\n")[: len(BODY)] == BODY


@pytest.mark.parametrize(
    "lines",
    [
        # a recipe's fractions and a table of scores: no total repeated by running counts
        ["1/2 tsp ground cloves", "1/4 cup sugar", "3/4 cup flour", "1/3 cup milk"],
        ["23/16 in the first round", "74/60 in the second", "14/7 in the third"],
        # two slides are no slideshow
        ["1/8 The first picture of the day", "2/8 The second picture of the day"],
        # a critic's ratings, and dates on one day of several months
        ["7/10 The Bear, season three", "8/10 Severance", "9/10 Shogun", "6/10 Fallout"],
        ["1/15 The council meets", "2/15 Budget hearing", "3/15 Vote on the budget"],
    ],
)
def test_counted_lines_that_are_no_slideshow_stay(lines: list[str]) -> None:
    after = "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"
    result = _extract_ok(structured_page(after=after))
    for line in lines:
        assert line in result.text


# --- scripts without spaces ---------------------------------------------------------------

_SENTENCES = {
    "zh": "这是第{i}段新闻内容，讲述了城市议会在周二就预算问题进行投票的经过和各方的反应。",
    "ja": "これは第{i}段落の記事本文で、市議会が火曜日に予算案を可決した経緯を説明しています。",
    "ko": "이것은 기사의 {i}번째 문단으로, 시의회가 화요일에 예산안을 통과시킨 과정을 설명합니다.",
    "hi": "यह लेख का अनुच्छेद {i} है जो परिषद के बजट मतदान के बारे में विस्तार से बताता है।",
}


@pytest.mark.parametrize("form", ["br", "ul"])
@pytest.mark.parametrize("language", sorted(_SENTENCES))
def test_sentences_without_spaces_are_no_menu(language: str, form: str) -> None:
    """Twelve Chinese sentences in a list are text: words are counted per character, and
    "。" closes a sentence (before, they were taken for a menu and dropped, silently)."""
    lines = [_SENTENCES[language].format(i=i) for i in range(1, 13)]
    block = ("<p>" + "<br>".join(lines) + "</p>" if form == "br"
             else "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>")
    result = _extract_ok(structured_page(after=block))
    for line in lines:
        assert line in result.text


def test_a_menu_in_chinese_is_still_a_menu() -> None:
    menu = ["首页", "新闻", "体育", "财经", "娱乐", "科技", "汽车", "房产", "旅游", "教育", "健康",
            "国际", "军事", "文化", "时尚", "游戏", "读书", "视频", "图片", "专题", "评论", "天气"]
    block = "<ul>" + "".join(f"<li>{entry}</li>" for entry in menu) + "</ul>"
    result = _extract_ok(structured_page(after=block))
    assert not any(entry in result.text for entry in menu)
    assert result.text.split("\n\n")[: len(BODY)] == BODY
