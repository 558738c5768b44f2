"""Checking an archive against its manifests: file hashes, record digests, indexes, orphans.

Readers trust manifests; this is how an archivist checks that trust is still deserved.
Every file a manifest lists is read once, through the Store interface (a folder or a
bucket): its size and sha256 against the manifest; for WARC files every record's block
and payload digest (warcio) and the record count; for CDXJ indexes that each line
points at a record of its WARC with that URL, and that every replayable record has a
line; for text shards the record count. Files under ``warc/`` and ``text/`` that no
manifest lists are reported as orphans (left by a crash, or by a crawl still running).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive import layout
from newsarchive.archive.manifest import DamagedManifest
from newsarchive.archive.summary import crawl_ids, read_manifest
from newsarchive.errors import StorageError
from newsarchive.progress import Bar
from newsarchive.rights import takedowns
from newsarchive.storage import Store
from newsarchive.warc import cdxj

logger = logging.getLogger(__name__)

_BLOCK = 1 << 20
_SHOWN = 5  # problems listed per file; the rest are counted


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    text = "".join(c if c.isprintable() else "?" for c in f"{type(error).__name__}: {text}")
    return text if len(text) <= 160 else text[:157] + "..."


class _HashingReader:
    """Hashes and counts whatever is read through it."""

    def __init__(self, raw: BinaryIO, bar: Bar | None = None) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.bar = bar

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        if self.bar is not None:
            self.bar.update(len(data))
        return data

    def tell(self) -> int:  # warcio computes record offsets from it
        return self.size

    def drain(self) -> None:
        while self.read(_BLOCK):
            pass


@dataclass(frozen=True)
class _Record:
    offset: int
    length: int
    rec_type: str
    url: str | None


@dataclass
class FileCheck:
    key: str
    kind: str
    problems: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CrawlCheck:
    crawl_id: str
    files: list[FileCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the manifest itself

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.ok for f in self.files)


@dataclass
class Report:
    uri: str
    crawls: list[CrawlCheck] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    takedowns: list[FileCheck] = field(default_factory=list)  # the takedown list's files

    @property
    def problem_count(self) -> int:
        return (
            sum(len(c.problems) + sum(len(f.problems) for f in c.files) for c in self.crawls)
            + len(self.orphans) + sum(len(f.problems) for f in self.takedowns)
        )

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def render(self) -> str:
        lines = [f"verifying {self.uri}"]
        for crawl in self.crawls:
            lines.append(f"crawl {crawl.crawl_id}: {'ok' if crawl.ok else 'PROBLEMS'}")
            lines.extend(f"  manifest: {p}" for p in crawl.problems)
            for f in crawl.files:
                status = "ok  " if f.ok else "FAIL"
                lines.append(f"  {status} {f.key}" + (f"  ({f.detail})" if f.detail else ""))
                lines.extend(f"         {p}" for p in f.problems[:_SHOWN])
                if len(f.problems) > _SHOWN:
                    lines.append(f"         … and {len(f.problems) - _SHOWN} more")
        if self.takedowns:
            bad = [f for f in self.takedowns if not f.ok]
            lines.append(f"takedown list: {len(self.takedowns)} file(s), "
                         + ("ok" if not bad else "PROBLEMS"))
            for f in bad:
                lines.append(f"  FAIL {f.key}")
                lines.extend(f"         {p}" for p in f.problems[:_SHOWN])
        if self.orphans:
            lines.append(f"orphans (stored, but no manifest lists them): {len(self.orphans)}")
            lines.extend(f"  {key}" for key in self.orphans)
        files = sum(len(c.files) for c in self.crawls)
        verdict = "all good" if self.ok else f"{self.problem_count} problem(s)"
        lines.append(f"{len(self.crawls)} crawl(s), {files} file(s): {verdict}")
        return "\n".join(lines)


def verify_archive(
    store: Store, crawl_id: str | None = None, *, progress: bool = False
) -> Report:
    """Check one crawl (or every complete crawl) of an archive; never raises for damage.

    ``progress``: a bar on stderr in bytes read, since reading every file is the work.
    """
    report = Report(store.uri)
    if crawl_id and not store.exists(layout.manifest_key(crawl_id)):
        raise StorageError(f"no manifest for crawl {crawl_id!r} in {store.uri}")
    ids = [crawl_id] if crawl_id else crawl_ids(store)
    listed: set[str] = set()
    with Bar(progress, _listed_bytes(store, ids) if progress else None, "verify", "B") as bar:
        for cid in ids:
            check, keys = _verify_crawl(store, cid, bar)
            report.crawls.append(check)
            listed |= keys
    if crawl_id is None:
        # Every manifest was read: anything else under warc/ and text/ is an orphan.
        candidates = [*store.list("warc/"), *store.list("text/")]
    else:
        # Only this crawl's files: the others belong to crawls not checked here.
        candidates = [
            key for key in [*store.list(f"warc/{crawl_id}/"), *store.list("text/")]
            if key.startswith("warc/") or key.rsplit("/", 1)[-1].startswith(f"{crawl_id}-")
        ]
    if crawl_id is None:
        report.takedowns, takedown_keys = _verify_takedowns(store)
        listed |= takedown_keys
        candidates += list(store.list(takedowns.PREFIX))
    report.orphans = sorted(k for k in candidates if k not in listed)
    return report


def _verify_takedowns(store: Store) -> tuple[list[FileCheck], set[str]]:
    """Each takedown file against its manifest, and its entries readable."""
    checks: list[FileCheck] = []
    keys: set[str] = set()
    for manifest_key in takedowns.manifests(store):
        keys.add(manifest_key)
        check = FileCheck(manifest_key, "takedowns")
        checks.append(check)
        try:
            files = json.loads(store.read_bytes(manifest_key))["files"]
            for item in files:
                keys.add(item["key"])
                data = store.read_bytes(item["key"])
                if len(data) != item["size"]:
                    check.problems.append(
                        f"{item['key']}: size {len(data)}, the manifest says {item['size']}")
                if hashlib.sha256(data).hexdigest() != item["sha256"]:
                    check.problems.append(f"{item['key']}: sha256 differs from the manifest")
                for line in data.splitlines():
                    takedowns.Entry.from_dict(json.loads(line))
        except Exception as e:  # noqa: BLE001 - damage of any kind is one problem
            check.problems.append(f"cannot read: {_short(e)}")
    return checks, keys


def _listed_bytes(store: Store, ids: list[str]) -> int:
    """The bytes the manifests list: the bar's total (damaged manifests count 0)."""
    total = 0
    for cid in ids:
        try:
            total += sum(int(e.get("size") or 0) for e in read_manifest(store, cid)["files"])
        except (StorageError, TypeError, ValueError):
            continue
    return total


def _files_of(store: Store, crawl_id: str) -> set[str]:
    """The stored files a crawl's keys name as its own (for a crawl without a manifest)."""
    return {
        key for key in [*store.list(f"warc/{crawl_id}/"), *store.list("text/"),
                        *store.list("state/")]
        if key.startswith("warc/") or key.rsplit("/", 1)[-1].startswith(f"{crawl_id}-")
        or key.rsplit("/", 1)[-1] == f"{crawl_id}.jsonl.gz"
    }


def _verify_crawl(store: Store, crawl_id: str, bar: Bar) -> tuple[CrawlCheck, set[str]]:
    check = CrawlCheck(crawl_id)
    key = layout.manifest_key(crawl_id)
    try:
        entries = list(read_manifest(store, crawl_id)["files"])
    except StorageError as e:  # damaged or unreadable: one line, check nothing else
        # Its files are reported with it, not as orphans of unknown origin.
        owned = _files_of(store, crawl_id)
        reason = e.reason if isinstance(e, DamagedManifest) else str(e)
        check.problems.append(
            f"{key} is damaged ({reason}); its {len(owned)} stored file(s) are not checked"
        )
        return check, owned
    keys = {e["key"] for e in entries}
    # WARC files first: each index is checked against the records read from its WARC
    # (None when the WARC could not be read to its end).
    warc_records: dict[str, list[_Record] | None] = {}
    order = {"warc": 0, "cdxj": 1}
    for entry in sorted(entries, key=lambda e: (order.get(e["kind"], 2), e["key"])):
        file_check = FileCheck(entry["key"], entry["kind"])
        check.files.append(file_check)
        try:
            _verify_file(store, entry, file_check, warc_records, keys, bar)
        except Exception as e:  # a storage error on one file must not hide the others
            file_check.problems.append(f"cannot read: {_short(e)}")
    return check, keys


def _verify_file(
    store: Store,
    entry: dict[str, Any],
    check: FileCheck,
    warc_records: dict[str, list[_Record] | None],
    keys: set[str],
    bar: Bar,
) -> None:
    key, kind = entry["key"], entry["kind"]
    if not store.exists(key):
        check.problems.append("missing: listed in the manifest but not stored")
        return
    with store.open(key) as raw:
        reader = _HashingReader(raw, bar)
        if kind == "warc":
            records, complete = _check_warc(reader, check)
            warc_records[key] = records if complete else None
            count = len(records)
        elif kind == "cdxj":
            count = _check_cdxj(reader, key, check, warc_records, keys)
        elif kind == "text":
            count = _check_text(reader, check)
        else:
            count = None
        reader.drain()
    if reader.size != entry["size"]:
        check.problems.append(f"size {reader.size} bytes, the manifest says {entry['size']}")
    digest = reader.sha256.hexdigest()
    if digest != entry["sha256"]:
        check.problems.append(f"sha256 {digest}, the manifest says {entry['sha256']}")
    if count is not None and count != entry.get("records"):
        check.problems.append(f"{count} records, the manifest says {entry.get('records')}")
    if kind == "warc" and cdxj.index_key(key) not in keys:
        check.problems.append(f"no CDXJ index ({cdxj.index_key(key)}) in the manifest")


def _check_warc(reader: _HashingReader, check: FileCheck) -> tuple[list[_Record], bool]:
    """Read every record, checking digests; returns (records, read to the end)."""
    records: list[_Record] = []
    failed = 0
    iterator = ArchiveIterator(reader, check_digests=True)
    # warcio reports a damaged gzip member only by printing the zlib error to stderr
    # and skipping to the next member: caught here, it marks the file damaged.
    warcio_said = io.StringIO()
    try:
        with contextlib.redirect_stderr(warcio_said):
            for record in iterator:
                _read_record(record, iterator, check, records)
                failed += record.digest_checker.passed is False
    except Exception as e:  # damaged gzip or WARC framing: the rest cannot be read
        check.problems.append(f"unreadable after {len(records)} records: {_short(e)}")
        complete = False
    else:
        complete = True
    said = [line for line in warcio_said.getvalue().splitlines() if line.strip()]
    if said:
        check.problems.append(
            f"damaged gzip data after {len(records)} readable records: {said[0]}"
            + (f" ({len(said)} times)" if len(said) > 1 else "")
        )
        complete = False
    check.detail = f"{len(records)} records" + (
        f", {failed} failed digest checks" if failed
        else ", digests pass" if complete else ", damaged"
    )
    return records, complete


def _read_record(
    record: Any, iterator: ArchiveIterator, check: FileCheck, records: list[_Record]
) -> None:
    """Read one record to its end (so its digests are checked) and note where it is."""
    stream = record.raw_stream
    while stream.read(_BLOCK):
        pass
    url = record.rec_headers.get_header("WARC-Target-URI")
    offset = iterator.get_record_offset()
    if record.digest_checker.passed is False:
        problems = "; ".join(str(p) for p in record.digest_checker.problems)
        check.problems.append(
            f"record at offset {offset} ({record.rec_type} {url or ''}): {problems}"
        )
    records.append(_Record(offset, iterator.get_record_length(), record.rec_type, url))


def _check_cdxj(
    reader: _HashingReader,
    key: str,
    check: FileCheck,
    warc_records: dict[str, list[_Record] | None],
    keys: set[str],
) -> int:
    text = reader.read().decode("utf-8")
    try:
        entries = cdxj.parse_index(text)
    except ValueError as e:
        check.problems.append(str(e))
        return 0
    check.detail = f"{len(entries)} lines"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines != sorted(lines):
        check.problems.append("lines are not sorted")
    warc_key = key.removesuffix(".cdxj") + ".warc.gz"
    name = warc_key.rsplit("/", 1)[-1]
    if warc_key not in keys:
        check.problems.append(f"indexes {warc_key}, which the manifest does not list")
        return len(entries)
    if warc_key not in warc_records:
        return len(entries)  # the WARC could not even be opened: reported there
    records = warc_records[warc_key]
    if records is None:
        check.detail += f"; not checked against {name}, which is damaged"
        return len(entries)
    by_offset = {r.offset: r for r in records}
    indexed: set[int] = set()
    for entry in entries:
        record = by_offset.get(entry.offset)
        if entry.filename != name:
            check.problems.append(f"line for {entry.url} names file {entry.filename}")
        elif record is None or record.length != entry.length:
            check.problems.append(
                f"line for {entry.url} points at offset {entry.offset} (+{entry.length}), "
                "where the WARC has no such record"
            )
        elif record.url != entry.url or entry.urlkey != cdxj.surt_key(entry.url):
            check.problems.append(f"line for {entry.url} points at a record of {record.url}")
        else:
            indexed.add(entry.offset)
    missing = [
        r for r in records if r.rec_type in cdxj.INDEXED_RECORDS and r.offset not in indexed
    ]
    if missing:
        check.problems.append(
            f"{len(missing)} record(s) of the WARC not in the index, e.g. {missing[0].url}"
        )
    return len(entries)


def _check_text(reader: _HashingReader, check: FileCheck) -> int:
    count = 0
    try:
        with gzip.open(reader, "rt", encoding="utf-8") as f:
            for line in f:
                json.loads(line)
                count += 1
    except Exception as e:
        check.problems.append(f"unreadable after {count} records: {_short(e)}")
    check.detail = f"{count} records"
    return count
