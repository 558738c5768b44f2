"""Finalising a crawl that several workers wrote: one manifest listing all their files.

Readers trust only ``crawls/<crawl-id>.json``. While the crawl runs, workers record in
Redis each file as it lands in storage, and at their end their counts and their
incremental-state updates (a killed run's part is recorded by the worker that recovers
it: the articles whose text survived). The last worker to finish (or `newsarchive
finalize`) merges them: the state updates into one snapshot of the crawl (the newest
capture of each article wins), then the manifest, stored last. The crawl's Redis keys go
after that, so what the crawl counted is known from then on only by the manifest.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.archive import layout, manifest
from newsarchive.archive.manifest import FileEntry
from newsarchive.archive.state import ArticleState, SiteState, state_key
from newsarchive.cluster.frontier import CrawlKeys
from newsarchive.storage import Store, sha256_file

logger = logging.getLogger(__name__)

_FILE_FIELDS = ("key", "kind", "size", "sha256", "records")


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def hash_of(server: Any, key: str) -> dict[str, str]:
    return {text(k): text(v) for k, v in server.hgetall(key).items()}


def newer(a: ArticleState, b: ArticleState | None) -> bool:
    """Whether capture a should replace b in the state: a later text version, then check."""
    if b is None:
        return True
    return (a.version, a.checked_at or a.fetched_at) >= (b.version, b.checked_at or b.fetched_at)


def recorded_state(server: Any, keys: CrawlKeys) -> dict[str, ArticleState]:
    """Every worker's state updates, the newest per article."""
    merged: dict[str, ArticleState] = {}
    for field, value in server.hscan_iter(keys.state, count=1000):
        article = text(field).split("\0", 1)[0]
        entry = ArticleState(**json.loads(value))
        if newer(entry, merged.get(article)):
            merged[article] = entry
    return merged


def merge_counts(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Add one worker's counts (numbers, nested per-reason tables) into the total."""
    for name, value in part.items():
        if isinstance(value, dict):
            total[name] = merge_counts(dict(total.get(name) or {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            total[name] = total.get(name, 0) + value
        else:
            total.setdefault(name, value)
    return total


def _publish_state(
    store: Store, site: str, crawl_id: str, incremental: bool, updates: dict[str, ArticleState]
) -> FileEntry | None:
    if not updates:
        return None
    state = SiteState.load(store, site) if incremental else SiteState(site)
    for article, entry in updates.items():
        if newer(entry, state.get(article)):
            state.put(article, entry)
    key = state_key(site, crawl_id)
    with tempfile.TemporaryDirectory(prefix="newsarchive-state-") as tmp:
        path = Path(tmp) / "state.jsonl.gz"
        records = state.write(path)
        entry = FileEntry(key, "state", path.stat().st_size, sha256_file(path), records)
        store.put_file(path, key, entry.sha256)
    return entry


def merged_rights(parts: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """What the sites stated for their whole site (TDMRep files, robots.txt AI rules),
    as every worker read it: each worker read the hosts it fetched from (None when no
    worker recorded any, as a crawl from before rights were read)."""
    # a killed run's part, recorded by the worker that recovered it, has counts only
    found = [r for p in parts if isinstance(r := (p.get("crawl") or {}).get("rights"), dict)]
    if not found:
        return None
    merged: dict[str, dict[str, Any]] = {"tdmrep": {}, "robots_ai": {}}
    for rights in sorted(found, key=lambda r: json.dumps(r, sort_keys=True)):
        for section, hosts in rights.items():
            if isinstance(hosts, dict):
                for host, value in hosts.items():
                    merged.setdefault(section, {}).setdefault(host, value)
    return merged


@dataclass(frozen=True)
class Finalised:
    """A crawl's manifest, written: its key, and the counts it gives (every worker's)."""

    key: str
    counts: dict[str, Any]


def finalize(store: Store, server: Any, keys: CrawlKeys) -> Finalised:
    """Write the crawl's manifest from what its workers recorded.

    The caller holds the crawl's ``finalizing`` claim, so this runs once. The counts
    come back with the key because the crawl's Redis keys are gone on return: a worker
    judging the crawl's outcome cannot read them there any more.
    """
    meta = hash_of(server, keys.meta)
    site = meta.get("site", "")
    statuses = hash_of(server, keys.workers)
    info = {w: json.loads(v) for w, v in hash_of(server, keys.info).items()}
    parts = [json.loads(v) for v in hash_of(server, keys.parts).values()]
    recorded = [json.loads(value) for value in hash_of(server, keys.files).values()]
    files = [FileEntry(**{k: r[k] for k in _FILE_FIELDS}) for r in recorded]
    state_file = _publish_state(
        store, site, keys.crawl_id, meta.get("incremental") != "0", recorded_state(server, keys)
    )
    if state_file is not None:
        files.append(state_file)
    counts: dict[str, Any] = {}
    for part in sorted(parts, key=lambda p: p["tag"]):
        merge_counts(counts, part["counts"])
    requisites = counts.get("requisites")
    if isinstance(requisites, dict):  # a ratio is not the sum of the workers' ratios
        requisites["per_article"] = manifest.per_article(
            requisites.get("responses", 0), requisites.get("bytes", 0),
            counts.get("article_pages", 0))
    # A killed run's part, recorded by the worker that recovered it, has counts only:
    # that worker carried its share on, and its own part says how that ended.
    ended = [p for p in parts if not p.get("recovered_by")]
    reasons = sorted({p["crawl"].get("finish_reason", "finished") for p in ended})
    unfinished = [r for r in reasons if r != "finished"]
    workers = []
    for worker in sorted(statuses):
        row = {"id": worker, "status": statuses[worker], **info.get(worker, {})}
        mine = [p for p in ended if p["worker"] == worker]
        if mine:
            row["finish_reason"] = mine[-1]["crawl"].get("finish_reason")
            row["finished_at"] = max(p["finished_at"] for p in mine)
        row["files"] = sum(1 for r in recorded if r.get("worker") == worker)
        workers.append(row)
    started = min((w["started_at"] for w in info.values() if "started_at" in w), default=None)
    crawl = {
        "spider": meta.get("spider", "news"),
        "site": site,
        "start_urls": json.loads(meta.get("start_urls", "[]")),
        "finish_reason": unfinished[0] if unfinished else "finished",
        "started_at": started or datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
    }
    rights = merged_rights(parts)
    if rights is not None:
        crawl["rights"] = rights
    doc = manifest.build_manifest(
        crawl_id=keys.crawl_id,
        crawl=crawl,
        files=files,
        counts=counts,
        settings=json.loads(meta.get("settings", "{}")),
    )
    key = layout.manifest_key(keys.crawl_id)
    store.put_bytes(key, manifest.dumps(doc))
    logger.info(
        "crawl %s finalised: %d files from %d worker(s); manifest %s/%s",
        keys.crawl_id, len(files), len(workers), store.uri, key,
    )
    forget(server, keys)
    return Finalised(key, counts)


def forget(server: Any, keys: CrawlKeys) -> int:
    """Delete a finalised crawl's Redis keys (queue, fingerprints, records); how many."""
    target = CrawlKeys.target(text(server.hget(keys.meta, "site") or b""))
    if text(server.get(target) or b"") == keys.crawl_id:
        server.delete(target)
    names = list(server.scan_iter(match=keys.prefix + "*", count=1000))
    for start in range(0, len(names), 500):
        server.unlink(*names[start:start + 500])
    return len(names)


def file_record(entry: FileEntry, worker: str, tag: str = "") -> str:
    """A stored file as recorded in Redis: its manifest entry, and who wrote it."""
    return json.dumps({**asdict(entry), "worker": worker, "tag": tag or worker}, sort_keys=True)


def finalize_crawl(server: Any, crawl_id: str, archive: str | None = None) -> str:
    """`newsarchive finalize`: the manifest of a crawl whose last worker never finished.

    Refused while a worker of the crawl still has a heartbeat. Workers that stopped
    without finishing are listed as ``lost``: what they had stored is in the manifest;
    what was only in their spool is not (it stays there, orphaned), and the requests
    they held are left to the next crawl to rediscover.
    """
    from newsarchive.errors import ConfigError
    from newsarchive.storage import open_store

    keys = CrawlKeys(crawl_id)
    meta = hash_of(server, keys.meta)
    if not meta:
        raise ConfigError(
            f"crawl {crawl_id} is not in Redis: finalised already, or never started there"
        )
    statuses = hash_of(server, keys.workers)
    alive = sorted(w for w, s in statuses.items()
                   if s == "running" and server.exists(keys.alive(w)))
    if alive:
        raise ConfigError(
            f"crawl {crawl_id} still has running workers ({', '.join(alive)}): "
            "they finalise it when they finish"
        )
    store = open_store(archive or meta["archive"])
    if not server.set(keys.finalizing, "newsarchive finalize", nx=True):
        by = text(server.get(keys.finalizing) or b"?")
        raise ConfigError(f"crawl {crawl_id} is being finalised by {by}")
    for worker, status in statuses.items():
        if status == "running":
            server.hset(keys.workers, worker, "lost")
    left = server.zcard(keys.requests)
    if left:
        logger.warning("crawl %s: %d request(s) left in the queue are dropped", crawl_id, left)
    return finalize(store, server, keys).key
