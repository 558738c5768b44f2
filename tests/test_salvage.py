"""The torn-file rule (newsarchive.archive.salvage), on real WARC bytes from the writer.

One rule serves both callers: crash recovery of a crawl (recover_crawl) and a worker
taking over a dead worker's spool (salvage). A WARC is cut after its last whole record
and dropped when no capture is left; the result reads cleanly with warcio.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import random
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.recovery import Journal, journal_path, recover_crawl
from newsarchive.archive.salvage import cut_shard, cut_warc, salvage
from newsarchive.archive.shards import ShardWriter
from newsarchive.storage.folder import FolderStore
from newsarchive.warc.writer import Exchange, RevisitOf, RollingWarcWriter, WarcOptions

CRAWL = "20261126T120000Z-abc123"


def _exchange(n: int, body: bytes) -> Exchange:
    return Exchange(
        url=f"http://127.0.0.1:8000/news/{n}.html", method="GET",
        request_headers=[("Host", "127.0.0.1:8000"), ("User-Agent", "test")],
        request_body=b"", protocol="HTTP/1.1", status=200, reason="OK",
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        body=body, ip_address="127.0.0.1",
    )


@functools.cache
def real_warc() -> tuple[bytes, tuple[int, ...], tuple[str, ...]]:
    """A WARC as a crawl writes it: (bytes, end offset of each record, record types).

    warcinfo; two exchanges (response + request), one with 40 KB that do not compress,
    so a cut can land deep inside one record; a metadata record; a revisit + request.
    """
    with tempfile.TemporaryDirectory() as tmp:
        closed: list = []
        ids = (f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>" for n in itertools.count(1))
        writer = RollingWarcWriter(
            WarcOptions(crawl_id=CRAWL, spool=Path(tmp), host="testhost",
                        warcinfo={"software": "newsarchive/test"}),
            on_close=lambda *a: closed.append(a),
            clock=lambda: datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC),
            make_id=lambda: next(ids),
        )
        first = writer.write_exchange(_exchange(1, b"<html><p>Hello</p></html>"))
        writer.write_exchange(_exchange(2, random.Random(1).randbytes(40_000)))
        writer.write_metadata(_exchange(1, b"").url, [("outlink", "http://127.0.0.1:8000/")],
                              first.record_id, first.date)
        writer.write_revisit(_exchange(1, b"<html><p>Hello</p></html>"), RevisitOf(
            _exchange(1, b"").url, first.date, first.payload_digest, first.record_id))
        writer.close()
        data = closed[0][0].read_bytes()
    ends, offset = [], 0
    while offset < len(data):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        inflater.decompress(data[offset:])
        offset = len(data) - len(inflater.unused_data)
        ends.append(offset)
    with gzip.open(_bytes_file(data)) as raw:
        types = tuple(r.rec_type for r in ArchiveIterator(raw))
    assert types == ("warcinfo", "response", "request", "response", "request", "metadata",
                     "revisit", "request")
    assert len(ends) == len(types)  # one gzip member per record
    return data, tuple(ends), types


def _bytes_file(data: bytes):
    import io

    return io.BytesIO(data)


def _read_cleanly(path: Path) -> list[str]:
    """Every record read to its end with digests checked; warcio raises on anything else."""
    with open(path, "rb") as f:
        iterator = ArchiveIterator(f, check_digests="raise")
        types = []
        for record in iterator:
            record.content_stream().read()
            types.append(record.rec_type)
        return types


def _torn(folder: Path, cut: int) -> Path:
    data, _, _ = real_warc()
    path = folder / "warc" / CRAWL / f"newsarchive-{CRAWL}-testhost-00001.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[:cut])
    return path


def test_a_warc_holding_only_its_warcinfo_is_removed(tmp_path):
    _, ends, _ = real_warc()
    for cut in (ends[0], ends[0] + 1, (ends[0] + ends[1]) // 2, ends[1] - 1):
        path = _torn(tmp_path / str(cut), cut)
        kept = cut_warc(path)
        assert (kept.records, kept.cut_bytes) == (0, cut) and not path.exists()


def test_a_torn_gzip_member_mid_record_is_cut_off(tmp_path):
    data, ends, types = real_warc()
    cut = (ends[2] + ends[3]) // 2  # inside the 40 KB response record
    path = _torn(tmp_path, cut)
    kept = cut_warc(path)
    assert (kept.records, kept.cut_bytes) == (3, cut - ends[2])
    assert path.read_bytes() == data[:ends[2]]
    assert _read_cleanly(path) == list(types[:3])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_cut_keeps_exactly_the_whole_records_before_it(draw):
    data, ends, types = real_warc()
    cut = draw.draw(st.integers(0, len(data)), label="cut")
    whole = sum(1 for end in ends if end <= cut)
    with tempfile.TemporaryDirectory() as tmp:
        path = _torn(Path(tmp), cut)
        kept = cut_warc(path)
        if whole <= 1:  # nothing, or the warcinfo alone: no capture
            assert kept.records == 0 and not path.exists()
            return
        assert kept.records == whole
        assert path.read_bytes() == data[:ends[whole - 1]]
        assert _read_cleanly(path) == list(types[:whole])


def test_a_member_that_is_whole_gzip_but_no_warc_record_ends_the_file(tmp_path):
    data, ends, types = real_warc()
    path = _torn(tmp_path, ends[2])
    with open(path, "ab") as f:
        f.write(gzip.compress(b"not a WARC record\r\n\r\n") + data[ends[2]:])
    assert cut_warc(path).records == 3
    assert _read_cleanly(path) == list(types[:3])


# --- both callers ---------------------------------------------------------------------


def _open_shard(spool: Path, records: list[dict], cut_tail: int) -> Path:
    writer = ShardWriter(CRAWL, spool, 100, lambda *a: None)
    for record in records:
        writer.write(record)
    (path,) = spool.glob("text/*/*/*.jsonl.gz")
    killed = path.read_bytes()  # every record flushed, the gzip stream not finished
    writer.close()
    path.write_bytes(killed[:-cut_tail] if cut_tail else killed)
    return path


def test_a_dead_workers_warcinfo_only_warc_is_not_listed(tmp_path):
    _, ends, _ = real_warc()
    path = _torn(tmp_path, ends[1] - 5)
    path.with_name(path.name.removesuffix(".warc.gz") + ".cdxj").write_text("")
    found = salvage(tmp_path, CRAWL)
    assert found.files == [] and found.cut_bytes == ends[1] - 5
    assert not path.exists() and not any((tmp_path / "warc").rglob("*.cdxj"))


def test_a_dead_workers_torn_warc_keeps_its_whole_records_and_an_index(tmp_path):
    _, ends, _ = real_warc()
    _torn(tmp_path, ends[4] + 100)
    found = salvage(tmp_path, CRAWL)
    assert sorted((f.kind, f.records) for f in found.files) == [("cdxj", 2), ("warc", 5)]
    assert found.cut_bytes == 100


def _record(n: int, warc_file: str, offset: int, length: int) -> dict:
    return {
        "id": f"t{n}", "site": "gazette", "url": f"http://127.0.0.1:8000/news/{n}.html",
        "canonical_url": None, "fetched_at": "2026-11-26T12:00:00Z", "content_hash": f"h{n}",
        "warc": {"file": warc_file, "offset": offset, "length": length,
                 "record_id": f"<urn:uuid:{n}>", "payload_digest": "sha1:X"},
    }


def test_crash_recovery_drops_a_warcinfo_only_warc_and_the_text_citing_it(tmp_path):
    """The same rule on one machine: the manifest lists no WARC without a capture, and
    a text record whose response was cut is dropped with it."""
    _, ends, _ = real_warc()
    spool = tmp_path / "spool"
    warc = _torn(spool, ends[1] - 5)  # the first response torn: warcinfo alone is left
    key = warc.relative_to(spool).as_posix()
    _open_shard(spool, [_record(1, key, ends[0], ends[1] - ends[0])], cut_tail=0)
    Journal(spool, CRAWL).close(remove=False)  # a crawl that died before closing a file
    store = FolderStore(tmp_path / "archive")
    result = recover_crawl(store, spool, journal_path(spool, CRAWL))
    assert result.files == [] and result.dropped_text == 1
    doc = json.loads(store.read_bytes(f"crawls/{CRAWL}.json"))
    assert doc["files"] == [] and doc["crawl"]["recovered_text_dropped"] == 1
    assert not warc.exists()


def test_crash_recovery_keeps_whole_records_of_a_torn_warc_and_shard(tmp_path):
    _, ends, _ = real_warc()
    spool = tmp_path / "spool"
    warc = _torn(spool, ends[4] + 100)
    key = warc.relative_to(spool).as_posix()
    records = [_record(1, key, ends[0], ends[1] - ends[0]),  # whole: kept
               _record(2, key, ends[2], ends[3] - ends[2]),  # whole: kept
               _record(3, key, ends[4], ends[5] - ends[4])]  # cut: dropped
    _open_shard(spool, [*records, _record(4, key, ends[0], 10)], cut_tail=20)
    Journal(spool, CRAWL).close(remove=False)
    store = FolderStore(tmp_path / "archive")
    result = recover_crawl(store, spool, journal_path(spool, CRAWL))
    kinds = sorted((e.kind, e.records) for e in result.files)
    assert kinds == [("cdxj", 2), ("state", 2), ("text", 2), ("warc", 5)]
    assert result.dropped_text == 1  # record 4 sat on the torn line: not whole, not counted
    assert _read_cleanly(store.root / key) == ["warcinfo", "response", "request",
                                                "response", "request"]
    (text,) = [e for e in result.files if e.kind == "text"]
    lines = gzip.decompress(store.read_bytes(text.key)).splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["t1", "t2"]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_cut_of_a_shard_keeps_the_whole_lines_before_it(draw):
    records = [{"site": "s", "fetched_at": "2026-01-01T00:00:00Z", "n": n, "pad": "x" * n}
               for n in range(30)]
    with tempfile.TemporaryDirectory() as tmp:
        path = _open_shard(Path(tmp), records, cut_tail=0)
        data = path.read_bytes()
        cut = draw.draw(st.integers(0, len(data)), label="cut")
        path.write_bytes(data[:cut])
        kept = cut_shard(path).kept
        assert kept == records[:len(kept)]
        if kept:
            assert [json.loads(x) for x in gzip.decompress(path.read_bytes()).splitlines()] == kept
        else:
            assert not path.exists()
