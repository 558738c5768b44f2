"""Gzip JSON-lines files (text shards, state snapshots): the one place they are written.

Every ``.jsonl.gz`` the archive holds goes through :class:`GzipJsonLines`: the crawl's
shard writer (and so re-extraction, which uses it), the torn-file salvage that writes
a cut shard again, the incremental-state snapshots (a crawl's own, crash recovery's
and the several-machines finalize merge), and the synthetic benchmark archive. One
encoding (compact JSON, non-ASCII kept as UTF-8, one object a line) and a gzip header
without a timestamp (mtime=0), so the same records give the same bytes whoever writes
them and whenever.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

#: zlib's default. Level 9 costs ~1.5x the CPU (on the reactor, for the crawl's shards)
#: for text 0.2 % smaller.
LEVEL = 6


def encode(record: Any) -> bytes:
    """One record as one line of a JSONL file, newline included."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class GzipJsonLines:
    """A new gzip JSONL file, written one record at a time.

    The file is created exclusively (``xb``): nothing already there is overwritten.
    :meth:`flush` pushes every record written so far to the OS as complete deflate
    blocks, so a killed process leaves a file whose whole lines can be read back.
    """

    def __init__(self, path: Path, level: int = LEVEL) -> None:
        self.path = path
        self._raw: IO[bytes] | None = open(path, "xb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                   compresslevel=level)
        self.records = 0

    def write(self, record: Any) -> None:
        self.write_line(encode(record))

    def write_line(self, line: bytes) -> None:
        """Write one line made by :func:`encode` (for a caller that encodes first)."""
        self._gzip.write(line)
        self.records += 1

    def flush(self) -> None:
        self._gzip.flush()

    def close(self) -> None:
        """Finish the gzip stream (its trailer) and close the file."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            self._gzip.close()
        finally:
            raw.close()

    def abandon(self) -> None:
        """Close the file as it is, without finishing the gzip stream: for a file whose
        last write failed (its stream may be broken mid-member), left for the torn-file
        salvage (newsarchive.archive.salvage) to cut back to its whole lines."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        self._gzip.fileobj = None  # type: ignore[assignment]  # close() writes nothing
        with contextlib.suppress(OSError):
            raw.close()

    def __enter__(self) -> GzipJsonLines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def write_file(path: Path, records: Iterable[Any], level: int = LEVEL) -> int:
    """Write records as a new file at path; returns how many (FileExistsError if taken)."""
    with GzipJsonLines(path, level) as out:
        for record in records:
            out.write(record)
        return out.records


def replace_file(path: Path, records: Iterable[Any], level: int = LEVEL) -> int:
    """Write records over the file at path, atomically: a reader sees the old file or
    the new one, never half of it (a temporary file beside it, renamed over it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # left by an earlier run that died right here
    try:
        count = write_file(tmp, records, level)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
