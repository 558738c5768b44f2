"""The archive as a local folder: the embedded default, same keys as a bucket."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from newsarchive.errors import StorageError
from newsarchive.storage import check_key, sha256_file

# The archive's top-level folders (see layout): a file in their place fails every write.
_FOLDERS = ("crawls", "warc", "text", "state")


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    @classmethod
    def from_uri(cls, uri: str) -> FolderStore:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise StorageError(f"file:// archive must be local, got host {parts.netloc!r}")
            return cls(Path(unquote(parts.path)))
        return cls(Path(uri).expanduser())

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".write-check-"):
                pass
        except OSError as e:
            reason = e.strerror or str(e)
            raise StorageError(f"archive folder {self.root} is not writable: {reason}") from None
        for name in _FOLDERS:
            path = self.root / name
            if path.exists() and not path.is_dir():
                raise StorageError(f"archive folder {self.root}: {path} is not a folder")

    def put_file(self, local: Path, key: str, sha256: str) -> None:
        dest = self._path(key)
        try:
            if dest.exists():
                if sha256_file(dest) == sha256:
                    local.unlink(missing_ok=True)
                    return
                raise StorageError(f"{key} already exists in the archive with different bytes")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(local, dest)  # atomic and never overwrites; same filesystem only
                local.unlink()
                return
            except FileExistsError:
                raise StorageError(f"{key} appeared in the archive while storing it") from None
            except OSError:
                pass  # another filesystem, or one without links: copy (which says why not)
            with self._temporary(dest) as tmp:
                shutil.copyfile(local, tmp)
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, dest)
            local.unlink()
        except OSError as e:
            raise self._failed(e, key) from None

    def put_bytes(self, key: str, data: bytes) -> None:
        dest = self._path(key)
        try:
            if dest.exists():
                if dest.read_bytes() == data:
                    return
                raise StorageError(f"{key} already exists in the archive with different bytes")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with self._temporary(dest) as tmp:
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, dest)
        except OSError as e:
            raise self._failed(e, key) from None

    @contextmanager
    def _temporary(self, dest: Path) -> Iterator[Path]:
        """A hidden name beside dest, removed unless it was renamed into place."""
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            yield tmp
        finally:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)

    def _failed(self, error: OSError, key: str) -> StorageError:
        """One line naming the file and the reason (read-only, full, not a folder…)."""
        reason = error.strerror or str(error)
        return StorageError(f"cannot store {key} in the archive folder {self.root}: {reason}")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        with open(self._path(key), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(base).as_posix()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    yield key
