"""One crawl's archive session, shared by the capture middleware, pipelines and extension.

It owns the crawl id, the store and the spool, and it is the single place that moves
closed files into the store and remembers them for the manifest.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from newsarchive.archive import faults, layout, manifest
from newsarchive.archive.background import DaemonExecutor
from newsarchive.archive.manifest import FileEntry
from newsarchive.archive.pending import complete_pending
from newsarchive.archive.recovery import Journal, crashed_journals, recover_crawl
from newsarchive.archive.state import SiteState, state_key
from newsarchive.config import Config
from newsarchive.errors import ConfigError, EndpointError, StorageError
from newsarchive.settings_schema import read
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
        self.failed: list[tuple[FileEntry, Path, StorageError]] = []
        self._lock = threading.Lock()
        # Uploads run off the reactor thread; at most `upload_queue` closed files wait
        # for storage before a writer that closes another one waits too (back-pressure).
        self._slots = threading.BoundedSemaphore(config.upload_queue)
        # Daemon threads: after a forced stop, Python's exit must not wait for uploads.
        self._publisher = DaemonExecutor(2, thread_name_prefix="newsarchive-publish")
        self._pending: list[Future[None]] = []
        self._closers: list[Callable[[], None]] = []
        self.closed = False
        self.state: SiteState | None = None  # the crawled site's incremental state
        self.journal = Journal(spool, crawl_id)
        self.since: date | None = None  # oldest publication date to archive
        # what each host states for its whole site (newsarchive.crawl.rights): its
        # TDMRep rules and robots.txt's AI groups, written into the manifest
        self.rights: dict[str, dict[str, Any]] = {"tdmrep": {}, "robots_ai": {}}

    @classmethod
    def open(cls, config: Config, shared: bool = False) -> CrawlSession:
        """Open the archive, check it is writable and finish what earlier runs left in
        the spool; raises ConfigError/StorageError before any request is made.

        ``shared``: this is a worker of a crawl run by several (newsarchive.cluster.workers).
        A journal in its spool is an earlier run of the same worker, killed: its files
        belong to the shared crawl, whose coordinator adopts them. Recovering it here
        wrote the shared crawl's manifest with this worker's files alone.
        """
        store = open_store(config.archive, config.s3)
        store.check_writable()
        spool = Path(config.spool) if config.spool else default_spool(config.archive, store)
        try:
            spool.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"spool folder {spool} is not writable: {e.strerror}") from None
        report = complete_pending(store, spool)
        for journal in [] if shared else crashed_journals(spool):
            recover_crawl(store, spool, journal)
        report = complete_pending(store, spool)  # only leftovers of live crawls remain
        if report.leftovers:
            logger.warning(
                "spool %s holds %d file(s) that no manifest lists (an interrupted crawl?)",
                spool, len(report.leftovers),
            )
        crawl_id = config.crawl_id or layout.new_crawl_id()
        if store.exists(layout.manifest_key(crawl_id)):
            raise ConfigError(
                f"crawl {crawl_id} is already complete in {store.uri}: "
                "set another NEWSARCHIVE_CRAWL_ID (or none, for a new one)"
            )
        return cls(config, store, spool, crawl_id)

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlSession:
        """The crawler's session, created on first use by whichever component asks first."""
        session = getattr(crawler, _ATTR, None)
        if session is None:
            # NEWSARCHIVE_REDIS_URL: a worker of a shared crawl (the add-on switched the
            # crawl to the Redis frontier on this setting; newsarchive.cluster.workers)
            shared = bool(read(crawler.settings, "NEWSARCHIVE_REDIS_URL"))
            session = cls.open(Config.from_settings(crawler.settings), shared)
            setattr(crawler, _ATTR, session)
        return session

    def load_state(self, site: str) -> SiteState:
        """Load what the archive holds for site (before crawling; errors stop the crawl)."""
        self.state = SiteState.load(self.store, site) if self.config.incremental else (
            SiteState(site)
        )
        return self.state

    def publish_state(self) -> None:
        """Snapshot the state into the spool and store it as a file of this crawl.

        Called after the writers closed and before the manifest: the snapshot is listed
        in the manifest, so it counts only once the crawl is complete.
        """
        if self.state is None or not self.state.changed:
            return
        key = state_key(self.state.site, self.crawl_id)
        path = self.spool.joinpath(*key.split("/"))
        try:
            records = self.state.write(path)
        except OSError as e:
            with suppress(OSError):  # never a half-written snapshot in the spool
                path.unlink(missing_ok=True)
            raise StorageError(
                f"cannot write the incremental state to the spool {self.spool}: "
                f"{e.strerror or e}"
            ) from None
        self.publish(path, key, "state", records)

    def add_closer(self, close: Callable[[], None]) -> None:
        """Register a writer's close(); run at crawl end, before the manifest is written."""
        self._closers.append(close)

    def close_writers(self) -> list[BaseException]:
        """Close every registered writer and wait until their files are stored."""
        errors: list[BaseException] = []
        for close in self._closers:
            try:
                close()
            except StorageError as e:  # the spool refused: the caller logs its one line
                errors.append(e)
            except Exception as e:  # keep closing the others: each holds data
                logger.exception("closing %r failed", close)
                errors.append(e)
        self._closers.clear()
        return errors + self.wait_published()

    def publish(
        self, path: Path, key: str, kind: str, records: int, wait_for_slot: bool = True
    ) -> Future[None]:
        """Hash a closed spool file and store it in the background.

        A file that cannot be stored stays in the spool and is listed in the manifest
        all the same; the manifest then stays in the spool too (see pending.py).
        ``wait_for_slot=False`` is for callers on the reactor thread.
        """
        acquired = self._slots.acquire(blocking=wait_for_slot)

        def run() -> None:
            try:
                try:
                    entry = FileEntry(key, kind, path.stat().st_size, sha256_file(path), records)
                except OSError as e:
                    raise StorageError(
                        f"cannot read {path} in the spool: {e.strerror or e}"
                    ) from None
                with self._lock:
                    self.files.append(entry)
                    self.journal.add(entry)
                try:
                    self.store.put_file(path, key, entry.sha256)
                    logger.debug("stored %s (%d bytes)", key, entry.size)
                except StorageError as e:
                    logger.error("%s; it stays in the spool %s", e, self.spool)
                    with self._lock:
                        self.failed.append((entry, path, e))
            finally:
                if acquired:
                    self._slots.release()

        future = self._publisher.submit(run)
        self._pending.append(future)
        return future

    def wait_published(self) -> list[BaseException]:
        errors = [e for f in self._pending if (e := f.exception()) is not None]
        self._pending = [f for f in self._pending if not f.done()]
        return errors

    def retry_failed(self) -> list[StorageError]:
        """One more attempt for files whose upload failed (the endpoint may be back).

        An endpoint still down (or refusing us) fails every file the same way: the rest
        are not tried, each after its own retries, which held a crawl's end for seconds
        per file; they wait in the spool with the error that says why."""
        still: list[tuple[FileEntry, Path, StorageError]] = []
        down: EndpointError | None = None
        for entry, path, _ in self.failed:
            if down is not None:
                still.append((entry, path, down))
                continue
            try:
                self.store.put_file(path, entry.key, entry.sha256)
            except EndpointError as e:
                down = e
                still.append((entry, path, e))
            except StorageError as e:
                still.append((entry, path, e))
        self.failed = still
        return [e for _, _, e in still]

    def write_manifest(self, crawl: dict[str, Any], counts: dict[str, Any]) -> str:
        """Write the manifest into the spool, then store it unless a file is missing.

        Returns the manifest's key; raises StorageError (manifest left in the spool)
        when the crawl cannot be made visible yet.
        """
        faults.point("before-manifest")
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
        local = self.spool.joinpath(*key.split("/"))
        tmp = local.with_suffix(".tmp")
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(manifest.dumps(doc))
            os.replace(tmp, local)
        except OSError as e:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StorageError(
                f"cannot write the manifest to the spool {self.spool}: {e.strerror or e}; "
                f"the next crawl with this spool recovers crawl {self.crawl_id} from its "
                "journal"
            ) from None
        errors = self.retry_failed()
        if errors:
            raise StorageError(
                f"{len(errors)} file(s) could not be stored ({errors[0]}); they and the "
                f"manifest stay in {self.spool}: run `newsarchive upload-pending "
                f"{self.store.uri}` (or the next crawl) to finish crawl {self.crawl_id}"
            )
        self.store.put_file(local, key, sha256_file(local))
        faults.point("after-manifest")
        self.journal.close(remove=True)
        return key

    def shutdown(self) -> None:
        self._publisher.shutdown(wait=True)
        self.journal.close(remove=False)  # kept only if the manifest did not land
        self.closed = True


def default_spool(archive: str, store: Store) -> Path:
    """Beside the archive for folders (so storing is a rename), else a user cache folder."""
    root = getattr(store, "root", None)
    if root is not None:
        return Path(root) / ".spool"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsarchive" / "spool" / layout.safe_name(archive, limit=200)
