"""Redis memory of the shared crawl's request dupefilter, per million URLs.

Starts a redis-server on a free loopback port (or uses --redis URL), feeds it N
news-like URLs through the real dupefilters — scrapy-redis's fingerprint set
(NEWSARCHIVE_REDIS_DUPEFILTER=set) and newsarchive's Bloom filter (=bloom) — and
reports Redis's own figures (MEMORY USAGE of the key, and used_memory), plus the
pickled size of a queued request and the time of one request_seen() round trip.

    python benchmarks/dupefilter_memory.py [--urls 1000000] [--redis redis://…]

Fingerprints are added in pipelined batches (the same commands the crawl sends one
request at a time); a million URLs take a few minutes, mostly building requests and
fingerprints in Python. Measured (Redis 7.0.15, 1,000,000 URLs, 2 cores):

    set:   key 80.4 MB = 80.4 MB per million URLs (used_memory +88.4 MB), request_seen 0.56 ms
    bloom: key 25.2 MB, fixed for up to 10,000,000 URLs at error 0.0001, request_seen 0.68 ms
    one queued request: 285 bytes pickled (held only while queued)
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from scrapy import Request  # noqa: E402

from newsarchive.cluster.frontier import (  # noqa: E402
    BloomDupeFilter,
    CrawlKeys,
    FrontierConfig,
    Membership,
    build_dupefilter,
)

BATCH = 10_000


def url(i: int) -> str:
    return f"https://www.example-news.org/world/2026/11/{i % 28 + 1:02d}/story-slug-number-{i}.html"


def start_server() -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("redis-server not found: apt-get install redis-server, or give --redis URL")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="redis-bench-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def used(server: redis.Redis) -> int:
    return int(server.info("memory")["used_memory"])


def measure(server: redis.Redis, config: FrontierConfig, urls: int) -> dict[str, float]:
    member = Membership(config, server, CrawlKeys(f"bench-{config.dupefilter}"), "bench")
    dupefilter = build_dupefilter(member)
    server.delete(member.keys.dupefilter)
    before = used(server)
    started = time.perf_counter()
    for start in range(0, urls, BATCH):
        pipe = server.pipeline(transaction=False)
        for i in range(start, min(start + BATCH, urls)):
            fingerprint = dupefilter.request_fingerprint(Request(url(i)))
            if isinstance(dupefilter, BloomDupeFilter):
                pipe.execute_command(
                    "BITFIELD", member.keys.dupefilter, *dupefilter.bitfield_args(fingerprint)
                )
            else:
                pipe.sadd(member.keys.dupefilter, fingerprint)
        pipe.execute()
    fill = time.perf_counter() - started
    key_bytes = int(server.memory_usage(member.keys.dupefilter, samples=0) or 0)
    total = used(server) - before
    # One request_seen() as the crawl calls it: a round trip per request (new URLs).
    sample = 2000
    started = time.perf_counter()
    for i in range(urls, urls + sample):
        dupefilter.request_seen(Request(url(i)))
    per_call = (time.perf_counter() - started) / sample
    server.delete(member.keys.dupefilter)
    return {"key_bytes": key_bytes, "used_bytes": total, "fill_s": fill, "call_ms": per_call * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--redis", help="use this Redis instead of starting one")
    parser.add_argument("--bloom-capacity", type=int, default=10_000_000)
    parser.add_argument("--bloom-error-rate", type=float, default=0.0001)
    args = parser.parse_args()
    process = None
    if args.redis:
        redis_url = args.redis
    else:
        process, redis_url = start_server()
    server = redis.Redis.from_url(redis_url)
    try:
        print(f"redis {server.info('server')['redis_version']}, {args.urls:,} URLs")
        configs = [
            FrontierConfig(redis_url, "set"),
            FrontierConfig(redis_url, "bloom", args.bloom_capacity, args.bloom_error_rate),
        ]
        million = args.urls / 1e6
        for config in configs:
            figures = measure(server, config, args.urls)
            if config.dupefilter == "bloom":
                bits = figures["key_bytes"] * 8 / config.bloom_capacity
                print(
                    f"bloom: key {figures['key_bytes'] / 1e6:7.1f} MB, fixed for up to "
                    f"{config.bloom_capacity:,} URLs at error {config.bloom_error_rate:g} "
                    f"({bits:.1f} bits/URL at capacity; used_memory "
                    f"+{figures['used_bytes'] / 1e6:.1f} MB)  "
                    f"request_seen {figures['call_ms']:.3f} ms"
                )
                continue
            print(
                f"set:   key {figures['key_bytes'] / 1e6:7.1f} MB = "
                f"{figures['key_bytes'] / million / 1e6:.1f} MB per million URLs "
                f"({figures['key_bytes'] / args.urls:.1f} B/URL; used_memory "
                f"+{figures['used_bytes'] / 1e6:.1f} MB)  "
                f"request_seen {figures['call_ms']:.3f} ms"
            )
        member = Membership(configs[0], server, CrawlKeys("bench-queue"), "bench")
        from scrapy_redis.queue import PriorityQueue

        from newsarchive.cluster.frontier import _Callbacks

        queue = PriorityQueue(server, _Callbacks(), member.keys.requests)
        request = Request(url(1), callback=_Callbacks().parse, meta={"discovery": "link",
                                                                     "depth": 2})
        print(f"one queued request: {len(queue._encode_request(request))} bytes pickled "
              "(held only while queued)")
    finally:
        server.close()
        if process is not None:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
