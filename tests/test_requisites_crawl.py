"""Page requisites in real crawls of the sample site: fetched once from any host,
archived only, limits, revisits within a crawl and across runs, and every reader."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from newsarchive.archive.state import parse_snapshot
from newsarchive.sample_site import SampleSite
from newsarchive.storage import open_store
from newsarchive.tools.verify import verify_archive
from newsarchive.tools.wacz import page_list
from newsarchive.warc import cdxj
from tests.helpers import scrapy_crawl, text_records, warc_records

pytestmark = pytest.mark.e2e  # real crawls and servers


def _requisite_urls(site: SampleSite) -> dict[str, str]:
    """What every article page of the sample site embeds, by URL: its kind."""
    base, cdn = site.base_url, site.cdn_url
    urls = {
        f"{base}/static/gazette.css": "stylesheet",
        f"{base}/static/gazette-display.woff2": "font",
        f"{base}/static/paper.svg": "image",
        f"{base}/static/logo.svg": "icon",
        f"{base}/static/lazy.js": "script",
        f"{base}/static/chart.svg": "image",
        f"{base}/static/chart-2x.svg": "image",
    }
    for section in site.SECTIONS:
        for width in (640, 1280):
            urls[f"{cdn}/assets/hero/{section}-{width}.svg"] = "image"
        urls[f"{base}/assets/hero/{section}-1280.svg"] = "image"  # og:image
    return urls


@pytest.fixture(scope="module")
def records(crawl):
    return warc_records(crawl.archive, crawl.manifest)


def test_the_sample_site_is_served_from_two_hosts(sample_site):
    assert sample_site.cdn_url.startswith("http://127.0.0.2:") or (
        sample_site.cdn_url != sample_site.base_url)


def test_every_requisite_is_archived_once(crawl, records, sample_site):
    expected = _requisite_urls(sample_site)
    captures = Counter(r["url"] for r in records if r["type"] in ("response", "revisit"))
    for url in expected:
        assert captures[url] == 1, url
    # the CDN's own robots.txt was asked for first, as for any host (the site is
    # shared with other tests' crawls: only the first request is this crawl's for sure)
    assert sample_site.cdn_requests[0] == ("GET", "/robots.txt")


def test_identical_payloads_under_two_urls_are_stored_once(records, sample_site):
    by_url = {r["url"]: r for r in records if r["type"] in ("response", "revisit")}
    for section in sample_site.SECTIONS:
        og = by_url[f"{sample_site.base_url}/assets/hero/{section}-1280.svg"]
        cdn = by_url[f"{sample_site.cdn_url}/assets/hero/{section}-1280.svg"]
        first, second = sorted([og, cdn], key=lambda r: r["type"] == "revisit")
        assert first["type"] == "response" and second["type"] == "revisit"
        headers = second["headers"]
        assert headers.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
        assert headers.get_header("WARC-Refers-To-Target-URI") == first["url"]
        assert headers.get_header("WARC-Refers-To") == first["headers"].get_header(
            "WARC-Record-ID")
        assert headers.get_header("WARC-Payload-Digest") == first["headers"].get_header(
            "WARC-Payload-Digest")
        assert second["body"] == b""  # the headers only


def test_requisites_are_archived_only_with_a_metadata_record_naming_the_page(
    crawl, records, sample_site
):
    expected = _requisite_urls(sample_site)
    articles = set(sample_site.article_urls())
    texts = {r["url"] for r in text_records(crawl.archive, crawl.manifest)}
    assert not texts & set(expected)
    metadata = {r["url"]: dict(r["fields"]) for r in records if r["type"] == "metadata"}
    for url, kind in expected.items():
        fields = metadata[url]
        assert fields["discovery"] == "requisite"
        assert fields["via"] in articles
        assert fields["requisite"] == kind
    # what a stylesheet references names the stylesheet too
    font = metadata[f"{sample_site.base_url}/static/gazette-display.woff2"]
    assert font["embedded-in"] == f"{sample_site.base_url}/static/gazette.css"
    # and no page lists a requisite as an outlink: they are not links
    outlinks = {v for r in records if r["type"] == "metadata"
                for k, v in r["fields"] if k == "outlink"}
    assert not outlinks & {u for u in expected if u.endswith((".css", ".js", ".woff2"))}


def test_the_manifest_counts_them_by_type_and_the_summary_per_article(crawl, sample_site):
    counts = crawl.manifest["counts"]["requisites"]
    expected = Counter(_requisite_urls(sample_site).values())
    by_type = counts["by_type"]
    assert {k: v["count"] for k, v in by_type.items()} == dict(expected)
    assert by_type["font"]["bytes"] == len(
        (Path(__file__).parent.parent / "newsarchive/sample_site/static/gazette-display.woff2")
        .read_bytes())
    assert counts["bytes"] == sum(v["bytes"] for v in by_type.values())
    assert counts["responses"] == sum(expected.values())
    assert counts["duplicate_payloads"] == len(sample_site.SECTIONS)
    assert counts["skipped"] == {} and counts["failed"] == {}
    pages = counts["responses"] / counts["per_article"]["requests"]
    assert pages >= len(sample_site.articles)
    summary = next((crawl.archive / ".spool" / "summaries").glob("*.md")).read_text()
    assert "Page requisites: " in summary and "per article: " in summary


def test_indexes_verify_and_wacz_include_them_and_pages_stay_articles(crawl, sample_site):
    store = open_store(str(crawl.archive))
    indexed = set()
    for entry in crawl.manifest["files"]:
        if entry["kind"] == "cdxj":
            indexed |= {line.url for line in cdxj.parse_index(
                store.read_bytes(entry["key"]).decode())}
    assert set(_requisite_urls(sample_site)) <= indexed
    assert verify_archive(store, crawl.manifest["crawl_id"]).ok
    pages = {p["url"] for p in page_list(store, crawl.manifest)}
    assert pages <= set(sample_site.article_urls()) | {
        r["url"] for r in text_records(crawl.archive, crawl.manifest)}
    assert not pages & set(_requisite_urls(sample_site))


def _crawl(site: SampleSite, archive: Path, *settings: str, expect: int = 0) -> dict:
    process = scrapy_crawl(
        "-a", f"url={site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", "NEWSARCHIVE_EXTRACT=False", *(arg for s in settings for arg in ("-s", s)),
    )
    assert process.returncode == expect, process.stderr[-3000:]
    manifests = sorted((archive / "crawls").glob("*.json"))
    return json.loads(manifests[-1].read_text())


@pytest.fixture
def own_site():
    with SampleSite() as site:
        yield site


def test_one_setting_turns_them_off(own_site, tmp_path):
    manifest = _crawl(own_site, tmp_path, "NEWSARCHIVE_REQUISITES=off")
    urls = {r["url"] for r in warc_records(tmp_path, manifest)}
    assert not urls & set(_requisite_urls(own_site))
    assert own_site.cdn_requests == []
    assert manifest["counts"]["requisites"]["responses"] == 0
    assert manifest["settings"]["requisites"] == "off"


def test_limits_refuse_and_truncate(own_site, tmp_path):
    manifest = _crawl(own_site, tmp_path, "NEWSARCHIVE_REQUISITES_PER_PAGE=3",
                      "NEWSARCHIVE_REQUISITES_MAX_SIZE=4000")
    counts = manifest["counts"]["requisites"]
    assert counts["skipped"]["page-count"] > 0
    records = warc_records(tmp_path, manifest)
    font = [r for r in records if (r["url"] or "").endswith("gazette-display.woff2")
            and r["type"] == "response"]
    if font:  # asked for within the first three of some page: cut at the size limit
        assert font[0]["headers"].get_header("WARC-Truncated") == "length"
        assert len(font[0]["body"]) <= 4000


def test_a_host_whose_robots_txt_disallows_them(own_site, tmp_path):
    own_site.cdn_robots = b"User-agent: *\nDisallow: /assets/\n"
    manifest = _crawl(own_site, tmp_path)
    assert [p for _, p in own_site.cdn_requests] == ["/robots.txt"]
    failed = manifest["counts"]["requisites"]["failed"]
    assert failed == {"robots-forbidden": 2 * len(own_site.SECTIONS)}
    assert manifest["counts"]["failed"] == {"http-404": 1, "robots-forbidden": 1}  # pages'


def test_every_html_page_by_a_setting(own_site, tmp_path):
    manifest = _crawl(own_site, tmp_path, "NEWSARCHIVE_REQUISITES=pages")
    metadata = [dict(r["fields"]) for r in warc_records(tmp_path, manifest)
                if r["type"] == "metadata"]
    vias = {m["via"] for m in metadata if m.get("discovery") == "requisite"}
    assert f"{own_site.base_url}/" in vias or any("/section/" in v for v in vias)


def test_next_runs_ask_conditionally_and_store_revisits(own_site, tmp_path):
    from tests.test_incremental import _new_article

    first = _crawl(own_site, tmp_path)
    state_keys = [f["key"] for f in first["files"] if f["kind"] == "state"]
    state = parse_snapshot((tmp_path / state_keys[0]).read_bytes())
    remembered = {e.url for e in state.values() if e.kind == "requisite"}
    # all but the second URL of each duplicate payload (a revisit: not remembered)
    forgotten = set(_requisite_urls(own_site)) - remembered
    assert len(forgotten) == len(own_site.SECTIONS)
    assert all("/assets/hero/" in url and url.endswith("-1280.svg") for url in forgotten)

    own_site.add_article(_new_article("fresh-requisites-report"))
    second = _crawl(own_site, tmp_path)
    counts = second["counts"]["requisites"]
    assert counts["unchanged"] >= 7  # stylesheet, font, images, script: 304
    records = warc_records(tmp_path, second)
    revisits = {r["url"]: r for r in records if r["type"] == "revisit"}
    css = revisits[f"{own_site.base_url}/static/gazette.css"]
    assert css["http"].get_statuscode() == "304"
    firsts = {r["headers"].get_header("WARC-Record-ID"): r for r in warc_records(tmp_path, first)}
    assert css["headers"].get_header("WARC-Refers-To") in firsts
    # a revisit names the page that needed it too, as the first run's record did
    about = {r["headers"].get_header("WARC-Concurrent-To"): dict(r["fields"])
             for r in records if r["type"] == "metadata"}
    assert about[css["headers"].get_header("WARC-Record-ID")]["via"] in set(
        own_site.article_urls())
    # nothing a page embeds was fetched whole again
    whole = {r["url"] for r in records if r["type"] == "response"}
    assert not whole & remembered


def test_the_run_summary_line():
    from newsarchive.crawl.runsummary import render

    counts = {"requisites": {"responses": 20, "bytes": 30000, "unchanged": 2,
                             "duplicate_payloads": 1,
                             "per_article": {"requests": 0.5, "bytes": 750},
                             "by_type": {"image": {"count": 20, "bytes": 30000}}}}
    text = render({"crawl_id": "c", "crawl": {}, "counts": counts, "files": []})
    assert "Page requisites: 20 archived (29.3 KB; 2 unchanged, 1 duplicate payloads)" in text
    assert "per article: 0.5 requests, 750 B" in text
