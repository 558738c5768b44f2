"""Output writers for exports: JSONL, CSV and Parquet, one file or hive partitions.

Each writer streams: JSONL and CSV write a record at a time; Parquet buffers one row
group (a few MB) and writes it. The partitioned writer keeps a bounded number of
partition files open and a bounded total of buffered rows, so memory does not grow
with the number of partitions.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote

from newsarchive.corpus.schema import arrow_row, arrow_schema, flat_value

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "parquet", "csv")
EXTENSIONS = {"jsonl": "jsonl", "parquet": "parquet", "csv": "csv"}
PARTITION_ROOT = "corpus"
ROW_GROUP_BYTES = 8 << 20
ROW_GROUP_ROWS = 10_000


@dataclass
class OutputFile:
    path: str  # relative to the export folder, '/'-separated
    records: int = 0
    bytes: int = 0


class Writer(Protocol):
    file: OutputFile

    def write(self, record: dict[str, Any]) -> None: ...

    def buffered(self) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def _size_hint(record: dict[str, Any]) -> int:
    """Roughly what a buffered row costs in memory: its text plus ~1 KB of the rest."""
    return len(record.get("text") or "") + 1024


class JsonlWriter:
    def __init__(self, root: Path, rel: str, fields: Sequence[str]) -> None:
        self.file = OutputFile(rel)
        self.fields = tuple(fields)
        self._path = root / rel
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._stream: IO[str] = open(self._path, "x", encoding="utf-8", newline="\n")

    def write(self, record: dict[str, Any]) -> None:
        row = {name: record.get(name) for name in self.fields}
        self._stream.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.file.records += 1

    def buffered(self) -> int:
        return 0

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()
        self.file.bytes = self._path.stat().st_size


class CsvWriter(JsonlWriter):
    """RFC 4180 CSV with a header row; lists and objects are JSON text in their cell."""

    def __init__(self, root: Path, rel: str, fields: Sequence[str]) -> None:
        super().__init__(root, rel, fields)
        self._csv = csv.writer(self._stream, lineterminator="\r\n")
        self._csv.writerow(self.fields)

    def write(self, record: dict[str, Any]) -> None:
        self._csv.writerow([flat_value(record.get(name)) for name in self.fields])
        self.file.records += 1


class ParquetWriter:
    def __init__(
        self, root: Path, rel: str, fields: Sequence[str], row_group_bytes: int = ROW_GROUP_BYTES
    ) -> None:
        import pyarrow.parquet as pq

        self.file = OutputFile(rel)
        self.fields = tuple(fields)
        self.schema = arrow_schema(self.fields)
        self._path = root / rel
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if self._path.exists():
            raise FileExistsError(self._path)
        self._writer = pq.ParquetWriter(self._path, self.schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0
        self.row_group_bytes = row_group_bytes

    def write(self, record: dict[str, Any]) -> None:
        self._rows.append(arrow_row(record, self.fields))
        self._bytes += _size_hint(record)
        self.file.records += 1
        if self._bytes >= self.row_group_bytes or len(self._rows) >= ROW_GROUP_ROWS:
            self.flush()

    def buffered(self) -> int:
        return self._bytes

    def flush(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa

        table = pa.Table.from_pylist(self._rows, schema=self.schema)
        self._rows = []
        self._bytes = 0
        self._writer.write_table(table, row_group_size=len(table))

    def close(self) -> None:
        self.flush()
        self._writer.close()
        self.file.bytes = self._path.stat().st_size


_WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetWriter}


def open_writer(fmt: str, root: Path, rel: str, fields: Sequence[str], **options: Any) -> Writer:
    return _WRITERS[fmt](root, rel, fields, **options)


class SingleFile:
    """All records into one file: ``corpus.<ext>``."""

    def __init__(self, fmt: str, root: Path, fields: Sequence[str]) -> None:
        self._writer = open_writer(fmt, root, f"corpus.{EXTENSIONS[fmt]}", fields)
        self.files = [self._writer.file]

    def write(self, record: dict[str, Any], partition: tuple[str, str] | None = None) -> None:
        self._writer.write(record)

    def close(self) -> None:
        self._writer.close()


class Partitioned:
    """Hive partitions ``corpus/site=<site>/date=<YYYY-MM-DD>/part-<n>.<ext>``.

    ``site`` lives in the path, not in the files (pyarrow, pandas and DuckDB all add
    it back as a column, and refuse a file column of the same name). The data sit in
    their own folder so that reading the folder as a dataset meets no data card.
    Row groups are smaller than in one file (4 MB of rows) and all partitions together
    buffer at most ``max_buffered`` before the largest buffer is written out.
    """

    def __init__(
        self,
        fmt: str,
        root: Path,
        fields: Sequence[str],
        max_open: int = 16,
        max_buffered: int = 16 << 20,
        row_group_bytes: int = 4 << 20,
    ) -> None:
        self.fmt = fmt
        self.root = root
        self.fields = tuple(f for f in fields if f != "site")
        self.max_open = max_open
        self.max_buffered = max_buffered
        self.options = {"row_group_bytes": row_group_bytes} if fmt == "parquet" else {}
        self._open: OrderedDict[tuple[str, str], Writer] = OrderedDict()
        self._parts: dict[tuple[str, str], int] = {}
        self.files: list[OutputFile] = []

    def write(self, record: dict[str, Any], partition: tuple[str, str] | None = None) -> None:
        assert partition is not None
        writer = self._open.get(partition)
        if writer is None:
            writer = self._start(partition)
        else:
            self._open.move_to_end(partition)
        writer.write(record)
        if sum(w.buffered() for w in self._open.values()) > self.max_buffered:
            max(self._open.values(), key=lambda w: w.buffered()).flush()

    def _start(self, partition: tuple[str, str]) -> Writer:
        if len(self._open) >= self.max_open:
            _, oldest = self._open.popitem(last=False)
            oldest.close()
        serial = self._parts.get(partition, 0)
        self._parts[partition] = serial + 1
        site, day = partition
        rel = (
            f"{PARTITION_ROOT}/site={quote(site, safe='')}/date={day}/"
            f"part-{serial:05d}.{EXTENSIONS[self.fmt]}"
        )
        writer = open_writer(self.fmt, self.root, rel, self.fields, **self.options)
        self._open[partition] = writer
        self.files.append(writer.file)
        return writer

    def close(self) -> None:
        while self._open:
            _, writer = self._open.popitem(last=False)
            writer.close()
