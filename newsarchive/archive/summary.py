"""Reading back what a crawl archived, from its manifest: for people, after a run."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from typing import Any

from newsarchive.archive import layout
from newsarchive.archive.manifest import DamagedManifest, parse
from newsarchive.errors import StorageError
from newsarchive.storage import Store


def crawl_ids(store: Store) -> list[str]:
    """Complete crawls (those with a manifest), oldest first."""
    return sorted(
        key.removeprefix("crawls/").removesuffix(".json")
        for key in store.list("crawls/")
        if key.endswith(".json")
    )


def read_manifest(store: Store, crawl_id: str) -> dict[str, Any]:
    """One crawl's manifest, checked; raises StorageError (DamagedManifest if damaged)."""
    key = layout.manifest_key(crawl_id)
    try:
        data = store.read_bytes(key)
    except OSError as e:
        raise StorageError(f"cannot read {store.uri}/{key}: {e.strerror or e}") from None
    return parse(data, crawl_id)


def load_manifest(store: Store, crawl_id: str | None = None) -> dict[str, Any]:
    """The named crawl's manifest, or the latest readable one (damaged ones are skipped;
    ``damaged_crawls`` names them)."""
    if crawl_id is None:
        ids = crawl_ids(store)
        if not ids:
            raise StorageError(f"no complete crawl in {store.uri} (no manifest under crawls/)")
        damaged: list[DamagedManifest] = []
        for cid in reversed(ids):
            try:
                return read_manifest(store, cid)
            except DamagedManifest as e:
                damaged.append(e)
        raise StorageError(f"no readable manifest in {store.uri}: {damaged[0]}")
    key = layout.manifest_key(crawl_id)
    if not store.exists(key):
        raise StorageError(f"no manifest for crawl {crawl_id!r} in {store.uri}")
    return read_manifest(store, crawl_id)


def damaged_crawls(store: Store) -> list[DamagedManifest]:
    """Every complete crawl whose manifest cannot be trusted, oldest first."""
    damaged = []
    for crawl_id in crawl_ids(store):
        try:
            read_manifest(store, crawl_id)
        except DamagedManifest as e:
            damaged.append(e)
    return damaged


def text_records(store: Store, manifest: dict[str, Any]) -> Any:
    """The crawl's text records; a shard that is missing or damaged is a StorageError
    naming it (one line for every command that reads shards, never a traceback)."""
    for entry in manifest["files"]:
        if entry["kind"] != "text":
            continue
        try:
            with store.open(entry["key"]) as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
                records = [json.loads(line) for line in f]
        except StorageError:
            raise
        except (OSError, EOFError, zlib.error, ValueError) as e:
            reason = getattr(e, "strerror", None) or f"{type(e).__name__}: {str(e)[:120]}"
            raise StorageError(
                f"text shard {entry['key']} cannot be read ({reason}); run `newsarchive "
                "verify` on the archive"
            ) from None
        yield from records


def _languages(store: Store, manifest: dict[str, Any]) -> tuple[Counter[str], list[str]]:
    """Languages of the crawl's text records, and one line per shard that cannot be
    read (cut short, not gzip, not JSON): a damaged shard is reported, not a crash."""
    languages: Counter[str] = Counter()
    damaged: list[str] = []
    for entry in manifest["files"]:
        if entry["kind"] != "text":
            continue
        try:
            languages.update(r.get("language") or "unknown"
                             for r in text_records(store, {"files": [entry]}))
        except (OSError, EOFError, zlib.error, ValueError, AttributeError,
                StorageError) as e:
            damaged.append(f"{entry['key']}: {type(e).__name__}: {str(e)[:120]}")
    return languages, damaged


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def render(store: Store, manifest: dict[str, Any]) -> str:
    counts: dict[str, Any] = {
        "warc_exchanges": 0, "requests": 0, "robots_forbidden": 0, "articles": 0,
        "discarded": {}, **manifest.get("counts", {}),
    }
    languages, damaged = _languages(store, manifest)
    lines = [
        f"crawl {manifest['crawl_id']} ({manifest.get('crawl', {}).get('finish_reason', '?')})"
        f" in {store.uri}",
        f"  HTTP exchanges archived: {counts['warc_exchanges']}"
        f" (requests {counts['requests']}, robots.txt refusals {counts['robots_forbidden']})",
        f"  articles with clean text: {counts['articles']}"
        + (
            "  [" + ", ".join(f"{k} {v}" for k, v in sorted(languages.items())) + "]"
            if languages
            else ""
        ),
    ]
    kinds_seen = {"new": 0, "changed": 0, "unchanged": 0, **counts.get("articles_by_kind", {})}
    # An incremental run's unchanged articles are the bulk of it, and have no new text.
    lines.append(
        f"  articles: new {kinds_seen['new']}, changed {kinds_seen['changed']}, "
        f"unchanged {kinds_seen['unchanged']} (revisit records {counts.get('revisits', 0)})"
    )
    failed = counts.get("failed") or {}
    lines.append(
        "  failed URLs: " + (", ".join(f"{k} {v}" for k, v in sorted(failed.items()))
                             if failed else "none")
    )
    if counts["discarded"]:
        lines.append(
            "  pages without text: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts["discarded"].items()))
        )
    kinds = (
        ("warc", "WARC files"), ("cdxj", "CDXJ indexes"), ("text", "text shards"),
        ("state", "incremental state"),
    )
    for kind, label in kinds:
        files = [f for f in manifest["files"] if f["kind"] == kind]
        lines.append(f"  {label}: {len(files)}")
        lines.extend(f"    {store.uri}/{f['key']}  ({_size(f['size'])})" for f in files)
    lines.append(f"  manifest: {store.uri}/{layout.manifest_key(manifest['crawl_id'])}")
    lines.extend(f"  damaged text shard (run `newsarchive verify`): {line}" for line in damaged)
    return "\n".join(lines)
