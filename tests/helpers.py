"""Helpers for tests that run real crawls: the command, and reading its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def scrapy_crawl(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `scrapy crawl news …` command, as a user would from the project root."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
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


def load_manifest(archive: Path) -> dict[str, Any]:
    manifests = sorted((archive / "crawls").glob("*.json"))
    assert len(manifests) == 1, manifests
    return json.loads(manifests[0].read_text())
