"""Workers of one crawl on several machines: who they are, and how they agree it is over.

With ``NEWSARCHIVE_REDIS_URL`` every `scrapy crawl news` process is a worker of one
crawl (``NEWSARCHIVE_CRAWL_ID``, or else the crawl Redis says is running for the site):
it takes requests from the shared frontier (newsarchive.cluster.frontier), writes its own WARC
files and shards, named with its worker id (``NEWSARCHIVE_WORKER_ID``, default
``<host>-<pid>``), in its own spool folder, and records in Redis each file it stores
and, at its end, its counts and incremental-state updates. Workers stop when the queue
is empty and no live worker holds a request; the last one to finish writes the crawl's
manifest (newsarchive.cluster.finalize).

A killed worker loses nothing for good. Its stored files are recorded. The next worker
started on its machine recovers its spool folder (newsarchive.archive.salvage: every whole
record is kept), puts the requests it had taken back into the queue, releases the
articles it had claimed whose text did not survive, so they are archived once, and
records the killed run's part: the articles whose text did survive, for the crawl's counts.
Until then the crawl waits for it; `newsarchive finalize` closes a crawl without it.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import logging
import os
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task, threads

from newsarchive.archive import canonical, layout
from newsarchive.archive.recovery import journal_path
from newsarchive.archive.salvage import Salvage, salvage
from newsarchive.archive.session import CrawlSession, default_spool
from newsarchive.archive.state import ArticleState
from newsarchive.cluster import frontier
from newsarchive.cluster.finalize import file_record, finalize, hash_of, text
from newsarchive.cluster.frontier import CrawlKeys, FrontierConfig, Membership
from newsarchive.config import Config
from newsarchive.discovery.sites import Site
from newsarchive.discovery.urls import article_key
from newsarchive.errors import ConfigError, StorageError
from newsarchive.storage import open_store

logger = logging.getLogger(__name__)

def default_worker_id() -> str:
    return f"{layout.hostname()}-{os.getpid()}"


class WorkerLock:
    """An exclusive lock on a file beside a worker's spool folder, held while it runs.

    The kernel drops it when the process dies, however it dies: a lock that can be
    taken means the worker that owned the folder is gone (same machine only).
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def take(cls, path: Path) -> WorkerLock | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return cls(path, fd)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# --- joining -------------------------------------------------------------------------

# Register a worker, unless the crawl is being finalised or the same worker id runs
# (ARGV[4] == '1': the run Redis still counts as alive is known to be dead).
_REGISTER = """
if redis.call('EXISTS', KEYS[4]) == 1 then return 'finalizing' end
if ARGV[4] ~= '1' and redis.call('HGET', KEYS[1], ARGV[1]) == 'running'
    and redis.call('EXISTS', KEYS[3]) == 1 then
  return 'running'
end
redis.call('HSET', KEYS[1], ARGV[1], 'running')
redis.call('HSET', KEYS[2], ARGV[1], 1)
redis.call('SET', KEYS[3], 1, 'PX', ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
for i = 5, #ARGV, 2 do redis.call('HSETNX', KEYS[6], ARGV[i], ARGV[i + 1]) end
return tostring(redis.call('HINCRBY', KEYS[6], 'runs:' .. ARGV[1], 1))
"""


def join(crawler: Any, site: Site) -> None:
    """Make this crawl a worker of the shared crawl, if NEWSARCHIVE_REDIS_URL is set.

    Runs before the crawl session opens: it settles the crawl id, this worker's spool
    folder and name. The add-on (newsarchive.crawl.addon) switches the scheduler to the
    shared frontier and enables the Coordinator on the same setting.
    """
    settings = crawler.settings
    fconfig = FrontierConfig.from_settings(settings)
    if fconfig is None:
        return
    config = Config.from_settings(settings)
    worker = config.worker_id or default_worker_id()
    server = frontier.connect(fconfig)
    crawl_id = config.crawl_id or running_crawl(server, site.name)
    keys = CrawlKeys(crawl_id)
    store = open_store(config.archive, config.s3)
    if store.exists(layout.manifest_key(crawl_id)):
        raise StorageError(f"crawl {crawl_id} is already complete in {store.uri}")
    spools = (Path(config.spool) if config.spool else default_spool(config.archive, store))
    spools = spools / "workers"
    lock = WorkerLock.take(spools / f"{worker}.lock")
    if lock is None:
        raise ConfigError(
            f"worker {worker} already runs on this machine (spool {spools / worker}): "
            "give each worker its own NEWSARCHIVE_WORKER_ID"
        )
    meta = {
        "site": site.name,
        "spider": "news",
        "start_urls": json.dumps(list(site.entry_urls)),
        "archive": config.archive,
        "incremental": "1" if config.incremental else "0",
        "settings": json.dumps(config.summary(), sort_keys=True),
        "created_at": _now(),
    }
    info = {"host": layout.hostname(), "pid": os.getpid(), "started_at": _now()}
    restarted = text(server.hget(keys.workers, worker) or b"") == "running" and died_here(
        server.hget(keys.info, worker)
    )
    if restarted:
        logger.warning(
            "worker %s of crawl %s was killed on this machine (pid %s): this run takes "
            "over its spool", worker, crawl_id, restarted,
        )
    answer = text(server.eval(
        _REGISTER, 6, keys.workers, keys.busy, keys.alive(worker), keys.finalizing, keys.info,
        keys.meta, worker, int(fconfig.worker_timeout * 1000), json.dumps(info),
        "1" if restarted else "0", *[x for pair in meta.items() for x in pair],
    ))
    if answer in ("finalizing", "running"):
        lock.release()
        raise ConfigError(
            f"crawl {crawl_id} is being finalised: start the worker again in a moment"
            if answer == "finalizing" else
            f"worker {worker} is already running in crawl {crawl_id}: give each worker "
            "its own NEWSARCHIVE_WORKER_ID"
        )
    crawl_site = text(server.hget(keys.meta, "site") or b"")
    if crawl_site != site.name:
        lock.release()
        raise ConfigError(f"crawl {crawl_id} is a crawl of {crawl_site!r}, not {site.name!r}")
    runs = int(answer)
    tag = worker if runs == 1 else f"{worker}.{runs}"
    for name, value in {
        "NEWSARCHIVE_CRAWL_ID": crawl_id,
        "NEWSARCHIVE_WORKER_ID": tag,  # names this run's files
        "NEWSARCHIVE_SPOOL": str(spools / worker),
    }.items():
        settings.set(name, value, priority="cmdline")
    frontier.set_membership(
        crawler, Membership(fconfig, server, keys, worker, tag, spools, lock)
    )
    logger.info("worker %s (files: %s) joined crawl %s", worker, tag, crawl_id)


def died_here(recorded: bytes | str | None) -> int | None:
    """The pid of a worker's earlier run if it ran on this machine and is gone.

    Called holding the worker's lock, so no live process here uses its spool; the
    heartbeat it left may still look alive for up to NEWSARCHIVE_WORKER_TIMEOUT, and
    a restart (systemd, a StatefulSet pod) comes back sooner than that.
    """
    try:
        info = json.loads(text(recorded or b"{}"))
        pid = int(info.get("pid", 0))
    except (TypeError, ValueError):
        return None
    if info.get("host") != layout.hostname() or pid <= 0:
        return None
    if pid == os.getpid():  # not registered yet: an earlier run had our pid (a container)
        return pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid
    except PermissionError:
        return None  # alive, someone else's
    return None


def running_crawl(server: Any, site: str) -> str:
    """The crawl id running for site in Redis, or a new one that the next workers join."""
    target = CrawlKeys.target(site)
    server.set(target, layout.new_crawl_id(), nx=True)
    return text(server.get(target))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- articles: one text per article across workers ------------------------------------

_CLAIM = """
for i = 1, #KEYS - 1 do
  if redis.call('HEXISTS', KEYS[1], KEYS[i + 1]) == 1 then return 0 end
end
for i = 1, #KEYS - 1 do redis.call('HSET', KEYS[1], KEYS[i + 1], ARGV[1]) end
return 1
"""


class LocalClaims:
    """Articles this crawl already took text from (one machine)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def claim(self, keys: set[str]) -> bool:
        """True if none of an article's keys was claimed before; claims them."""
        if keys & self.seen:
            return False
        self.seen |= keys
        return True


class RedisClaims(LocalClaims):
    """The same, shared by every worker of the crawl (a Redis hash: key -> worker)."""

    def __init__(self, member: Membership) -> None:
        super().__init__()
        self.server = member.server
        self.keys = member.keys
        self.tag = member.tag or member.worker  # claims name the run that made them
        self._claim = self.server.register_script(_CLAIM)

    def claim(self, keys: set[str]) -> bool:
        if keys & self.seen:
            return False
        ok = bool(self._claim(keys=[self.keys.claims, *sorted(keys)], args=[self.tag]))
        if ok:
            self.seen |= keys
        return ok


def article_claims(crawler: Any) -> LocalClaims:
    member = frontier.membership(crawler)
    return RedisClaims(member) if member is not None else LocalClaims()


def article_keys(record: dict[str, Any]) -> set[str]:
    """The keys the spider and the text pipeline claim for the article a text record
    came from."""
    keys = {article_key(record.get("canonical_url") or record["url"]), article_key(record["url"])}
    return keys | canonical.record_keys(record) if "content_hash" in record else keys


# --- the coordinator -----------------------------------------------------------------

# This worker is idle; is the whole crawl? (queue empty, no live worker holds requests)
_IDLE = """
if ARGV[1] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], 0) end
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local busy = redis.call('HGETALL', KEYS[2])
for i = 1, #busy, 2 do
  if busy[i + 1] ~= '0' and redis.call('EXISTS', ARGV[2] .. busy[i]) == 1 then return 0 end
end
return 1
"""

# This worker is done; returns the workers still running, or {} if it is the last one
# (and now holds the finalising claim), or nil if another worker is finalising.
_FINISH = """
redis.call('HSET', KEYS[1], ARGV[1], 'done')
redis.call('HSET', KEYS[3], ARGV[1], 0)
redis.call('DEL', ARGV[2] .. ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local running = {}
for i = 1, #all, 2 do
  if all[i + 1] == 'running' then table.insert(running, all[i]) end
end
if #running > 0 then return running end
if redis.call('SET', KEYS[2], ARGV[1], 'NX') then return {} end
return false
"""


def _in_progress(crawler: Any) -> set[Any] | None:
    """Requests being downloaded or whose response's callback and items are still at work.

    Scrapy has no signal for "this request's callback and items are done". A request
    is in the downloader's ``active`` set from the moment the engine takes it from the
    scheduler until its response (or failure) moves, in the same call chain, into the
    scraper's ``active`` set, which it leaves once its callback's output went through
    the item pipelines. Both are public attributes (the ones Scrapy's own
    ``scrapy.utils.engine.get_engine_status`` reports). None before the crawl opened.
    """
    engine = _engine(crawler)
    slot = getattr(getattr(engine, "scraper", None), "slot", None)
    if engine is None or slot is None:
        return None
    return set(engine.downloader.active) | set(slot.active)


def _engine(crawler: Any) -> Any:
    """The crawler's engine, None until Scrapy has built it (it raises before, since 2.19)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


WAKE = "newsarchive_wake"  # meta key of the marker request that only wakes the engine


def _wake(crawler: Any) -> None:
    """Have the engine look at the scheduler now, not at its next 5-second heartbeat.

    ``engine.crawl()`` is Scrapy's public way to make it look; the marker request it is
    given is dropped by the coordinator's ``request_scheduled`` handler (IgnoreRequest,
    as that signal allows), before any scheduler, dupefilter or stats see it.
    """
    engine = _engine(crawler)
    if engine is not None and engine.spider is not None:
        engine.crawl(Request("data:,", meta={WAKE: True}, dont_filter=True))


class Coordinator:
    """Scrapy extension of a worker: heartbeat, shared idle detection, recovery, its end."""

    def __init__(self, crawler: Any, member: Membership, session: CrawlSession) -> None:
        self.crawler = crawler
        self.member = member
        self.session = session
        self.server = member.server
        self.keys = member.keys
        self.worker = member.worker
        timeout = member.config.worker_timeout
        self.ttl_ms = int(timeout * 1000)
        self.interval = min(1.0, timeout / 4)
        self.started = _now()
        self.waiting = False
        # The crawl's counts, once this worker wrote its manifest (the last to finish).
        self.crawl_counts: dict[str, Any] | None = None
        # What the state held at start: the updates to record are what differs.
        self.baseline = dict(session.state.entries) if session.state else {}
        self.loop = task.LoopingCall(self.tick)
        # The heartbeat has its own thread: the reactor thread may be busy for seconds
        # (closing the extraction pool, a huge page), which does not make a worker dead.
        self._stop = threading.Event()
        self._heart = threading.Thread(target=self._beat, name="newsarchive-heartbeat",
                                       daemon=True)
        self._idle = self.server.register_script(_IDLE)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Coordinator:
        member = frontier.membership(crawler)
        if member is None:
            raise NotConfigured("NEWSARCHIVE_REDIS_URL is not set: one machine")
        coordinator = cls(crawler, member, CrawlSession.from_crawler(crawler))
        crawler.signals.connect(coordinator.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(coordinator.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(coordinator.engine_stopped, signal=signals.engine_stopped)
        crawler.signals.connect(coordinator.request_scheduled, signal=signals.request_scheduled)
        coordinator._record_stored_files()
        coordinator._heart.start()
        coordinator.loop.start(coordinator.interval, now=False)
        return coordinator

    # -- files ------------------------------------------------------------------------
    def _record_stored_files(self) -> None:
        """Record each file in Redis once stored, so a killed worker's files are listed."""
        session = self.session
        publish = session.publish

        def recording(path: Path, key: str, kind: str, records: int,
                      wait_for_slot: bool = True) -> Any:
            future = publish(path, key, kind, records, wait_for_slot)
            future.add_done_callback(lambda _: self._stored(key))
            return future

        session.publish = recording  # type: ignore[method-assign]

    def _stored(self, key: str) -> None:
        if any(entry.key == key for entry, _, _ in self.session.failed):
            return
        entry = next((f for f in reversed(self.session.files) if f.key == key), None)
        if entry is None:
            return
        try:
            self.server.hset(self.keys.files, key, file_record(entry, self.worker, self.member.tag))
        except Exception as e:  # recorded again at the end
            logger.warning("could not record %s in Redis: %s", key, e)

    # -- start: recover what dead workers on this machine left ------------------------
    async def spider_opened(self, spider: Any) -> None:
        await maybe_deferred_to_future(threads.deferToThread(self.recover))

    def recover(self) -> None:
        spools = self.member.spools
        assert spools is not None
        for lock_path in sorted(spools.glob("*.lock")):
            other = lock_path.name.removesuffix(".lock")
            if other == self.worker:
                continue
            lock = WorkerLock.take(lock_path)
            if lock is None:
                continue  # that worker is alive
            try:  # read under the lock: another new worker may have adopted it just now
                if text(self.server.hget(self.keys.workers, other) or b"") == "running":
                    self.adopt(other, spools / other)
            finally:
                lock.release()
        # This worker's own earlier run, killed (same NEWSARCHIVE_WORKER_ID).
        self.adopt(self.worker, spools / self.worker)

    def adopt(self, dead: str, folder: Path) -> None:
        """Take over a dead worker's share: its files, its requests, its claims, its state.

        Its runs that ended without recording their part (killed) are the ones whose
        claims and state need settling; ``dead`` may be this worker's own id (an
        earlier run of it, on this machine, was killed).
        """
        keys, server = self.keys, self.server
        tags, killed = self._killed_runs(dead)
        found = self._publish_salvaged(folder)
        if not killed and not found.files and not server.hlen(keys.taken(dead)):
            return
        shards = self._surviving_shards(found, killed)
        texts = [r for records in shards.values() for r in records]
        released = self._release_claims(killed, texts)
        self._record_recovered_state(dead, texts)
        requeued = frontier.requeue(server, keys, dead)
        # Last: a run with a part is settled, and is not settled again.
        kept = self._record_killed([t for t in tags if t in killed], dead, shards)
        if dead != self.worker:
            self._retire(dead, folder)
        logger.warning(
            "recovered worker %s of crawl %s: %d file(s) from its spool (%d bytes cut), "
            "%d request(s) back in the queue, %d article(s) kept, %d to fetch again",
            dead, keys.crawl_id, len(found.files), found.cut_bytes, requeued, kept,
            len(released),
        )

    def _killed_runs(self, dead: str) -> tuple[list[str], set[str]]:
        """The file tags of the dead worker's earlier runs, and those of them that never
        recorded their part (killed)."""
        runs = int(self.server.hget(self.keys.meta, f"runs:{dead}") or 0)
        tags = [dead if n == 1 else f"{dead}.{n}" for n in range(1, runs + 1)]
        if dead == self.worker:
            tags = tags[:-1]  # not this run
        parts = {text(t) for t in self.server.hkeys(self.keys.parts)}
        return tags, {t for t in tags if t not in parts}

    def _publish_salvaged(self, folder: Path) -> Salvage:
        """The whole records left in a dead worker's spool folder, stored by this worker."""
        if not folder.is_dir():
            return Salvage()
        found = salvage(folder, self.keys.crawl_id)
        for f in found.files:
            self.session.publish(f.path, f.key, f.kind, f.records)
        self.session.wait_published()
        return found

    def _surviving_shards(
        self, found: Salvage, killed: set[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The text that survived, by shard key: what the spool held, and the shards its
        killed runs wrote (or whose storing they recorded) that were stored; each once."""
        crawl_id = self.keys.crawl_id
        shards = dict(found.shard_texts)
        for value in hash_of(self.server, self.keys.files).values():
            record = json.loads(value)
            if record["kind"] != "text" or record["key"] in shards:
                continue
            if record.get("tag") in killed or shard_writer(record["key"], crawl_id) in killed:
                data = gzip.decompress(self.session.store.read_bytes(record["key"]))
                shards[record["key"]] = [json.loads(line) for line in data.splitlines() if line]
        return shards

    def _release_claims(self, killed: set[str], texts: list[dict[str, Any]]) -> list[str]:
        """Release the killed runs' article claims whose text did not survive, so another
        worker archives those articles; returns the keys released."""
        durable = set().union(*(article_keys(r) for r in texts)) if texts else set()
        released = [
            text(k) for k, v in self.server.hscan_iter(self.keys.claims, count=1000)
            if text(v) in killed and text(k) not in durable
        ]
        if released:
            self.server.hdel(self.keys.claims, *released)
        return released

    def _record_recovered_state(self, dead: str, texts: list[dict[str, Any]]) -> None:
        """The incremental state the surviving text stands for, as the dead worker's."""
        state = {
            f"{article_key(r.get('canonical_url') or r['url'])}\0{dead}:recovered":
                json.dumps(asdict(state_of(r)), sort_keys=True)
            for r in texts
        }
        if state:
            self.server.hset(self.keys.state, mapping=state)

    def _retire(self, dead: str, folder: Path) -> None:
        """Mark another worker adopted: it holds no requests, its files are ours now."""
        self.server.hset(self.keys.workers, dead, "adopted")
        self.server.hset(self.keys.busy, dead, 0)
        # Its files are this crawl's now; a journal left would send the next run
        # under its id into single-machine recovery of a crawl that is not its own.
        journal_path(folder, self.keys.crawl_id).unlink(missing_ok=True)

    def _record_killed(
        self, killed: list[str], dead: str, shards: dict[str, list[dict[str, Any]]]
    ) -> int:
        """Record the part of each killed run of ``dead``: the articles whose text survived.

        A killed run never recorded its counts, yet the manifest lists its text: without
        this part the crawl's counts (and the judgement of its exit status) miss those
        articles. Each shard is counted for the run that wrote it (its key names it), so
        a shard met again in a later recovery is not counted twice. Returns how many.
        """
        crawl_id, kept = self.keys.crawl_id, 0
        parts = {}
        for tag in killed:
            records = [r for key, rows in shards.items()
                       if shard_writer(key, crawl_id) == tag for r in rows]
            changed = sum(1 for r in records if int(r.get("version") or 1) > 1)
            counts = {"articles": len(records), "articles_by_kind": {
                "new": len(records) - changed, "changed": changed, "unchanged": 0}}
            parts[tag] = json.dumps({"worker": dead, "tag": tag, "counts": counts,
                                     "recovered_by": self.member.tag}, sort_keys=True)
            kept += len(records)
        if parts:
            self.server.hset(self.keys.parts, mapping=parts)
        return kept

    # -- while crawling ---------------------------------------------------------------
    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.server.set(self.keys.alive(self.worker), 1, px=self.ttl_ms)
            except Exception as e:  # Redis away for a moment: try again
                logger.warning("worker heartbeat: %s", e)

    def tick(self) -> None:
        """Every second or so: acknowledge finished requests, wake the engine if work."""
        try:
            scheduler = frontier.scheduler_of(self.crawler)
            in_progress = _in_progress(self.crawler)
            if scheduler is not None and in_progress is not None:
                scheduler.acknowledge(in_progress)
            if self.waiting and (self.server.zcard(self.keys.requests) or self.crawl_idle()):
                _wake(self.crawler)
        except Exception as e:  # Redis away for a moment: try again next tick
            logger.warning("worker %s: %s", self.worker, e)

    def request_scheduled(self, request: Request, spider: Any) -> None:
        if request.meta.get(WAKE):
            raise IgnoreRequest("only wakes the engine")

    def crawl_idle(self, me: str = "") -> bool:
        return bool(self._idle(
            keys=[self.keys.requests, self.keys.busy], args=[me, self.keys.alive("")]
        ))

    def spider_idle(self, spider: Any) -> None:
        scheduler = frontier.scheduler_of(self.crawler)
        if scheduler is not None:
            scheduler.acknowledge()
        if self.crawl_idle(self.worker):
            self.waiting = False
            logger.info("crawl %s: queue empty and no worker busy", self.keys.crawl_id)
            return
        self.waiting = True
        raise DontCloseSpider

    def engine_stopped(self) -> None:
        self._stop.set()
        if self.loop.running:
            self.loop.stop()
        if self.member.lock is not None:
            self.member.lock.release()

    # -- the end (called by the archive extension) ------------------------------------
    def record_state(self) -> None:
        """Record this worker's incremental-state updates (instead of a snapshot)."""
        scheduler = frontier.scheduler_of(self.crawler)
        if scheduler is not None:
            scheduler.acknowledge()
        state = self.session.state
        if state is None:
            return
        updates = {
            f"{key}\0{self.member.tag}": json.dumps(asdict(entry), sort_keys=True)
            for key, entry in state.entries.items()
            if self.baseline.get(key) is not entry
        }
        if updates:
            self.server.hset(self.keys.state, mapping=updates)
        state.changed = False

    def write_manifest(self, crawl: dict[str, Any], counts: dict[str, Any]) -> str | None:
        """Record this worker's part; the last worker writes the crawl's manifest.

        Returns the manifest's key, or None while other workers run. Raises
        StorageError when a file of this worker could not be stored (it stays in the
        spool, and this worker counts as running until restarted).
        """
        session, keys = self.session, self.keys
        errors = session.retry_failed()
        if errors:
            raise StorageError(
                f"{len(errors)} file(s) could not be stored ({errors[0]}); they stay in "
                f"{session.spool}: start the worker again to finish crawl {keys.crawl_id}"
            )
        if session.files:
            self.server.hset(keys.files, mapping={
                f.key: file_record(f, self.worker, self.member.tag) for f in session.files
            })
        part = {
            "worker": self.worker, "tag": self.member.tag, "crawl": crawl, "counts": counts,
            "started_at": self.started, "finished_at": _now(),
        }
        self.server.hset(keys.parts, self.member.tag, json.dumps(part, sort_keys=True))
        # Every file is recorded in Redis now; the journal (this run's and the killed
        # earlier runs' of this id) has nothing more to tell a later run.
        session.journal.close(remove=True)
        self._stop.set()  # no heartbeat past the end: the crawl's keys may go next
        answer = self.server.eval(
            _FINISH, 3, keys.workers, keys.finalizing, keys.busy, self.worker, keys.alive("")
        )
        if answer is None:
            return None
        if answer:
            running = sorted(text(w) for w in answer)
            gone = [w for w in running if not self.server.exists(keys.alive(w))]
            logger.info("worker %s done; crawl %s goes on with %s",
                        self.worker, keys.crawl_id, ", ".join(running))
            if gone:
                logger.warning(
                    "crawl %s waits for worker(s) %s, which stopped without finishing: "
                    "start a worker on their machine(s) to recover them, or run "
                    "`newsarchive finalize %s --redis URL`",
                    keys.crawl_id, ", ".join(gone), keys.crawl_id,
                )
            return None
        done = finalize(session.store, self.server, keys)
        self.crawl_counts = done.counts
        return done.key

    def crawl_stats(self, stats: dict[str, Any]) -> dict[str, Any]:
        """Stats to judge the outcome by: articles are counted crawl-wide, not per worker.

        Only the worker that wrote the manifest judges "no article", by the counts it
        wrote there: the crawl's Redis keys are deleted with finalising, so reading the
        workers' parts again would find none. The other workers keep their own stats.
        """
        if self.crawl_counts is None:
            return stats
        by_kind = self.crawl_counts.get("articles_by_kind") or {}
        return {**stats, **{
            f"newsarchive/articles/{kind}": by_kind.get(kind, 0)
            for kind in ("new", "changed", "unchanged")
        }, "newsarchive/article_pages": self.crawl_counts.get(
            "article_pages", stats.get("newsarchive/article_pages", 0))}


def shard_writer(key: str, crawl_id: str) -> str:
    """The run (worker tag) that wrote a text shard of a shared crawl, named in its key
    (newsarchive.archive.layout.text_key: ``<crawl-id>-<tag>-<serial>.jsonl.gz``)."""
    name = key.rsplit("/", 1)[-1].removesuffix(".jsonl.gz").removeprefix(f"{crawl_id}-")
    return name.rsplit("-", 1)[0]


def coordinator(crawler: Any) -> Coordinator | None:
    """The worker's coordinator (None on one machine)."""
    return crawler.get_extension(Coordinator)


def state_of(record: dict[str, Any]) -> ArticleState:
    """The incremental state a stored text record stands for (no validators known)."""
    warc = record.get("warc") or {}
    return ArticleState(
        url=record["url"],
        fetched_at=record["fetched_at"],
        record_id=warc.get("record_id", ""),
        payload_digest=warc.get("payload_digest"),
        content_hash=record.get("content_hash"),
        text_id=record.get("id"),
        version=int(record.get("version") or 1),
        checked_at=record["fetched_at"],
    )
