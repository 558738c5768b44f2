"""Crashes and stops: kill -9 at several points, SIGTERM; then the same command again.

After the rerun: every article is in the archive exactly once in text, every WARC
passes `warcio check`, manifests list only whole files, and nothing is left that no
manifest lists (no orphan), in the store or in the spool.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from newsarchive.settings import CONCURRENT_REQUESTS
from newsarchive.storage import open_store
from tests.helpers import ROOT, scrapy_crawl


def _registry(tmp: Path, base: str) -> Path:
    path = tmp / "sites.toml"
    path.write_text(
        f'[[site]]\nname = "gazette"\nstart_urls = ["{base}/"]\nfeeds = ["{base}/feed.xml"]\n'
    )
    return path


class Scenario:
    def __init__(self, tmp: Path, site, archive: str, env: dict | None = None) -> None:
        self.site = site
        self.archive = archive
        self.spool = tmp / "spool"
        self.env = env or {}
        self.args = [
            "-a", "site=gazette", "-s", f"NEWSARCHIVE_SITES={_registry(tmp, site.base_url)}",
            "-s", f"NEWSARCHIVE_ARCHIVE={archive}", "-s", f"NEWSARCHIVE_SPOOL={self.spool}",
            "-s", "NEWSARCHIVE_WARC_MAX_SIZE=60000", "-s", "NEWSARCHIVE_SHARD_MAX_RECORDS=8",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
        ]

    def start(self, *extra: str, env: dict | None = None) -> subprocess.Popen:
        full = {k: v for k, v in {**os.environ, **self.env, **(env or {})}.items() if v}
        full.pop("SCRAPY_SETTINGS_MODULE", None)
        return subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "news", *self.args, *extra],
            cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )

    def spool_files(self, pattern: str) -> list[Path]:
        return [p for p in self.spool.rglob(pattern) if p.is_file()]

    def kill_when(self, condition, *extra: str, timeout: float = 60) -> None:
        process = self.start("-s", "DOWNLOAD_DELAY=0.05", *extra)
        deadline = time.monotonic() + timeout
        while not condition():
            assert process.poll() is None, "the crawl ended before the kill point"
            assert time.monotonic() < deadline, "kill point never reached"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def rerun(self) -> None:
        result = scrapy_crawl(*self.args, env=self.env)
        assert result.returncode == 0, result.stderr[-3000:]

    def check(self) -> list[dict]:
        store = open_store(self.archive)
        manifests = [
            json.loads(store.read_bytes(k)) for k in store.list("crawls/") if k.endswith(".json")
        ]
        listed: dict[str, dict] = {}
        for manifest in manifests:
            for entry in manifest["files"]:
                assert entry["key"] not in listed, f"{entry['key']} listed twice"
                listed[entry["key"]] = entry
        stored = {k for k in store.list() if not k.startswith("crawls/")}
        assert stored == set(listed), f"orphans: {stored - set(listed)}"
        texts: Counter = Counter()
        for key, entry in listed.items():
            data = store.read_bytes(key)
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], key
            if entry["kind"] == "warc":
                local = self.spool.parent / "check" / key
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(data)
                check = subprocess.run(["warcio", "check", str(local)], capture_output=True)
                assert check.returncode == 0, (key, check.stdout)
            if entry["kind"] == "text":
                for line in gzip.decompress(data).splitlines():
                    texts[json.loads(line)["url"]] += 1
        for url in self.site.article_urls():
            assert texts[url] == 1, (url, texts[url])
        leftovers = [p for p in self.spool.rglob("*") if p.is_file() and "summaries" not in p.parts]
        assert leftovers == [], leftovers
        return manifests


@pytest.fixture
def folder(tmp_path, sample_site) -> Scenario:
    return Scenario(tmp_path, sample_site, str(tmp_path / "archive"))


def _recovered(manifests: list[dict]) -> list[dict]:
    return [m for m in manifests if m["crawl"].get("finish_reason") == "crashed, recovered"]


def test_kill_mid_warc(folder):
    def warc_half_written() -> bool:
        return any(p.stat().st_size > 20000 for p in folder.spool_files("*.warc.gz"))

    folder.kill_when(warc_half_written)
    folder.rerun()
    assert len(_recovered(folder.check())) == 1


def test_kill_mid_shard(folder):
    folder.kill_when(lambda: bool(folder.spool_files("*-00002.jsonl.gz")))
    folder.rerun()
    manifests = folder.check()
    recovered = _recovered(manifests)
    assert len(recovered) == 1
    assert any(f["kind"] == "text" for f in recovered[0]["files"])


def test_kill_before_the_manifest(folder):
    process = folder.start(env={"NEWSARCHIVE_FAULT": "before-manifest"})
    process.wait(120)
    assert process.returncode == -signal.SIGKILL
    assert not list(Path(folder.archive, "crawls").glob("*.json"))
    folder.rerun()
    manifests = folder.check()
    (recovered,) = _recovered(manifests)
    assert any(f["kind"] == "state" for f in recovered["files"])


def test_kill_during_upload_to_s3(tmp_path, sample_site, s3):
    bucket = s3.new_bucket()
    scenario = Scenario(tmp_path, sample_site, f"s3://{bucket}/news", env=s3.env())

    def uploading() -> bool:
        return any(k.startswith("news/warc/") for k in s3.objects(bucket))

    scenario.kill_when(uploading)
    scenario.rerun()
    assert len(_recovered(scenario.check())) == 1


def test_sigterm_closes_files_and_writes_the_manifest(folder):
    process = folder.start("-s", "DOWNLOAD_DELAY=0.3")
    deadline = time.monotonic() + 60
    while not folder.spool_files("*.warc.gz"):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    asked = len(folder.site.requests)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    # Bounded: what the downloader already held (CONCURRENT_REQUESTS at most) is fetched,
    # nothing new is asked for; then the files close.
    assert len(folder.site.requests) - asked <= CONCURRENT_REQUESTS
    assert process.returncode == 6, stderr[-2000:]  # stopped early: CI must notice
    store = open_store(folder.archive)
    (key,) = [k for k in store.list("crawls/") if k.endswith(".json")]
    manifest = json.loads(store.read_bytes(key))
    assert manifest["crawl"]["finish_reason"] == "shutdown"
    assert any(f["kind"] == "warc" for f in manifest["files"])
    for entry in manifest["files"]:
        assert hashlib.sha256(store.read_bytes(entry["key"])).hexdigest() == entry["sha256"]
    assert not [p for p in folder.spool.rglob("*.gz")]
