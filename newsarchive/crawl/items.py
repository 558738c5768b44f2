"""Items passed from the spider to the pipelines: small, no Response objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from newsarchive.archive.records import Capture
from newsarchive.extract.extractor import Discarded, Extracted


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


@dataclass
class PageMetadata:
    """What the crawler learnt from a page, for a WARC metadata record beside its response."""

    url: str
    record_id: str  # the response record it describes (WARC-Concurrent-To)
    date: str  # that record's WARC-Date
    crawl_id: str
    discovery: str  # how the URL was found: start, link, feed, sitemap, …
    outlinks: list[str] = field(default_factory=list, repr=False)
    redirected_from: list[str] = field(default_factory=list)
    rights: dict[str, Any] | None = None  # newsarchive.rights.signals.read_rights
    # A page requisite: the page that needed it, and the stylesheet or iframe that
    # embeds it when that is not the page itself (newsarchive.crawl.requisites).
    via: str | None = None
    embedded_in: str | None = None
    requisite: str | None = None  # its kind: stylesheet, image, font, …

    def warc_fields(self) -> list[tuple[str, str]]:
        fields = [("crawl-id", self.crawl_id), ("discovery", self.discovery)]
        if self.rights is not None:
            fields.append(("rights", json.dumps(self.rights, sort_keys=True)))
        if self.via:
            fields.append(("via", self.via))
        if self.embedded_in and self.embedded_in != self.via:
            fields.append(("embedded-in", self.embedded_in))
        if self.requisite:
            fields.append(("requisite", self.requisite))
        fields += [("redirected-from", url) for url in self.redirected_from]
        fields += [("outlink", url) for url in self.outlinks]
        # A field value is one line: a URL that still holds a line break is left out.
        return [(k, v) for k, v in fields if "\r" not in v and "\n" not in v]

    def __repr__(self) -> str:
        return f"<PageMetadata {self.url} ({len(self.outlinks)} outlinks)>"
