"""Items passed from the spider to the pipelines: small, no Response objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsarchive.extract import Discarded, Extracted
from newsarchive.records import Capture


@dataclass
class ArticlePage:
    """An article page as fetched; ``body`` is dropped once extraction is done."""

    capture: Capture
    body: bytes = field(repr=False)
    encoding: str | None
    language_hint: str | None = None
    drop_selectors: tuple[str, ...] = ()
    result: Extracted | Discarded | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # Scrapy logs dropped items: keep it one line
        return f"<ArticlePage {self.capture.url}>"
