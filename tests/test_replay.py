"""Replay with pywb, the real engine: `newsarchive replay` serves a crawl on 127.0.0.1.

pywb runs from its own virtual environment (it does not install beside Scrapy),
created once under the user cache by the same helper the command uses: about 20 s
with a cold cache, reused after.
"""

from __future__ import annotations

import gzip
import html
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.summary import text_records
from newsarchive.errors import NewsarchiveError
from newsarchive.storage import open_store
from newsarchive.tools import replay
from newsarchive.warc import cdxj
from tests.helpers import ROOT, free_port, unavailable


@pytest.fixture(scope="session")
def pywb_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    try:
        return replay.ensure_pywb(cache / "newsarchive-tests" / "pywb-venv")
    except NewsarchiveError as e:  # pywb comes from the package index, on first use
        unavailable(f"pywb could not be installed from the package index: {e}")


def _get(url: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@contextmanager
def replaying(archive: Path, venv: Path, workdir: Path) -> Iterator[str]:
    """`newsarchive replay` of an archive on a free loopback port; yields its base URL
    once pywb answers, and stops it as Ctrl-C would."""
    port = free_port()
    log = open(workdir / "replay.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "replay", str(archive), "--port", str(port),
         "--venv", str(venv), "--workdir", str(workdir / "pywb")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, _tail(log)
            try:
                if _get(f"{base}/{replay.COLLECTION}/", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "pywb did not start:\n" + _tail(log)
            time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # the command stops wayback and exits
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def wayback(crawl, pywb_venv, tmp_path_factory):
    """`newsarchive replay` on a free loopback port, serving the shared crawl."""
    with replaying(crawl.archive, pywb_venv, tmp_path_factory.mktemp("replay")) as base:
        yield base


def _tail(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-3000:]


def _archived(crawl, url: str):
    """The response record of url (headers, decoded body) and its index timestamp."""
    for path in crawl.files("warc"):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if (
                    record.rec_type == "response"
                    and record.rec_headers.get_header("WARC-Target-URI") == url
                ):
                    headers = record.http_headers
                    raw = record.raw_stream.read()
                    body = gzip.decompress(raw) if headers.get_header(
                        "Content-Encoding"
                    ) == "gzip" else raw
                    index = cdxj.parse_index(path.with_name(
                        cdxj.index_key(path.name)).read_text())
                    (entry,) = cdxj.lookup(index, url)
                    return headers, body, entry.timestamp
    raise AssertionError(f"{url} not archived")


def test_articles_replay_with_their_original_html(crawl, wayback, sample_site):
    broken = {sample_site.base_url + path for path in sample_site.BROKEN_PATHS.values()}
    articles = [
        r for r in text_records(open_store(str(crawl.archive)), crawl.manifest)
        if r["url"] not in broken
    ]
    assert len(articles) >= 5
    gzip_served = 0
    for article in articles[:5]:
        headers, original, timestamp = _archived(crawl, article["url"])
        gzip_served += headers.get_header("Content-Encoding") == "gzip"
        # id_: the archived page as it was served, undecorated.
        status, reply_headers, body = _get(replay.replay_url(wayback, timestamp,
                                                             article["url"], "id_"))
        assert status == 200, body[:500]
        if reply_headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert body == original
        # mp_: what a browser gets, links rewritten into the archive.
        status, _, body = _get(replay.replay_url(wayback, timestamp, article["url"]))
        assert status == 200
        page = html.unescape(body.decode("utf-8", errors="replace"))
        assert article["title"] in page
        assert article["text"].split("\n")[0][:80] in page
    assert gzip_served >= 1  # the sample site gzip-encodes pages: replay decodes them


def test_the_chunked_feed_and_the_home_page_replay(crawl, wayback, sample_site):
    for path in ("/feed.xml", "/"):
        url = sample_site.base_url + path
        _, original, timestamp = _archived(crawl, url)
        status, _, body = _get(replay.replay_url(wayback, timestamp, url, "id_"))
        assert status == 200
        assert body == original


def test_unarchived_url_is_not_found(wayback, sample_site):
    status, _, _ = _get(replay.replay_url(wayback, "2026", sample_site.base_url + "/nope"))
    assert status == 404


def test_a_busy_port_is_one_line(crawl, pywb_venv, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "newsarchive.cli", "replay", str(crawl.archive),
             "--port", str(port), "--venv", str(pywb_venv), "--workdir", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("newsarchive: error:")]
    assert f"127.0.0.1:{port}" in line and "--port" in line


def test_replay_says_what_to_open_and_stops_quietly_on_ctrl_c(crawl, pywb_venv, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "replay", str(crawl.archive),
         "--port", str(port), "--venv", str(pywb_venv), "--workdir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        lines = []
        while not (lines and lines[-1].startswith("  http://")) or len(lines) < 4:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line.rstrip("\n"))
        article = lines[-1].strip()
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _, body = _get(article, timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "pywb did not start"
            time.sleep(0.3)
        assert b"<" in body
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        rest = process.communicate(timeout=30)[0]
    output = "\n".join(lines) + rest
    assert process.returncode == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert "config.yaml" not in output
    assert f"http://127.0.0.1:{port}/{replay.COLLECTION}/" in output


def test_a_damaged_crawl_costs_the_replay_only_that_crawl(crawl, tmp_path):
    """Replaying a whole archive loaded every manifest and read every listed index: one
    damaged manifest refused the whole archive, one deleted index was a
    FileNotFoundError traceback. An index is derived data: rebuilt from its WARC."""
    import shutil

    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".*"))
    crawl_id = crawl.manifest["crawl_id"]
    (index,) = [e["key"] for e in crawl.manifest["files"] if e["kind"] == "cdxj"]
    listed = (archive / index).read_text()
    (archive / index).unlink()
    damaged = "29991231T000000Z-dead00"
    (archive / "crawls" / f"{damaged}.json").write_text("[]")
    collection = replay.prepare_collection(open_store(str(archive)), tmp_path / "pywb")
    assert collection.crawl_ids == [crawl_id] and collection.warcs == 1
    assert collection.skipped == [f"crawl {damaged}: manifest is damaged (not a JSON object)"]
    (rebuilt,) = (collection.folder / "indexes").iterdir()
    assert rebuilt.read_text() == listed
    with pytest.raises(replay.StorageError, match="manifest is damaged"):  # asked by name
        replay.prepare_collection(open_store(str(archive)), tmp_path / "pywb", [damaged])
