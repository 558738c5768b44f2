"""The clean-text record: one JSON object per article capture, with full provenance.

Field order and names are the record contract documented in the README; a researcher
can go from any sentence back to the exact archived bytes via ``warc``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from newsarchive.extract.extractor import Extracted
from newsarchive.warc.writer import RecordLocation

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Capture:
    """What the crawl knows about a fetched article page, besides its HTML."""

    url: str
    canonical_url: str | None
    site: str
    fetched_at: str  # ISO 8601 UTC
    status: int
    crawl_id: str
    discovery: str
    warc: RecordLocation
    etag: str | None = None  # validators for the next run's conditional request
    last_modified: str | None = None
    # what the publisher allows, read from the page (newsarchive.rights.signals)
    rights: dict[str, Any] | None = None


def content_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_record(
    capture: Capture, result: Extracted, version: int = 1, previous_id: str | None = None
) -> dict[str, Any]:
    """``version`` counts the article's text versions in this archive (1 = first seen);
    ``previous_id`` is the id of the record it supersedes, so edits can be studied."""
    record_uuid = capture.warc.record_id.strip("<>").removeprefix("urn:uuid:")
    return {
        "id": record_uuid,
        "schema": SCHEMA_VERSION,
        "url": capture.url,
        "canonical_url": capture.canonical_url or capture.url,
        "site": capture.site,
        "fetched_at": capture.fetched_at,
        "published": result.published,
        "modified": result.modified,
        "title": result.title,
        "authors": list(result.authors),
        "description": result.description,
        "sitename": result.sitename,
        "tags": list(result.tags),
        "language": result.language,
        "language_probability": result.language_probability,
        "text": result.text,
        "content_hash": content_hash(result.text),
        "word_count": result.word_count,
        "version": version,
        "previous_id": previous_id,
        "crawl_id": capture.crawl_id,
        "discovery": capture.discovery,
        "http_status": capture.status,
        "warc": capture.warc.as_dict(),
        "rights": capture.rights,
        "extractor": {**result.extractor, "boilerplate_removed": result.boilerplate_removed},
        "quality": {**result.quality, "boilerplate_removed": result.boilerplate_removed},
    }
