"""The archive's takedown list: articles withdrawn from every output, files untouched.

An archive's WARC files and shards are immutable and listed with their sha256 in
manifests, so a takedown never rewrites them: each ``newsarchive takedown`` adds one
file of entries under ``takedowns/`` and then a manifest for it (size and sha256), as a
crawl does; a file counts once its manifest has landed. Readers (export, stats, show,
the Corpus API, wacz, replay) leave out every capture of a withdrawn article; ``verify``
still checks every byte, the takedown files included.

An entry withdraws an article by its URLs: the one named, and every URL and canonical URL
its captures were archived under, compared as URL keys (newsarchive.discovery.urls.
article_key, so tracking parameters and fragments do not matter); an undo entry restores
them. The latest entry for a URL wins. Each entry records who, when and why.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import secrets
import socket
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from newsarchive.discovery.urls import article_key
from newsarchive.errors import StorageError
from newsarchive.storage import Store

PREFIX = "takedowns/"
ACTIONS = ("takedown", "undo")


@dataclass(frozen=True)
class Entry:
    action: str  # takedown | undo
    url: str  # the article's URL (its canonical URL when archived)
    urls: tuple[str, ...]  # every URL its captures were archived under, url included
    target: str  # what the requester named: a URL or a record id
    reason: str
    who: str
    when: str  # ISO 8601 UTC

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        urls = data.get("urls")
        if (data.get("action") not in ACTIONS or not isinstance(urls, list)
                or not all(isinstance(u, str) for u in urls)):
            raise ValueError("not a takedown entry")
        fields = {name: str(data.get(name) or "") for name in cls.__dataclass_fields__}
        return cls(**{**fields, "urls": tuple(urls)})

    def url_keys(self) -> set[str]:
        return {article_key(u) for u in (self.url, *self.urls)}


def default_who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): the host still says who
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def entry(
    action: str, url: str, target: str, reason: str, who: str, urls: Iterable[str] = ()
) -> Entry:
    return Entry(
        action=action, url=url, urls=tuple(sorted({url, *urls})), target=target,
        reason=reason, who=who, when=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def append(store: Store, entries: list[Entry]) -> str:
    """Store entries as one new takedown file, then its manifest; returns the file's key.

    The name sorts by time to the microsecond: the latest entry wins, and a takedown
    undone within the same second (a script) must read back in that order."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    name = f"{PREFIX}{stamp}-{secrets.token_hex(3)}"
    data = b"".join(
        json.dumps(asdict(e), ensure_ascii=False, sort_keys=True).encode() + b"\n"
        for e in entries
    )
    store.put_bytes(name + ".jsonl", data)
    manifest = {
        "kind": "takedowns",
        "created": entries[0].when if entries else stamp,
        "files": [{"key": name + ".jsonl", "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()}],
    }
    store.put_bytes(name + ".json", json.dumps(manifest, indent=1).encode() + b"\n")
    return name + ".jsonl"


def manifests(store: Store) -> list[str]:
    """Keys of the takedown manifests, oldest first (their names sort by time)."""
    return sorted(
        key for key in store.list(PREFIX)
        if key.endswith(".json") and "/" not in key[len(PREFIX):]
    )


def _files(store: Store, manifest_key: str) -> list[dict[str, Any]]:
    try:
        files = json.loads(store.read_bytes(manifest_key))["files"]
    except Exception as e:  # noqa: BLE001 - any damage is one clear line
        raise StorageError(f"takedown manifest {manifest_key} is damaged ({e!r})") from None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise StorageError(f"takedown manifest {manifest_key} is damaged (no list of files)")
    return files


def entries(store: Store) -> list[Entry]:
    """Every takedown entry, oldest first. A damaged takedown file stops the reader: an
    archive that cannot tell what was withdrawn must not publish it."""
    found: list[Entry] = []
    for manifest_key in manifests(store):
        for item in _files(store, manifest_key):
            key = str(item.get("key", ""))
            try:
                data = store.read_bytes(key)
            except Exception as e:  # noqa: BLE001
                raise StorageError(f"takedown file {key} is unreadable ({e})") from None
            if hashlib.sha256(data).hexdigest() != item.get("sha256"):
                raise StorageError(f"takedown file {key} does not match its manifest")
            for line in data.splitlines():
                try:
                    found.append(Entry.from_dict(json.loads(line)))
                except (ValueError, TypeError) as e:
                    raise StorageError(f"takedown file {key} holds a bad entry ({e})") from None
    return found


def withdrawn(store: Store) -> dict[str, Entry]:
    """The URL keys withdrawn now (latest entry per key wins), with their takedown entry."""
    state: dict[str, Entry] = {}
    for e in entries(store):
        for key in e.url_keys():
            if e.action == "takedown":
                state[key] = e
            else:
                state.pop(key, None)
    return state


class Withdrawn:
    """A reader's view of the takedown list: is this record, or this URL, withdrawn?"""

    def __init__(self, keys: dict[str, Entry]) -> None:
        self.keys = keys

    @classmethod
    def load(cls, store: Store) -> Withdrawn:
        return cls(withdrawn(store))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def url(self, url: str) -> bool:
        return bool(self.keys) and article_key(url) in self.keys

    def record(self, record: dict[str, Any]) -> bool:
        if not self.keys:
            return False
        urls = (record.get("url"), record.get("canonical_url"))
        return any(isinstance(u, str) and article_key(u) in self.keys for u in urls)
