"""One crawl's archive session, shared by the capture middleware, pipelines and extension.

It owns the crawl id, the store and the spool, and it is the single place that moves
closed files into the store and remembers them for the manifest.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive import layout, manifest
from newsarchive.config import Config
from newsarchive.errors import StorageError
from newsarchive.manifest import FileEntry
from newsarchive.storage import Store, open_store, sha256_file

logger = logging.getLogger(__name__)

_ATTR = "_newsarchive_session"


class CrawlSession:
    def __init__(self, config: Config, store: Store, spool: Path, crawl_id: str) -> None:
        self.config = config
        self.store = store
        self.spool = spool
        self.crawl_id = crawl_id
        self.started = datetime.now(UTC)
        self.files: list[FileEntry] = []
        self._lock = threading.Lock()
        # One thread: files land in the order they were closed, off the reactor thread.
        self._publisher = ThreadPoolExecutor(1, thread_name_prefix="newsarchive-publish")
        self._pending: list[Future[None]] = []
        self._closers: list[Callable[[], None]] = []
        self.closed = False

    @classmethod
    def open(cls, config: Config) -> CrawlSession:
        """Open the archive and check it is writable; raises ConfigError/StorageError."""
        store = open_store(config.archive)
        store.check_writable()
        spool = Path(config.spool) if config.spool else default_spool(config, store)
        try:
            spool.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"spool folder {spool} is not writable: {e.strerror}") from None
        crawl_id = config.crawl_id or layout.new_crawl_id()
        if store.exists(layout.manifest_key(crawl_id)):
            raise StorageError(f"crawl {crawl_id} is already complete in {store.uri}")
        return cls(config, store, spool, crawl_id)

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlSession:
        """The crawler's session, created on first use by whichever component asks first."""
        session = getattr(crawler, _ATTR, None)
        if session is None:
            session = cls.open(Config.from_settings(crawler.settings))
            setattr(crawler, _ATTR, session)
        return session

    def add_closer(self, close: Callable[[], None]) -> None:
        """Register a writer's close(); run at crawl end, before the manifest is written."""
        self._closers.append(close)

    def close_writers(self) -> list[BaseException]:
        """Close every registered writer and wait until their files are stored."""
        errors: list[BaseException] = []
        for close in self._closers:
            try:
                close()
            except Exception as e:  # keep closing the others: each holds data
                logger.exception("closing %r failed", close)
                errors.append(e)
        self._closers.clear()
        return errors + self.wait_published()

    def publish(self, path: Path, key: str, kind: str, records: int) -> Future[None]:
        """Hash a closed spool file and move it into the store, in the background."""

        def run() -> None:
            size = path.stat().st_size
            digest = sha256_file(path)
            self.store.put_file(path, key, digest)
            with self._lock:
                self.files.append(FileEntry(key, kind, size, digest, records))
            logger.debug("stored %s (%d bytes)", key, size)

        future = self._publisher.submit(run)
        self._pending.append(future)
        return future

    def wait_published(self) -> list[BaseException]:
        errors = [e for f in self._pending if (e := f.exception()) is not None]
        self._pending = [f for f in self._pending if not f.done()]
        return errors

    def write_manifest(self, crawl: dict[str, Any], counts: dict[str, Any]) -> str:
        key = layout.manifest_key(self.crawl_id)
        crawl = {
            **crawl,
            "started_at": self.started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        doc = manifest.build_manifest(
            crawl_id=self.crawl_id,
            crawl=crawl,
            files=self.files,
            counts=counts,
            settings=self.config.summary(),
        )
        self.store.put_bytes(key, manifest.dumps(doc))
        return key

    def shutdown(self) -> None:
        self._publisher.shutdown(wait=True)
        self.closed = True


def default_spool(config: Config, store: Store) -> Path:
    """Beside the archive for folders (so storing is a rename), else a user cache folder."""
    root = getattr(store, "root", None)
    if root is not None:
        return Path(root) / ".spool"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsarchive" / "spool" / layout.safe_name(config.archive)
