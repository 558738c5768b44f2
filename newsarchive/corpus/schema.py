"""The exported corpus schema: record fields, their Arrow types, and field selection.

One list of fields in the record contract's order serves every format: JSONL and CSV
keep the archive's values as they are (dates as ISO 8601 strings), Parquet gets typed
columns (timestamps in UTC, authors and tags as list<string>, ``warc`` as a struct).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from newsarchive.errors import ConfigError

TIMESTAMP = pa.timestamp("us", tz="UTC")

WARC_TYPE = pa.struct(
    [
        ("file", pa.string()),
        ("offset", pa.int64()),
        ("length", pa.int64()),
        ("record_id", pa.string()),
        ("payload_digest", pa.string()),
    ]
)
EXTRACTOR_TYPE = pa.struct(
    [
        ("name", pa.string()),
        ("version", pa.string()),
        ("options", pa.string()),  # JSON: its keys change with the extractor version
        ("boilerplate_removed", pa.int32()),
    ]
)

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("schema", pa.int16()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("site", pa.string()),
        ("fetched_at", TIMESTAMP),
        ("published", TIMESTAMP),
        ("modified", TIMESTAMP),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("description", pa.string()),
        ("sitename", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("language", pa.string()),
        ("language_probability", pa.float64()),
        ("text", pa.string()),
        ("content_hash", pa.string()),
        ("word_count", pa.int32()),
        ("crawl_id", pa.string()),
        ("discovery", pa.string()),
        ("http_status", pa.int16()),
        ("version", pa.int32()),  # the article's text version (edits give n+1)
        ("previous_id", pa.string()),
        ("warc", WARC_TYPE),
        ("extractor", EXTRACTOR_TYPE),
        ("quality", pa.string()),  # JSON: flags that may grow with the extractor
        ("rights", pa.string()),  # JSON: the publisher's signals (newsarchive.rights)
    ]
)
FIELDS: tuple[str, ...] = tuple(SCHEMA.names)
_TIME_FIELDS = frozenset({"fetched_at", "published", "modified"})


def select_fields(spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """The columns to export, in the order given; all of them when spec is empty."""
    if spec is None:
        return FIELDS
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [n for n in names if n]
    if not names:
        return FIELDS
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")
    seen: set[str] = set()
    return tuple(n for n in names if not (n in seen or seen.add(n)))


def arrow_schema(fields: Iterable[str]) -> pa.Schema:
    return pa.schema([SCHEMA.field(name) for name in fields])


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime; None when absent or odd.

    A bare date is midnight UTC; a time without an offset is taken as UTC.
    """
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def arrow_row(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """A record's values converted for the Arrow schema (only the chosen fields)."""
    row: dict[str, Any] = {}
    for name in fields:
        value = record.get(name)
        if name in _TIME_FIELDS:
            value = parse_time(value)
        elif name == "extractor" and isinstance(value, dict):
            value = {
                "name": value.get("name"),
                "version": value.get("version"),
                "options": json.dumps(value.get("options"), sort_keys=True)
                if value.get("options") is not None
                else None,
                "boilerplate_removed": value.get("boilerplate_removed"),
            }
        elif name in ("quality", "rights") and value is not None:
            value = json.dumps(value, sort_keys=True)
        row[name] = value
    return row


def flat_value(value: Any) -> Any:
    """A value for one CSV cell: lists and objects as JSON, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))
    return value
