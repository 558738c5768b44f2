"""One storage interface for the archive, chosen by URI scheme.

A folder (plain path or ``file://``) is the default; object stores plug in under
their own scheme with the same keys, so the archive layout is identical everywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from newsarchive.errors import ConfigError, StorageError

_KEY_PART = re.compile(r"^[A-Za-z0-9._=+-]{1,200}$")


class Store(Protocol):
    """Where archive files live. Keys are relative, '/'-separated paths."""

    uri: str

    def check_writable(self) -> None:
        """Raise StorageError, naming the problem, unless a write would succeed."""

    def put_file(self, local: Path, key: str, sha256: str) -> None:
        """Store a closed local file under key; never replace different bytes."""

    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes: ...

    def read_range(self, key: str, offset: int, length: int) -> bytes: ...

    def open(self, key: str) -> BinaryIO: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write a small object (a manifest) in one go; never replace different bytes."""


def check_key(key: str) -> str:
    """Refuse keys that could leave the archive prefix (``..``, absolute, NUL, odd bytes)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(
        p in ("", ".", "..") or not _KEY_PART.match(p) for p in parts
    ):
        raise StorageError(f"refusing unsafe archive key {key!r}")
    return key


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_store(uri: str) -> Store:
    """Return the store for an archive URI: a path, ``file://…`` or ``s3://bucket/prefix``."""
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", uri):
        from newsarchive.storage.folder import FolderStore

        return FolderStore.from_uri(uri)
    if scheme == "s3":
        raise ConfigError(
            f"archive {uri!r}: s3:// archives are not supported by this version yet"
        )
    raise ConfigError(
        f"archive {uri!r}: unknown scheme {scheme!r} (use a folder path, file:// or s3://)"
    )
