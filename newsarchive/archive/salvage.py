"""What a killed worker left in its spool folder: the whole records of its files.

Every WARC record is its own gzip member, written and flushed whole (warc.py), and
every text record is flushed whole into its shard (shards.py), so a worker killed
mid-crawl leaves files whose complete records can all be kept: a WARC file is cut
after its last complete member and gets its CDXJ index; a shard keeps its complete
lines and is written again as a proper gzip file. Files that were closed but not
stored yet are complete and kept byte for byte (a store may already hold them).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.warc import cdxj

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


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
    cut_bytes: int = 0  # incomplete tails dropped

    @property
    def texts(self) -> list[dict[str, Any]]:
        """Every text record kept."""
        return [record for records in self.shard_texts.values() for record in records]


def salvage(folder: Path, crawl_id: str) -> Salvage:
    """Make the crawl's files in a dead worker's spool folder whole; list them."""
    found = Salvage()
    warc_dir = folder / "warc" / crawl_id
    if warc_dir.is_dir():
        for path in sorted(warc_dir.glob("*.warc.gz")):
            _salvage_warc(folder, path, found)
        for index in sorted(warc_dir.glob("*.cdxj")):
            # An index whose WARC file was stored before the crash: still to store.
            if not index.with_name(index.name.removesuffix(".cdxj") + ".warc.gz").exists():
                lines = index.read_bytes().count(b"\n")
                found.files.append(SalvagedFile(index, _key(folder, index), "cdxj", lines))
    for path in sorted(folder.glob(f"text/site=*/date=*/{crawl_id}-*.jsonl.gz")):
        _salvage_shard(folder, path, found)
    return found


def _key(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def complete_members(path: Path) -> tuple[int, int]:
    """(bytes, members) of the complete gzip members a file starts with."""
    end = members = offset = 0
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as f:
        data = b""
        while True:
            if not data and not (data := f.read(_CHUNK)):
                break
            try:
                inflater.decompress(data, _CHUNK)  # output bounded: a record may be large
            except zlib.error:
                break
            rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            offset += len(data) - len(rest)
            data = rest
            if inflater.eof:
                members += 1
                end = offset
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    return end, members


def _salvage_warc(folder: Path, path: Path, found: Salvage) -> None:
    size = path.stat().st_size
    end, members = complete_members(path)
    if members == 0:
        logger.warning("%s holds no complete WARC record; removed", path)
        found.cut_bytes += size
        path.unlink()
        return
    if end < size:
        with open(path, "r+b") as f:
            f.truncate(end)
        found.cut_bytes += size - end
        logger.info("%s: kept %d complete records, cut %d bytes", path, members, size - end)
    index, lines = cdxj.write_index(path)
    found.files.append(SalvagedFile(path, _key(folder, path), "warc", members))
    found.files.append(SalvagedFile(index, _key(folder, index), "cdxj", lines))


def read_complete_lines(path: Path) -> tuple[list[bytes], bool]:
    """The complete JSON lines at the start of a gzip JSONL file, and whether it is whole."""
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
    lines = []
    for line in bytes(data).split(b"\n")[:-1]:  # the last piece has no newline yet
        try:
            json.loads(line)
        except ValueError:
            whole = False
            break
        lines.append(line + b"\n")
    return lines, whole


def _salvage_shard(folder: Path, path: Path, found: Salvage) -> None:
    lines, whole = read_complete_lines(path)
    size = path.stat().st_size
    if not lines:
        found.cut_bytes += size
        path.unlink()
        return
    if not whole:
        tmp = path.with_name(f".{path.name}.salvage")
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.writelines(lines)
        os.replace(tmp, path)
        logger.info("%s: kept %d complete records", path, len(lines))
    key = _key(folder, path)
    found.shard_texts[key] = [json.loads(line) for line in lines]
    found.files.append(SalvagedFile(path, key, "text", len(lines)))
