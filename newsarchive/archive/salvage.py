"""Torn files cut back to their whole records: the one rule for what a dead crawl left.

A killed process (kill -9, power loss, OOM) leaves its open files cut at any byte.
Every WARC record is its own gzip member, written and flushed whole
(newsarchive.warc.writer), and every text record is one line flushed whole into its
shard (newsarchive.archive.shards), so all the whole records a torn file starts with
can be kept:

- A WARC file is cut after its last complete gzip member that holds exactly one WARC
  record, as warcio reads it. If what is left holds no capture (nothing, or nothing
  but the warcinfo record that opens every file), the file is deleted. A warcinfo
  record only describes its file: alone it gives the CDXJ index no line, replay
  nothing to find and no text record a capture to cite, and a crawl that stops cleanly
  never leaves such a file (the writer opens a file for its first exchange), so
  recovery does not either: the manifest lists no WARC that `verify`, a WACZ package
  and pywb would carry for nothing.
- A text shard keeps its complete lines, up to the first damaged byte or line, and is
  written again as a whole gzip file (newsarchive.archive.jsonl); one with no whole
  line is deleted.
- A whole file is left byte for byte as it is (a store may already hold it).

Two callers: crash recovery of a crawl on one machine (newsarchive.archive.recovery),
and a worker of a several-machines crawl taking over a dead worker's spool folder
(:func:`salvage`, from newsarchive.cluster.workers).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive import jsonl

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


# --- WARC files ---------------------------------------------------------------------------

def _member_ends(path: Path) -> Iterator[int]:
    """The end offset of each complete gzip member the file starts with, in order.

    Memory stays bounded: a member (a record) may be far larger than the chunk read.
    """
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    offset = 0
    with open(path, "rb") as f:
        data = b""
        while True:
            if not data and not (data := f.read(_CHUNK)):
                return
            try:
                inflater.decompress(data, _CHUNK)
            except zlib.error:
                return
            rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            offset += len(data) - len(rest)
            data = rest
            if inflater.eof:
                yield offset
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)


def _record_types(path: Path, ends: list[int]) -> list[str]:
    """The WARC-Type of each member in ``ends`` that holds exactly one whole WARC
    record, up to the first that does not."""
    types: list[str] = []
    with open(path, "rb") as f:
        iterator = ArchiveIterator(f, check_digests=False)
        try:
            for record in iterator:
                iterator.read_to_end(record)
                end = iterator.get_record_offset() + iterator.get_record_length()
                if len(types) == len(ends) or end != ends[len(types)]:
                    break
                types.append(record.rec_type)
        except Exception:  # warcio raises several kinds on bytes that are not a record
            pass
    return types


@dataclass(frozen=True)
class WarcCut:
    records: int  # whole records kept; 0: the file held no capture and is gone
    cut_bytes: int  # bytes dropped (the whole file when it is gone)


def cut_warc(path: Path) -> WarcCut:
    """Cut a torn WARC file back to its whole records; delete it if none is a capture."""
    size = path.stat().st_size
    ends = list(_member_ends(path))
    if ends and ends[-1] < size:
        _truncate(path, ends[-1])  # warcio then reads complete members only
    types = _record_types(path, ends) if ends else []
    if not any(kind != "warcinfo" for kind in types):
        path.unlink()
        return WarcCut(0, size)
    end = ends[len(types) - 1]
    if end < path.stat().st_size:
        _truncate(path, end)
    return WarcCut(len(types), size - end)


def _truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


def index(warc_path: Path) -> tuple[Path, int] | None:
    """The CDXJ index of a salvaged WARC file, written beside it: (path, lines).

    None when it cannot be built: the WARC is kept regardless, and `newsarchive verify`
    reports the missing index.
    """
    from newsarchive.warc import cdxj

    try:
        return cdxj.write_index(warc_path)
    except Exception:
        logger.exception("salvage: could not index %s", warc_path)
        return None


# --- text shards --------------------------------------------------------------------------

def whole_lines(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The records on the complete JSON lines a gzip shard starts with, and whether the
    file is whole (one complete gzip stream, nothing after it, every line JSON)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    data = bytearray()
    with open(path, "rb") as f:
        try:
            while chunk := f.read(_CHUNK):
                data += inflater.decompress(chunk)
                if inflater.eof:
                    break
        except zlib.error:
            pass
    whole = inflater.eof and not inflater.unused_data
    records = []
    for line in bytes(data).split(b"\n")[:-1]:  # the last piece has no newline yet
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError):
            whole = False
            break
    return records, whole


@dataclass
class ShardCut:
    kept: list[dict[str, Any]]  # records kept; none: the file is gone
    refused: int = 0  # whole records the caller's ``keep`` refused


def cut_shard(
    path: Path, keep: Callable[[dict[str, Any]], bool] | None = None
) -> ShardCut:
    """Cut a torn shard back to its whole records, less those ``keep`` refuses.

    Written again as a whole gzip file when anything went; deleted when nothing stays.
    """
    records, whole = whole_lines(path)
    kept = records if keep is None else [r for r in records if keep(r)]
    cut = ShardCut(kept, len(records) - len(kept))
    if not kept:
        path.unlink()
    elif not whole or cut.refused:
        jsonl.replace_file(path, kept)
        logger.info("%s: kept %d whole record(s)", path, len(kept))
    return cut


# --- a dead worker's spool folder ---------------------------------------------------------

@dataclass(frozen=True)
class SalvagedFile:
    path: Path
    key: str
    kind: str  # "warc", "cdxj" or "text"
    records: int


@dataclass
class Salvage:
    files: list[SalvagedFile] = field(default_factory=list)
    # text records kept, by shard key: the worker that recovers them counts the
    # articles of each shard once, however many times it is met
    shard_texts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cut_bytes: int = 0  # incomplete tails dropped, and files holding no capture

    @property
    def texts(self) -> list[dict[str, Any]]:
        """Every text record kept."""
        return [record for records in self.shard_texts.values() for record in records]


def salvage(folder: Path, crawl_id: str) -> Salvage:
    """Make the crawl's files in a dead worker's spool folder whole; list them.

    Files that were closed but not stored yet are whole and stay byte for byte.
    """
    found = Salvage()
    warc_dir = folder / "warc" / crawl_id
    if warc_dir.is_dir():
        for path in sorted(warc_dir.glob("*.warc.gz")):
            _salvage_warc(folder, path, found)
        for cdxj_path in sorted(warc_dir.glob("*.cdxj")):
            # An index whose WARC file was stored before the crash: still to store.
            if not cdxj_path.with_name(cdxj_path.name.removesuffix(".cdxj") + ".warc.gz").exists():
                lines = cdxj_path.read_bytes().count(b"\n")
                found.files.append(SalvagedFile(cdxj_path, _key(folder, cdxj_path), "cdxj", lines))
    for path in sorted(folder.glob(f"text/site=*/date=*/{crawl_id}-*.jsonl.gz")):
        size = path.stat().st_size
        cut = cut_shard(path)
        if cut.kept:
            key = _key(folder, path)
            found.shard_texts[key] = cut.kept
            found.files.append(SalvagedFile(path, key, "text", len(cut.kept)))
        else:
            found.cut_bytes += size
    return found


def _key(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def _salvage_warc(folder: Path, path: Path, found: Salvage) -> None:
    cut = cut_warc(path)
    found.cut_bytes += cut.cut_bytes
    if not cut.records:
        logger.warning("%s holds no whole captured record; removed", path)
        # An index it may have had would otherwise pass for one of a stored WARC.
        path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj").unlink(missing_ok=True)
        return
    if cut.cut_bytes:
        logger.info("%s: kept %d whole records, cut %d bytes", path, cut.records, cut.cut_bytes)
    found.files.append(SalvagedFile(path, _key(folder, path), "warc", cut.records))
    indexed = index(path)
    if indexed is not None:
        found.files.append(SalvagedFile(indexed[0], _key(folder, indexed[0]), "cdxj", indexed[1]))
