"""One article and its provenance: find a record by id or URL, read its WARC record.

Lookup reads the text shards the manifests list (an id or URL says nothing about the
partition it sits in); the WARC record is then one range read of the archived file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from dataclasses import dataclass
from typing import Any

from newsarchive.corpus.reader import Archive
from newsarchive.errors import ConfigError, StorageError
from newsarchive.warc.encodings import decode_body
from newsarchive.warc.writer import http_head


def find(
    archive: Archive, ident: str, damaged: list[str] | None = None
) -> list[dict[str, Any]]:
    """Records whose id (or id prefix of 8+ characters), url or canonical_url match.

    A shard that cannot be read is skipped and named in ``damaged``: one bad shard of
    an old crawl must not hide every other article of the archive.
    """
    ident = ident.strip()
    if not ident:
        raise ConfigError("give an article id or URL")
    by_url = "://" in ident
    wanted = ident.strip("<>").removeprefix("urn:uuid:").lower()
    if not by_url and len(wanted) < 8:
        raise ConfigError(f"{ident!r}: give a full URL, or at least 8 characters of an id")
    if not by_url and not archive.all_extractions:
        # An id names one extraction, superseded or not: look in every one.
        archive = type(archive)(archive.store, archive.workers, all_extractions=True,
                                honour_takedowns=archive.honour_takedowns)
    matches = []
    for shard in archive.shards():
        try:
            records = list(archive.records(shards=[shard]))
        except (StorageError, OSError, EOFError, zlib.error) as e:
            if damaged is None:
                raise
            damaged.append(str(e) if isinstance(e, StorageError) else f"{shard.key}: {e}")
            continue
        for record in records:
            if by_url:
                hit = ident in (record.get("url"), record.get("canonical_url"))
            else:
                hit = str(record.get("id", "")).lower().startswith(wanted)
            if hit:
                matches.append(record)
    return sorted(matches, key=lambda r: r.get("fetched_at") or "")


@dataclass
class WarcRecord:
    warc_headers: list[tuple[str, str]]
    status_line: str
    http_headers: list[tuple[str, str]]
    http_header_bytes: bytes
    body: bytes  # as archived (still content-encoded when the server sent it so)
    digest_ok: bool | None


def _inflate(member: bytes) -> bytes:
    """One WARC record's bytes, from its gzip member (or as is, if not compressed)."""
    if not member.startswith(b"\x1f\x8b"):
        return member
    return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(member)


def read_warc(archive: Archive, record: dict[str, Any], decode: bool = False) -> WarcRecord:
    """The response record a text came from; ``decode`` undoes the Content-Encoding."""
    from warcio.archiveiterator import ArchiveIterator

    loc = record.get("warc") or {}
    try:
        chunk = archive.store.read_range(loc["file"], int(loc["offset"]), int(loc["length"]))
    except (KeyError, OSError) as e:
        raise StorageError(f"cannot read the WARC record of {record.get('id')}: {e}") from None
    try:
        warc = next(iter(ArchiveIterator(io.BytesIO(chunk))))
    except Exception as e:  # warcio raises assorted errors on bad bytes
        raise StorageError(
            f"{archive.uri}/{loc['file']} at {loc['offset']}: not a WARC record ({e})"
        ) from None
    body = warc.raw_stream.read()
    http = warc.http_headers
    digest = warc.rec_headers.get_header("WARC-Payload-Digest")
    digest_ok = None
    if digest and digest.startswith("sha1:"):
        actual = base64.b32encode(hashlib.sha1(body).digest()).decode()
        digest_ok = actual == digest.removeprefix("sha1:")
    if decode:
        body = decode_body(body, http.get_header("Content-Encoding") if http else None)
    return WarcRecord(
        warc_headers=list(warc.rec_headers.headers),
        status_line=f"{http.protocol} {http.statusline}" if http else "",
        http_headers=list(http.headers) if http else [],
        # the stored bytes: warcio's parsed headers, re-encoded, would not be
        http_header_bytes=http_head(_inflate(chunk)) if http else b"",
        body=body,
        digest_ok=digest_ok,
    )
