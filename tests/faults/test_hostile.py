"""Hostile responses: one real crawl of the sample site's /traps/, read back per trap.

Each trap must cost the crawl one URL, not the crawl: it finishes ("finished"), the
manifest counts what happened by reason, and every WARC passes `warcio check`.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefused
from warcio.archiveiterator import ArchiveIterator

from newsarchive.crawl.failures import failure_reason
from newsarchive.sample_site import SampleSite
from newsarchive.sample_site import traps as trap_pages
from newsarchive.warc.writer import SpoolError
from tests.helpers import load_manifest, scrapy_crawl

MAXSIZE = 8 * 1024 * 1024  # above the 5 MB nested page, far below the 40 MiB traps
TIMEOUT = 3  # seconds; the slow trap never finishes
TRAPS = SampleSite.TRAP_PATHS


@dataclass
class TrapCrawl:
    site: SampleSite
    archive: Path
    process: subprocess.CompletedProcess
    manifest: dict

    @property
    def counts(self) -> dict:
        return self.manifest["counts"]

    def url(self, name: str) -> str:
        return self.site.url(TRAPS[name])

    def fetched(self, prefix: str) -> list[str]:
        return [path for _, path in self.site.requests if path.startswith(prefix)]

    def warcs(self) -> list[Path]:
        return [self.archive / f["key"] for f in self.manifest["files"] if f["kind"] == "warc"]

    def responses(self, name: str) -> list:
        """(WARC headers, HTTP headers, raw payload) of each response record for a trap."""
        found = []
        for path in self.warcs():
            with open(path, "rb") as f:
                for record in ArchiveIterator(f):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response" and uri == self.url(name):
                        found.append((record.rec_headers, record.http_headers,
                                      record.raw_stream.read()))
        return found

    def texts(self) -> dict[str, dict]:
        records = {}
        for entry in self.manifest["files"]:
            if entry["kind"] == "text":
                data = gzip.decompress((self.archive / entry["key"]).read_bytes())
                for line in data.splitlines():
                    record = json.loads(line)
                    records[record["url"]] = record
        return records


@pytest.fixture(scope="module")
def trap_crawl(tmp_path_factory) -> TrapCrawl:
    """One crawl of every trap, on a sample site of its own (its request log is ours)."""
    tmp = tmp_path_factory.mktemp("traps")
    with SampleSite() as site:
        registry = tmp / "sites.toml"
        # Only /traps/: robots.txt announces the site's sitemap, which would pull in
        # every article. The second calendar is there to be stopped by a deny pattern.
        registry.write_text(
            "[[site]]\nname = \"traps\"\n"
            f"start_urls = [\"{site.url(SampleSite.TRAPS_PATH)}\"]\n"
            "deny_patterns = ['^https?://[^/]+/(?!traps/)', '/traps/events/']\n"
        )
        archive = tmp / "archive"
        process = scrapy_crawl(
            "-a", "site=traps", "-s", f"NEWSARCHIVE_SITES={registry}",
            "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
            "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}", "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
            # Most traps fail on purpose: the error rate says nothing here.
            "-s", "NEWSARCHIVE_MAX_ERROR_RATE=1",
            timeout=240,
        )
        assert process.returncode == 0, process.stderr[-4000:]
        yield TrapCrawl(site, archive, process, load_manifest(archive))


def test_the_crawl_finishes_and_every_warc_is_valid(trap_crawl):
    assert trap_crawl.manifest["crawl"]["finish_reason"] == "finished"
    assert "Traceback" not in trap_crawl.process.stderr
    warcs = trap_crawl.warcs()
    result = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, warcs)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    verify = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "verify", str(trap_crawl.archive)],
        capture_output=True, text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_traps_are_not_linked_from_the_site(trap_crawl):
    """A crawl of the site itself never meets them: other tests see the site as before."""
    import urllib.request

    for path in ("/", "/sitemap.xml", "/feed.xml", "/section/world/"):
        with urllib.request.urlopen(trap_crawl.site.url(path)) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
        assert b"/traps" not in body, path


def test_too_large_bodies_are_archived_truncated(trap_crawl):
    (declared,) = trap_crawl.responses("huge")
    warc, http, payload = declared
    assert warc.get_header("WARC-Truncated") == "length"
    assert http.get_header("Content-Length") == str(trap_pages.HUGE_BYTES)  # as received
    assert payload == b""  # stopped at the headers: the length said it all
    (streamed,) = trap_crawl.responses("huge_streamed")
    warc, _, payload = streamed
    assert warc.get_header("WARC-Truncated") == "length"
    assert MAXSIZE <= len(payload) < MAXSIZE + 1024 * 1024
    assert payload.startswith(b"<!doctype html>")
    assert trap_crawl.counts["truncated"]["length"] == 2
    # Half a page is not an article: both are URLs of article shape, neither has text.
    assert trap_crawl.counts["discarded"]["truncated"] >= 2
    assert trap_crawl.url("huge") not in trap_crawl.texts()


def test_gzip_bomb_is_archived_compressed_and_not_inflated(trap_crawl):
    (bomb,) = trap_crawl.responses("gzip_bomb")
    _, http, payload = bomb
    assert http.get_header("Content-Encoding") == "gzip"
    assert len(payload) < 100_000  # the bytes as received, not the 64 MiB they inflate to
    assert trap_crawl.counts["failed"]["too-large-decoded"] == 1


def test_redirect_loop_and_endless_redirects_stop(trap_crawl):
    # a -> b -> a: the second visit of a is a duplicate, never fetched
    assert Counter(trap_crawl.fetched("/traps/loop/")) == {"/traps/loop/a": 1, "/traps/loop/b": 1}
    # 1 -> 2 -> 3 …: REDIRECT_MAX_TIMES (20) redirects are followed, then given up
    assert len(trap_crawl.fetched("/traps/redirect/")) == 21
    assert trap_crawl.counts["failed"]["too-many-redirects"] == 1
    assert trap_crawl.counts["http_status"]["302"] == 2 + 21  # each hop is in the WARC


def test_endless_calendar_is_stopped_by_depth_and_deny_patterns(trap_crawl):
    # /traps/ is depth 0, the first month depth 1; DEPTH_LIMIT 5 leaves 4 steps of
    # previous/next month or year: the months a*12+b away with |a|+|b| <= 4, i.e. 41.
    calendar = trap_crawl.fetched("/traps/calendar/")
    assert len(calendar) == len(set(calendar)) == 41
    assert trap_crawl.counts["depth_limited"] > 0
    assert trap_crawl.fetched("/traps/events/") == []
    assert trap_crawl.counts["skipped"]["denied"] >= 1


def test_wrong_and_missing_charsets_still_give_text(trap_crawl):
    texts = trap_crawl.texts()
    undeclared = texts[trap_crawl.url("missing_charset")]
    assert "Fernwärme" in undeclared["text"] and undeclared["language"] == "de"
    # The header says utf-8 and wins, as in browsers: letters it cannot decode are lost
    # in the text (U+FFFD) but kept in the WARC, byte for byte.
    wrong = texts[trap_crawl.url("wrong_charset")]
    assert "conseil municipal" in wrong["text"] and wrong["language"] == "fr"
    ((_, _, payload),) = trap_crawl.responses("wrong_charset")
    assert "Médiathèque".encode("cp1252") in payload


def test_binary_served_as_html_is_archived_not_extracted(trap_crawl):
    ((_, http, payload),) = trap_crawl.responses("binary")
    assert http.get_header("Content-Type") == "text/html"
    assert payload == trap_pages.binary_body()
    assert trap_crawl.url("binary") not in trap_crawl.texts()
    assert trap_crawl.counts["discarded"]["not-html"] == 1


def test_five_megabytes_of_nested_tags_are_survived(trap_crawl):
    ((_, _, payload),) = trap_crawl.responses("nested")
    assert gzip.decompress(payload) == trap_pages.nested_page()
    # The story sits 450,000 levels deep, past the HTML parser's depth limit (libxml2):
    # the page is archived whole, dropped as text by name, and the crawl goes on.
    url = trap_crawl.url("nested")
    assert url not in trap_crawl.texts()
    assert f"Dropped: no text (no-text): {url}" in trap_crawl.process.stderr


def test_server_error_then_success_on_retry(trap_crawl):
    statuses = [http.get_statuscode() for _, http, _ in trap_crawl.responses("flaky")]
    assert statuses == ["500", "200"]  # both exchanges archived, in order
    assert trap_crawl.url("flaky") in trap_crawl.texts()
    assert trap_crawl.counts["retries"] >= 1
    assert "http-500" not in trap_crawl.counts["failed"]


def test_slow_server_times_out(trap_crawl):
    assert len(trap_crawl.fetched(TRAPS["slow"])) == 3  # RETRY_TIMES 2
    assert trap_crawl.responses("slow") == []  # no response ever completed
    assert trap_crawl.counts["download_errors_by_type"]["DownloadTimeoutError"] == 3
    assert trap_crawl.counts["failed"]["timeout"] == 1


def test_connection_reset_mid_body_is_archived_truncated_and_retried(trap_crawl):
    records = trap_crawl.responses("reset")
    assert len(records) == 3  # the first try and two retries, each as it came
    for warc, http, payload in records:
        assert warc.get_header("WARC-Truncated") == "disconnect"
        assert 0 < len(payload) < int(http.get_header("Content-Length"))
    assert trap_crawl.counts["truncated"]["disconnect"] == 3
    assert trap_crawl.url("reset") not in trap_crawl.texts()



def _http_error(status: int) -> HttpError:
    return HttpError(Response("http://127.0.0.1/", status=status), "ignored")


@pytest.mark.parametrize("error, reason", [
    (_http_error(404), "http-404"),
    (DownloadTimeoutError("took too long"), "timeout"),
    (IgnoreRequest("max redirections reached"), "too-many-redirects"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots-forbidden"),
    (IgnoreRequest("something else"), "ignored"),
    (TxConnectionRefused(), "connection-refused"),
    (SpoolError("full"), "storage"),
    (KeyError("x"), "key"),
])
def test_failure_reasons_are_short_and_stable(error, reason):
    assert failure_reason(error) == reason
