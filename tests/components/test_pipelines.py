"""The item pipelines on their own (warcmeta, extract, text), fed the items the spider
yields, writing into a real folder archive."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from newsarchive.pipelines.extract import ExtractPipeline
from newsarchive.pipelines.text import TextShardPipeline
from newsarchive.pipelines.warcmeta import WarcMetadataPipeline
from scrapy import Request
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.records import Capture, content_hash
from newsarchive.archive.session import CrawlSession
from newsarchive.archive.state import ArticleState
from newsarchive.crawl.capture import WarcCaptureMiddleware, warc_location
from newsarchive.crawl.items import ArticlePage, PageMetadata
from newsarchive.discovery.urls import article_key
from newsarchive.extract.extractor import Discarded, Extracted, extract
from newsarchive.warc.writer import RecordLocation
from tests.helpers import run, with_downloader

DATA = Path(__file__).resolve().parent.parent / "data"
ARTICLE_URL = "https://bulgarianmilitary.com/2020/09/27/downed-helicopter/"
ARTICLE = (DATA / "reference_article.html").read_bytes()


def _capture(url: str, n: int = 1, canonical: str | None = None, etag: str | None = None):
    location = RecordLocation(
        file="warc/c1/f.warc.gz", offset=100 * n, length=90,
        record_id=f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>",
        payload_digest=f"sha1:DIGEST{n}", date=f"2026-11-30T10:00:{n:02d}Z",
    )
    return Capture(url=url, canonical_url=canonical, site="gazette", fetched_at=location.date,
                   status=200, crawl_id="c1", discovery="link", warc=location, etag=etag)


def _page(url: str = ARTICLE_URL, body: bytes = ARTICLE, **capture) -> ArticlePage:
    return ArticlePage(capture=_capture(url, **capture), body=body, encoding="utf-8",
                       language_hint="en")


# --- warcmeta ---------------------------------------------------------------------------

def test_page_metadata_is_written_by_the_crawls_capture(make_crawler):
    crawler = make_crawler()
    with_downloader(crawler)
    capture = crawler.get_downloader_middleware(WarcCaptureMiddleware)
    capture.spider_opened()
    pipeline = WarcMetadataPipeline.from_crawler(crawler)
    request = Request(ARTICLE_URL)
    response = run(capture.process_response(request, HtmlResponse(
        ARTICLE_URL, body=ARTICLE, request=request)))
    location = warc_location(response)
    item = PageMetadata(url=ARTICLE_URL, record_id=location.record_id, date=location.date,
                        crawl_id="c1", discovery="sitemap", outlinks=["https://x.example/"])
    assert run(pipeline.process_item(item)) is item
    other = object()
    assert run(pipeline.process_item(other)) is other
    session = CrawlSession.from_crawler(crawler)
    assert session.close_writers() == []
    (warc,) = [f for f in session.files if f.kind == "warc"]
    with open(session.store.root / warc.key, "rb") as f:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Concurrent-To"))
                   for r in ArchiveIterator(f)]
    assert ("metadata", location.record_id) in records
    assert crawler.stats.get_value("newsarchive/warc/writer/metadata") == 1


def test_without_capture_metadata_passes_unwritten(make_crawler):
    capture = "newsarchive.crawl.capture.WarcCaptureMiddleware"
    crawler = make_crawler(DOWNLOADER_MIDDLEWARES={capture: None})  # WARC capture is off
    with_downloader(crawler)
    assert crawler.get_downloader_middleware(WarcCaptureMiddleware) is None
    item = PageMetadata(url=ARTICLE_URL, record_id="<urn:uuid:1>", date="d", crawl_id="c1",
                        discovery="link")
    assert run(WarcMetadataPipeline.from_crawler(crawler).process_item(item)) is item
    assert crawler.stats.get_value("newsarchive/warc/writer/metadata") is None


# --- extract ----------------------------------------------------------------------------

def test_extraction_in_a_worker_process_keeps_text_and_drops_with_a_reason(make_crawler):
    crawler = make_crawler(NEWSARCHIVE_EXTRACT_WORKERS=1)
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        page = _page()
        assert run(pipeline.process_item(page), timeout=120) is page
        assert isinstance(page.result, Extracted)
        assert page.result.text.startswith("BAKU, (BM) – Tensions between Armenia")
        assert page.result.language == "en"
        assert page.body == b""  # not carried to the next pipeline

        empty = _page("https://bulgarianmilitary.com/tag/x/", b"<html><body><nav>Home</nav>")
        with pytest.raises(DropItem, match="no text"):
            run(pipeline.process_item(empty), timeout=120)
        assert isinstance(empty.result, Discarded)

        CrawlSession.from_crawler(crawler).since = date(2021, 1, 1)  # -a since=2021-01-01
        with pytest.raises(DropItem, match="too-old"):
            run(pipeline.process_item(_page()), timeout=120)
        metadata = PageMetadata(url="u", record_id="r", date="d", crawl_id="c", discovery="l")
        assert run(pipeline.process_item(metadata)) is metadata
    finally:
        pipeline.close_spider()
    stats = crawler.stats.get_stats()
    assert stats[f"newsarchive/discarded/{empty.result.reason}"] == 1
    assert stats["newsarchive/discarded/too-old"] == 1


def test_no_extraction_means_neither_extract_nor_text_pipeline(make_crawler):
    crawler = make_crawler(NEWSARCHIVE_EXTRACT=False)
    for pipeline in (ExtractPipeline, TextShardPipeline):
        with pytest.raises(NotConfigured):
            pipeline.from_crawler(crawler)


# --- text -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracted() -> Extracted:
    """The reference article through the real extractor, as the extract pipeline leaves it."""
    result = extract(ARTICLE, ARTICLE_URL)
    assert isinstance(result, Extracted)
    return result


class Shards:
    """A crawler's text pipeline and, once closed, the records stored in the archive."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.pipeline = TextShardPipeline.from_crawler(crawler)
        self.session = CrawlSession.from_crawler(crawler)
        self.state = self.session.load_state("gazette")

    def put(self, result: Extracted, url: str = ARTICLE_URL, **capture) -> ArticlePage:
        page = _page(url, b"", **capture)
        page.result = result
        assert self.pipeline.process_item(page) is page
        return page

    def records(self) -> list[dict]:
        assert self.session.close_writers() == []
        found = []
        for entry in self.session.files:
            if entry.kind == "text":
                with gzip.open(self.session.store.root / entry.key, "rt") as f:
                    found += [json.loads(line) for line in f]
        return found

    def count(self, name: str) -> int:
        return self.crawler.stats.get_value(f"newsarchive/{name}", 0)


@pytest.fixture
def shards(make_crawler) -> Shards:
    return Shards(make_crawler())


def test_a_new_article_is_one_record_and_remembered(shards, extracted):
    shards.put(extracted, etag='"v1"')
    (record,) = shards.records()
    assert record["url"] == ARTICLE_URL and record["text"] == extracted.text
    assert record["version"] == 1 and record["previous_id"] is None
    assert record["id"] == "00000000-0000-0000-0000-000000000001"
    assert shards.count("articles/new") == 1
    known = shards.state.get(article_key(ARTICLE_URL))
    assert known.etag == '"v1"' and known.content_hash == record["content_hash"]


def test_one_canonical_one_text_is_merged_another_text_is_kept(shards, extracted):
    canonical = ARTICLE_URL
    shards.put(extracted, url=ARTICLE_URL + "?amp=1", n=1, canonical=canonical)
    shards.put(extracted, url=ARTICLE_URL + "?print=1", n=2, canonical=canonical)  # same text
    edited = replace(extracted, text=extracted.text + "\n\nUpdate: a correction.")
    shards.put(edited, url=ARTICLE_URL + "?v=2", n=3, canonical=canonical)
    records = shards.records()
    assert [r["url"] for r in records] == [ARTICLE_URL + "?amp=1", ARTICLE_URL + "?v=2"]
    assert records[0]["canonical_url"] == canonical
    assert shards.count("discarded/canonical-duplicate") == 1
    assert shards.count("canonical_conflicts") == 1
    # The next crawl knows both: the canonical's text, and the other under its own URL.
    assert shards.state.lookup(canonical)[1].content_hash == content_hash(extracted.text)
    assert shards.state.lookup(ARTICLE_URL + "?v=2")[1].content_hash == content_hash(edited.text)


def test_a_known_article_gets_a_version_only_when_its_text_changed(shards, extracted):
    shards.state.put(article_key(ARTICLE_URL), ArticleState(
        url=ARTICLE_URL, fetched_at="2026-11-01T00:00:00Z", record_id="<urn:uuid:old>",
        payload_digest="sha1:OLD", content_hash=content_hash(extracted.text),
        text_id="old-text", version=3,
    ))
    shards.put(extracted, n=1)  # new bytes, same text
    assert shards.count("articles/unchanged") == 1
    changed = replace(extracted, text=extracted.text.replace("Tensions", "Hostilities"))
    shards.put(changed, n=2)
    (record,) = shards.records()
    assert record["version"] == 4 and record["previous_id"] == "old-text"
    assert shards.count("articles/changed") == 1


def test_items_without_text_pass_untouched(shards):
    page = shards.put(Discarded("no-text", ""))
    assert page.result.reason == "no-text"
    assert shards.records() == []
    assert shards.count("articles") == 0
