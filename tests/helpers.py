"""Helpers shared by the tests: running real crawls and reading their output, one-line
failures, free loopback ports."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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

