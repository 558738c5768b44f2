"""The extensions on their own: ArchiveExtension closing a crawl into its manifest and
run summary, ErrorCountExtension naming the component an exception came from."""

from __future__ import annotations

import json

import pytest
from newsarchive.pipelines.text import TextShardPipeline
from scrapy import Request, signals
from scrapy.http import HtmlResponse
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from newsarchive.archive import layout
from newsarchive.crawl.capture import WarcCaptureMiddleware
from newsarchive.crawl.errorcount import ErrorCountExtension, is_bug
from newsarchive.crawl.extension import ArchiveExtension, counts_from_stats
from newsarchive.crawl.items import ArticlePage
from newsarchive.crawl.outcome import NO_ARTICLES, OK
from tests.helpers import run

URL = "http://news.example/2026/11/story"


# --- ArchiveExtension -------------------------------------------------------------------

def _closed(crawler, reason: str = "finished") -> ArchiveExtension:
    """The crawler's extension (it opened the archive when the crawler was made): one
    exchange captured, then the crawl closed."""
    extension = crawler.get_extension(ArchiveExtension)
    capture = WarcCaptureMiddleware.from_crawler(crawler)
    capture.spider_opened()
    request = Request(URL)
    run(capture.process_response(request, HtmlResponse(URL, body=b"<p>x</p>", request=request)))
    crawler.stats.inc_value("downloader/request_count")
    crawler.stats.inc_value("downloader/response_status_count/200")
    run(extension.spider_closed(crawler.spider, reason))
    return extension


def test_closing_writes_a_manifest_listing_every_stored_file(make_crawler, tmp_path):
    crawler = make_crawler(NEWSARCHIVE_SUMMARY_FILE=str(tmp_path / "summary.md"))
    crawler.stats.inc_value("newsarchive/articles/new")
    extension = _closed(crawler)
    session = extension.session
    key = crawler.stats.get_value("newsarchive/manifest")
    assert key == layout.manifest_key(session.crawl_id)
    manifest = json.loads((tmp_path / "archive" / key).read_text())
    assert manifest["crawl"]["finish_reason"] == "finished"
    assert manifest["crawl"]["spider"] == crawler.spider.name
    assert sorted(f["kind"] for f in manifest["files"]) == ["cdxj", "warc"]
    for entry in manifest["files"]:
        assert (tmp_path / "archive" / entry["key"]).stat().st_size == entry["size"]
    assert manifest["counts"]["warc_exchanges"] == 1
    assert crawler.stats.get_value("newsarchive/exit_status") == OK
    assert "finished" in (tmp_path / "summary.md").read_text()
    assert session.closed
    assert not list((tmp_path / "spool" / "journal").glob("*"))  # the crawl is complete


def test_a_crawl_that_archived_no_article_fails_loudly(make_crawler, tmp_path, caplog):
    crawler = make_crawler(NEWSARCHIVE_SUMMARY_FILE=str(tmp_path / "summary.md"))
    _closed(crawler)
    assert crawler.stats.get_value("newsarchive/exit_status") == NO_ARTICLES
    assert any(r.levelname == "ERROR" and "article" in r.getMessage() for r in caplog.records)
    assert crawler.stats.get_value("newsarchive/manifest")  # what was fetched is listed


def test_counts_say_why_things_were_dropped():
    counts = counts_from_stats({
        "downloader/request_count": 9,
        "newsarchive/discarded/no-text": 2,
        "newsarchive/failed/timeout": 1,
        "newsarchive/crawl/robots/fetched": 1,
        "offsite/filtered": 4,
        "newsarchive/skipped/denied": 3,
        "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 5,
        "downloader/response_status_count/404": 2,
    })
    assert counts["requests"] == 9
    assert counts["discarded"] == {"no-text": 2}
    assert counts["failed"] == {"timeout": 1}
    assert counts["robots"] == {"fetched": 1}
    assert counts["skipped"] == {"denied": 3, "offsite": 4}
    assert counts["download_errors_by_type"] == {"IgnoreRequest": 5}
    assert counts["http_status"] == {"404": 2}


# --- ErrorCountExtension ----------------------------------------------------------------

def _errors(crawler) -> dict:
    prefix = "newsarchive/errors/"
    stats = crawler.stats.get_stats()
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}


def test_an_exception_in_a_pipeline_is_counted_under_that_pipeline(make_crawler):
    crawler = make_crawler()  # the project's EXTENSIONS: ErrorCountExtension listens
    pipeline = TextShardPipeline.from_crawler(crawler)
    try:
        pipeline.process_item(_broken_item())
    except Exception:
        failure = Failure()
    crawler.signals.send_catch_log(signal=signals.item_error, item=None, response=None,
                                   spider=crawler.spider, failure=failure)
    assert _errors(crawler) == {f"pipeline/TextShardPipeline/{failure.type.__name__}": 1}


def _broken_item() -> ArticlePage:
    """An article whose capture is missing: the text pipeline fails on it, as a bug would."""
    from newsarchive.extract.extractor import Extracted

    page = ArticlePage(capture=None, body=b"", encoding=None)  # type: ignore[arg-type]
    page.result = Extracted.__new__(Extracted)
    return page


def test_an_exception_outside_any_component_is_the_spiders(make_crawler):
    crawler = make_crawler()
    extension = crawler.get_extension(ErrorCountExtension)
    try:
        {}["missing"]
    except KeyError:
        failure = Failure()
    crawler.signals.send_catch_log(signal=signals.spider_error, failure=failure,
                                   response=HtmlResponse(URL), spider=crawler.spider)
    extension.download_error(failure)  # an errback's failure with no component in it
    assert _errors(crawler) == {"spider/KeyError": 1, "downloader/KeyError": 1}


@pytest.mark.parametrize("error, bug", [
    (ValueError("x"), True),
    (KeyError("x"), True),
    (OSError(28, "No space left on device"), False),
    (ConnectionRefusedError(), False),
])
def test_bugs_are_told_from_what_the_web_does(error, bug):
    assert is_bug(error) is bug
