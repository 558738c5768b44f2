"""WARC writing without a crawl: golden bytes, rollover, locations, framing, revisits."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.crawl.items import PageMetadata
from newsarchive.warc.writer import Exchange, RevisitOf, RollingWarcWriter, WarcOptions, warc_fields

GOLDEN = Path(__file__).parent / "data" / "golden.warc"

EXCHANGE = Exchange(
    url="http://127.0.0.1:8000/news/a.html?x=1",
    method="GET",
    request_headers=[("Host", "127.0.0.1:8000"), ("User-Agent", "test-agent")],
    request_body=b"",
    protocol="HTTP/1.1",
    status=200,
    reason="OK",
    response_headers=[
        ("Content-Type", "text/html; charset=utf-8"),
        ("Transfer-Encoding", "chunked"),
    ],
    body=b"<html><body><p>Hello</p></body></html>",
    ip_address="127.0.0.1",
)

# A page served gzip-encoded and chunked, as the sample site serves articles: the
# record must keep the gzip bytes and Content-Encoding, and lose the chunked framing.
GZIP_BODY = (
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xb3\xc9(\xc9\xcd\xb1\xb3\xc9HML\xb1\xb3)"
    b"\xc9,\xc9I\xb5s\xcf\xcfII\xcd\xb3\xd1\x87\xf0l\xf4!rI\xf9)\x95v6\x05v\x8ey\n"
    b"\x89E\xc9\x19\x99e\xa9)\n\xc5%\xf9E\x95z6\xfa\x05@U\x10y}\xb0q\\\x00\xabj\x1f"
    b"\x1eV\x00\x00\x00"
)
GZIP_EXCHANGE = Exchange(
    url="http://127.0.0.1:8000/news/2026/11/26/golden-story.html",
    method="GET",
    request_headers=[
        ("Host", "127.0.0.1:8000"),
        ("Accept", "text/html"),
        ("Accept-Encoding", "gzip, deflate"),
        ("User-Agent", "newsarchive/test"),
    ],
    request_body=b"",
    protocol="HTTP/1.1",
    status=200,
    reason="OK",
    response_headers=[
        ("Server", "SampleGazette/1.0"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("Vary", "Accept-Encoding"),
    ],
    body=GZIP_BODY,
    ip_address="127.0.0.1",
)


def fixed_writer(tmp_path: Path, closed: list, clock=None, **options) -> RollingWarcWriter:
    ids = (f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>" for n in itertools.count(1))
    return RollingWarcWriter(
        WarcOptions(crawl_id="c1", spool=tmp_path, host="testhost", **options),
        on_close=lambda path, key, records: closed.append((path, key, records)),
        clock=clock or (lambda: datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)),
        make_id=lambda: next(ids),
    )


def golden_file(tmp_path: Path) -> Path:
    """warcinfo, response + request, metadata, revisit + request: every record we write."""
    closed: list = []
    writer = fixed_writer(
        tmp_path,
        closed,
        clock=lambda: datetime(2026, 11, 26, 12, 0, 0, 250000, tzinfo=UTC),
        warcinfo={"software": "newsarchive/test", "operator": "archivist@example.org"},
    )
    location = writer.write_exchange(GZIP_EXCHANGE)
    page = PageMetadata(
        url=GZIP_EXCHANGE.url,
        record_id=location.record_id,
        date=location.date,
        crawl_id="c1",
        discovery="feed",
        outlinks=["http://127.0.0.1:8000/", "http://127.0.0.1:8000/section/world/"],
        redirected_from=["http://127.0.0.1:8000/old/golden"],
    )
    writer.write_metadata(page.url, page.warc_fields(), page.record_id, page.date)
    original = RevisitOf(
        GZIP_EXCHANGE.url, location.date, location.payload_digest, location.record_id
    )
    writer.write_revisit(GZIP_EXCHANGE, original)
    writer.close()
    (path, _, records) = closed[0]
    assert records == 6
    return path


def gzip_members(data: bytes) -> list[bytes]:
    members = []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS + 16)
        members.append(inflater.decompress(data))
        assert inflater.eof
        data = inflater.unused_data
    return members


def test_golden_bytes(tmp_path):
    """The exact bytes of every record kind, clock and record ids fixed.

    After an intended format change, regenerate with NEWSARCHIVE_UPDATE_GOLDEN=1 and
    review the diff of tests/data/golden.warc.
    """
    members = gzip_members(golden_file(tmp_path).read_bytes())
    assert len(members) == 6  # one gzip member per record
    produced = b"".join(members)
    if os.environ.get("NEWSARCHIVE_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(produced)
    assert produced == GOLDEN.read_bytes()
    for member in members:
        assert len(list(ArchiveIterator(io.BytesIO(member)))) == 1


@pytest.mark.e2e
def test_golden_file_reads_back_as_written(tmp_path):
    path = golden_file(tmp_path)
    check = subprocess.run(["warcio", "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    with open(path, "rb") as f:
        records = list(ArchiveIterator(f))
        f.seek(0)
        raw = {r.rec_type: r for r in ArchiveIterator(f)}
    assert [r.rec_type for r in records] == [
        "warcinfo", "response", "request", "metadata", "revisit", "request"
    ]
    assert records[0].rec_headers.get_header("WARC-Date") == "2026-11-26T12:00:00.250000Z"
    response, request, metadata, revisit = records[1], records[2], records[3], records[4]
    response_id = response.rec_headers.get_header("WARC-Record-ID")
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response_id
    assert metadata.rec_headers.get_header("WARC-Concurrent-To") == response_id
    assert revisit.rec_headers.get_header("WARC-Refers-To") == response_id
    assert revisit.rec_headers.get_header("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert revisit.rec_headers.get_header("WARC-Refers-To-Target-URI") == GZIP_EXCHANGE.url
    assert revisit.rec_headers.get_header("WARC-Payload-Digest") == (
        response.rec_headers.get_header("WARC-Payload-Digest")
    )
    assert revisit.http_headers.get_statuscode() == "200"
    assert raw["revisit"].content_stream().read() == b""
    assert response.http_headers.get_header("Content-Encoding") == "gzip"
    assert response.http_headers.get_header("Transfer-Encoding") is None
    assert response.http_headers.get_header("Content-Length") == str(len(GZIP_BODY))
    assert metadata.rec_headers.get_header("Content-Type") == "application/warc-fields"


def test_warc_1_0_by_setting(tmp_path):
    closed: list = []
    writer = fixed_writer(tmp_path, closed, version="1.0")
    location = writer.write_exchange(EXCHANGE)
    writer.write_revisit(
        EXCHANGE, RevisitOf(EXCHANGE.url, location.date, location.payload_digest)
    )
    writer.close()
    text = b"".join(gzip_members(closed[0][0].read_bytes())).decode()
    assert text.startswith("WARC/1.0\r\n") and "WARC/1.1" not in text
    assert "WARC-Date: 2026-11-26T12:00:00Z\r\n" in text
    assert "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest" in text
    assert "WARC-Refers-To:" not in text  # unknown here, so not written


def test_revisit_refuses_a_different_body(tmp_path):
    closed: list = []
    writer = fixed_writer(tmp_path, closed)
    location = writer.write_exchange(EXCHANGE)
    changed = Exchange(**{**EXCHANGE.__dict__, "body": b"<p>changed</p>"})
    with pytest.raises(ValueError, match="does not match"):
        writer.write_revisit(
            changed, RevisitOf(EXCHANGE.url, location.date, location.payload_digest)
        )
    writer.close()
    assert closed[0][2] == 3  # warcinfo, response, request: nothing half-written


def test_revisit_accepts_hex_digests(tmp_path):
    import hashlib

    closed: list = []
    writer = fixed_writer(tmp_path, closed)
    digest = "sha256:" + hashlib.sha256(EXCHANGE.body).hexdigest()
    location = writer.write_revisit(
        EXCHANGE, RevisitOf(EXCHANGE.url, "2026-01-01T00:00:00Z", digest, "<urn:uuid:x>")
    )
    writer.close()
    assert location.payload_digest == digest


def test_warc_fields_refuse_line_breaks():
    assert warc_fields([("outlink", "http://a/")]) == b"outlink: http://a/\r\n"
    with pytest.raises(ValueError):
        warc_fields([("outlink", "http://a/\r\nWARC-Type: response")])
    page = PageMetadata("http://a/", "<urn:uuid:1>", "d", "c1", "link", ["http://b/\nx"])
    assert ("outlink", "http://b/\nx") not in page.warc_fields()


@pytest.mark.e2e
def test_framing_is_made_consistent_with_the_stored_body(tmp_path):
    closed: list = []
    writer = fixed_writer(tmp_path, closed)
    location = writer.write_exchange(EXCHANGE)
    writer.close()
    path = closed[0][0]
    with open(path, "rb") as f:
        f.seek(location.offset)
        record = next(iter(ArchiveIterator(io.BytesIO(f.read(location.length)))))
    assert record.http_headers.get_header("Transfer-Encoding") is None
    assert record.http_headers.get_header("Content-Length") == str(len(EXCHANGE.body))
    assert record.content_stream().read() == EXCHANGE.body
    assert record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    check = subprocess.run(["warcio", "check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_rolls_over_at_max_size_and_reports_each_file(tmp_path):
    closed: list = []
    writer = fixed_writer(tmp_path, closed, max_size=2048)
    big = Exchange(**{**EXCHANGE.__dict__, "body": bytes(range(256)) * 20})
    locations = [writer.write_exchange(big) for _ in range(5)]
    writer.close()
    assert len(closed) >= 3
    assert [key for _, key, _ in closed] == sorted(key for _, key, _ in closed)
    assert {loc.file for loc in locations} == {key for _, key, _ in closed}
    for path, key, records in closed:
        assert key.startswith("warc/c1/newsarchive-20261126120000-")
        assert key.endswith("-testhost.warc.gz")
        with open(path, "rb") as f:
            found = list(ArchiveIterator(f))
        assert found[0].rec_type == "warcinfo"
        assert len(found) == records


def test_compression_level_is_a_setting(tmp_path):
    sizes = {}
    for level in (1, 9):
        closed: list = []
        writer = fixed_writer(tmp_path / str(level), closed, gzip_level=level)
        text = b"<p>" + b"news archive text " * 2000 + b"</p>"
        writer.write_exchange(Exchange(**{**EXCHANGE.__dict__, "body": text}))
        writer.close()
        sizes[level] = closed[0][0].stat().st_size
    assert sizes[9] < sizes[1]
