"""WarcCaptureMiddleware on its own: real Request/Response pairs in, a real WARC file
(and its CDXJ index) out, in a folder archive, read back with warcio."""

from __future__ import annotations

import gzip
import json

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.session import CrawlSession
from newsarchive.archive.state import ArticleState
from newsarchive.crawl.capture import (
    WarcCaptureMiddleware,
    capture_middleware,
    is_unchanged,
    warc_location,
)
from newsarchive.crawl.incremental import ConditionalRequestMiddleware
from newsarchive.crawl.items import PageMetadata
from newsarchive.crawl.truncation import LENGTH, TRUNCATED_KEY
from newsarchive.discovery.urls import article_key
from tests.helpers import run, with_downloader

URL = "http://news.example/2026/11/story"
PAGE = "<html><body><p>Grüße from the council.</p></body></html>".encode()


class Capture:
    """A crawler's capture middleware, as Scrapy's Downloader builds it from the settings,
    started as at spider_opened; and its output."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        with_downloader(crawler)
        self.middleware = crawler.get_downloader_middleware(WarcCaptureMiddleware)
        self.middleware.spider_opened()
        self.session = CrawlSession.from_crawler(crawler)

    def exchange(self, request: Request, response: Response) -> Response:
        return run(self.middleware.process_response(request, response.replace(request=request)))

    def records(self) -> list:
        """Close the files as the session does at crawl end, then (WARC headers, HTTP
        headers, raw payload) of every record in the WARCs stored in the archive."""
        assert self.session.close_writers() == []
        found = []
        for entry in self.session.files:
            if entry.kind == "warc":
                with open(self.session.store.root / entry.key, "rb") as f:
                    for record in ArchiveIterator(f):
                        found.append((record.rec_headers, record.http_headers,
                                      record.raw_stream.read()))
        return found


@pytest.fixture
def capture(make_crawler):
    return Capture(make_crawler(NEWSARCHIVE_OPERATOR="Lab <ops@lab.example>"))


def _response(status: int = 200, body: bytes = PAGE, **headers: str) -> HtmlResponse:
    headers = {"Content-Type": "text/html; charset=utf-8", **headers}
    return HtmlResponse(URL, status=status, body=body, headers=headers)


def test_an_exchange_is_a_request_and_response_record_with_its_bytes(capture):
    request = Request(URL, headers={"Accept-Language": "de"})
    response = capture.exchange(request, _response(ETag='"v1"'))
    location = warc_location(response)
    assert location is not None and location.file.startswith("warc/")
    records = capture.records()
    assert sorted(f.kind for f in capture.session.files) == ["cdxj", "warc"]
    by_type = {warc.get_header("WARC-Type"): (warc, http, b) for warc, http, b in records}
    assert len(records) == 3 and set(by_type) == {"warcinfo", "request", "response"}
    assert records[0][0].get_header("WARC-Type") == "warcinfo"
    info = by_type["warcinfo"][2].decode()
    assert "operator: Lab <ops@lab.example>" in info and "robots: obey" in info
    warc, http, payload = by_type["response"]
    assert warc.get_header("WARC-Target-URI") == URL
    assert warc.get_header("WARC-Record-ID") == location.record_id
    assert warc.get_header("WARC-Payload-Digest") == location.payload_digest
    assert http.get_statuscode() == "200" and http.get_header("ETag") == '"v1"'
    assert payload == PAGE
    _, sent, _ = by_type["request"]
    assert sent.get_header("Host") == "news.example"
    assert sent.get_header("Accept-Language") == "de"
    assert capture.crawler.stats.get_value("newsarchive/warc/writer/exchanges") == 1
    (index,) = [f for f in capture.session.files if f.kind == "cdxj"]
    line = (capture.session.store.root / index.key).read_text().splitlines()[0]
    assert json.loads(line.split(" ", 2)[2])["url"] == URL


def test_bytes_are_kept_as_they_came_compressed_or_truncated(capture):
    compressed = gzip.compress(PAGE)
    capture.exchange(Request(URL), _response(body=compressed, **{"Content-Encoding": "gzip"}))
    cut = Request(URL + "?big", meta={TRUNCATED_KEY: LENGTH})
    capture.exchange(cut, _response(body=PAGE[:10]))
    responses = [r for r in capture.records() if r[0].get_header("WARC-Type") == "response"]
    (warc, http, payload), (cut_warc, _, cut_payload) = responses
    assert http.get_header("Content-Encoding") == "gzip"
    assert gzip.decompress(payload) == PAGE  # the body as the server sent it, not decoded
    assert warc.get_header("WARC-Truncated") is None
    assert cut_warc.get_header("WARC-Truncated") == "length" and cut_payload == PAGE[:10]


@pytest.mark.parametrize("status, body", [(304, b""), (200, PAGE)])
def test_a_known_article_not_modified_is_a_revisit(make_crawler, status, body):
    crawler = make_crawler()
    capture = Capture(crawler)
    first = warc_location(capture.exchange(Request(URL), _response()))
    state = capture.session.load_state("gazette")
    state.put(article_key(URL), ArticleState(
        url=URL, fetched_at=first.date, record_id=first.record_id,
        payload_digest=first.payload_digest, etag='"v1"',
    ))
    again = Request(URL)
    ConditionalRequestMiddleware.from_crawler(crawler).process_request(again)
    response = capture.exchange(again, _response(status=status, body=body))
    assert is_unchanged(response)
    assert state.get(article_key(URL)).checked_at == warc_location(response).date
    records = capture.records()
    (revisit,) = [w for w, _, _ in records if w.get_header("WARC-Type") == "revisit"]
    assert revisit.get_header("WARC-Refers-To") == first.record_id
    assert revisit.get_header("WARC-Refers-To-Date") == first.date
    assert revisit.get_header("WARC-Payload-Digest") == first.payload_digest
    assert crawler.stats.get_value("newsarchive/warc/writer/revisits") == 1


def test_a_known_article_that_changed_is_a_new_response(make_crawler):
    crawler = make_crawler()
    capture = Capture(crawler)
    first = warc_location(capture.exchange(Request(URL), _response()))
    capture.session.load_state("gazette").put(article_key(URL), ArticleState(
        url=URL, fetched_at=first.date, record_id=first.record_id,
        payload_digest=first.payload_digest,
    ))
    again = Request(URL)
    ConditionalRequestMiddleware.from_crawler(crawler).process_request(again)
    response = capture.exchange(again, _response(body=PAGE.replace(b"council", b"mayor")))
    assert not is_unchanged(response)
    types = [w.get_header("WARC-Type") for w, _, _ in capture.records()]
    assert types.count("response") == 2 and "revisit" not in types


def test_metadata_records_sit_beside_their_response(capture):
    assert capture_middleware(capture.crawler) is capture.middleware  # for the pipeline
    location = warc_location(capture.exchange(Request(URL), _response()))
    item = PageMetadata(
        url=URL, record_id=location.record_id, date=location.date, crawl_id="c1",
        discovery="feed", outlinks=["http://news.example/a", "http://news.example/b\nX"],
    )
    run(capture.middleware.write_metadata(item))
    (metadata, _, fields) = capture.records()[-1]
    assert metadata.get_header("WARC-Type") == "metadata"
    assert metadata.get_header("WARC-Concurrent-To") == location.record_id
    lines = fields.decode().splitlines()
    assert "discovery: feed" in lines and "outlink: http://news.example/a" in lines
    assert not any("news.example/b" in line for line in lines)  # a line break: left out


def _requisite(url: str) -> Request:
    from newsarchive.crawl.requisites import REQUISITE_KEY, RequisiteOf

    return Request(url, meta={REQUISITE_KEY: RequisiteOf(URL, URL, "image")})


def _image() -> Response:
    return Response("http://cdn.example/x", status=200, body=b"\x89PNG" + b"\x00" * 64,
                    headers={"Content-Type": "image/png"})


def test_a_requisite_is_written_with_its_metadata_record(capture):
    request = _requisite("http://cdn.example/logo.png")
    location = warc_location(capture.exchange(request, _image().replace(url=request.url)))
    records = capture.records()
    [about] = [(h, body) for h, _, body in records if h.get_header("WARC-Type") == "metadata"]
    assert about[0].get_header("WARC-Concurrent-To") == location.record_id
    lines = about[1].decode().splitlines()
    assert f"via: {URL}" in lines and "requisite: image" in lines
    assert capture.crawler.stats.get_value("newsarchive/warc/writer/metadata") == 1


def test_a_requisite_whose_metadata_record_fails_is_still_archived(capture, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("no room for fields")

    monkeypatch.setattr(capture.middleware.writer, "write_metadata", broken)
    first = _requisite("http://cdn.example/a.png")
    response = capture.exchange(first, _image().replace(url=first.url))
    assert warc_location(response) is not None  # the response went on, archived
    # its payload is remembered all the same: the same bytes elsewhere are a revisit
    second = _requisite("http://cdn.example/b.png")
    capture.exchange(second, _image().replace(url=second.url))
    stats = capture.crawler.stats
    assert stats.get_value("newsarchive/warc/writer/revisits") == 1
    assert stats.get_value(
        "newsarchive/errors/downloader/WarcCaptureMiddleware/ValueError") == 2
    types = [h.get_header("WARC-Type") for h, _, _ in capture.records()]
    assert types.count("response") == 1 and types.count("revisit") == 1
