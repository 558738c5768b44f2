"""Several workers, one Redis: real `scrapy crawl news` processes and a real redis-server.

The redis-server runs on a free loopback port, started and stopped here; the workers
crawl the sample site into one folder archive, as users run them on several machines.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.salvage import salvage
from newsarchive.cluster import frontier
from newsarchive.cluster.frontier import BloomDupeFilter, CrawlKeys, FrontierConfig, Membership
from newsarchive.cluster.workers import RedisClaims
from tests.helpers import ROOT, free_port, scrapy_crawl, unavailable


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on 127.0.0.1 (no persistence), for this module's tests."""
    binary = shutil.which("redis-server")
    if not binary:
        unavailable("redis-server is not installed: apt-get install redis-server (.ci/run does)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield url
    client.close()
    process.terminate()
    process.wait(10)


@pytest.fixture
def server(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def worker(archive: Path, base_url: str, redis_url: str, crawl_id: str, *extra: str,
           log: Path) -> subprocess.Popen:
    """Start one `scrapy crawl news` worker (default worker id: host-pid)."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={base_url}/",
         "-s", f"NEWSARCHIVE_ARCHIVE={archive}", "-s", f"NEWSARCHIVE_REDIS_URL={redis_url}",
         "-s", f"NEWSARCHIVE_CRAWL_ID={crawl_id}", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
         "-s", "NEWSARCHIVE_WORKER_TIMEOUT=3", "-s", "AUTOTHROTTLE_ENABLED=false", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
    )


def finish(process: subprocess.Popen, log: Path) -> None:
    assert process.wait(240) == 0, log.read_text()[-3000:]


def text_records(archive: Path, manifest: dict) -> list[dict]:
    records = []
    for f in manifest["files"]:
        if f["kind"] == "text":
            data = gzip.decompress((archive / f["key"]).read_bytes())
            records += [json.loads(line) for line in data.splitlines()]
    return records


def response_urls(archive: Path, manifest: dict) -> Counter:
    urls: Counter = Counter()
    for f in manifest["files"]:
        if f["kind"] == "warc":
            with open(archive / f["key"], "rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type == "response":
                        urls[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return urls


def archive_files(archive: Path) -> set[str]:
    return {
        p.relative_to(archive).as_posix() for p in archive.rglob("*")
        if p.is_file() and not p.relative_to(archive).as_posix().startswith((".spool", "crawls"))
    }


def test_three_workers_share_one_crawl(crawl, sample_site, redis_url, server, tmp_path):
    archive = tmp_path / "archive"
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = [worker(archive, sample_site.base_url, redis_url, "shared", log=log)
               for log in logs]
    for process, log in zip(workers, logs, strict=True):
        finish(process, log)

    (manifest_path,) = (archive / "crawls").glob("*.json")  # one manifest, written last
    manifest = json.loads(manifest_path.read_text())
    assert manifest["crawl_id"] == "shared"
    assert len(manifest["crawl"]["workers"]) == 3
    assert {w["status"] for w in manifest["crawl"]["workers"]} == {"done"}
    listed = {f["key"] for f in manifest["files"]}
    assert listed == archive_files(archive)  # every worker's files, nothing unlisted
    assert {f["kind"] for f in manifest["files"]} >= {"warc", "cdxj", "text", "state"}

    single = text_records(crawl.archive, crawl.manifest)
    records = text_records(archive, manifest)
    assert sorted(r["url"] for r in records) == sorted(r["url"] for r in single)
    fetched = response_urls(archive, manifest)
    assert {url: fetched[url] for url in {r["url"] for r in single}} == {
        r["url"]: 1 for r in single
    }  # every article fetched by exactly one worker
    assert manifest["counts"]["articles"] == len(single)
    (state,) = [f for f in manifest["files"] if f["kind"] == "state"]
    rows = [json.loads(line) for line in gzip.decompress((archive / state["key"]).read_bytes())
            .splitlines()]  # one snapshot merged from every worker's updates
    articles = [r for r in rows if r.get("kind") != "requisite"]  # page requisites too
    assert sorted(r["text_id"] for r in articles) == sorted(r["id"] for r in records)
    assert len(rows) > len(articles)
    assert not server.keys("newsarchive:shared:*")  # the crawl's Redis keys are gone


def test_a_killed_worker_loses_nothing(crawl, sample_site, redis_url, server, tmp_path):
    archive = tmp_path / "archive"
    spools = archive / ".spool" / "workers"
    slow = ("-s", "DOWNLOAD_DELAY=0.3")
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    workers = [worker(archive, sample_site.base_url, redis_url, "killed", *slow, log=log)
               for log in logs]
    # Kill a worker once it has text records in an open shard: mid-crawl, files open.
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        for process in workers:
            shards = list(spools.glob(f"*-{process.pid}/text/*/*/*.jsonl.gz"))
            if shards and shards[0].stat().st_size > 100 and process.poll() is None:
                victim = process
                break
        time.sleep(0.05)
    assert victim is not None, "no worker wrote text"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for process, log in zip(workers, logs, strict=True):
        if process is not victim:
            finish(process, log)
    assert not (archive / "crawls").exists()  # the crawl waits for the killed worker

    log = tmp_path / "restarted.log"
    finish(worker(archive, sample_site.base_url, redis_url, "killed", log=log), log)
    assert "recovered worker" in log.read_text()
    (manifest_path,) = (archive / "crawls").glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    statuses = Counter(w["status"] for w in manifest["crawl"]["workers"])
    assert statuses == {"done": 3, "adopted": 1}
    assert {f["key"] for f in manifest["files"]} == archive_files(archive)

    single = sorted(r["url"] for r in text_records(crawl.archive, crawl.manifest))
    urls = [r["url"] for r in text_records(archive, manifest)]
    assert sorted(urls) == single  # every article archived, none twice
    # and counted: the killed worker's surviving articles too (recorded by its adopter)
    assert manifest["counts"]["articles"] == len(single)
    assert manifest["counts"]["articles_by_kind"]["new"] == len(single)
    state = gzip.decompress(next(
        (archive / f["key"]).read_bytes() for f in manifest["files"] if f["kind"] == "state"
    )).splitlines()
    state = [line for line in state if json.loads(line).get("kind") != "requisite"]
    assert len(state) == len(single)  # the next run knows every article



@pytest.mark.parametrize("at_once", [True, False], ids=["at-once", "after-the-others"])
def test_a_worker_restarted_under_its_own_id_rejoins_the_crawl(
    crawl, sample_site, redis_url, server, tmp_path, at_once
):
    """What a systemd unit or a StatefulSet pod does: the killed worker comes back with
    its own NEWSARCHIVE_WORKER_ID, on its own spool: at once (its heartbeat still looks
    alive), or once the others ended and the crawl waits for it."""
    archive = tmp_path / "archive"
    spools = archive / ".spool" / "workers"
    slow = ("-s", "DOWNLOAD_DELAY=0.3")
    ids = ["w0", "w1", "w2"]
    logs = {w: tmp_path / f"{w}.log" for w in ids}
    workers = {w: worker(archive, sample_site.base_url, redis_url, "rejoin", *slow,
                         "-s", f"NEWSARCHIVE_WORKER_ID={w}", log=logs[w]) for w in ids}
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        for w, process in workers.items():
            shards = list(spools.glob(f"{w}/text/*/*/*.jsonl.gz"))
            if shards and shards[0].stat().st_size > 100 and process.poll() is None:
                victim = w
                break
        time.sleep(0.05)
    assert victim is not None, "no worker wrote text"
    workers[victim].send_signal(signal.SIGKILL)
    workers[victim].wait()
    assert (spools / victim / "journal" / "rejoin.jsonl").exists()  # a crashed run's

    def restart() -> subprocess.Popen:
        return worker(archive, sample_site.base_url, redis_url, "rejoin", *slow,
                      "-s", f"NEWSARCHIVE_WORKER_ID={victim}", log=log)

    log = tmp_path / "restarted.log"
    restarted = restart() if at_once else None
    for w, process in workers.items():
        if w != victim:
            finish(process, logs[w])
    if restarted is None:
        assert not (archive / "crawls").exists()  # the crawl waits for the killed worker
        restarted = restart()
    finish(restarted, log)
    assert "recovered worker" in log.read_text()

    (manifest_path,) = (archive / "crawls").glob("*.json")  # one manifest, the crawl's
    manifest = json.loads(manifest_path.read_text())
    assert manifest["crawl"]["finish_reason"] == "finished"
    assert {w["id"]: w["status"] for w in manifest["crawl"]["workers"]} == {
        w: "done" for w in ids
    }
    assert {f["key"] for f in manifest["files"]} == archive_files(archive)  # no orphan
    writers = {w["id"]: w["files"] for w in manifest["crawl"]["workers"]}
    assert all(writers.values()), writers  # every worker's files, the victim's too
    single = sorted(r["url"] for r in text_records(crawl.archive, crawl.manifest))
    assert sorted(r["url"] for r in text_records(archive, manifest)) == single  # each once
    assert manifest["counts"]["articles"] == len(single)  # the killed run's counted too
    assert not list(spools.glob("*/journal/*.jsonl"))  # nothing left for a later crawl



def test_a_worker_that_archived_nothing_itself_closes_the_crawl(
    crawl, sample_site, redis_url, server, tmp_path
):
    """The order a loaded machine can produce, made certain: every article is archived by
    w0, and the worker that closes the crawl, a killed w1 started again, archives none
    itself. Its exit status is judged by the whole crawl's articles, which it reads as
    it writes the manifest: after that the crawl's Redis keys are gone."""
    archive = tmp_path / "archive"
    keys = CrawlKeys("quiet")
    # What w1 left in Redis when it was killed just after joining, before any request.
    server.hset(keys.workers, "w1", "running")
    server.hset(keys.busy, "w1", 1)
    server.hset(keys.meta, "runs:w1", 1)

    logs = {w: tmp_path / f"{w}.log" for w in ("w0", "w1")}
    finish(worker(archive, sample_site.base_url, redis_url, "quiet",
                  "-s", "NEWSARCHIVE_WORKER_ID=w0", log=logs["w0"]), logs["w0"])
    assert not (archive / "crawls").exists()  # the crawl waits for w1
    finish(worker(archive, sample_site.base_url, redis_url, "quiet",
                  "-s", "NEWSARCHIVE_WORKER_ID=w1", log=logs["w1"]), logs["w1"])

    manifest = json.loads((archive / "crawls" / "quiet.json").read_text())
    single = sorted(r["url"] for r in text_records(crawl.archive, crawl.manifest))
    records = text_records(archive, manifest)
    assert sorted(r["url"] for r in records) == single
    assert all(r["warc"]["file"].endswith("-w0.warc.gz") for r in records)  # none by w1
    assert manifest["counts"]["articles"] == len(single)
    assert not server.keys("newsarchive:quiet:*")


@pytest.mark.e2e
def test_a_dead_earlier_run_is_recognised_on_its_own_machine():
    from newsarchive.archive import layout
    from newsarchive.cluster.workers import died_here

    here = layout.hostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert died_here(json.dumps({"host": here, "pid": gone.pid})) == gone.pid
    assert died_here(json.dumps({"host": here, "pid": os.getppid()})) is None  # alive
    assert died_here(json.dumps({"host": "elsewhere", "pid": gone.pid})) is None
    # Not registered yet, so a run recorded with this very pid was an earlier one (a
    # restarted container gets the same pid).
    assert died_here(json.dumps({"host": here, "pid": os.getpid()})) == os.getpid()
    assert died_here(None) is None and died_here(b"not json") is None


@pytest.mark.parametrize("tag", ["w1", "w1.2", "host-4242", "host-4242.3"])
def test_a_shard_names_the_run_that_wrote_it(tag):
    """A killed run's articles are counted for the run that wrote their shard, once, even
    when a later recovery meets the shard again under another run's record."""
    from newsarchive.archive import layout
    from newsarchive.cluster.workers import shard_writer

    key = layout.text_key("sample", "2026-09-09", "night-1", 12, tag)
    assert shard_writer(key, "night-1") == tag



def test_unreachable_redis_stops_before_crawling(sample_site, tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path / 'a'}",
        "-s", f"NEWSARCHIVE_REDIS_URL={url}", timeout=60,
    )
    assert process.returncode == 2
    assert process.stderr.startswith(f"newsarchive: error: cannot reach Redis at {url} ")
    assert "Spider opened" not in process.stderr


def test_bad_frontier_settings_are_named():
    from newsarchive.errors import ConfigError

    for settings, name in [
        ({"NEWSARCHIVE_REDIS_URL": "http://x"}, "NEWSARCHIVE_REDIS_URL"),
        ({"NEWSARCHIVE_REDIS_URL": "redis://x", "NEWSARCHIVE_REDIS_DUPEFILTER": "x"},
         "NEWSARCHIVE_REDIS_DUPEFILTER"),
        ({"NEWSARCHIVE_REDIS_URL": "redis://x", "NEWSARCHIVE_REDIS_BLOOM_CAPACITY": "10e12"},
         "NEWSARCHIVE_REDIS_BLOOM_CAPACITY"),
    ]:
        with pytest.raises(ConfigError, match=name):
            FrontierConfig.from_settings(settings)
    assert FrontierConfig.from_settings({}) is None
    assert frontier.redact("redis://u:secret@h:1/0") == "redis://u:***@h:1/0"


def test_bloom_dupefilter_is_atomic_and_sized(server):
    from scrapy import Request

    member = Membership(
        FrontierConfig("redis://", dupefilter="bloom", bloom_capacity=1000,
                       bloom_error_rate=0.001),
        server, CrawlKeys("bloom-test"), "w",
    )
    first = frontier.build_dupefilter(member)
    second = frontier.build_dupefilter(member)  # another worker
    assert isinstance(first, BloomDupeFilter) and (first.bits, first.hashes) == (14378, 10)
    urls = [f"https://example.org/{i}" for i in range(1000)]
    assert sum(not first.request_seen(Request(u)) for u in urls) >= 995
    assert all(second.request_seen(Request(u)) for u in urls)
    assert server.strlen(member.keys.dupefilter) <= first.bits // 8 + 1
    server.delete(member.keys.dupefilter)


def test_article_claims_are_shared(server):
    keys = CrawlKeys("claims-test")
    config = FrontierConfig("redis://")
    a = RedisClaims(Membership(config, server, keys, "a"))
    b = RedisClaims(Membership(config, server, keys, "b"))
    assert a.claim({"x", "y"})
    assert not b.claim({"y", "z"})  # one of its keys is a's
    assert b.claim({"z"})
    assert server.hgetall(keys.claims) == {b"x": b"a", b"y": b"a", b"z": b"b"}
    server.delete(keys.claims)


def test_salvage_keeps_whole_records(tmp_path):
    from newsarchive.archive.shards import ShardWriter

    folder = tmp_path / "spool"
    writer = ShardWriter("c", folder, 100, lambda *a: None, worker="w")
    for i in range(3):
        writer.write({"site": "s", "fetched_at": "2026-01-01T00:00:00Z", "n": i})
    (shard,) = folder.glob("text/*/*/*.jsonl.gz")  # open, never closed: as if killed
    warc = folder / "warc" / "c" / "x.warc.gz"
    warc.parent.mkdir(parents=True)
    record = (b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Target-URI: http://e.org/\r\n"
              b"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
              b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n")
    whole = gzip.compress(record)
    warc.write_bytes(whole * 2 + whole[:20])  # the third record cut short
    found = salvage(folder, "c")
    assert [r["n"] for r in found.texts] == [0, 1, 2]
    assert gzip.decompress(shard.read_bytes()).count(b"\n") == 3  # whole gzip again
    assert warc.stat().st_size == 2 * len(whole) and found.cut_bytes == 20
    assert sorted((f.kind, f.records) for f in found.files) == [
        ("cdxj", 2), ("text", 3), ("warc", 2)
    ]


def test_enqueue_then_finalize_without_a_dead_worker(redis_url, server, tmp_path):
    from click.testing import CliRunner

    from newsarchive.archive.manifest import FileEntry
    from newsarchive.cli import main
    from newsarchive.cluster.finalize import file_record

    runner = CliRunner()
    urls = tmp_path / "backfill.txt"
    urls.write_text("https://example.org/a.html\nhttps://example.org/b.html?utm_source=x\n")
    args = ["enqueue", "--redis", redis_url, "--url", "https://example.org/",
            "--crawl-id", "backfill", "--from-file", str(urls)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "backfill"
    assert server.zcard("newsarchive:backfill:requests") == 3
    assert runner.invoke(main, args).stderr.startswith("0 request(s) queued, 3 already seen")

    # A worker that stored one file, then died; nobody will restart it.
    archive = tmp_path / "archive"
    (archive / "warc").mkdir(parents=True)
    (archive / "warc" / "x.warc.gz").write_bytes(b"x")
    keys = CrawlKeys("backfill")
    server.hset(keys.meta, mapping={"archive": str(archive), "settings": "{}"})
    server.hset(keys.workers, "gone", "running")
    entry = FileEntry("warc/x.warc.gz", "warc", 1, "0" * 64, 1)
    server.hset(keys.files, entry.key, file_record(entry, "gone"))
    server.set(keys.alive("alive"), 1)
    server.hset(keys.workers, "alive", "running")
    result = runner.invoke(main, ["finalize", "backfill", "--redis", redis_url])
    assert result.exit_code == 2 and "still has running workers (alive)" in result.stderr
    server.delete(keys.alive("alive"))
    server.hset(keys.workers, "alive", "done")
    # Each worker read the rights of the hosts it fetched from: the manifest has them all.
    for tag, host in (("t1", "a.example"), ("t2", "b.example")):
        rights = {"tdmrep": {host: [{"location": "/", "tdm-reservation": 1}]},
                  "robots_ai": {host: {"disallowed": ["GPTBot"]}}}
        counts = {"requests": 1, "article_pages": 2 if tag == "t1" else 0,
                  "requisites": {"responses": 3, "bytes": 300,
                                 "per_article": {"requests": 1.5, "bytes": 150}}}
        server.hset(keys.parts, tag, json.dumps({
            "worker": "alive", "tag": tag, "counts": counts,
            "crawl": {"finish_reason": "finished", "rights": rights},
            "started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:01:00+00:00",
        }))
    result = runner.invoke(main, ["finalize", "backfill", "--redis", redis_url])
    assert result.exit_code == 0, result.output
    manifest = json.loads((archive / "crawls" / "backfill.json").read_text())
    assert [f["key"] for f in manifest["files"]] == ["warc/x.warc.gz"]
    assert {w["id"]: w["status"] for w in manifest["crawl"]["workers"]} == {
        "alive": "done", "gone": "lost"
    }
    assert sorted(manifest["crawl"]["rights"]["tdmrep"]) == ["a.example", "b.example"]
    assert manifest["crawl"]["rights"]["robots_ai"]["b.example"] == {"disallowed": ["GPTBot"]}
    assert manifest["counts"]["requests"] == 2
    # per article over the whole crawl (6 requisites, 2 article pages), not a sum of ratios
    assert manifest["counts"]["requisites"]["per_article"] == {"requests": 3.0, "bytes": 300}
    assert not server.keys("newsarchive:backfill:*")


def test_a_shared_crawl_is_judged_by_every_workers_article_pages() -> None:
    """A WARC-only crawl writes no text record: the closing worker, which may have seen
    no article page itself, judges "no article" by the pages all workers saw."""
    from types import SimpleNamespace

    from newsarchive.cluster.workers import Coordinator
    from newsarchive.crawl.outcome import NO_ARTICLES, OK, judge

    own = {"downloader/request_count": 5, "newsarchive/article_pages": 0}
    kinds = {"new": 0, "changed": 0, "unchanged": 0}
    for pages, status in ((7, OK), (0, NO_ARTICLES)):
        closing = SimpleNamespace(crawl_counts={"articles_by_kind": kinds, "article_pages": pages})
        assert judge(Coordinator.crawl_stats(closing, own), 0.5).status == status


def test_rights_merge_over_parts_of_every_kind() -> None:
    """A killed run's part (counts only, recorded by the worker that recovered it) has no
    ``crawl``: it is skipped, not a crash of the finalising worker."""
    from newsarchive.cluster.finalize import merged_rights

    parts = [
        {"counts": {"requests": 3}},
        {"crawl": {"finish_reason": "finished"}},
        {"crawl": {"rights": {"tdmrep": {"a.example": []}, "robots_ai": {}}}},
    ]
    assert merged_rights(parts) == {"tdmrep": {"a.example": []}, "robots_ai": {}}
    assert merged_rights(parts[:2]) is None
