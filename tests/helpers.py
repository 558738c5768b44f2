"""Helpers shared by the tests: running real crawls and reading their output, one-line
failures, free loopback ports, and Scrapy components built on their own."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent


def scrapy_crawl(
    *args: str, cwd: Path = ROOT, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real `scrapy crawl news …` command, as a user would from the project root.

    ``env`` adds to (or, with None values, removes from) the test's environment.
    """
    env = {
        k: v
        for k, v in {**os.environ, **(env or {})}.items()
        if k != "SCRAPY_SETTINGS_MODULE" and v is not None
    }
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@dataclass
class Crawl:
    archive: Path
    process: subprocess.CompletedProcess
    manifest: dict[str, Any]

    def files(self, kind: str) -> list[Path]:
        return [self.archive / f["key"] for f in self.manifest["files"] if f["kind"] == kind]


def unavailable(reason: str) -> None:
    """A program or download a test needs is missing: skip with one line on a developer's
    machine, fail in CI (CI=true), where `.ci/run` installs everything."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


def text_records(archive: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every clean-text record of a crawl's shards, in manifest order."""
    records: list[dict[str, Any]] = []
    for entry in manifest["files"]:
        if entry["kind"] == "text":
            with gzip.open(archive / entry["key"], "rt", encoding="utf-8") as f:
                records.extend(json.loads(line) for line in f)
    return records


def warc_records(archive: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of a crawl's WARC files, in manifest order; a metadata record's
    fields parsed into ``fields`` (name, value) pairs."""
    out: list[dict[str, Any]] = []
    for entry in manifest["files"]:
        if entry["kind"] != "warc":
            continue
        with open(archive / entry["key"], "rb") as f:
            for record in ArchiveIterator(f):
                headers = record.rec_headers
                row = {
                    "type": record.rec_type,
                    "url": headers.get_header("WARC-Target-URI"),
                    "headers": headers,
                    "http": record.http_headers,
                    "body": record.content_stream().read(),
                }
                if record.rec_type == "metadata":
                    fields = [line.split(": ", 1) for line in
                              row["body"].decode().splitlines() if ": " in line]
                    row["fields"] = fields
                out.append(row)
    return out


def load_manifest(archive: Path) -> dict[str, Any]:
    manifests = sorted((archive / "crawls").glob("*.json"))
    assert len(manifests) == 1, manifests
    return json.loads(manifests[0].read_text())


@dataclass
class StoredCrawl:
    """A crawl read back through the Store interface: the same tests for folder and bucket."""

    uri: str
    process: subprocess.CompletedProcess
    manifest: dict[str, Any]
    cache: Path

    @property
    def store(self):
        from newsarchive.storage import open_store

        return open_store(self.uri)

    def keys(self, kind: str) -> list[str]:
        return [f["key"] for f in self.manifest["files"] if f["kind"] == kind]

    def read(self, key: str) -> bytes:
        return self.store.read_bytes(key)

    def local(self, key: str) -> Path:
        """A local copy (or the file itself, for folders) for tools that want a path."""
        if "://" not in self.uri:
            return Path(self.uri) / key
        path = self.cache / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.read(key))
        return path

    def files(self, kind: str) -> list[Path]:
        return [self.local(key) for key in self.keys(kind)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot be
    told to pick their own (moto's CLI, redis-server, pywb)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_line_failure(
    result: subprocess.CompletedProcess, *needles: str, status: int = 2,
    secrets: tuple[str, ...] = (),
) -> str:
    """A command that failed as users should see it: exit ``status``, one line on stderr
    holding every needle, no traceback, and none of ``secrets`` in either stream.
    Returns the line."""
    assert result.returncode == status, (result.returncode, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    for secret in secrets:
        assert secret not in result.stderr + result.stdout
    return lines[0]


# --- Scrapy components on their own ---------------------------------------------------

T = TypeVar("T")


def reactor_loop() -> asyncio.AbstractEventLoop:
    """The asyncio loop of Twisted's asyncio reactor, the one Scrapy crawls on (installed
    here on first use). Components hand work to threads with ``deferToThreadPool``; the
    result comes back through ``reactor.callFromThread``, which this reactor turns into a
    call on its loop, so running the loop is enough: no ``reactor.run()``."""
    from scrapy.utils.reactor import (
        install_reactor,
        is_asyncio_reactor_installed,
        is_reactor_installed,
    )

    if not is_reactor_installed():
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    if not is_asyncio_reactor_installed():
        pytest.fail("another Twisted reactor was installed in this test process first")
    from twisted.internet import reactor

    pool = reactor.getThreadPool()  # started by reactor.run(), which never comes here
    if not pool.started:
        pool.threadFactory = _daemon_thread  # type: ignore[method-assign]
        pool.start()
    return reactor._asyncioEventloop  # type: ignore[attr-defined]


def _daemon_thread(*args: Any, **kwargs: Any) -> threading.Thread:
    """Threads that never keep the test process from exiting."""
    return threading.Thread(*args, daemon=True, **kwargs)


def run(coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """Await a component's coroutine (``process_response``, ``process_item``…) to its end,
    on the reactor's loop; a component that never answers fails the test after ``timeout``
    seconds instead of hanging it."""
    return reactor_loop().run_until_complete(asyncio.wait_for(coro, timeout))


def project_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """newsarchive's settings module as a Scrapy project loads it, with the archive and
    its spool in ``tmp_path`` (a real folder archive) and ``overrides`` on top."""
    from newsarchive import settings as module

    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    values["NEWSARCHIVE_ARCHIVE"] = str(tmp_path / "archive")
    values["NEWSARCHIVE_SPOOL"] = str(tmp_path / "spool")
    return {**values, **overrides}


def with_downloader(crawler: Any, script: dict[str, Any] | None = None) -> AnsweringEngine:
    """Scrapy's real Downloader, with the downloader middlewares the settings list, behind
    an AnsweringEngine set on the crawler: what ``crawler.get_downloader_middleware()``
    and the middlewares themselves reach through ``crawler.engine``."""
    from scrapy.core.downloader import Downloader

    engine = AnsweringEngine(script or {}, Downloader(crawler))
    crawler.engine = engine
    return engine


class AnsweringEngine:
    """Scrapy's engine as far as the robots and Crawl-delay middlewares use it
    (``download_async``, ``running``, ``downloader``), answering each URL from a script
    of real Responses (or exceptions, for a host that does not answer).

    The HTTP between them is tested end to end in tests/faults/test_robots.py; here the
    middleware's decisions are. ``script[url]`` is one answer or a list of answers given
    in turn, the last repeating; an unscripted URL answers 404. ``asked`` logs each URL.
    """

    def __init__(self, script: dict[str, Any], downloader: Any = None) -> None:
        self.script = {url: a if isinstance(a, list) else [a] for url, a in script.items()}
        self.downloader = downloader
        self.running = True
        self.asked: list[str] = []

    async def download_async(self, request: Any) -> Any:
        from scrapy.http import Response

        self.asked.append(request.url)
        await asyncio.sleep(0)  # a real download yields: requests meet while it is pending
        answers = self.script.get(request.url) or [Response(request.url, status=404)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer.replace(url=request.url, request=request)
