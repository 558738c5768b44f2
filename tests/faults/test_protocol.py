"""Protocol-level hostility, from a raw-socket server: header bytes, codings, broken heads.

One real crawl of a HostileServer site (tests/hostile_server.py) whose front page links
every case; the tests read its WARC files byte for byte, its manifest and `newsarchive
show`. What a server sends in a header must be archived as sent (the WARC is the
evidence); what makes a response unreadable must be counted under its own name.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import brotli
import pytest

from tests.helpers import ROOT, load_manifest, scrapy_crawl
from tests.hostile_server import HostileServer, response
from tests.newsserver import article_html, index_html

try:
    from compression import zstd
except ImportError:
    from backports import zstd

HTML = ("Content-Type", "text/html; charset=utf-8")
PAGE = b"<html><body><p>a page with nothing to extract</p></body></html>"

# Header values no ASCII-only writer keeps: raw UTF-8 and raw latin-1, as servers send.
SET_COOKIE = b"name=\xc3\xa9t\xc3\xa9; Path=/"
DISPOSITION = b'attachment; filename="r\xc3\xa9sum\xc3\xa9.pdf"'
X_LATIN = b"\xe9t\xe9 \xa7 \xff"

# Broken responses and the reason each failed URL must be counted under.
BROKEN = {
    "/bad-br": (response(200, [HTML, ("Content-Encoding", "br")], b"not brotli at all"),
                "bad-encoding"),
    "/bad-gzip": (response(200, [HTML, ("Content-Encoding", "gzip")], b"not gzip at all"),
                  "bad-encoding"),
    "/bad-deflate": (response(200, [HTML, ("Content-Encoding", "deflate")], b"not deflate"),
                     "bad-encoding"),
    "/bad-zstd": (response(200, [HTML, ("Content-Encoding", "zstd")], b"not zstd at all!"),
                  "bad-encoding"),
    "/two-lengths": (response(200, [HTML, ("Content-Length", "5"), ("Content-Length", "60")],
                              PAGE), "bad-content-length"),
    "/word-length": (response(200, [HTML, ("Content-Length", "sixty")], PAGE),
                     "bad-content-length"),
    "/bad-status": (b"HTTP/1.1 OK 200\r\nContent-Length: 2\r\n\r\nhi", "bad-status-line"),
    "/no-status": (b"HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", "bad-status-line"),
    "/http09": (b"<html><body>HTTP/0.9 has no status line</body></html>\r\n\r\n",
                "bad-status-line"),
    "/nothing": (b"", "no-response"),
}
ARTICLES = {  # path: Content-Encoding
    "/2024/03/15/brotli-story": "br",
    "/2024/03/15/stacked-story": "gzip, br",
    "/2024/03/15/zstd-story": "zstd",
    "/2024/03/15/raw-deflate-story": "deflate",
    "/2024/03/15/unknown-coding-story": "x-unknown",
}


def _encode(body: bytes, coding: str) -> bytes:
    for name in [c.strip() for c in coding.split(",")]:
        if name == "br":
            body = brotli.compress(body)
        elif name == "gzip":
            body = gzip.compress(body, mtime=0)
        elif name == "zstd":
            body = zstd.compress(body)
        elif name == "deflate":  # raw DEFLATE, no zlib header: what many servers send
            c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            body = c.compress(body) + c.flush()
    return body


@dataclass
class ProtocolCrawl:
    server: HostileServer
    archive: Path
    process: subprocess.CompletedProcess
    manifest: dict
    articles: dict[str, bytes]

    def response_heads(self) -> dict[str, bytes]:
        """WARC-Target-URI → the raw HTTP head bytes of its response record, as stored."""
        heads = {}
        for entry in self.manifest["files"]:
            if entry["kind"] != "warc":
                continue
            data = (self.archive / entry["key"]).read_bytes()
            while data:  # one gzip member per record
                d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                record = d.decompress(data)
                data = d.unused_data
                warc_head, _, block = record.partition(b"\r\n\r\n")
                if b"WARC-Type: response" not in warc_head:
                    continue
                uri = next(line.split(b": ", 1)[1] for line in warc_head.split(b"\r\n")
                           if line.startswith(b"WARC-Target-URI: "))
                heads[uri.decode()] = block.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
        return heads


@pytest.fixture(scope="module")
def protocol_crawl(tmp_path_factory) -> ProtocolCrawl:
    tmp = tmp_path_factory.mktemp("protocol")
    with HostileServer() as server:
        url = server.url
        server.script("/robots.txt", response(200, [("Content-Type", "text/plain")],
                                              b"User-agent: *\nAllow: /\n"))
        server.script("/cafe", response(301, [("Location", b"/caf\xc3\xa9")]))
        server.script("/caf%C3%A9", response(200, [
            HTML, ("Set-Cookie", SET_COOKIE), ("Content-Disposition", DISPOSITION),
            ("X-Latin", X_LATIN),
        ], PAGE))
        server.script("/latin", response(302, [("Location", b"/l\xe9gal")]))
        server.script("/l%E9gal", response(200, [HTML], PAGE))
        for path, (raw, _) in BROKEN.items():
            server.script(path, raw)
        articles = {}
        for path, coding in ARTICLES.items():
            html = article_html(path.rsplit("/", 1)[-1].replace("-", " "), url(path))
            articles[path] = html
            server.script(path, response(200, [HTML, ("Content-Encoding", coding)],
                                         _encode(html, coding)))
        links = ["/cafe", "/latin", *BROKEN, *ARTICLES]
        server.script("/", response(200, [HTML], index_html([url(p) for p in links])))
        archive = tmp / "archive"
        process = scrapy_crawl(
            "-a", f"url={url('/')}", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0",
            "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1", "-s", "NEWSARCHIVE_MAX_ERROR_RATE=1",
            timeout=240,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        return ProtocolCrawl(server, archive, process, load_manifest(archive), articles)


def _show(archive: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "show", str(archive), *args],
        capture_output=True, timeout=120, cwd=ROOT,
    )


def test_raw_utf8_location_is_archived_as_sent_and_its_target_captured(protocol_crawl):
    heads = protocol_crawl.response_heads()
    cafe = heads[protocol_crawl.server.url("/cafe")]
    assert b"\r\nLocation: /caf\xc3\xa9\r\n" in cafe, cafe
    # The URL the crawler followed is the Location's bytes %-encoded, resolved against
    # the redirect's own URL: the archived redirect points at the next capture.
    followed = urljoin(protocol_crawl.server.url("/cafe"), "/caf%C3%A9")
    assert followed in heads
    assert "/caf%C3%A9" in protocol_crawl.server.paths()
    latin = heads[protocol_crawl.server.url("/latin")]
    assert b"\r\nLocation: /l\xe9gal\r\n" in latin
    assert protocol_crawl.server.url("/l%E9gal") in heads


def test_non_ascii_header_values_are_archived_byte_for_byte(protocol_crawl):
    head = protocol_crawl.response_heads()[protocol_crawl.server.url("/caf%C3%A9")]
    assert b"\r\nSet-Cookie: " + SET_COOKIE + b"\r\n" in head
    assert b"\r\nContent-Disposition: " + DISPOSITION + b"\r\n" in head
    assert b"\r\nX-Latin: " + X_LATIN + b"\r\n" in head


def test_every_warc_is_valid(protocol_crawl):
    """Block digests cover the stored header bytes: FastWARC and verify recompute them.

    (Not `warcio check`: with Google's `brotli`, which Scrapy needs, warcio cannot read
    a br-encoded record at all: webrecorder/warcio#73.)
    """
    for entry in protocol_crawl.manifest["files"]:
        if entry["kind"] == "warc":
            check = subprocess.run(
                [sys.executable, "-c", "from fastwarc.cli import main; main()",
                 "check", "-q", str(protocol_crawl.archive / entry["key"])],
                capture_output=True, text=True, timeout=120,
            )
            assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    verify = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "verify", str(protocol_crawl.archive)],
        capture_output=True, text=True, timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_unreadable_responses_are_counted_by_their_real_cause(protocol_crawl):
    failed = protocol_crawl.manifest["counts"]["failed"]
    expected: dict[str, int] = {}
    for _, reason in BROKEN.values():
        expected[reason] = expected.get(reason, 0) + 1
    for reason, n in expected.items():
        assert failed.get(reason) == n, failed
    assert "error" not in failed and "connection-lost" not in failed, failed


def test_badly_encoded_bodies_are_still_archived_as_sent(protocol_crawl):
    heads = protocol_crawl.response_heads()
    for path in ("/bad-br", "/bad-gzip", "/bad-deflate", "/bad-zstd"):
        assert protocol_crawl.server.url(path) in heads


@pytest.mark.parametrize("path", [p for p, c in ARTICLES.items() if c != "x-unknown"])
def test_show_raw_decode_undoes_every_coding(protocol_crawl, path):
    url = protocol_crawl.server.url(path)
    raw = _show(protocol_crawl.archive, "--raw", url)
    assert raw.returncode == 0, raw.stderr
    head, _, body = raw.stdout.partition(b"\r\n\r\n")
    assert f"Content-Encoding: {ARTICLES[path]}".encode() in head
    assert body == _encode(protocol_crawl.articles[path], ARTICLES[path])
    decoded = _show(protocol_crawl.archive, "--raw", "--decode", url)
    assert decoded.returncode == 0, decoded.stderr[-2000:]
    assert decoded.stdout == head + b"\r\n\r\n" + protocol_crawl.articles[path]


def test_show_decode_of_an_undecodable_body_is_one_clear_line(protocol_crawl):
    url = protocol_crawl.server.url("/2024/03/15/unknown-coding-story")
    shown = _show(protocol_crawl.archive, "--raw", "--decode", url)
    assert shown.returncode == 2
    assert b"Traceback" not in shown.stderr
    lines = shown.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "x-unknown" in lines[0] and url in lines[0], lines
    assert shown.stdout == b""


def test_decode_body_names_the_coding_that_failed():
    from newsarchive.warc.encodings import DecodingError, decode_body

    for coding in ("br", "gzip", "deflate", "zstd", "gzip, br"):
        with pytest.raises(DecodingError, match=coding.split(", ")[-1]):
            decode_body(b"definitely not compressed", coding)
    assert decode_body(b"", "br") == b""  # a 304 or a redirect may carry the header
    with pytest.raises(DecodingError, match="larger than"):
        decode_body(gzip.compress(b"x" * 10_000), "gzip", max_size=1000)
