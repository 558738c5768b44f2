"""S3-compatible storage against a real S3 HTTP endpoint on loopback (moto's server)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from newsarchive.errors import StorageError
from newsarchive.storage import open_store
from newsarchive.storage.s3 import S3Options, S3Store
from newsarchive.warc.writer import Exchange, RollingWarcWriter, WarcOptions
from tests.helpers import ROOT, assert_one_line_failure, free_port, scrapy_crawl
from tests.s3server import Outage

SECRET = "testing-secret-key-not-for-logs"


def newsarchive(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", *args],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=300,
    )


# --- the store itself -----------------------------------------------------------------

def test_put_same_bytes_twice_is_fine_different_bytes_refused(s3, tmp_path):
    store = S3Store.from_uri(f"s3://{s3.new_bucket()}/p")
    store.check_writable()
    for data in (b"one", b"one"):
        local = tmp_path / "f"
        local.write_bytes(data)
        store.put_file(local, "text/a.jsonl.gz", hashlib.sha256(data).hexdigest())
        assert not local.exists()
    local.write_bytes(b"two")
    with pytest.raises(StorageError, match="different bytes"):
        store.put_file(local, "text/a.jsonl.gz", hashlib.sha256(b"two").hexdigest())
    assert store.read_bytes("text/a.jsonl.gz") == b"one"
    assert store.read_range("text/a.jsonl.gz", 1, 2) == b"ne"
    assert list(store.list("text/")) == ["text/a.jsonl.gz"]


def test_large_warc_is_uploaded_in_parts_and_reads_back_identical(s3, tmp_path):
    closed: list = []
    writer = RollingWarcWriter(
        WarcOptions(crawl_id="big", spool=tmp_path, max_size=1 << 40, gzip_level=1),
        on_close=lambda path, key, records: closed.append((path, key)),
    )
    noise = os.urandom(1 << 20)  # incompressible: the file grows by ~1 MiB per record
    for i in range(20):
        writer.write_exchange(Exchange(
            url=f"http://127.0.0.1/big/{i}", method="GET", request_headers=[],
            request_body=b"", protocol="HTTP/1.1", status=200, reason="OK",
            response_headers=[("Content-Type", "application/octet-stream")], body=noise,
        ))
    writer.close()
    path, key = closed[0]
    data = path.read_bytes()
    assert len(data) > 20 * 1024 * 1024
    bucket = s3.new_bucket()
    store = S3Store.from_uri(
        f"s3://{bucket}/p",
        S3Options(multipart_threshold=8 << 20, multipart_chunksize=5 << 20),
    )
    store.put_file(path, key, hashlib.sha256(data).hexdigest())
    head = s3.client().head_object(Bucket=bucket, Key=f"p/{key}")
    assert head["ETag"].strip('"').endswith("-5")  # a multipart ETag: 5 parts
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert store.read_bytes(key) == data


# --- start-up checks --------------------------------------------------------------------

def test_missing_bucket_stops_before_crawling(s3, sample_site):
    before = len(sample_site.requests)
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", "NEWSARCHIVE_ARCHIVE=s3://no-such-bucket/x",
        env=s3.env(),
    )
    assert_one_line_failure(result, "bucket 'no-such-bucket' does not exist", secrets=(SECRET,))
    assert len(sample_site.requests) == before


def test_endpoint_refusing_connections_stops_before_crawling(s3, sample_site):
    url = f"http://127.0.0.1:{free_port()}"
    before = len(sample_site.requests)
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", "NEWSARCHIVE_ARCHIVE=s3://bucket/x",
        env=s3.env(AWS_ENDPOINT_URL=url),
    )
    assert_one_line_failure(result, "cannot connect to the endpoint", url, secrets=(SECRET,))
    assert len(sample_site.requests) == before


def test_missing_credentials_are_named(s3, sample_site):
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", "NEWSARCHIVE_ARCHIVE=s3://bucket/x",
        env=s3.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None),
    )
    assert_one_line_failure(result, "no AWS credentials found", secrets=(SECRET,))


@pytest.fixture(scope="module")
def authenticating_s3(tmp_path_factory):
    """A second moto server that checks credentials (INITIAL_NO_AUTH_ACTION_COUNT=0)."""
    import urllib.request

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield url
    process.kill()
    process.wait()


def test_wrong_credentials_stop_before_crawling(s3, authenticating_s3, sample_site):
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", "NEWSARCHIVE_ARCHIVE=s3://bucket/x",
        env=s3.env(AWS_ENDPOINT_URL=authenticating_s3),
    )
    # The first call is a HEAD (no error body): a bare 403, which says access denied.
    assert_one_line_failure(result, "s3://bucket/x", "access denied (check credentials",
                            secrets=(SECRET,))


@pytest.mark.e2e
def test_bad_s3_settings_are_refused():
    result = scrapy_crawl(
        "-a", "url=http://127.0.0.1:9/", "-s", "NEWSARCHIVE_ARCHIVE=s3://b/x",
        "-s", "NEWSARCHIVE_S3_ADDRESSING_STYLE=sideways",
    )
    assert_one_line_failure(result, "NEWSARCHIVE_S3_ADDRESSING_STYLE", secrets=(SECRET,))


# --- outage in the middle of a crawl ------------------------------------------------------

def _text_urls(store, manifest) -> Counter:
    urls: Counter = Counter()
    for entry in manifest["files"]:
        if entry["kind"] == "text":
            for line in gzip.decompress(store.read_bytes(entry["key"])).splitlines():
                urls[json.loads(line)["url"]] += 1
    return urls


def test_an_endpoint_still_down_is_asked_once_for_all_the_waiting_files(s3, tmp_path):
    """At the end of a crawl, files whose upload failed get one more attempt; an
    endpoint still down fails them all alike, so one attempt says so for all (each file
    tried in turn, with its own retries, held the crawl's end for seconds per file)."""
    from types import SimpleNamespace

    from newsarchive.archive.manifest import FileEntry
    from newsarchive.archive.session import CrawlSession
    from newsarchive.errors import EndpointError
    from newsarchive.storage import sha256_file
    from tests.s3server import restore_env

    bucket, outage, old = s3.new_bucket(), Outage(s3.port), s3.apply_env()
    try:
        store = S3Store.from_uri(f"s3://{bucket}/x", S3Options(endpoint_url=outage.url,
                                                               max_attempts=1))
        tried: list[str] = []

        class Counted:  # the real store, counting what it is asked to store
            def put_file(self, path, key, sha256):
                tried.append(key)
                return store.put_file(path, key, sha256)

        waiting = []
        for i in range(4):
            path = tmp_path / f"f{i}"
            path.write_bytes(b"x" * (i + 1))
            entry = FileEntry(f"warc/f{i}", "warc", i + 1, sha256_file(path), 1)
            waiting.append((entry, path, StorageError("failed during the crawl")))
        session = SimpleNamespace(failed=waiting, store=Counted())
        outage.down()
        errors = CrawlSession.retry_failed(session)
        assert len(errors) == 4 and all(isinstance(e, EndpointError) for e in errors)
        # a reset reads as either, depending on when it lands
        assert any(why in str(errors[-1]) for why in ("cannot connect", "closed the connection"))
        assert tried == ["warc/f0"]
        outage.restore()
        assert CrawlSession.retry_failed(session) == [] and session.failed == []
        assert sorted(s3.objects(bucket)) == [f"x/warc/f{i}" for i in range(4)]
    finally:
        restore_env(old)
        outage.close()


def test_endpoint_outage_mid_crawl_loses_nothing(s3, sample_site, tmp_path):
    bucket = s3.new_bucket()
    outage = Outage(s3.port)
    uri = f"s3://{bucket}/news"
    spool = tmp_path / "spool"
    env = s3.env(AWS_ENDPOINT_URL=outage.url)
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={uri}", "-s", f"NEWSARCHIVE_SPOOL={spool}",
        "-s", "NEWSARCHIVE_WARC_MAX_SIZE=30000", "-s", "NEWSARCHIVE_S3_MAX_ATTEMPTS=2",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.1",
    ]
    full_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    crawl = subprocess.Popen(
        command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(k.startswith("news/warc/") for k in s3.objects(bucket)):
            assert crawl.poll() is None, "crawl ended before any WARC was stored"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        outage.down()
        _, stderr = crawl.communicate(timeout=240)
    finally:
        outage.close() if crawl.returncode is None else None
    assert crawl.returncode == 3, stderr[-3000:]
    assert "upload-pending" in stderr
    assert not any(k.startswith("news/crawls/") for k in s3.objects(bucket))
    pending = list((spool / "crawls").glob("*.json"))
    assert len(pending) == 1

    outage.restore()
    result = newsarchive("upload-pending", uri, "--spool", str(spool), env=env)
    assert result.returncode == 0, result.stderr
    assert "1 crawl(s) completed" in result.stdout
    outage.close()

    store = open_store(uri)
    manifest = json.loads(store.read_bytes(f"crawls/{pending[0].stem}.json"))
    objects = s3.objects(bucket)
    for entry in manifest["files"]:
        data = store.read_bytes(entry["key"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert objects[f"news/{entry['key']}"]["Size"] == entry["size"]
    listed = {f"news/{e['key']}" for e in manifest["files"]} | {
        f"news/crawls/{pending[0].stem}.json"
    }
    assert set(objects) == listed  # each file once, nothing else
    urls = _text_urls(store, manifest)
    assert set(urls.values()) == {1}
    assert set(sample_site.article_urls()) <= set(urls)
    assert not [p for p in spool.rglob("*") if p.is_file() and "summaries" not in p.parts]


@pytest.mark.parametrize("archive_crawl", ["s3"], indirect=True)
def test_secrets_never_reach_logs_manifests_or_warcs(archive_crawl):
    outputs = [archive_crawl.process.stdout, archive_crawl.process.stderr]
    outputs += [archive_crawl.read(k).decode("latin-1") for k in archive_crawl.store.list()]
    outputs += [
        gzip.decompress(archive_crawl.read(k)).decode("latin-1")
        for k in archive_crawl.store.list() if k.endswith(".gz")
    ]
    for text in outputs:
        assert SECRET not in text
        assert "testing-key-id" not in text
