"""The `newsarchive` command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import load_manifest

pytestmark = pytest.mark.e2e  # every test runs the command in a process of its own


def newsarchive(*args: str, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


def test_demo_crawls_the_sample_site_into_a_folder_and_reports(tmp_path):
    """The quick start's main job, run from outside the project folder."""
    result = newsarchive("demo", "--log-level", "WARNING", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    archive = tmp_path / "archive"
    manifest = load_manifest(archive)
    assert manifest["crawl"]["site"] == "sample-gazette"
    assert manifest["counts"]["articles"] >= 33
    out = result.stdout
    assert f"articles with clean text: {manifest['counts']['articles']}" in out
    for entry in manifest["files"]:
        assert f"archive/{entry['key']}" in out
        assert (archive / entry["key"]).is_file()
    for lang in ("de 6", "es 6", "fr 6", "ru 6"):
        assert lang in out


def test_summary_of_the_latest_crawl_and_errors(tmp_path):
    result = newsarchive("summary", str(tmp_path / "none"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("newsarchive: error: no complete crawl")
    assert "Traceback" not in result.stderr


def test_help_explains_every_command():
    result = newsarchive("--help")
    assert result.returncode == 0
    for command in ("demo", "sample-site", "summary"):
        assert command in result.stdout


def test_sample_site_command_prints_its_url_first_and_serves():
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "sample-site", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base}/robots.txt", timeout=10) as response:
            assert b"Disallow: /private/" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_os_errors_are_one_line_not_a_traceback(crawl, tmp_path):
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        site = newsarchive("sample-site", "--port", str(busy))
    plot = newsarchive("stats", str(crawl.archive), "--plot", str(tmp_path / "no" / "p.png"))
    for result in (site, plot):
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("newsarchive: error:")


def test_ctrl_c_ends_a_command_quietly_with_130():
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "sample-site", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline().startswith("http://127.0.0.1:")  # serving
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
