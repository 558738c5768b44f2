"""The story record the sample site publishes.

An article is one frozen value so that a test can hold the exact thing that was served
and compare it with what the crawler archived; the site never mutates an article in
place, it replaces it (see ``SampleSite.edit_article``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "ru")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Article:
    """One published story.

    ``paragraphs`` is the clean body a text extractor should recover, in order; entries
    whose index is in ``subheadings`` are rendered as ``<h2>`` sub-headings.
    ``inline_boilerplate`` holds article-specific promo lines that the page shows inside
    the article container (the reference article's "Follow us everywhere…" and friends);
    they are not part of the body. ``teaser`` overrides the inline "Read more:" link
    (text, href) that the template places after paragraph ``teaser_after``; when it is
    ``None`` the site links another story in the same language. ``body_links`` wraps a
    phrase of a paragraph in a link: ``(phrase, href)``. ``syndication_id`` is shared by
    copies of the same agency story.
    """

    slug: str
    section: str
    lang: str
    title: str
    author: str
    published: datetime
    modified: datetime | None = None
    paragraphs: tuple[str, ...] = ()
    summary: str = ""
    tags: tuple[str, ...] = ()
    subheadings: tuple[int, ...] = ()
    body_links: tuple[tuple[str, str], ...] = ()
    teaser: tuple[str, str] | None = None
    teaser_after: int = 2
    inline_boilerplate: tuple[str, ...] = ()
    expected_body: tuple[str, ...] | None = None
    syndication_id: str | None = None
    # What a publisher states about the page's use (newsarchive.rights): raw tags added to
    # its <head> (robots/tdm meta, rel=license, JSON-LD) and extra response headers.
    head_extra: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Accept lists from callers and JSON, store tuples so the value stays hashable.
        object.__setattr__(self, "headers", tuple(tuple(x) for x in self.headers))
        for name in ("paragraphs", "tags", "subheadings", "inline_boilerplate", "head_extra"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "body_links", tuple(tuple(x) for x in self.body_links))
        if self.teaser is not None:
            object.__setattr__(self, "teaser", tuple(self.teaser))
        if self.expected_body is not None:
            object.__setattr__(self, "expected_body", tuple(self.expected_body))
        if not _SLUG.fullmatch(self.slug):
            raise ValueError(f"article slug {self.slug!r} must be lowercase words joined by '-'")
        if self.lang not in LANGUAGES:
            raise ValueError(f"article {self.slug}: lang {self.lang!r} not in {LANGUAGES}")
        if not self.title.strip() or not self.paragraphs:
            raise ValueError(f"article {self.slug}: needs a title and at least one paragraph")
        for name in ("published", "modified"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"article {self.slug}: {name} must be timezone-aware")

    @property
    def path(self) -> str:
        """URL path, dated by the publication day in the article's own time zone."""
        return f"/news/{self.published:%Y/%m/%d}/{self.slug}.html"

    @property
    def updated(self) -> datetime:
        """Last change: ``modified`` if set, else ``published``."""
        return self.modified or self.published

    @property
    def text(self) -> str:
        """The clean body: paragraphs and sub-headings separated by blank lines."""
        return "\n\n".join(self.paragraphs)
