"""A copy of a WARC file without the records of some URLs (for packages, never in place).

The archive's WARC files are immutable; an output that must leave captures out (a WACZ
without the articles on the takedown list) gets a copy of each file holding every other
record byte for byte, each still its own gzip member, so offsets in any index built from
the copy are right and payload digests unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def copy_without(source: Path, target: Path, drop: Callable[[str], bool]) -> int:
    """Copy source to target leaving out records whose WARC-Target-URI drop() accepts;
    returns how many records were left out (records without a target URI are kept)."""
    spans: list[tuple[int, int]] = []
    dropped = 0
    with open(source, "rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            url = record.rec_headers.get_header("WARC-Target-URI")
            record.content_stream().read()  # to the record's end, so its length is known
            offset, length = records.get_record_offset(), records.get_record_length()
            if url and drop(url):
                dropped += 1
            else:
                spans.append((offset, length))
    with open(source, "rb") as src, open(target, "wb") as dst:
        for offset, length in spans:
            src.seek(offset)
            dst.write(src.read(length))
    return dropped
