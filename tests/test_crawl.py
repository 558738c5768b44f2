"""End to end: `scrapy crawl news` over real HTTP against the sample site, read back."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import StoredCrawl, assert_one_line_failure, load_manifest, scrapy_crawl

pytestmark = pytest.mark.e2e  # every test runs `scrapy crawl`

DATA = Path(__file__).parent / "data"


def warc_records(paths: list[Path]):
    for path in paths:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                yield path, record


def text_records(crawl: StoredCrawl) -> list[dict]:
    records = []
    for key in crawl.keys("text"):
        lines = gzip.decompress(crawl.read(key)).decode("utf-8").splitlines()
        records.extend(json.loads(line) for line in lines)
    return records


def responses_by_url(crawl: StoredCrawl) -> Counter:
    return Counter(
        r.rec_headers.get_header("WARC-Target-URI")
        for _, r in warc_records(crawl.files("warc"))
        if r.rec_type == "response"
    )


def test_every_article_archived_once_in_warc_and_text(archive_crawl, sample_site):
    urls = sample_site.article_urls()
    responses = responses_by_url(archive_crawl)
    for url in urls:
        assert responses[url] == 1, url
    texts = Counter(r["url"] for r in text_records(archive_crawl))
    # The malformed-HTML page still holds a story, so it may give text too.
    broken = sample_site.base_url + sample_site.BROKEN_PATHS["broken_html"]
    assert sorted(set(texts) - {broken}) == sorted(urls)
    assert set(texts.values()) == {1}
    assert archive_crawl.manifest["counts"]["articles"] == len(texts)


def test_robots_disallowed_path_never_fetched(archive_crawl, sample_site):
    paths = [path for _, path in sample_site.requests]
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith("/private/")]
    assert archive_crawl.manifest["counts"]["robots_forbidden"] >= 1
    assert not [u for u in responses_by_url(archive_crawl) if "/private/" in u]


def test_redirect_404_and_pdf_are_in_the_warc(archive_crawl, sample_site):
    statuses = {}
    types = {}
    for _, record in warc_records(archive_crawl.files("warc")):
        if record.rec_type == "response":
            url = record.rec_headers.get_header("WARC-Target-URI")
            statuses[url] = record.http_headers.get_statuscode()
            types[url] = record.http_headers.get_header("Content-Type")
    base = sample_site.base_url
    assert statuses[f"{base}/old/story-2019"] == "301"
    assert "404" in statuses.values()
    assert statuses[f"{base}/robots.txt"] == "200"
    pdfs = [u for u, t in types.items() if t == "application/pdf"]
    assert pdfs and statuses[pdfs[0]] == "200"


def test_every_warc_passes_warcio_check_and_pairs_records(archive_crawl):
    warcs = archive_crawl.files("warc")
    assert warcs
    result = subprocess.run(
        ["warcio", "check", "-v", *map(str, warcs)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest pass" in result.stdout
    for path in warcs:
        with open(path, "rb") as f:
            records = list(ArchiveIterator(f))
        assert records[0].rec_type == "warcinfo"
        ids = {r.rec_headers.get_header("WARC-Record-ID"): r.rec_type for r in records}
        requests = [r for r in records if r.rec_type == "request"]
        # a revisit (a page requisite's payload stored under another URL) has its request
        captures = ("response", "revisit")
        assert len(requests) == sum(1 for r in records if r.rec_type in captures)
        for request in requests:
            assert ids[request.rec_headers.get_header("WARC-Concurrent-To")] in captures


def test_response_bodies_are_stored_as_received(archive_crawl):
    """gzip-encoded responses keep their compressed bytes and headers that match them."""
    seen_gzip = 0
    for _, record in warc_records(archive_crawl.files("warc")):
        if record.rec_type != "response":
            continue
        headers = record.http_headers
        assert headers.get_header("Transfer-Encoding") is None
        raw = record.raw_stream.read()
        length = headers.get_header("Content-Length")
        if length is not None:
            assert int(length) == len(raw)
        if headers.get_header("Content-Encoding") == "gzip":
            assert raw[:2] == b"\x1f\x8b"
            assert gzip.decompress(raw)
            seen_gzip += 1
    assert seen_gzip > 10


def test_text_records_point_at_their_response_record(archive_crawl):
    records = text_records(archive_crawl)
    assert records
    for rec in records:
        loc = rec["warc"]
        chunk = archive_crawl.store.read_range(loc["file"], loc["offset"], loc["length"])
        record = next(iter(ArchiveIterator(io.BytesIO(chunk))))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == rec["url"]
        assert record.rec_headers.get_header("WARC-Record-ID") == loc["record_id"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == loc["payload_digest"]
        assert rec["crawl_id"] == archive_crawl.manifest["crawl_id"]
        assert rec["content_hash"] == "sha256:" + hashlib.sha256(rec["text"].encode()).hexdigest()


def test_record_contract_fields(archive_crawl):
    required = {
        "id", "url", "canonical_url", "site", "fetched_at", "published", "modified", "title",
        "authors", "description", "tags", "language", "language_probability", "text",
        "content_hash", "word_count", "crawl_id", "warc", "extractor",
    }
    for rec in text_records(archive_crawl):
        assert required <= set(rec), required - set(rec)
        assert rec["fetched_at"].endswith("Z")
        assert rec["title"] and rec["authors"] and rec["published"]
        assert rec["word_count"] == len(re.findall(r"\w+", rec["text"]))


def test_reference_article_text_is_clean(archive_crawl):
    expected = (DATA / "000_002ce271bc7acb85.expected-body.txt").read_text().split("\n")
    boilerplate = (DATA / "000_002ce271bc7acb85.boilerplate.txt").read_text().split("\n")
    matches = [r for r in text_records(archive_crawl) if r["title"].startswith("Downed helicopter")]
    assert len(matches) == 1
    text = matches[0]["text"]
    for paragraph in filter(None, (p.strip() for p in expected)):
        assert paragraph in text
    for line in filter(None, (b.strip() for b in boilerplate)):
        assert line not in text, line
    assert matches[0]["language"] == "en"


def test_no_template_boilerplate_and_right_languages(archive_crawl, sample_site):
    by_url = {r["url"]: r for r in text_records(archive_crawl)}
    for article in sample_site.articles:
        record = by_url[sample_site.base_url + article.path]
        assert record["language"] == article.lang, article.path
        lines = {line.strip() for line in record["text"].split("\n")}
        for boilerplate in sample_site.page_boilerplate(article):
            # Short UI strings ("Sport") may occur inside real sentences; compare lines.
            assert boilerplate not in lines, (article.path, boilerplate)
            if len(boilerplate) >= 30:
                assert boilerplate not in record["text"], (article.path, boilerplate)
        for paragraph in article.paragraphs:
            assert paragraph in record["text"], (article.path, paragraph[:60])


def test_broken_pages_are_counted_not_fatal(archive_crawl, sample_site):
    responses = responses_by_url(archive_crawl)
    for path in sample_site.BROKEN_PATHS.values():
        assert responses[sample_site.base_url + path] == 1
    discarded = archive_crawl.manifest["counts"]["discarded"]
    assert discarded.get("not-html", 0) >= 1
    assert discarded.get("empty-body", 0) >= 1
    assert archive_crawl.manifest["crawl"]["finish_reason"] == "finished"


def test_manifest_lists_every_file_with_its_hash(archive_crawl):
    listed = {f["key"]: f for f in archive_crawl.manifest["files"]}
    stored = {k for k in archive_crawl.store.list() if not k.startswith("crawls/")}
    assert stored == set(listed)
    for key, entry in listed.items():
        data = archive_crawl.read(key)
        assert len(data) == entry["size"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    spool = archive_crawl.cache.parent / "spool"
    assert not [p for p in spool.rglob("*") if p.is_file() and "summaries" not in p.parts]
    assert archive_crawl.manifest["software"]["scrapy"]
    assert "warc_gzip_level" in archive_crawl.manifest["settings"]


def test_layout_partitions_text_by_site_and_date(archive_crawl):
    site = archive_crawl.manifest["crawl"]["site"]
    for key in archive_crawl.keys("text"):
        parts = key.split("/")
        assert parts[0] == "text" and parts[1] == f"site={site}" and parts[2].startswith("date=")
    for key in archive_crawl.keys("warc"):
        _, crawl_id, name = key.split("/")
        assert crawl_id == archive_crawl.manifest["crawl_id"]
        assert name.startswith("newsarchive-") and name.endswith(".warc.gz")


# --- the site registry and bad input --------------------------------------------------

def test_crawl_by_site_name_from_a_registry(sample_site, tmp_path):
    registry = tmp_path / "sites.toml"
    registry.write_text(
        f'[[site]]\nname = "gazette"\nstart_urls = ["{sample_site.base_url}/section/world/"]\n'
        'article_patterns = ["/news/\\\\d{4}/"]\nlanguage = "en"\n'
    )
    archive = tmp_path / "archive"
    result = scrapy_crawl(
        "-a", "site=gazette", "-s", f"NEWSARCHIVE_SITES={registry}",
        "-s", f"NEWSARCHIVE_ARCHIVE=file://{archive}", "-s", "DEPTH_LIMIT=1",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = load_manifest(archive)
    assert manifest["crawl"]["site"] == "gazette"
    assert manifest["counts"]["articles"] >= 3
    assert list((archive / "text" / "site=gazette").rglob("*.jsonl.gz"))
    # Pages at DEPTH_LIMIT (here the articles) are not followed, but their metadata
    # records still list their outlinks, as every other page's do.
    start = f"{sample_site.base_url}/section/world/"
    outlinks: dict[str, list[str]] = {}
    for key in (e["key"] for e in manifest["files"] if e["kind"] == "warc"):
        with open(archive / key, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "metadata":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    fields = record.content_stream().read().decode().split("\r\n")
                    outlinks[uri] = [line.split(": ", 1)[1] for line in fields
                                     if line.startswith("outlink: ")]
    deepest = [url for url in outlinks[start] if url in outlinks]  # depth 1: fetched
    assert deepest and all(outlinks[url] for url in deepest)
    assert any(link not in outlinks for url in deepest for link in outlinks[url])


def test_unknown_site_lists_known_sites(tmp_path):
    result = scrapy_crawl("-a", "site=nosuchpaper", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path}")
    assert_one_line_failure(result, "unknown site 'nosuchpaper'", "known sites:", "guardian")


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/", "http://127.0.0.1:99999/"])
def test_malformed_url_is_refused(tmp_path, url):
    result = scrapy_crawl("-a", f"url={url}", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path}")
    assert_one_line_failure(result, "url")


def test_unwritable_archive_is_refused_before_crawling(sample_site, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    before = len(sample_site.requests)
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={blocker}/archive"
    )
    assert_one_line_failure(result, "not writable")
    assert len(sample_site.requests) == before


@pytest.mark.parametrize(
    "setting, needle",
    [
        ("NEWSARCHIVE_WARC_GZIP_LEVEL=12", "NEWSARCHIVE_WARC_GZIP_LEVEL"),
        ("NEWSARCHIVE_WARC_VERSION=2.0", "NEWSARCHIVE_WARC_VERSION"),
        ("NEWSARCHIVE_ARCHIVE=gopher://x/y", "unknown scheme"),
    ],
)
def test_bad_settings_are_refused(tmp_path, setting, needle):
    result = scrapy_crawl("-a", "url=http://127.0.0.1:9/", "-s", setting)
    assert_one_line_failure(result, needle)
