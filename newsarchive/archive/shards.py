"""Clean-text shards: gzip JSONL files partitioned by site and fetch date.

Partitions follow the fetch date (UTC), which every record has and which keeps one
crawl's output in a few partitions; publication dates are fields inside the records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.archive import layout
from newsarchive.archive.jsonl import GzipJsonLines, encode
from newsarchive.warc.writer import SpoolError


@dataclass
class _OpenShard:
    key: str
    path: Path
    stream: GzipJsonLines


class ShardWriter:
    """Appends records to one open shard per (site, date), rolling at max_records.

    ``on_close(path, key, records)`` receives every finished shard; ``worker`` names
    the writer in shard keys when several workers write one crawl.
    """

    def __init__(
        self,
        crawl_id: str,
        spool: Path,
        max_records: int,
        on_close: Callable[[Path, str, int], None],
        worker: str = "",
    ) -> None:
        self.crawl_id = crawl_id
        self.worker = worker
        self.spool = spool
        self.max_records = max_records
        self.on_close = on_close
        self._open: dict[tuple[str, str], _OpenShard] = {}
        self._serial = 0
        self.records_written = 0
        self.abandoned: list[Path] = []  # shards the spool refused (see _abandon)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record; SpoolError when the spool refuses it (full, read-only)."""
        if self.abandoned:  # the spool refused a write: touch it no more this crawl
            raise SpoolError(f"the spool {self.spool} refused an earlier text record")
        partition = (record["site"], record["fetched_at"][:10])
        line = encode(record)  # first: a record that is not JSON touches no file
        shard = None
        try:
            shard = self._open.get(partition)
            if shard is None:
                shard = self._start(*partition)
            shard.stream.write_line(line)
            # Whole records reach the OS (a few bytes each): a killed crawl's open shard
            # still holds every record written, for the spool recovery to keep.
            shard.stream.flush()
        except OSError as e:
            if shard is not None:
                self._abandon(partition)
            raise SpoolError.from_os_error(e, self.spool) from None
        self.records_written += 1
        if shard.stream.records >= self.max_records:
            self._finish(partition)

    def _start(self, site: str, date: str) -> _OpenShard:
        self._serial += 1
        key = layout.text_key(site, date, self.crawl_id, self._serial, self.worker)
        path = self.spool.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        shard = _OpenShard(key, path, GzipJsonLines(path))
        self._open[(site, date)] = shard
        return shard

    def _finish(self, partition: tuple[str, str]) -> None:
        shard = self._open.pop(partition)
        shard.stream.close()
        self.on_close(shard.path, shard.key, shard.stream.records)

    def _abandon(self, partition: tuple[str, str]) -> None:
        """Leave a shard the spool refused as it is, for the next run's recovery to cut
        back to its whole records: its gzip stream may be broken mid-member, so it is
        never finished, published or listed."""
        shard = self._open.pop(partition)
        self.abandoned.append(shard.path)
        shard.stream.abandon()

    def close(self) -> None:
        try:
            for partition in list(self._open):
                self._finish(partition)
        except OSError as e:
            raise SpoolError.from_os_error(e, self.spool) from None
        if self.abandoned:
            raise SpoolError(
                f"{len(self.abandoned)} text shard(s) in the spool {self.spool} were cut "
                "short by a failed write; the next crawl with this spool recovers them",
                full=False,
            )
