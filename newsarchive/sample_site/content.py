"""Loads the sample site's stories, boilerplate and locale data from package data.

The stories live as JSON under ``content/`` rather than in code so that they can be read
and edited as text, and so that the installed package carries them (pyproject's
``sample_site/content/**/*`` glob). The reference article is the verbatim fixture text;
its body is split from its boilerplate here and checked against the expected body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from .article import LANGUAGES, Article

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

REFERENCE_ID = "000_002ce271bc7acb85"
_PACKAGE = __name__.rpartition(".")[0]


@dataclass(frozen=True)
class Locale:
    """How one language writes dates on the page and names itself to Open Graph."""

    lang: str
    og_locale: str
    months: tuple[str, ...]
    date_format: str

    def format_datetime(self, when: datetime) -> str:
        return self.date_format.format(
            day=when.day, month=self.months[when.month - 1], year=when.year,
            time=f"{when:%H:%M}",
        )


def content_root() -> Traversable:
    return resources.files(_PACKAGE) / "content"


def static_root() -> Traversable:
    return resources.files(_PACKAGE) / "static"


def _read_json(node: Traversable) -> Any:
    return json.loads(node.read_text(encoding="utf-8"))


def _article(raw: dict[str, Any], lang: str) -> Article:
    data = dict(raw)
    data["lang"] = data.get("lang", lang)
    data["published"] = datetime.fromisoformat(data["published"])
    if data.get("modified"):
        data["modified"] = datetime.fromisoformat(data["modified"])
    return Article(**data)


def load_articles() -> list[Article]:
    """All authored stories (``content/articles/<lang>.json``), without the reference."""
    folder = content_root() / "articles"
    articles: list[Article] = []
    for node in sorted(folder.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".json"):
            doc = _read_json(node)
            articles.extend(_article(raw, doc["lang"]) for raw in doc["articles"])
    return articles


def _lines(node: Traversable) -> list[str]:
    return [line.strip() for line in node.read_text(encoding="utf-8").splitlines()]


def load_reference(read_more_prefix: str = "Read more:") -> Article:
    """The real article text laid into an ``Article``.

    First line is the headline; every other non-empty line is body unless it is listed in
    the ``.boilerplate.txt`` copy. The "Read more:" line becomes the inline teaser at the
    position it holds in the source; the other boilerplate lines become
    ``inline_boilerplate`` (rendered at the end of the article, where the source has them).
    """
    folder = content_root() / "reference"
    source = _lines(folder / f"{REFERENCE_ID}.txt")
    boilerplate = [ln for ln in _lines(folder / f"{REFERENCE_ID}.boilerplate.txt") if ln]
    expected = tuple(ln for ln in _lines(folder / f"{REFERENCE_ID}.expected-body.txt") if ln)
    meta = _read_json(folder / f"{REFERENCE_ID}.json")

    title, blocks = source[0], [ln for ln in source[1:] if ln]
    paragraphs: list[str] = []
    teaser: tuple[str, str] | None = None
    teaser_after = 2
    for block in blocks:
        if block not in boilerplate:
            paragraphs.append(block)
        elif block.startswith(read_more_prefix) and teaser is None:
            teaser = (block[len(read_more_prefix):].strip(), meta["teaser_href"])
            teaser_after = len(paragraphs)
    if tuple(paragraphs) != expected:
        raise ValueError(f"{REFERENCE_ID}: body split from boilerplate != expected body")
    promos = tuple(ln for ln in boilerplate if not ln.startswith(read_more_prefix))
    headings = set(meta.get("subheadings", ()))
    return Article(
        slug=meta["slug"],
        section=meta["section"],
        lang=meta["lang"],
        title=title,
        author=meta["author"],
        published=datetime.fromisoformat(meta["published"]),
        modified=datetime.fromisoformat(meta["modified"]) if meta.get("modified") else None,
        paragraphs=tuple(paragraphs),
        summary=meta["summary"],
        tags=tuple(meta.get("tags", ())),
        subheadings=tuple(i for i, p in enumerate(paragraphs) if p in headings),
        teaser=teaser,
        teaser_after=teaser_after,
        inline_boilerplate=promos,
        expected_body=expected,
    )


def load_boilerplate() -> dict[str, dict[str, str]]:
    """UI strings per language, keyed by role (``newsletter_heading``, ``nav_world``…)."""
    data: dict[str, dict[str, str]] = _read_json(content_root() / "boilerplate.json")
    missing = set(LANGUAGES) - set(data)
    if missing:
        raise ValueError(f"boilerplate.json lacks languages {sorted(missing)}")
    keys = set(data["en"])
    for lang, strings in data.items():
        if set(strings) != keys:
            raise ValueError(f"boilerplate.json[{lang}] keys differ from 'en'")
    return data


def load_locales() -> dict[str, Locale]:
    raw = _read_json(content_root() / "locales.json")
    return {
        lang: Locale(lang, v["og_locale"], tuple(v["months"]), v["date_format"])
        for lang, v in raw.items()
    }
