"""The typed record the Python API yields: one archived article with its provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsarchive.corpus.schema import parse_time


@dataclass(frozen=True)
class WarcLocation:
    """Where the archived HTTP response sits: one range read gives its WARC record."""

    file: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None


@dataclass(frozen=True)
class Article:
    """A clean-text record with typed values (UTC datetimes, tuples of strings)."""

    id: str
    url: str
    canonical_url: str
    site: str
    fetched_at: datetime
    published: datetime | None
    modified: datetime | None
    title: str | None
    authors: tuple[str, ...]
    description: str | None
    sitename: str | None
    tags: tuple[str, ...]
    language: str | None
    language_probability: float | None
    text: str
    content_hash: str
    word_count: int
    crawl_id: str
    discovery: str | None
    http_status: int | None
    warc: WarcLocation
    extractor: dict[str, Any]
    schema: int = 1

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Article:
        warc = record.get("warc") or {}
        fetched = parse_time(record.get("fetched_at"))
        if fetched is None:
            raise ValueError(f"record {record.get('id')!r} has no valid fetched_at")
        return cls(
            id=record["id"],
            url=record["url"],
            canonical_url=record.get("canonical_url") or record["url"],
            site=record["site"],
            fetched_at=fetched,
            published=parse_time(record.get("published")),
            modified=parse_time(record.get("modified")),
            title=record.get("title"),
            authors=tuple(record.get("authors") or ()),
            description=record.get("description"),
            sitename=record.get("sitename"),
            tags=tuple(record.get("tags") or ()),
            language=record.get("language"),
            language_probability=record.get("language_probability"),
            text=record.get("text") or "",
            content_hash=record.get("content_hash") or "",
            word_count=int(record.get("word_count") or 0),
            crawl_id=record["crawl_id"],
            discovery=record.get("discovery"),
            http_status=record.get("http_status"),
            warc=WarcLocation(
                file=warc.get("file", ""),
                offset=int(warc.get("offset", 0)),
                length=int(warc.get("length", 0)),
                record_id=warc.get("record_id", ""),
                payload_digest=warc.get("payload_digest"),
            ),
            extractor=dict(record.get("extractor") or {}),
            schema=int(record.get("schema") or 1),
        )
