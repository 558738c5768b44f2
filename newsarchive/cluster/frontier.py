"""The shared frontier of a crawl run by several workers: scrapy-redis on one Redis.

``NEWSARCHIVE_REDIS_URL`` switches a crawl to it: the request queue and the request
dupefilter live in Redis under the crawl's id, so every worker takes requests from the
same queue and a URL is fetched once across all of them. Without the setting nothing
here runs and Scrapy's in-memory scheduler works as before, on one machine.

scrapy-redis supplies the scheduler, the priority queue and the dupefilter. Added here
is what workers that may be killed need from them: a pop that records which worker
took a request until it is fully processed (so a killed worker's requests go back to
the queue when its spool is recovered), a fixed-size Bloom-filter dupefilter for very
long crawls (scrapy-redis has none; the ``scrapy-redis-bloomfilter`` package tests
and sets bits in separate round trips, so two workers could both fetch a URL), and
keys namespaced per crawl, deleted when the crawl is finalised.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from newsarchive.errors import ConfigError, StorageError
from newsarchive.settings_schema import default, read

logger = logging.getLogger(__name__)

_ATTR = "_newsarchive_frontier"
_BLOOM_MAX_BITS = 2**32  # the largest bit offset a Redis string can hold


@dataclass(frozen=True)
class FrontierConfig:
    """The ``NEWSARCHIVE_REDIS_*`` / worker settings, checked once."""

    redis_url: str
    dupefilter: str = default("NEWSARCHIVE_REDIS_DUPEFILTER")
    bloom_capacity: int = default("NEWSARCHIVE_REDIS_BLOOM_CAPACITY")
    bloom_error_rate: float = default("NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE")
    worker_timeout: float = float(default("NEWSARCHIVE_WORKER_TIMEOUT"))

    @classmethod
    def from_settings(cls, settings: Any) -> FrontierConfig | None:
        """None when no Redis is configured (one machine); ConfigError naming a bad setting.

        Each value is checked by its entry in newsarchive.settings_schema; what is left
        here is the one rule joining two of them."""
        url = read(settings, "NEWSARCHIVE_REDIS_URL")
        if not url:
            return None
        capacity = read(settings, "NEWSARCHIVE_REDIS_BLOOM_CAPACITY")
        error_rate = read(settings, "NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE")
        try:
            bits = bloom_size(capacity, error_rate)[0]
        except OverflowError:  # a capacity past what a float holds
            bits = _BLOOM_MAX_BITS + 1
        if bits > _BLOOM_MAX_BITS:
            raise ConfigError(
                "NEWSARCHIVE_REDIS_BLOOM_CAPACITY/_ERROR_RATE need a filter over 512 MiB, "
                "the most a Redis string holds: lower the capacity or raise the error rate"
            )
        return cls(url, read(settings, "NEWSARCHIVE_REDIS_DUPEFILTER"), capacity, error_rate,
                   float(read(settings, "NEWSARCHIVE_WORKER_TIMEOUT")))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def connect(config: FrontierConfig) -> Any:
    """A Redis client that answered a PING; StorageError naming the URL otherwise."""
    import redis

    try:
        server = redis.Redis.from_url(
            config.redis_url, socket_connect_timeout=5, socket_timeout=30,
            retry_on_timeout=True, health_check_interval=30,
        )
        server.ping()
    except (redis.RedisError, OSError, ValueError) as e:
        raise StorageError(
            f"cannot reach Redis at {redact(config.redis_url)} (NEWSARCHIVE_REDIS_URL): "
            f"{_reason(e)}"
        ) from None
    return server


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")


def check(settings: Any) -> None:
    """Preflight: a bad Redis setting or an unreachable Redis stops `scrapy crawl` at once."""
    config = FrontierConfig.from_settings(settings)
    if config is not None:
        connect(config).close()


class CrawlKeys:
    """Every Redis key of one shared crawl, under ``newsarchive:<crawl-id>:``."""

    def __init__(self, crawl_id: str) -> None:
        self.crawl_id = crawl_id
        self.prefix = f"newsarchive:{crawl_id}:"
        p = self.prefix
        self.requests = p + "requests"  # scrapy-redis priority queue (sorted set)
        self.dupefilter = p + "dupefilter"  # request fingerprints (set, or Bloom bitmap)
        self.meta = p + "meta"  # what the crawl is: site, archive, settings
        self.workers = p + "workers"  # worker -> running | done | adopted
        self.info = p + "worker-info"  # worker -> JSON (host, pid, started)
        self.busy = p + "busy"  # worker -> 1 while it holds requests, 0 when idle
        self.files = p + "files"  # archive key -> JSON file entry, once stored
        self.parts = p + "parts"  # worker -> JSON (crawl, counts) at its end
        self.state = p + "state"  # "<article key>\0<worker>" -> JSON ArticleState
        self.claims = p + "claims"  # article key -> worker that writes its text
        self.finalizing = p + "finalizing"  # who writes the manifest

    def taken(self, worker: str) -> str:
        """Requests a worker popped and has not finished (hash: encoded request -> score)."""
        return f"{self.prefix}taken:{worker}"

    def alive(self, worker: str) -> str:
        """Exists while the worker's heartbeat is fresh."""
        return f"{self.prefix}alive:{worker}"

    @staticmethod
    def target(site: str) -> str:
        """The crawl id that workers started without NEWSARCHIVE_CRAWL_ID join, per site."""
        return f"newsarchive:target:{site}"


@dataclass
class Membership:
    """This process's place in a shared crawl, decided before the crawl session opens."""

    config: FrontierConfig
    server: Any
    keys: CrawlKeys
    worker: str  # NEWSARCHIVE_WORKER_ID, or <host>-<pid>
    tag: str = ""  # names this run of the worker in file keys (worker, then worker.2 …)
    spools: Path | None = None  # the folder holding every worker's spool on this machine
    lock: Any = None  # held while this worker runs (see newsarchive.cluster.workers)
    scheduler: Scheduler | None = None  # this worker's, once Scrapy has built it


def membership(crawler: Any) -> Membership | None:
    """The crawler's shared-crawl membership (None on one machine)."""
    return getattr(crawler, _ATTR, None)


def set_membership(crawler: Any, member: Membership) -> None:
    setattr(crawler, _ATTR, member)


# --- queue ---------------------------------------------------------------------------

# Pop the best request and note who took it, in one step: a worker killed between the
# two would otherwise lose the request for good.
_TAKE = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], r[1], r[2])
redis.call('HSET', KEYS[3], ARGV[1], 1)
return r[1]
"""

# Put every request a worker took back into the queue (its spool has been recovered).
_REQUEUE = """
local taken = redis.call('HGETALL', KEYS[2])
for i = 1, #taken, 2 do
  redis.call('ZADD', KEYS[1], taken[i + 1], taken[i])
end
redis.call('DEL', KEYS[2])
return #taken / 2
"""


class TakingQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop records the taker until it acknowledges."""

    def __init__(
        self, server: Any, spider: Any, key: str, taken_key: str, busy_key: str, worker: str,
        serializer: Any = None,
    ) -> None:
        super().__init__(server, spider, key, serializer)
        self.taken_key = taken_key
        self.busy_key = busy_key
        self.worker = worker
        self._take = server.register_script(_TAKE)

    def take(self) -> tuple[Request, bytes] | None:
        data = self._take(keys=[self.key, self.taken_key, self.busy_key], args=[self.worker])
        if not data:
            return None
        return self._decode_request(data), data

    def pop(self, timeout: int = 0) -> Request | None:
        taken = self.take()
        return taken[0] if taken else None

    def acknowledge(self, encoded: list[bytes]) -> None:
        if encoded:
            self.server.hdel(self.taken_key, *encoded)


def requeue(server: Any, keys: CrawlKeys, worker: str) -> int:
    """Return the requests a worker had taken to the queue; how many."""
    return int(server.eval(_REQUEUE, 2, keys.requests, keys.taken(worker)))


# --- dupefilters ---------------------------------------------------------------------


def bloom_size(capacity: int, error_rate: float) -> tuple[int, int]:
    """(bits, hash functions) of a Bloom filter for capacity items at error_rate."""
    bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
    return bits, max(1, round(bits / capacity * math.log(2)))


class BloomDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter over a fixed-size Bloom filter (a Redis bitmap).

    Memory is fixed by capacity and error rate whatever the crawl's length; past the
    capacity the false-positive rate rises. A false positive is a new URL taken for
    seen: it is not fetched in this crawl (the next crawl, with a fresh filter, can).
    Setting the k bits is one BITFIELD command: a URL is new for exactly one worker.
    """

    def __init__(
        self, server: Any, key: str, capacity: int, error_rate: float, debug: bool = False
    ) -> None:
        super().__init__(server, key, debug)
        self.bits, self.hashes = bloom_size(capacity, error_rate)

    def offsets(self, fingerprint: str) -> list[int]:
        # Double hashing (Kirsch–Mitzenmacher) over two 64-bit halves of the SHA-1.
        h1, h2 = int(fingerprint[:16], 16), int(fingerprint[16:32], 16) | 1
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]

    def bitfield_args(self, fingerprint: str) -> list[Any]:
        args: list[Any] = []
        for offset in self.offsets(fingerprint):
            args += ["SET", "u1", offset, 1]
        return args

    def request_seen(self, request: Request) -> bool:
        # One BITFIELD sets the k bits and returns their old values, atomically.
        old = self.server.execute_command(
            "BITFIELD", self.key, *self.bitfield_args(self.request_fingerprint(request))
        )
        return all(old)


def build_dupefilter(member: Membership, debug: bool = False) -> RFPDupeFilter:
    config = member.config
    if config.dupefilter == "bloom":
        return BloomDupeFilter(
            member.server, member.keys.dupefilter, config.bloom_capacity,
            config.bloom_error_rate, debug,
        )
    return RFPDupeFilter(member.server, member.keys.dupefilter, debug)


# --- scheduler -----------------------------------------------------------------------


class Scheduler(RedisScheduler):
    """scrapy-redis's scheduler on the crawl's keys, remembering what this worker took.

    ``SCHEDULER_PERSIST`` is always on: the queue and fingerprints outlive any one worker
    and are deleted when the crawl is finalised.
    """

    def __init__(self, member: Membership, dupefilter: RFPDupeFilter, stats: Any) -> None:
        super().__init__(
            member.server, persist=True, queue_key=member.keys.requests,
            dupefilter=dupefilter, dupefilter_key=member.keys.dupefilter,
        )
        self.member = member
        self.stats = stats
        self.taken: dict[Request, bytes] = {}  # popped here, not yet acknowledged

    @classmethod
    def from_crawler(cls, crawler: Any) -> Scheduler:
        member = membership(crawler)
        if member is None:
            raise ConfigError(
                "newsarchive.cluster.frontier.Scheduler needs NEWSARCHIVE_REDIS_URL and the news "
                "spider, which joins the shared crawl (leave SCHEDULER alone: the Redis "
                "setting switches the scheduler)"
            )
        debug = crawler.settings.getbool("DUPEFILTER_DEBUG")
        scheduler = cls(member, build_dupefilter(member, debug), crawler.stats)
        member.scheduler = scheduler  # for the coordinator (newsarchive.cluster.workers)
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        keys = self.member.keys
        self.queue = TakingQueue(
            self.server, spider, keys.requests, keys.taken(self.member.worker), keys.busy,
            self.member.worker,
        )
        if len(self.queue):
            logger.info("joining crawl %s: %d requests queued", keys.crawl_id, len(self.queue))

    def close(self, reason: str) -> None:
        """Keep the shared queue and fingerprints: other workers still use them."""

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        self.stats.inc_value("scheduler/enqueued")
        return True

    def next_request(self) -> Request | None:
        taken = self.queue.take()
        if taken is None:
            return None
        request, encoded = taken
        self.taken[request] = encoded
        self.stats.inc_value("scheduler/dequeued/redis")
        self.stats.inc_value("scheduler/dequeued")
        return request

    def acknowledge(self, in_progress: set[Request] | None = None) -> int:
        """Forget taken requests that are fully processed (not in ``in_progress``).

        A request leaves the engine's in-progress set once its response went through
        the callback and the item pipelines: its records are in the spool files and
        the requests it led to are queued, so losing the worker no longer loses it.
        """
        done = [r for r in self.taken if in_progress is None or r not in in_progress]
        if done:
            self.queue.acknowledge([self.taken.pop(r) for r in done])
        return len(done)


def scheduler_of(crawler: Any) -> Scheduler | None:
    member = membership(crawler)
    return member.scheduler if member is not None else None


# --- pushing requests from outside a crawl (newsarchive enqueue) ----------------------


class _Callbacks:
    """Stands in for the news spider when requests are encoded outside a crawl."""

    name = "news"

    def parse(self, response: Any) -> None: ...

    def parse_feed(self, response: Any) -> None: ...

    def parse_sitemap(self, response: Any) -> None: ...


def push_requests(member: Membership, urls: list[tuple[str, str]]) -> int:
    """Queue (url, discovery) pairs as the news spider would; returns how many were new."""
    spider = _Callbacks()
    callbacks = {"feed": spider.parse_feed, "sitemap": spider.parse_sitemap}
    queue = PriorityQueue(member.server, spider, member.keys.requests)
    dupefilter = build_dupefilter(member)
    added = 0
    for url, kind in urls:
        request = Request(url, callback=callbacks.get(kind, spider.parse), meta={"discovery": kind})
        if not dupefilter.request_seen(request):
            queue.push(request)
            added += 1
    return added
