"""WARC writing without a crawl: golden bytes, rollover, locations, framing headers."""

from __future__ import annotations

import gzip
import io
import itertools
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from newsarchive.warc import Exchange, RollingWarcWriter, WarcOptions

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


def fixed_writer(tmp_path: Path, closed: list, **options) -> RollingWarcWriter:
    ids = (f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>" for n in itertools.count(1))
    return RollingWarcWriter(
        WarcOptions(crawl_id="c1", spool=tmp_path, host="testhost", **options),
        on_close=lambda path, key, records: closed.append((path, key, records)),
        clock=lambda: datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC),
        make_id=lambda: next(ids),
    )


def test_same_input_gives_the_same_bytes(tmp_path):
    outputs = []
    for run in ("a", "b"):
        closed: list = []
        writer = fixed_writer(tmp_path / run, closed, warcinfo={"software": "test"})
        writer.write_exchange(EXCHANGE)
        writer.close()
        outputs.append(closed[0][0].read_bytes())
    assert outputs[0] == outputs[1]
    text = gzip.decompress(outputs[0]).decode()
    assert "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000002>" in text
    assert "WARC-Date: 2026-11-26T12:00:00Z" in text
    assert "GET /news/a.html?x=1 HTTP/1.1\r\n" in text
    assert "WARC-Concurrent-To: <urn:uuid:00000000-0000-0000-0000-000000000002>" in text


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
