"""The crawl session's storing of closed files: background, bounded, nothing lost."""

from __future__ import annotations

import threading

from scrapy.settings import Settings

from newsarchive import settings as default_settings
from newsarchive.archive.session import CrawlSession
from newsarchive.config import Config
from newsarchive.errors import StorageError


def _session(tmp_path, **overrides) -> CrawlSession:
    settings = Settings()
    settings.setmodule(default_settings)
    settings.update({"NEWSARCHIVE_ARCHIVE": str(tmp_path / "archive"), **overrides})
    return CrawlSession.open(Config.from_settings(settings))


def _spool_file(session: CrawlSession, name: str) -> tuple:
    key = f"warc/{session.crawl_id}/{name}"
    path = session.spool / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(name.encode())
    return path, key


class WatchedSlots(threading.BoundedSemaphore):
    """The session's upload slots, telling when a writer found none free and waits."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.waiting = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if super().acquire(blocking=False):
            return True
        if blocking:
            self.waiting.set()
        return super().acquire(blocking, timeout)


def test_a_full_upload_queue_makes_the_writer_wait(tmp_path):
    session = _session(tmp_path, NEWSARCHIVE_UPLOAD_QUEUE=1)
    session._slots = slots = WatchedSlots(1)
    gate = threading.Event()
    real_put = session.store.put_file
    stored = []

    def slow_put(local, key, sha256):
        gate.wait(10)
        real_put(local, key, sha256)
        stored.append(key.rsplit("/", 1)[-1])

    session.store.put_file = slow_put  # a storage slower than the crawl
    session.publish(*_spool_file(session, "a.warc.gz"), "warc", 1)
    second = threading.Thread(
        target=session.publish, args=(*_spool_file(session, "b.warc.gz"), "warc", 1)
    )
    second.start()
    assert slots.waiting.wait(10), "the second file was handed over with no slot free"
    # a.warc.gz holds the only slot until it is stored, which the gate forbids: b waits.
    assert second.is_alive() and stored == []
    gate.set()
    second.join(10)
    assert not second.is_alive()
    assert session.close_writers() == []
    assert sorted(f.key.rsplit("/", 1)[-1] for f in session.files) == ["a.warc.gz", "b.warc.gz"]
    assert stored == ["a.warc.gz", "b.warc.gz"]  # one at a time, in order


def test_a_file_that_cannot_be_stored_keeps_the_manifest_in_the_spool(tmp_path):
    session = _session(tmp_path)
    real_put = session.store.put_file
    calls = []

    def failing_put(local, key, sha256):
        calls.append(key)
        raise StorageError("endpoint down")

    session.store.put_file = failing_put
    path, key = _spool_file(session, "a.warc.gz")
    session.publish(path, key, "warc", 1)
    session.close_writers()
    try:
        session.write_manifest({"spider": "news"}, {})
    except StorageError as e:
        assert "upload-pending" in str(e)
    else:
        raise AssertionError("the manifest was stored although a file was not")
    assert path.exists()
    assert (session.spool / "crawls" / f"{session.crawl_id}.json").exists()
    assert not session.store.exists(f"crawls/{session.crawl_id}.json")

    session.store.put_file = real_put  # storage is back: the next run finishes the crawl
    _session(tmp_path)
    assert session.store.exists(f"crawls/{session.crawl_id}.json")
    assert session.store.read_bytes(key) == b"a.warc.gz"
    assert not path.exists()
