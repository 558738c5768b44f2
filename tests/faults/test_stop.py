"""Stops: any number of SIGTERM/SIGINT ends `scrapy crawl news` in bounded time.

A request to the sample site's slow trap (a server that never finishes) is in flight
when the signals come, so a graceful stop cannot finish on its own before
DOWNLOAD_TIMEOUT. The process must be gone within the test's generous wait all the
same, with status 6, and the next crawl into the same archive must recover what it
wrote: every file listed once, every WARC valid, every article once in text.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.test_crash import Scenario, _recovered
from tests.helpers import ROOT

WAIT = 90  # a generous bound on a process that would otherwise live for ever


def _slow_registry(tmp: Path, base: str) -> Path:
    """The site with the slow trap among its start URLs: a request that stays in flight."""
    path = tmp / "sites-slow.toml"
    path.write_text(
        f'[[site]]\nname = "gazette"\nstart_urls = ["{base}/", '
        f'"{base}/traps/slow-server-never-finishes.html"]\nfeeds = ["{base}/feed.xml"]\n'
    )
    return path


@pytest.fixture
def stop(tmp_path, sample_site) -> Scenario:
    return Scenario(tmp_path, sample_site, str(tmp_path / "archive"))


def _start_slow(scenario: Scenario, tmp: Path, *extra: str) -> subprocess.Popen:
    process = scenario.start(
        "-s", f"NEWSARCHIVE_SITES={_slow_registry(tmp, scenario.site.base_url)}",
        "-s", "DOWNLOAD_DELAY=0.2", "-s", "DOWNLOAD_TIMEOUT=60", *extra,
    )
    deadline = time.monotonic() + 60
    while not scenario.spool_files("*.warc.gz"):  # mid-crawl: a WARC file is open
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the crawl wrote no WARC file"
        time.sleep(0.05)
    return process


def _ended(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"still alive {WAIT} s after the signals:\n{stderr[-3000:]}")
    return process.returncode, stderr


@pytest.mark.parametrize(("signum", "count", "gap"), [
    (signal.SIGTERM, 2, 0.5),  # the second while the first still waits: the reported hang
    (signal.SIGINT, 2, 0.5),  # Ctrl-C twice
    (signal.SIGTERM, 5, 0.2),  # more than twice: the third ends it at once
])
def test_repeated_signals_end_the_crawl(stop, tmp_path, signum, count, gap):
    process = _start_slow(stop, tmp_path)
    for _ in range(count):
        process.send_signal(signum)
        time.sleep(gap)
    status, stderr = _ended(process)
    assert status == 6, stderr[-3000:]  # stopped before the end, whatever the path
    assert "Traceback" not in stderr, stderr[-3000:]

    stop.rerun()  # the next crawl finishes what this one wrote
    manifests = stop.check()
    assert len(_recovered(manifests)) == 1, [m["crawl"] for m in manifests]


def test_a_burst_of_signals_ends_the_crawl(stop, tmp_path):
    # The kernel merges signals that arrive before the process runs its handler: a
    # burst counts as one or several. Whichever, the process ends, and whatever it
    # wrote is whole or recovered by the next crawl.
    process = _start_slow(stop, tmp_path, "-s", "NEWSARCHIVE_STOP_TIMEOUT=5")
    for _ in range(5):
        process.send_signal(signal.SIGTERM)
    status, stderr = _ended(process)
    assert status == 6, stderr[-3000:]
    stop.rerun()
    assert len(_recovered(stop.check())) <= 1


@pytest.mark.parametrize("count", [1, 2])
def test_a_stop_while_storing_the_manifest_hangs_still_ends(stop, count):
    # The crawl is over and the manifest is being stored when the store stops
    # answering; then SIGTERM (once, or twice): the thread stuck in the store must not
    # keep the process alive.
    process = stop.start(
        "-s", "NEWSARCHIVE_STOP_TIMEOUT=5", env={"NEWSARCHIVE_FAULT": "before-manifest:stall"}
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "stalling at before-manifest" in line:
            break
    else:
        pytest.fail("the crawl never reached its manifest")
    for _ in range(count):
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
    status, stderr = _ended(process)
    assert status == 6, stderr[-3000:]
    assert not list(Path(stop.archive).glob("crawls/*.json"))
    stop.rerun()
    assert len(_recovered(stop.check())) == 1


def test_a_signal_while_the_crawl_opens_still_writes_its_manifest(stop):
    # Scrapy's stop does nothing to an engine still starting, then stopped the reactor
    # under it: no manifest at all. The stop waits for the crawl to run, then stops it.
    process = stop.start()
    assert process.stderr is not None
    for line in process.stderr:
        if "Spider opened" in line:
            break
    process.send_signal(signal.SIGTERM)
    status, stderr = _ended(process)
    assert status == 6, stderr[-3000:]
    (manifest,) = [json.loads(p.read_text()) for p in Path(stop.archive).glob("crawls/*.json")]
    assert manifest["crawl"]["finish_reason"] == "shutdown"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_to_the_process_group_stops_cleanly(stop, signum):
    # A terminal's Ctrl-C (and CI's `timeout`) signals the whole process group: the
    # extraction workers too, which died mid-article (BrokenProcessPool, tracebacks).
    # A closed terminal or ssh session (SIGHUP) killed the crawl on the spot: no
    # manifest, its captures invisible until a later run recovered them.
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "news", *stop.args,
         "-s", "DOWNLOAD_DELAY=0.1", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not stop.spool_files("*.jsonl.gz"):  # articles are being extracted
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signum)
    status, stderr = _ended(process)
    assert status == 6, stderr[-3000:]
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr, stderr[-3000:]
    (manifest,) = [json.loads(p.read_text()) for p in Path(stop.archive).glob("crawls/*.json")]
    assert manifest["crawl"]["finish_reason"] == "shutdown"
    assert manifest["counts"]["articles"] > 0


def test_stop_timeout_is_checked():
    from newsarchive.crawl.stopping import stop_timeout
    from newsarchive.errors import ConfigError

    assert stop_timeout({}) == 60
    assert stop_timeout({"NEWSARCHIVE_STOP_TIMEOUT": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigError, match="NEWSARCHIVE_STOP_TIMEOUT"):
            stop_timeout({"NEWSARCHIVE_STOP_TIMEOUT": bad})

