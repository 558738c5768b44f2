"""Recovering a crawl that was killed (kill -9, power loss, OOM) from its spool.

Every crawl keeps a journal in the spool (``journal/<crawl-id>.jsonl``): one line per
closed file, written before the file is stored. A journal without a manifest means
the crawl died. Its closed files are stored; the files it had open are cut back to
their last whole record (a WARC to its last complete gzip member, a shard to its last
complete line) and stored too; text records whose WARC record did not survive are
dropped (the next run fetches those articles again). The per-site state is rebuilt
from the recovered text, so the next run does not archive the same text twice. The
crawl then gets a manifest (finish reason ``crashed, recovered``) and no orphan
remains.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import logging
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive import layout, manifest
from newsarchive.archive.manifest import ENTRY_FIELDS, FileEntry, entry_problem
from newsarchive.archive.state import ArticleState, SiteState, state_key
from newsarchive.discovery.urls import article_key
from newsarchive.errors import ConfigError, StorageError
from newsarchive.storage import Store, sha256_file

logger = logging.getLogger(__name__)

JOURNAL = "journal"


def journal_path(spool: Path, crawl_id: str) -> Path:
    return spool / JOURNAL / f"{crawl_id}.jsonl"


class Journal:
    """Append-only record of a crawl's closed files; the page cache keeps it across a
    killed process, and each line is one whole write."""

    def __init__(self, spool: Path, crawl_id: str) -> None:
        self.path = journal_path(spool, crawl_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        # Held while the crawl lives; the kernel drops it when the process dies, however
        # it dies: a journal nobody holds belongs to a dead crawl.
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise crawl_id_in_use(crawl_id, self.path) from None

    def add(self, entry: FileEntry) -> None:
        try:
            self._file.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
            self._file.flush()
        except OSError as e:  # a cut line is where reading stops: the rest stays valid
            raise StorageError(f"cannot write the journal {self.path}: {e.strerror or e}") from None

    def close(self, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)  # unlink first: never a moment unlocked
        if not self._file.closed:
            with contextlib.suppress(OSError):  # a full spool: the buffered tail is lost
                self._file.close()


def crawl_id_in_use(crawl_id: str, journal: Path) -> ConfigError:
    return ConfigError(
        f"crawl {crawl_id} is already running in another process (its journal {journal} "
        "is locked): wait for it to end, or set another NEWSARCHIVE_CRAWL_ID"
    )


def check_crawl_id_free(spool: Path, crawl_id: str) -> None:
    """Raise ConfigError when a live process already runs this crawl id on this spool."""
    journal = journal_path(spool, crawl_id)
    if journal.is_file() and is_alive(journal):
        raise crawl_id_in_use(crawl_id, journal)


def read_journal(path: Path) -> list[FileEntry]:
    return parse_journal(path.read_bytes())


def parse_journal(data: bytes) -> list[FileEntry]:
    """The whole entries of a journal; reading stops at the first line that is not one
    (a line cut by the kill, or damage: everything before it is whole)."""
    entries = []
    for line in data.split(b"\n"):
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            break
        if entry_problem(row) is not None or set(row) != set(ENTRY_FIELDS):
            break
        entries.append(FileEntry(**row))
    return entries


# --- salvaging files that were open ---------------------------------------------------

def salvage_warc(path: Path) -> int:
    """Cut a WARC back to its last whole record; returns the records kept (0: delete)."""
    good_end, records = 0, 0
    with open(path, "rb") as f:
        iterator = ArchiveIterator(f, check_digests=False)
        try:
            for record in iterator:
                record.content_stream().read()
                offset = iterator.get_record_offset()
                iterator.read_to_end(record)
                length = iterator.get_record_length()
                if length <= 0:
                    break
                good_end, records = offset + length, records + 1
        except Exception:  # warcio raises several kinds on a cut gzip member
            pass
    with open(path, "r+b") as f:
        f.truncate(good_end)
    # A file holding only its warcinfo record captured nothing: not worth keeping.
    return records if records > 1 else 0


def salvage_shard(path: Path) -> list[dict[str, Any]]:
    """The whole JSON lines of a gzip shard that may end mid-member."""
    raw = path.read_bytes()
    decompressor = zlib.decompressobj(wbits=31)
    data = b""
    for start in range(0, len(raw), 1 << 16):  # keep what decodes before any damage
        try:
            data += decompressor.decompress(raw[start:start + (1 << 16)])
        except zlib.error:
            break
    records = []
    for line in data.split(b"\n")[:-1]:  # the last piece has no newline: maybe cut
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


def write_shard(path: Path, records: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
            f.write(b"\n")
    tmp.replace(path)


# --- recovering one crawl ------------------------------------------------------------------

@dataclass
class Recovered:
    crawl_id: str
    files: list[FileEntry] = field(default_factory=list)
    dropped_text: int = 0


def _spool_files_of(spool: Path, crawl_id: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(p for p in spool.rglob("*") if p.is_file()):
        key = path.relative_to(spool).as_posix()
        if key.startswith((JOURNAL + "/", "crawls/", "summaries/")) or path.name.startswith("."):
            continue
        if f"/{crawl_id}/" in key or path.name.startswith(f"{crawl_id}-") or (
            path.name == f"{crawl_id}.jsonl.gz"
        ):
            found.append((key, path))
    return found


def _warc_extent(
    store: Store, spool: Path, key: str, sizes: dict[str, int], crawl_id: str
) -> float:
    """How far a text record's WARC file is known to be whole.

    A re-extraction's records cite the WARC files of the crawl it read: stored files of
    a complete crawl, whole by construction, not files this crawl wrote.
    """
    if key in sizes:
        return sizes[key]
    local = spool.joinpath(*key.split("/"))
    if local.exists():
        return local.stat().st_size
    if key and f"/{crawl_id}/" not in key and store.exists(key):
        return float("inf")
    return -1


def recover_crawl(store: Store, spool: Path, journal: Path) -> Recovered:
    crawl_id = journal.stem
    result = Recovered(crawl_id)
    if store.exists(layout.manifest_key(crawl_id)):
        return _finish_landed(store, spool, journal, result)
    closed = {e.key: e for e in read_journal(journal)}
    # 1. Files the crawl had closed: store them (same bytes only) if not yet stored.
    for key, entry in closed.items():
        local = spool.joinpath(*key.split("/"))
        if local.exists():
            if sha256_file(local) != entry.sha256:
                logger.warning("recovery: %s differs from its journal entry; salvaging it", key)
                continue
            store.put_file(local, key, entry.sha256)
        elif not store.exists(key):
            logger.warning("recovery: %s is neither in the spool nor stored; dropped", key)
            continue
        result.files.append(entry)
    # 2. Files it had open: cut back to whole records.
    sizes = {e.key: e.size for e in result.files if e.kind == "warc"}
    open_files = [(k, p) for k, p in _spool_files_of(spool, crawl_id) if k not in closed]
    shards: list[tuple[str, Path]] = []
    for key, path in open_files:
        if key.endswith(".warc.gz"):
            records = salvage_warc(path)
            if records:
                sizes[key] = path.stat().st_size
                index = _index(path, key)
                result.files.append(_store(store, path, key, "warc", records))
                if index is not None:
                    result.files.append(_store(store, *index))
            else:
                path.unlink()
        elif key.endswith(".jsonl.gz") and key.startswith("text/"):
            shards.append((key, path))
        else:  # indexes and state snapshots of open files are rebuilt, not salvaged
            path.unlink()
    # 3. Text records survive only if the WARC record they cite did.
    text_records: list[dict[str, Any]] = []
    for key, path in shards:
        kept = []
        for record in salvage_shard(path):
            warc = record.get("warc", {})
            extent = _warc_extent(store, spool, warc.get("file", ""), sizes, crawl_id)
            if warc.get("offset", -1) >= 0 and warc["offset"] + warc.get("length", 0) <= extent:
                kept.append(record)
            else:
                result.dropped_text += 1
        if kept:
            write_shard(path, kept)
            result.files.append(_store(store, path, key, "text", len(kept)))
            text_records.extend(kept)
        else:
            path.unlink()
    for entry in result.files:
        if entry.kind == "text" and entry.key in closed:
            data = gzip.decompress(store.read_bytes(entry.key))
            text_records.extend(json.loads(line) for line in data.splitlines())
    # 4. The incremental state, unless the crawl had already stored its snapshot.
    if not any(e.kind == "state" for e in result.files):
        for site, records in _by_site(text_records).items():
            state = SiteState.load(store, site)
            for record in records:
                state.put(article_key(record["canonical_url"] or record["url"]), ArticleState(
                    url=record["url"], fetched_at=record["fetched_at"],
                    record_id=record["warc"]["record_id"],
                    payload_digest=record["warc"]["payload_digest"],
                    content_hash=record["content_hash"], text_id=record["id"],
                    version=record.get("version", 1), checked_at=record["fetched_at"],
                ))
            key = state_key(site, crawl_id)
            path = spool.joinpath(*key.split("/"))
            path.unlink(missing_ok=True)
            count = state.write(path)
            result.files.append(_store(store, path, key, "state", count))
    # 5. The manifest, last.
    doc = manifest.build_manifest(
        crawl_id=crawl_id,
        crawl={
            "finish_reason": "crashed, recovered",
            "recovered_text_dropped": result.dropped_text,
        },
        files=result.files,
        counts={"articles": len(text_records), "discarded": {}, "warc_exchanges": 0,
                "requests": 0, "robots_forbidden": 0},
        settings={},
    )
    store.put_bytes(layout.manifest_key(crawl_id), manifest.dumps(doc))
    journal.unlink()
    logger.warning(
        "recovered crawl %s that was interrupted: %d file(s), %d text record(s) kept, %d "
        "dropped (their WARC records were cut)",
        crawl_id, len(result.files), len(text_records), result.dropped_text,
    )
    return result


def _finish_landed(store: Store, spool: Path, journal: Path, result: Recovered) -> Recovered:
    """The crawl died after its manifest landed (before removing its journal): it is
    complete. Only spool copies of files already stored with the same bytes go."""
    removed = 0
    for entry in read_journal(journal):
        local = spool.joinpath(*entry.key.split("/"))
        if local.is_file() and store.exists(entry.key) and sha256_file(local) == entry.sha256:
            local.unlink()
            removed += 1
        result.files.append(entry)
    journal.unlink()
    logger.warning(
        "crawl %s was already complete in %s (its manifest landed before it stopped): "
        "removed its journal and %d spool file(s) already stored",
        result.crawl_id, store.uri, removed,
    )
    return result


def _store(store: Store, path: Path, key: str, kind: str, records: int) -> FileEntry:
    entry = FileEntry(key, kind, path.stat().st_size, sha256_file(path), records)
    store.put_file(path, key, entry.sha256)
    return entry


def _index(warc_path: Path, key: str) -> tuple[Path, str, str, int] | None:
    """A CDXJ index for a salvaged WARC (its crawl never got to build one)."""
    from newsarchive.warc import cdxj

    try:
        index_path, lines = cdxj.write_index(warc_path)
    except Exception:  # the WARC is kept regardless; `newsarchive verify` reports it
        logger.exception("recovery: could not index %s", key)
        return None
    return index_path, cdxj.index_key(key), "cdxj", lines


def _by_site(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    sites: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        sites.setdefault(record["site"], []).append(record)
    return sites


def is_alive(journal: Path) -> bool:
    with open(journal, "a") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # another crawl sharing this spool is running
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False


def crashed_journals(spool: Path) -> list[Path]:
    """Journals of crawls that died: no manifest waiting in the spool, nobody holding them."""
    folder = spool / JOURNAL
    if not folder.is_dir():
        return []
    return [
        p for p in sorted(folder.glob("*.jsonl"))
        if _is_journal(p)
        and not (spool / "crawls" / f"{p.stem}.json").exists() and not is_alive(p)
    ]


def _is_journal(path: Path) -> bool:
    """A file named after a crawl id; anything else (a folder, a copy made by hand)
    is left alone, so it cannot stop every later crawl."""
    if path.is_file() and layout.is_crawl_id(path.stem):
        return True
    logger.warning("spool: %s is not a crawl's journal; left alone", path)
    return False

