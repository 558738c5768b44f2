"""Bad configuration: one clear line and exit status 2 before any request is made; and a
spool that runs out of space mid-crawl: the crawl stops cleanly, nothing is corrupted.

Most cases call `preflight()`, the very check `scrapy crawl news` runs before Scrapy
starts (fast); one runs the real command to show the line and the exit.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings

from newsarchive.crawl.commands.crawl import preflight
from newsarchive.errors import NewsarchiveError
from tests.helpers import ROOT, scrapy_crawl

SITE = "http://127.0.0.1:9/"  # never contacted: every case fails before the first request

REGISTRIES = {
    "bad TOML": ('[[site]\nname = "a"\n', "not valid TOML"),
    "YAML, not TOML": ("- name: a\n  start_urls: [http://127.0.0.1/]\n", "not valid TOML"),
    "missing name": ('[[site]]\nstart_urls = ["http://127.0.0.1/"]\n', "field 'name'"),
    "no start URL": ('[[site]]\nname = "a"\n', "needs at least one of"),
    "duplicate name": (
        '[[site]]\nname = "a"\nstart_urls = ["http://127.0.0.1/"]\n' * 2,
        "duplicate site name 'a'",
    ),
    "bad regex": (
        '[[site]]\nname = "a"\nstart_urls = ["http://127.0.0.1/"]\n'
        'article_patterns = ["(unclosed"]\n',
        "bad regex '(unclosed'",
    ),
    "unknown field": (
        '[[site]]\nname = "a"\nstart_urls = ["http://127.0.0.1/"]\nstartUrls = []\n',
        "unknown field 'startUrls'",
    ),
    "relative URL": ('[[site]]\nname = "a"\nstart_urls = ["/news/"]\n', "not an absolute"),
    "string, not list": (
        '[[site]]\nname = "a"\nstart_urls = "http://127.0.0.1/"\n', "must be a list",
    ),
}

SETTINGS = {
    "NEWSARCHIVE_EXTRACT=maybe": "NEWSARCHIVE_EXTRACT must be true or false",
    "NEWSARCHIVE_MAX_ERROR_RATE=1.5": "NEWSARCHIVE_MAX_ERROR_RATE must be a number from 0 to 1",
    "NEWSARCHIVE_WARC_MAX_SIZE=big": "NEWSARCHIVE_WARC_MAX_SIZE must be a whole number",
    "NEWSARCHIVE_UPLOAD_QUEUE=0": "NEWSARCHIVE_UPLOAD_QUEUE must be at least 1",
    "NEWSARCHIVE_WARC_VERSION=2.0": "NEWSARCHIVE_WARC_VERSION must be 1.0 or 1.1",
    "NEWSARCHIVE_S3_ADDRESSING_STYLE=sideways": "NEWSARCHIVE_S3_ADDRESSING_STYLE must be one of",
    "NEWSARCHIVE_S3_STORAGE_CLASS=COLD": "NEWSARCHIVE_S3_STORAGE_CLASS 'COLD'",
    "NEWSARCHIVE_S3_ENDPOINT_URL=ftp://h/": "NEWSARCHIVE_S3_ENDPOINT_URL must be an http(s) URL",
    "NEWSARCHIVE_ARCHVE=/tmp/x": "unknown setting NEWSARCHIVE_ARCHVE (did you mean "
                                 "NEWSARCHIVE_ARCHIVE?)",
    "DOWNLOAD_TIMEOUT=soon": "DOWNLOAD_TIMEOUT must be a number, got 'soon'",
    "DOWNLOAD_TIMEOUT=0": "DOWNLOAD_TIMEOUT must be above 0",
    "DOWNLOAD_MAXSIZE=-5": "DOWNLOAD_MAXSIZE must be at least 0",
    "DEPTH_LIMIT=deep": "DEPTH_LIMIT must be a whole number",
    "CONCURRENT_REQUESTS=0": "CONCURRENT_REQUESTS must be at least 1",
    "ROBOTSTXT_OBEY=perhaps": "ROBOTSTXT_OBEY must be true or false",
}

ARCHIVES = {
    "gopher://host/x": "unknown scheme 'gopher'",
    "ftp://host/x": "unknown scheme 'ftp'",
    "https://host/x": "unknown scheme 'https'",
    "s3://": "needs a bucket",
    "file://elsewhere/x": "must be local",
}


def _settings(tmp_path: Path, *pairs: str) -> Settings:
    settings = Settings()
    settings.setmodule("newsarchive.settings")
    settings.set("NEWSARCHIVE_ARCHIVE", str(tmp_path / "archive"))
    for pair in pairs:
        settings.set(*pair.split("=", 1), priority="cmdline")
    return settings


def _refused(settings: Settings, spargs: dict[str, str], needle: str) -> None:
    with pytest.raises(NewsarchiveError) as info:
        preflight(settings, spargs)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message and len(message) < 400


@pytest.mark.parametrize("case", REGISTRIES)
def test_malformed_site_registry(case, tmp_path):
    text, needle = REGISTRIES[case]
    registry = tmp_path / "sites.toml"
    registry.write_text(text)
    settings = _settings(tmp_path, f"NEWSARCHIVE_SITES={registry}")
    _refused(settings, {"site": "a"}, needle)
    _refused(settings, {"site": "a"}, str(registry))  # the message names the file


def test_missing_registry_file(tmp_path):
    settings = _settings(tmp_path, f"NEWSARCHIVE_SITES={tmp_path / 'nope.toml'}")
    _refused(settings, {"site": "a"}, "no such registry file")


@pytest.mark.parametrize("pair", SETTINGS)
def test_bad_setting_values(pair, tmp_path):
    _refused(_settings(tmp_path, pair), {"url": SITE}, SETTINGS[pair])


@pytest.mark.parametrize("spargs, needle", [
    ({"url": SITE, "since": "yesterday"}, "-a since='yesterday'"),
    ({"url": SITE, "depth": "3"}, "unknown spider argument -a depth"),
    ({"url": SITE, "site": "bbc"}, "exactly one of"),
])
def test_bad_spider_arguments(spargs, needle, tmp_path):
    _refused(_settings(tmp_path), spargs, needle)


@pytest.mark.parametrize("archive", ARCHIVES)
def test_archive_of_unknown_scheme(archive, tmp_path):
    _refused(_settings(tmp_path, f"NEWSARCHIVE_ARCHIVE={archive}"), {"url": SITE},
             ARCHIVES[archive])


def test_unwritable_archive_and_spool(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # (permission bits do not stop root, a file in the way stops everyone)
    _refused(_settings(tmp_path, f"NEWSARCHIVE_ARCHIVE={blocker}/archive"), {"url": SITE},
             "archive folder")
    _refused(_settings(tmp_path, f"NEWSARCHIVE_SPOOL={blocker}/spool"), {"url": SITE},
             f"spool folder {blocker}/spool is not writable")


def test_the_real_command_prints_one_line_and_exits_2(sample_site, tmp_path):
    """The path every case above takes, end to end, with the check this suite added
    (tests/test_crawl.py runs unknown sites, bad settings and archive schemes through it)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    before = len(sample_site.requests)
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path / 'archive'}",
        "-s", f"NEWSARCHIVE_SPOOL={blocker}/spool", timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr[-2000:]
    assert lines == [f"newsarchive: error: spool folder {blocker}/spool is not writable: "
                     "Not a directory"], result.stderr
    assert len(sample_site.requests) == before  # not one request
    assert not (tmp_path / "archive" / "crawls").exists()


# --- the spool runs out of space -------------------------------------------------------------

class _FillsUp:
    """A file that takes half of a write, then says the disk is full."""

    def __init__(self, file) -> None:
        self.file = file

    def write(self, data: bytes) -> int:
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str):
        return getattr(self.file, name)


def test_warc_writer_cuts_a_full_file_back_to_its_last_whole_record(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    from newsarchive.warc.writer import Exchange, RollingWarcWriter, SpoolError, WarcOptions

    exchange = Exchange(
        url="http://127.0.0.1/a", method="GET", request_headers=[("Host", "127.0.0.1")],
        request_body=b"", protocol="HTTP/1.1", status=200, reason="OK",
        response_headers=[("Content-Type", "text/html")], body=b"<p>" + os.urandom(5000),
    )
    closed: list = []
    writer = RollingWarcWriter(WarcOptions(crawl_id="c", spool=tmp_path),
                               on_close=lambda *args: closed.append(args))
    writer.write_exchange(exchange)
    writer._file = _FillsUp(writer._file)  # the disk fills up during the next record
    with pytest.raises(SpoolError, match="No space left on device") as info:
        writer.write_exchange(exchange)
    assert info.value.full
    with pytest.raises(SpoolError):  # and nothing more is accepted, in any file
        writer.write_metadata("http://127.0.0.1/a", [("outlink", "http://127.0.0.1/b")])
    writer.close()
    ((path, _, records),) = closed  # handed on once, with its whole records
    with open(path, "rb") as f:
        kinds = [r.rec_type for r in ArchiveIterator(f)]
    assert kinds == ["warcinfo", "response", "request"] and records == 3


SPOOL_LIMIT = 40_000  # bytes per file: a few pages into the first WARC file


def _limit_file_size() -> None:
    # RLIMIT_FSIZE: writes past the limit fail with EFBIG (Python ignores SIGXFSZ),
    # as on a full disk, without root or a tiny filesystem; pipes are not limited.
    resource.setrlimit(resource.RLIMIT_FSIZE, (SPOOL_LIMIT, SPOOL_LIMIT))


def test_spool_out_of_space_stops_the_crawl_cleanly(sample_site, tmp_path):
    archive = tmp_path / "archive"
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={sample_site.base_url}/",
         "-s", f"NEWSARCHIVE_ARCHIVE={archive}", "-s", "NEWSARCHIVE_EXTRACT=false",
         # a stop lets requests in flight end: the sample site's slow trap would hold
         # the close for the default 60 s timeout when one is under way
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=5"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 6, result.stderr[-3000:]  # stopped before the end
    assert "Traceback" not in result.stderr
    assert "cannot write to the spool" in result.stderr and "stopping the crawl" in result.stderr
    (manifest_path,) = (archive / "crawls").glob("*.json")  # whole: written, then renamed
    manifest = json.loads(manifest_path.read_text())
    assert manifest["crawl"]["finish_reason"] == "spool_full"
    assert manifest["counts"]["warc_exchanges"] < len(sample_site.article_urls())
    warcs = list(archive.rglob("*.warc.gz"))  # in the archive or left in the spool
    assert warcs and all(w.stat().st_size <= SPOOL_LIMIT for w in warcs)
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, warcs)],
        capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    verify = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "verify", str(archive)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    leftovers = [p for p in (archive / ".spool").rglob("*")
                 if p.is_file() and "summaries" not in p.parts]
    assert leftovers == []
