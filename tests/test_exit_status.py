"""Exit statuses of `scrapy crawl news` for scheduled runs, and the run summary they leave.

One real crawl per status, each against its own purpose-built site (tests/newsserver),
all run at once. Every crawl that starts writes the Markdown summary to
NEWSARCHIVE_SUMMARY_FILE and appends it to $GITHUB_STEP_SUMMARY, whatever its outcome.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import scrapy_crawl
from tests.newsserver import TEXT, NewsServer, article_html, index_html, registry, rss_feed
from tests.s3server import Outage

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1")
EARLIER_STEP = "## an earlier step\n\nits own summary\n"
DATE = "Fri, 15 Mar 2024 09:00:00 GMT"


@dataclass
class Run:
    tmp: Path
    archive: str
    process: subprocess.CompletedProcess | None = None

    @property
    def summary(self) -> Path:
        return self.tmp / "summary.md"

    @property
    def step_summary(self) -> Path:
        return self.tmp / "github-step-summary.md"

    @property
    def crawl_id(self) -> str:
        assert self.process is not None
        match = re.search(r"archiving crawl (\S+) into", self.process.stderr)
        assert match, self.process.stderr[-3000:]
        return match.group(1)

    def crawl(self, *extra: str, env: dict[str, str | None] | None = None) -> Run:
        self.step_summary.write_text(EARLIER_STEP)
        self.process = scrapy_crawl(
            "-a", "site=stage", "-s", f"NEWSARCHIVE_SITES={self.tmp / 'sites.toml'}",
            "-s", f"NEWSARCHIVE_ARCHIVE={self.archive}",
            "-s", f"NEWSARCHIVE_SPOOL={self.tmp / 'spool'}",
            "-s", f"NEWSARCHIVE_SUMMARY_FILE={self.summary}",
            "-s", "NEWSARCHIVE_CONTACT=https://archive.example/contact", *FAST, *extra,
            env={"GITHUB_STEP_SUMMARY": str(self.step_summary), **(env or {})},
        )
        return self


def _article(server: NewsServer, path: str) -> None:
    title = path.rsplit("/", 1)[-1].replace("-", " ").capitalize()
    server.set(path, (200, "text/html", article_html(title, server.url(path))))


def _feed_site(server: NewsServer, tmp: Path, paths: list[str]) -> None:
    """A site whose only way in is an RSS feed listing `paths`."""
    server.set("/robots.txt", (200, TEXT, b"User-agent: *\nAllow: /\n"))
    server.set("/feed.xml", (200, "application/rss+xml", rss_feed(
        [(server.url(p), DATE) for p in paths]
    )))
    registry(tmp / "sites.toml", "stage", feeds=[server.url("/feed.xml")])


def _ok(server: NewsServer, run: Run) -> Run:
    paths = ["/2024/03/15/all-good-story", "/2024/03/15/another-good-story"]
    _feed_site(server, run.tmp, paths)
    for path in paths:
        _article(server, path)
    return run.crawl()


def _storage_fails(server: NewsServer, run: Run, outage: Outage, env: dict) -> Run:
    """The bucket is reachable at start-up and goes away once the crawl is under way."""
    paths = ["/2024/03/15/stored-nowhere-story", "/2024/03/15/also-stored-nowhere-story"]
    _feed_site(server, run.tmp, paths)
    for path in paths:
        _article(server, path)
        server.on_request(path, outage.down)
    return run.crawl(
        "-s", "NEWSARCHIVE_S3_MAX_ATTEMPTS=1", env=env | {"AWS_ENDPOINT_URL": outage.url}
    )


def _errors(server: NewsServer, run: Run) -> Run:
    """Three of four articles answer 503, every time; no retries."""
    paths = [f"/2024/03/15/flaky-story-{n}" for n in ("one", "two", "three", "four")]
    _feed_site(server, run.tmp, paths)
    for path in paths:
        _article(server, path)
    for path in paths[1:]:
        server.statuses(path, [503])
    return run.crawl("-s", "RETRY_TIMES=0")


def _no_articles(server: NewsServer, run: Run) -> Run:
    """The feed answers, but its entries are a missing page and a section page."""
    server.set("/section/world/", (200, "text/html", index_html([], "World")))
    _feed_site(server, run.tmp, ["/2024/03/15/deleted-story", "/section/world/"])
    return run.crawl()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, s3) -> dict[str, Run]:
    scenarios = {}
    for name in ("ok", "storage", "errors", "no_articles"):
        tmp = tmp_path_factory.mktemp(f"exit-{name}")
        scenarios[name] = Run(tmp, str(tmp / "archive"))
    scenarios["storage"].archive = f"s3://{s3.new_bucket()}/news"
    outage = Outage(s3.port)
    servers = [NewsServer().start() for _ in scenarios]
    try:
        with ThreadPoolExecutor(len(scenarios)) as pool:
            jobs = [
                pool.submit(_ok, servers[0], scenarios["ok"]),
                pool.submit(_storage_fails, servers[1], scenarios["storage"], outage, s3.env()),
                pool.submit(_errors, servers[2], scenarios["errors"]),
                pool.submit(_no_articles, servers[3], scenarios["no_articles"]),
            ]
            for job in jobs:
                job.result()
    finally:
        outage.close()
        for server in servers:
            server.stop()
    return scenarios


def _row(run: Run) -> list[str]:
    """The site row of the summary's table, cell by cell."""
    (line,) = [x for x in run.summary.read_text().splitlines() if x.startswith("| stage |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def _manifest(run: Run) -> dict:
    return json.loads((Path(run.archive) / "crawls" / f"{run.crawl_id}.json").read_text())


def _summary_checked(run: Run, outcome: str) -> str:
    text = run.summary.read_text()
    assert f"## newsarchive crawl `{run.crawl_id}`" in text
    assert f"outcome: {outcome}" in text
    assert run.step_summary.read_text() == EARLIER_STEP + text + "\n"  # appended, not replaced
    return text


def test_status_0_when_all_is_well(runs):
    run = runs["ok"]
    assert run.process.returncode == 0, run.process.stderr[-3000:]
    _summary_checked(run, "ok")
    # site, new, changed, unchanged, failed, discarded
    assert _row(run) == ["stage", "2", "0", "0", "0", "0"]
    assert _manifest(run)["counts"]["articles_by_kind"]["new"] == 2


@pytest.mark.e2e
def test_status_2_for_a_bad_setting_before_any_request(tmp_path):
    result = scrapy_crawl(
        "-a", "url=http://127.0.0.1:9/", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path / 'a'}",
        "-s", "NEWSARCHIVE_MAX_ERROR_RATE=1.5",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "newsarchive: error: NEWSARCHIVE_MAX_ERROR_RATE must be a number from 0 to 1, got 1.5"
    )


def test_status_3_when_storage_fails_mid_crawl(runs):
    run = runs["storage"]
    assert run.process.returncode == 3, run.process.stderr[-3000:]
    _summary_checked(run, "storage failed: files wait in the spool")
    assert _row(run)[:2] == ["stage", "2"]  # fetched and extracted, not yet stored
    assert (run.tmp / "spool" / "crawls" / f"{run.crawl_id}.json").is_file()


def test_status_4_when_the_error_rate_is_too_high(runs):
    run = runs["errors"]
    assert run.process.returncode == 4, run.process.stderr[-3000:]
    counts = _manifest(run)["counts"]
    assert counts["http_status"]["503"] == 3
    rate = 3 / counts["requests"]  # robots.txt, the feed, the articles, their home link
    _summary_checked(run, f"error rate {rate:.0%} above NEWSARCHIVE_MAX_ERROR_RATE 20%")
    assert _row(run) == ["stage", "1", "0", "0", "3", "0"]


def test_status_5_when_feeds_answer_but_give_no_article(runs):
    run = runs["no_articles"]
    assert run.process.returncode == 5, run.process.stderr[-3000:]
    _summary_checked(run, "no article found although the site's feeds answered")
    assert _row(run) == ["stage", "0", "0", "0", "0", "0"]
