"""What the archive already holds, per site: the memory of incremental runs.

Kept in the archive itself (``state/site=<site>/<crawl-id>.jsonl.gz``, one snapshot per
crawl, listed in that crawl's manifest), so it works the same on a folder or a bucket,
survives a new CI machine, and is only ever taken from a crawl whose manifest landed:
a crash never marks an article as archived when its files did not land.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from newsarchive.archive import jsonl, layout
from newsarchive.archive.manifest import DamagedManifest
from newsarchive.archive.summary import crawl_ids, read_manifest
from newsarchive.discovery.urls import article_key
from newsarchive.errors import StorageError
from newsarchive.storage import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleState:
    """The last stored capture of one article (keyed by newsarchive.discovery.urls.article_key)."""

    url: str
    fetched_at: str  # = WARC-Date of the response record last stored for it
    record_id: str  # WARC-Record-ID of that response record
    payload_digest: str | None
    content_hash: str | None = None  # of the clean text (None: no text record yet)
    text_id: str | None = None
    version: int = 0  # text record version; 0 = none yet
    etag: str | None = None
    last_modified: str | None = None
    checked_at: str | None = None  # last time it was fetched, even if unchanged
    # None: an article; "requisite": what a page embeds (newsarchive.discovery.requisites),
    # remembered for conditional requests only
    kind: str | None = None


_FIELDS = {f.name: str(f.type) for f in fields(ArticleState)}
_REQUIRED = [f.name for f in fields(ArticleState) if f.default is MISSING]


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict) or not isinstance(row.get("key"), str):
        return "a line is not an object with a key"
    for name, value in row.items():
        if name == "key":
            continue
        kind = _FIELDS.get(name)
        if kind is None:
            return f"unknown field {name!r}"
        ok = isinstance(value, int) and not isinstance(value, bool) if kind == "int" else (
            isinstance(value, str) or (value is None and "None" in kind)
        )
        if not ok:
            return f"field {name!r} has the wrong type"
    missing = [name for name in _REQUIRED if name not in row]
    return f"field {missing[0]!r} is missing" if missing else None


def parse_snapshot(data: bytes) -> dict[str, ArticleState]:
    """A stored state snapshot (gzip JSON lines); StorageError if any of it is damaged."""
    try:
        lines = gzip.decompress(data).splitlines()
    except (OSError, EOFError, zlib.error) as e:
        raise StorageError(f"not a whole gzip file: {e}") from None
    entries: dict[str, ArticleState] = {}
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise StorageError(f"line {number} is not JSON") from None
        problem = _row_problem(row)
        if problem is not None:
            raise StorageError(f"line {number}: {problem}")
        key = row.pop("key")
        entries[key] = ArticleState(**row)
    return entries


def state_key(site: str, crawl_id: str) -> str:
    return f"state/site={layout.safe_name(site)}/{crawl_id}.jsonl.gz"


class SiteState:
    def __init__(self, site: str, entries: dict[str, ArticleState] | None = None) -> None:
        self.site = site
        self.entries = entries or {}
        self.changed = False
        # The URL an article was fetched at may differ from its canonical key.
        self._aliases = {article_key(e.url): k for k, e in self.entries.items()}

    @classmethod
    def load(cls, store: Store, site: str) -> SiteState:
        """The newest readable snapshot of a complete crawl of this site, or an empty state.

        A damaged manifest or snapshot costs only its own crawl: it is skipped with a
        warning and the next older snapshot is used.
        """
        prefix = f"state/site={layout.safe_name(site)}/"
        for crawl_id in reversed(crawl_ids(store)):
            try:
                manifest = read_manifest(store, crawl_id)
            except DamagedManifest as e:
                logger.warning("%s; skipped for the incremental state of %s", e, site)
                continue
            for entry in manifest["files"]:
                if entry["kind"] == "state" and entry["key"].startswith(prefix):
                    try:
                        entries = parse_snapshot(store.read_bytes(entry["key"]))
                    except (OSError, StorageError) as e:
                        logger.warning(
                            "incremental state %s of crawl %s is damaged or unreadable "
                            "(%s); trying an older crawl", entry["key"], crawl_id, e,
                        )
                        break
                    logger.info(
                        "incremental state for %s: %d articles (crawl %s)",
                        site, len(entries), crawl_id,
                    )
                    return cls(site, entries)
        return cls(site)

    def get(self, key: str) -> ArticleState | None:
        return self.entries.get(key)

    def lookup(self, url: str) -> tuple[str, ArticleState] | None:
        """(key, state) of the article fetched at or canonical at url, if known."""
        key = article_key(url)
        key = key if key in self.entries else self._aliases.get(key, key)
        entry = self.entries.get(key)
        return (key, entry) if entry is not None else None

    def put(self, key: str, state: ArticleState) -> None:
        self.entries[key] = state
        self._aliases[article_key(state.url)] = key
        self.changed = True

    def touch(self, key: str, **changes: object) -> None:
        current = self.entries.get(key)
        if current is not None:
            self.put(key, replace(current, **changes))  # type: ignore[arg-type]

    def write(self, path: Path) -> int:
        """Write the full snapshot (sorted, so equal states give equal bytes)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return jsonl.write_file(path, (
            dict(sorted({"key": key, **asdict(self.entries[key])}.items()))
            for key in sorted(self.entries)
        ))
