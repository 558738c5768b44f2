"""Scheduled incremental runs against a sample site that changes between runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.sample_site import Article, SampleSite
from tests.helpers import scrapy_crawl, text_records


def _registry(tmp: Path, base: str) -> Path:
    path = tmp / "sites.toml"
    path.write_text(
        '[[site]]\nname = "gazette"\n'
        f'start_urls = ["{base}/"]\nfeeds = ["{base}/feed.xml"]\n'
        f'sitemaps = ["{base}/sitemap.xml"]\n'
    )
    return path


class Runs:
    def __init__(self, site: SampleSite, tmp: Path) -> None:
        self.site = site
        self.archive = tmp / "archive"
        self.registry = _registry(tmp, site.base_url)
        self.summary = tmp / "summary.md"
        self.done: list[dict] = []

    def run(self, *extra: str, expect: int = 0) -> dict:
        result = scrapy_crawl(
            "-a", "site=gazette", "-s", f"NEWSARCHIVE_SITES={self.registry}",
            "-s", f"NEWSARCHIVE_ARCHIVE={self.archive}",
            "-s", f"NEWSARCHIVE_SUMMARY_FILE={self.summary}",
            "-s", "NEWSARCHIVE_CONTACT=https://archive.example/contact", *extra,
            env={"GITHUB_STEP_SUMMARY": str(self.summary.with_suffix(".gh.md"))},
        )
        assert result.returncode == expect, result.stderr[-3000:]
        manifests = sorted((self.archive / "crawls").glob("*.json"))
        manifest = json.loads(manifests[-1].read_text())
        self.done.append(manifest)
        return manifest

    def texts(self, manifest: dict) -> list[dict]:
        return text_records(self.archive, manifest)

    def warc_records(self, manifest: dict) -> list:
        out = []
        for f in manifest["files"]:
            if f["kind"] == "warc":
                with open(self.archive / f["key"], "rb") as fh:
                    for r in ArchiveIterator(fh):
                        out.append((r.rec_type, r.rec_headers, r.http_headers))
        return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    with SampleSite() as site:
        yield Runs(site, tmp_path_factory.mktemp("incremental"))


def _new_article(slug: str, lang: str = "en") -> Article:
    return Article(
        slug=slug, section="world", lang=lang, title=f"Fresh report {slug}",
        author="Ada Reporter", published=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        paragraphs=tuple(
            f"Paragraph {i} of the new report {slug}: the regional council met on Tuesday "
            "to debate the budget, and members agreed after a long session that the "
            "plan for new bus lines will go ahead next spring despite the costs."
            for i in range(4)
        ),
        summary="A fresh report.",
    )


def test_three_runs_new_changed_unchanged(runs):
    site = runs.site
    first = runs.run()
    texts1 = runs.texts(first)
    urls = set(site.article_urls())
    assert urls <= {r["url"] for r in texts1}
    assert first["counts"]["articles_by_kind"]["new"] == len(texts1)
    assert all(r["version"] == 1 and r["previous_id"] is None for r in texts1)

    # Between runs: two new articles, one edited.
    edited = site.articles[5]
    site.add_article(_new_article("fresh-report-one"))
    site.add_article(_new_article("fresh-report-two"))
    site.edit_article(
        edited.slug,
        paragraphs=(*edited.paragraphs[:-1], edited.paragraphs[-1] + " Correction appended."),
    )

    second = runs.run()
    texts2 = runs.texts(second)
    by_url = {r["url"]: r for r in texts2}
    new_urls = {site.url(site.article(s).path) for s in ("fresh-report-one", "fresh-report-two")}
    edited_url = site.url(edited.path)
    assert set(by_url) == new_urls | {edited_url}  # no duplicate text for the unchanged
    old = next(r for r in texts1 if r["url"] == edited_url)
    assert by_url[edited_url]["version"] == 2
    assert by_url[edited_url]["previous_id"] == old["id"]
    assert "Correction appended." in by_url[edited_url]["text"]
    kinds = second["counts"]["articles_by_kind"]
    assert kinds["new"] == 2 and kinds["changed"] == 1
    # Every other article is unchanged: most answered 304 (stored as revisits); a few
    # pages changed around the same text (their "related" lists now show the new
    # stories): new bytes, same text, so no new version either.
    assert kinds["unchanged"] == len(texts1) - 1

    revisits = [h for t, h, _ in runs.warc_records(second) if t == "revisit"]
    assert len(revisits) >= len(urls) // 2
    assert second["counts"]["revisits"] == len(revisits)
    first_ids = {h.get_header("WARC-Record-ID"): h for t, h, _ in runs.warc_records(first)
                 if t == "response"}
    for headers in revisits:
        assert headers.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
        assert headers.get_header("WARC-Refers-To") in first_ids
        original = first_ids[headers.get_header("WARC-Refers-To")]
        assert headers.get_header("WARC-Refers-To-Target-URI") == original.get_header(
            "WARC-Target-URI"
        )
        assert headers.get_header("WARC-Payload-Digest") == original.get_header(
            "WARC-Payload-Digest"
        )
    conditional = [p for m, p in site.requests if p.endswith(".html")]
    assert conditional  # requests were made; 304s are counted:
    # (the other revisits: page requisites whose payload an earlier URL already had)
    not_modified = [h for t, _, h in runs.warc_records(second)
                    if t == "revisit" and h.get_statuscode() == "304"]
    assert second["counts"]["http_status"].get("304", 0) == len(not_modified)
    # A 304 of a known article is an unchanged article, not a failed URL.
    assert "http-304" not in second["counts"]["failed"]

    third = runs.run()
    assert runs.texts(third) == []
    assert third["counts"]["articles_by_kind"]["new"] == 0
    assert third["counts"]["articles_by_kind"]["changed"] == 0

    shown = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "summary", str(runs.archive)],
        capture_output=True, text=True, timeout=120,
    )
    unchanged = third["counts"]["articles_by_kind"]["unchanged"]
    assert f"articles: new 0, changed 0, unchanged {unchanged} " in shown.stdout, shown.stdout
    (failed,) = [x for x in shown.stdout.splitlines() if x.strip().startswith("failed URLs:")]
    assert "http-304" not in failed

    summary = runs.summary.read_text()
    assert f"`{third['crawl_id']}`" in summary
    assert "| gazette | 0 | 0 |" in summary
    assert runs.summary.with_suffix(".gh.md").read_text().count("## newsarchive crawl") == 3


def test_all_text_across_runs_has_no_duplicates(runs):
    if len(runs.done) < 3:
        pytest.fail("runs after test_three_runs_new_changed_unchanged")
    seen = Counter()
    for manifest in runs.done:
        for record in runs.texts(manifest):
            seen[(record["url"], record["content_hash"])] += 1
    assert set(seen.values()) == {1}
