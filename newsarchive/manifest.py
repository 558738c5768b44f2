"""Crawl manifests: the list of a crawl's files, written last.

Readers trust manifests, never bare listings: a crawl is visible once its manifest
lands, so a crash leaves orphans but never half a crawl that looks whole.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

FORMAT = "newsarchive-manifest/1"
_SOFTWARE = ("newsarchive", "scrapy", "trafilatura", "warcio", "langdetect", "boto3")


@dataclass(frozen=True)
class FileEntry:
    key: str
    kind: str  # "warc", "cdxj", "text" or "state"
    size: int
    sha256: str
    records: int


def software_versions(packages: tuple[str, ...] = _SOFTWARE) -> dict[str, str]:
    """Python's and the installed packages' versions (missing ones left out)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def build_manifest(
    *,
    crawl_id: str,
    crawl: dict[str, Any],
    files: list[FileEntry],
    counts: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "crawl_id": crawl_id,
        "crawl": crawl,
        "files": [asdict(f) for f in sorted(files, key=lambda f: f.key)],
        "counts": counts,
        "settings": settings,
        "software": software_versions(),
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
