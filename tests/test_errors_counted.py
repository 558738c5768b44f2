"""No exception is silent, and a crawl that archived no article fails: two real crawls.

One site crawled with a bug planted in a pipeline, a spider middleware and a downloader
middleware (tests/faulty.py), each for one URL: every exception is counted in the
manifest by component and type, the rest of the crawl goes on, and it exits 0. A start
page that is no news and links nowhere: the crawl archived no article, it exits 5.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.crawl.outcome import NO_ARTICLES, judge
from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.newsserver import TEXT, NewsServer, article_html, index_html

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1")
TRIGGERS = ("pipeline-bug", "spidermw-bug", "dlmw-bug", "fine")
STORIES = {name: f"/2024/03/15/{name}-story" for name in TRIGGERS}


def _components() -> tuple[str, ...]:
    """Settings that add the faulty components; the add-on adds newsarchive's own."""
    pipelines = {"tests.faulty.FaultyPipeline": 200}
    downloader = {"tests.faulty.FaultyDownloaderMiddleware": 650}
    spider = {"tests.faulty.FaultySpiderMiddleware": 950}
    return (
        "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}",
        "-s", f"DOWNLOADER_MIDDLEWARES={json.dumps(downloader)}",
        "-s", f"SPIDER_MIDDLEWARES={json.dumps(spider)}",
    )


def _crawl(server: NewsServer, archive: Path, *extra: str):
    return scrapy_crawl(
        "-a", f"url={server.url('/')}", "-s", f"NEWSARCHIVE_ARCHIVE={archive}", *FAST, *extra,
        env={"GITHUB_STEP_SUMMARY": None},
    )


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("errors")
    with NewsServer() as faulty, NewsServer() as empty, ThreadPoolExecutor(2) as pool:
        for server in (faulty, empty):
            server.set("/robots.txt", (200, TEXT, b"User-agent: *\nAllow: /\n"))
        faulty.set("/", (200, "text/html", index_html(list(STORIES.values()))))
        for name, path in STORIES.items():
            faulty.set(path, (200, "text/html", article_html(name, faulty.url(path))))
        empty.set("/", (200, "text/html", index_html([], "Not news, and no links")))
        jobs = {
            "faulty": pool.submit(_crawl, faulty, tmp / "faulty", *_components()),
            "empty": pool.submit(_crawl, empty, tmp / "empty"),
        }
        yield {name: (job.result(), tmp / name) for name, job in jobs.items()}


def _texts(archive: Path, manifest: dict) -> dict[str, dict]:
    return {r["url"]: r for r in text_records(archive, manifest)}


def test_every_exception_is_counted_by_component_and_type(crawls):
    process, archive = crawls["faulty"]
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = load_manifest(archive)
    assert manifest["counts"]["errors"] == {
        "pipeline/FaultyPipeline/KeyError": 1,
        "spidermw/FaultySpiderMiddleware/ValueError": 1,
        "downloader/FaultyDownloaderMiddleware/TypeError": 1,
    }
    # Each is logged once, with the URL (Scrapy's message; the item names its URL).
    for trigger in ("pipeline-bug", "spidermw-bug", "dlmw-bug"):
        lines = [x for x in process.stderr.splitlines() if "ERROR" in x and trigger in x]
        assert len(lines) == 1, (trigger, lines)


def test_the_rest_of_the_work_goes_on(crawls):
    process, archive = crawls["faulty"]
    manifest = load_manifest(archive)
    base = "/".join(manifest["crawl"]["start_urls"][0].split("/")[:3])
    texts = _texts(archive, manifest)
    assert set(texts) == {base + STORIES["fine"], base + STORIES["spidermw-bug"]}
    metadata = set()
    for f in manifest["files"]:
        if f["kind"] == "warc":
            with open(archive / f["key"], "rb") as fh:
                metadata |= {r.rec_headers.get_header("WARC-Target-URI")
                             for r in ArchiveIterator(fh) if r.rec_type == "metadata"}
    # The page whose text the pipeline lost still has its metadata record.
    assert base + STORIES["pipeline-bug"] in metadata


def test_a_crawl_that_archived_no_article_exits_5(crawls):
    process, archive = crawls["empty"]
    assert process.returncode == NO_ARTICLES, process.stderr[-3000:]
    assert "no article found" in process.stderr
    manifest = load_manifest(archive)  # the manifest is still written
    assert manifest["crawl"]["finish_reason"] == "finished"


def test_no_article_status_keeps_the_stop_and_storage_precedence():
    assert judge({}, 0.2, "finished").status == NO_ARTICLES
    assert judge({}, 0.2, "shutdown").status == 6
    assert judge({"newsarchive/storage_errors": 1}, 0.2, "finished").status == 3
    assert judge({"newsarchive/articles/unchanged": 1}, 0.2, "finished").status == 0


def test_download_outcomes_are_not_counted_as_bugs():
    from scrapy.exceptions import IgnoreRequest
    from twisted.internet.error import ConnectionRefusedError as Refused

    from newsarchive.crawl import errorcount

    assert errorcount.is_bug(ValueError("x")) and errorcount.is_bug(KeyError("x"))
    assert not errorcount.is_bug(IgnoreRequest("robots.txt"))
    assert not errorcount.is_bug(Refused())
    assert not errorcount.is_bug(TimeoutError())
