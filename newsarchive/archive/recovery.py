"""Recovering a crawl that was killed (kill -9, power loss, OOM) from its spool.

Every crawl keeps a journal in the spool (``journal/<crawl-id>.jsonl``): one line per
closed file, written before the file is stored. A journal without a manifest means
the crawl died. Its closed files are stored; the files it had open are cut back to
their whole records by newsarchive.archive.salvage (a WARC holding no capture is
dropped) and stored too; text records whose WARC record did not survive are
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.archive import layout, manifest, salvage
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
    _store_closed(store, spool, closed, result)
    shards = _salvage_open_warcs(store, spool, closed, result)
    text_records = _salvage_open_shards(store, spool, shards, result)
    text_records += _closed_text(store, closed, result)
    if not any(e.kind == "state" for e in result.files):  # unless its snapshot was stored
        _rebuild_state(store, spool, text_records, result)
    _write_manifest(store, result, len(text_records))
    journal.unlink()
    logger.warning(
        "recovered crawl %s that was interrupted: %d file(s), %d text record(s) kept, %d "
        "dropped (their WARC records were cut)",
        crawl_id, len(result.files), len(text_records), result.dropped_text,
    )
    return result


def _store_closed(
    store: Store, spool: Path, closed: dict[str, FileEntry], result: Recovered
) -> None:
    """Files the crawl had closed: store them (same bytes only) if not yet stored."""
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


def _salvage_open_warcs(
    store: Store, spool: Path, closed: dict[str, FileEntry], result: Recovered
) -> list[tuple[str, Path]]:
    """Files the crawl had open: WARC files cut back to whole records (newsarchive.archive
    .salvage) and stored with a new index; returns the open text shards, for later."""
    from newsarchive.warc import cdxj  # only here: its indexer is slow to import

    shards: list[tuple[str, Path]] = []
    for key, path in _spool_files_of(spool, result.crawl_id):
        if key in closed:
            continue
        if key.endswith(".warc.gz"):
            records = salvage.cut_warc(path).records
            if records:
                indexed = salvage.index(path)  # before storing: that may move the file
                result.files.append(_store(store, path, key, "warc", records))
                if indexed is not None:
                    result.files.append(
                        _store(store, indexed[0], cdxj.index_key(key), "cdxj", indexed[1])
                    )
        elif key.endswith(".jsonl.gz") and key.startswith("text/"):
            shards.append((key, path))
        else:  # indexes and state snapshots of open files are rebuilt, not salvaged
            path.unlink()
    return shards


def _salvage_open_shards(
    store: Store, spool: Path, shards: list[tuple[str, Path]], result: Recovered
) -> list[dict[str, Any]]:
    """Open text shards cut back to whole records, keeping only those whose WARC record
    survived; stored. Returns the records kept."""
    sizes = {e.key: e.size for e in result.files if e.kind == "warc"}

    def cites_a_whole_record(record: dict[str, Any]) -> bool:
        warc = record.get("warc", {})
        extent = _warc_extent(store, spool, warc.get("file", ""), sizes, result.crawl_id)
        return warc.get("offset", -1) >= 0 and warc["offset"] + warc.get("length", 0) <= extent

    kept: list[dict[str, Any]] = []
    for key, path in shards:
        cut = salvage.cut_shard(path, cites_a_whole_record)
        result.dropped_text += cut.refused
        if cut.kept:
            result.files.append(_store(store, path, key, "text", len(cut.kept)))
            kept.extend(cut.kept)
    return kept


def _closed_text(
    store: Store, closed: dict[str, FileEntry], result: Recovered
) -> list[dict[str, Any]]:
    """The text records of the shards the crawl had closed and that are now stored."""
    records: list[dict[str, Any]] = []
    for entry in result.files:
        if entry.kind == "text" and entry.key in closed:
            data = gzip.decompress(store.read_bytes(entry.key))
            records.extend(json.loads(line) for line in data.splitlines())
    return records


def _rebuild_state(
    store: Store, spool: Path, text_records: list[dict[str, Any]], result: Recovered
) -> None:
    """The incremental state: the last complete crawl's, plus what the text recovered
    says was archived, so the next run does not archive the same text twice."""
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
        key = state_key(site, result.crawl_id)
        path = spool.joinpath(*key.split("/"))
        path.unlink(missing_ok=True)
        count = state.write(path)
        result.files.append(_store(store, path, key, "state", count))


def _write_manifest(store: Store, result: Recovered, articles: int) -> None:
    """The manifest, last: the crawl becomes visible with what was recovered."""
    doc = manifest.build_manifest(
        crawl_id=result.crawl_id,
        crawl={
            "finish_reason": "crashed, recovered",
            "recovered_text_dropped": result.dropped_text,
        },
        files=result.files,
        counts={"articles": articles, "discarded": {}, "warc_exchanges": 0,
                "requests": 0, "robots_forbidden": 0},
        settings={},
    )
    store.put_bytes(layout.manifest_key(result.crawl_id), manifest.dumps(doc))


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

