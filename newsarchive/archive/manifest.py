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

from newsarchive.errors import StorageError

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


class DamagedManifest(StorageError):
    """A stored manifest that cannot be trusted: it costs its own crawl, never the archive."""

    def __init__(self, crawl_id: str, reason: str) -> None:
        super().__init__(f"crawl {crawl_id}: manifest is damaged ({reason})")
        self.crawl_id = crawl_id
        self.reason = reason


ENTRY_FIELDS = {"key": str, "kind": str, "size": int, "sha256": str, "records": int}


def entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "a file entry is not an object"
    for name, kind in ENTRY_FIELDS.items():
        value = entry.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"a file entry has no valid {name!r}"
    if entry["size"] < 0 or entry["records"] < 0:
        return f"file entry {entry['key']!r} has a negative size or record count"
    return None


def parse(data: bytes, crawl_id: str) -> dict[str, Any]:
    """A stored manifest checked for the shape every reader relies on.

    Raises DamagedManifest (one line, naming the crawl) for anything else: cut or
    invalid JSON, a document of another format or crawl, entries of the wrong types.
    """
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise DamagedManifest(crawl_id, f"not JSON: {reason}") from None
    if not isinstance(doc, dict):
        raise DamagedManifest(crawl_id, "not a JSON object")
    if doc.get("format") != FORMAT:
        raise DamagedManifest(crawl_id, f"format is not {FORMAT}")
    if doc.get("crawl_id") != crawl_id:
        raise DamagedManifest(crawl_id, "it names another crawl id")
    for name in ("crawl", "counts"):
        if not isinstance(doc.get(name, {}), dict):
            raise DamagedManifest(crawl_id, f"{name!r} is not an object")
    files = doc.get("files")
    if not isinstance(files, list):
        raise DamagedManifest(crawl_id, "'files' is not a list")
    for entry in files:
        problem = entry_problem(entry)
        if problem is not None:
            raise DamagedManifest(crawl_id, problem)
    return doc


def per_article(responses: int, size: int, pages: int) -> dict[str, float]:
    """Requisite requests and bytes per article page (0 without article pages): the
    manifest's ``counts.requisites.per_article``, recomputed from a shared crawl's sums."""
    return {
        "requests": round(responses / pages, 2) if pages else 0,
        "bytes": round(size / pages) if pages else 0,
    }
