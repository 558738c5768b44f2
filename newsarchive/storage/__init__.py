"""One storage interface for the archive, chosen by URI scheme.

A folder (plain path or ``file://``) is the default; object stores plug in under
their own scheme with the same keys, so the archive layout is identical everywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlsplit

from newsarchive.errors import ConfigError, StorageError

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Options

_KEY_PART = re.compile(r"^[A-Za-z0-9._=+-]{1,200}$")


class Store(Protocol):
    """Where archive files live. Keys are relative, '/'-separated paths."""

    uri: str

    def check_writable(self) -> None:
        """Raise StorageError, naming the problem, unless a write would succeed."""

    def put_file(self, local: Path, key: str, sha256: str) -> None:
        """Store a closed local file under key, then delete the local file.

        Storing the same bytes again is a no-op; different bytes raise StorageError.
        """

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


def open_store(uri: str, s3: S3Options | None = None) -> Store:
    """Return the store for an archive URI: a path, ``file://…`` or ``s3://bucket/prefix``.

    ``s3`` carries settings for buckets; without it boto3's own configuration applies
    (credential chain, ``AWS_ENDPOINT_URL``…), which is what reading commands use.
    """
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("", "file") or re.match(r"^[A-Za-z]:[\\/]", uri):
        from newsarchive.storage.folder import FolderStore

        return FolderStore.from_uri(uri)
    if scheme == "s3":
        from newsarchive.storage.s3 import S3Store

        return S3Store.from_uri(uri, s3)
    raise ConfigError(
        f"archive {uri!r}: unknown scheme {scheme!r} (use a folder path, file:// or s3://)"
    )
