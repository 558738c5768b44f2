"""CDXJ indexes: one sorted index per WARC file, stored beside it.

A line per response, revisit and resource record: ``<SURT key> <14-digit timestamp>
<JSON>`` with the URL, MIME type, status, payload digest, and the record's offset and
length inside the WARC file (``filename`` is the WARC's base name, so the index works
from the folder the WARC is in — and in a pywb collection). Lines are produced by
webrecorder's cdxj-indexer (SURT keys from the ``surt`` package), the index pywb and
ReplayWeb.page read; this module only fixes which records go in and how it is named.
"""

from __future__ import annotations

import io
import json
import logging
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import surt
from cdxj_indexer.main import CDXJIndexer

logger = logging.getLogger(__name__)

# Metadata and request records are not replayable captures of a URL: leave them out,
# as pywb's own indexer does by default, so a lookup only finds what can be replayed.
INDEXED_RECORDS = ("response", "revisit", "resource")


def index_key(warc_key: str) -> str:
    """The index's key (or file name) for a WARC's: ``.warc.gz`` becomes ``.cdxj``."""
    if not warc_key.endswith(".warc.gz"):
        raise ValueError(f"not a .warc.gz key: {warc_key}")
    return warc_key.removesuffix(".warc.gz") + ".cdxj"


class _Indexer(CDXJIndexer):
    # Our own list: py-wacz appends "warcinfo" to cdxj-indexer's shared default.
    DEFAULT_RECORDS = list(INDEXED_RECORDS)

    def filter_record(self, record: Any) -> bool:
        return record.rec_type in INDEXED_RECORDS


def index_warc(warc: Path | BinaryIO, filename: str) -> str:
    """The CDXJ index of one WARC file (a path or a binary stream), sorted.

    ``filename`` is written into every line: the name the WARC will be found under.
    """
    out = io.StringIO()
    source = str(warc) if isinstance(warc, Path) else warc
    _Indexer(out, [source], sort=True, filename=filename).process_all()
    return out.getvalue()


def write_index(warc_path: Path) -> tuple[Path, int]:
    """Index a WARC file into ``<name>.cdxj`` beside it; returns (path, lines)."""
    text = index_warc(warc_path, warc_path.name)
    path = warc_path.with_name(index_key(warc_path.name))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full spool keeps no half index
        raise
    return path, text.count("\n")


def surt_key(url: str) -> str:
    """The sort-friendly key a URL is indexed under (SURT, as pywb computes it)."""
    return surt.surt(url)


@dataclass(frozen=True)
class Entry:
    """One index line."""

    urlkey: str
    timestamp: str
    fields: dict[str, Any]

    @property
    def url(self) -> str:
        return self.fields["url"]

    @property
    def filename(self) -> str:
        return self.fields["filename"]

    @property
    def offset(self) -> int:
        return int(self.fields["offset"])

    @property
    def length(self) -> int:
        return int(self.fields["length"])


def parse_line(line: str) -> Entry:
    """Parse one CDXJ line; ValueError if it is not ``key timestamp {json}``."""
    try:
        urlkey, timestamp, data = line.rstrip("\n").split(" ", 2)
        fields = json.loads(data)
    except ValueError:
        raise ValueError(f"not a CDXJ line: {line[:120]!r}") from None
    if not isinstance(fields, dict) or not timestamp.isdigit():
        raise ValueError(f"not a CDXJ line: {line[:120]!r}")
    return Entry(urlkey, timestamp, fields)


def parse_index(text: str) -> list[Entry]:
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def lookup(entries: list[Entry], url: str) -> list[Entry]:
    """The captures of url in a sorted index (exact SURT key match), oldest first."""
    key = surt_key(url)
    found = []
    for entry in entries[bisect_left(entries, key, key=lambda e: e.urlkey):]:
        if entry.urlkey != key:
            break
        found.append(entry)
    return found
