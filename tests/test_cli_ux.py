"""What a person meets on the command line: progress bars, crawl status, the demo, and
one convention for the archive argument (issue 16)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import socket
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from tests.helpers import ROOT, load_manifest, scrapy_crawl

# Commands that read or write an archive, and the argument that follows it, if any.
ARCHIVE_COMMANDS = (
    "demo", "summary", "verify", "stats", "export", "reextract", "replay",
    "upload-pending", "show", "wacz",
)


def newsarchive(*args: str, cwd: Path | None = None, timeout: float = 300, **kwargs):
    """The real command, running this checkout's code wherever it is run from."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **kwargs.pop("env", {})}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", *args], cwd=cwd or ROOT, env=env,
        capture_output=True, text=True, timeout=timeout, **kwargs,
    )


def on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run a command with stderr on a pseudo-terminal (stdout piped, as `> file`)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", *args], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=slave,
    )
    os.close(slave)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's last user closed it
            break
        if not chunk:
            break
        seen += chunk
    stdout = process.stdout.read().decode()
    process.wait(timeout=300)
    os.close(master)
    return process.returncode, stdout, seen.decode("utf-8", "replace")


@pytest.fixture
def archive_copy(crawl, tmp_path) -> Path:
    """The shared crawl's archive, copied: reextract adds a crawl to it."""
    copy = tmp_path / "archive"
    shutil.copytree(crawl.archive, copy)
    return copy


def _long_commands(archive: Path, crawl_id: str, out: Path) -> dict[str, list[str]]:
    return {
        "verify": ["verify", str(archive)],
        "stats": ["stats", str(archive)],
        "export": ["export", str(archive), "-o", str(out / "export")],
        "wacz": ["wacz", str(archive), crawl_id, "-o", str(out / "c.wacz")],
        "reextract": ["reextract", str(archive), "--workers", "1"],
    }


def test_long_commands_show_a_bar_on_a_terminal(archive_copy, crawl, tmp_path):
    bars = {  # the bar's label, and its unit: bytes of WARC or text records
        "verify": [("verify", "B/s")],
        "stats": [("stats", "rec/s")],
        "export": [("export", "rec/s")],
        "wacz": [("wacz", "B/s")],
        "reextract": [("check WARC", "B/s"), ("reextract", "B/s")],
    }
    commands = _long_commands(archive_copy, crawl.manifest["crawl_id"], tmp_path)
    for name, args in commands.items():
        status, stdout, terminal = on_a_terminal(*args)
        assert status == 0, (name, terminal[-2000:])
        for label, unit in bars[name]:
            # the finished bar: label, 100 %, count/total, elapsed<ETA and the rate
            finished = rf"{label}: 100%\|[^\r\n]*\| *\S+/\S+ \[\d\d:\d\d<\d\d:\d\d, *\S+{unit}\]"
            assert re.search(finished, terminal), (name, terminal[-1000:])
        assert "%|" not in stdout, name  # the report itself stays clean


def test_long_commands_are_quiet_when_stderr_is_not_a_terminal(archive_copy, crawl, tmp_path):
    commands = _long_commands(archive_copy, crawl.manifest["crawl_id"], tmp_path)
    for name, args in commands.items():
        result = newsarchive(*args)
        assert result.returncode == 0, (name, result.stderr[-2000:])
        assert result.stderr == "", (name, result.stderr[-2000:])
        assert "\r" not in result.stdout and "%|" not in result.stdout, name
    # --progress asks for the bar anyway (a log that wants it)
    forced = newsarchive("verify", str(archive_copy), "--progress")
    assert re.search(r"verify: 100%\|", forced.stderr), forced.stderr[-1000:]


def test_every_archive_command_takes_the_archive_first_with_its_default():
    for name in ARCHIVE_COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        usage = result.output.splitlines()[0]
        assert re.search(rf"Usage: .*{name} \[OPTIONS\] \[ARCHIVE\]", usage), (name, usage)
        arguments = result.output.split("Arguments:", 1)[1].split("Options:", 1)[0]
        assert re.search(r"ARCHIVE\s+The archive: .*\[default:\s+\./archive\]",
                         " ".join(arguments.split())), (name, arguments)
        assert "--archive" not in result.output, name  # the old option stays hidden


# Options whose value is free text (TEXT is the right word for them).
FREE_TEXT = {("takedown", "--reason"), ("takedown", "--by")}


def test_options_are_typed_in_every_help():
    """Where a type applies, --help says so (INTEGER, PATH, URL, a choice…), not TEXT."""
    result = CliRunner().invoke(main, ["--help"])
    names = re.findall(r"^  (\S+)", result.output.split("Commands:", 1)[1], re.M)
    assert len(names) >= 14, names
    helps = {name: CliRunner().invoke(main, [name, "--help"]).output for name in names}
    for sub in ("list", "check"):
        helps[f"sites {sub}"] = CliRunner().invoke(main, ["sites", sub, "--help"]).output
    for name, text in helps.items():
        shown = set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+) TEXT\b", text, re.M))
        assert shown <= {opt for cmd, opt in FREE_TEXT if cmd == name}, (name, shown)
    assert "--port INTEGER RANGE" in helps["replay"]
    assert "--log-level [debug|info|warning|error]" in helps["demo"].lower()
    assert "-o, --out DIRECTORY" in helps["export"]
    assert "--redis URL" in helps["enqueue"] and "--since DATE" in helps["stats"]


def test_the_old_archive_option_still_works_with_a_note(crawl, tmp_path):
    record_id = load_manifest(crawl.archive)["crawl_id"]
    old_show = newsarchive("show", "--archive", str(crawl.archive), "--json", "00000000x")
    assert old_show.returncode == 2
    assert old_show.stderr.splitlines()[0] == (
        "newsarchive: warning: --archive is deprecated; give the archive as the first "
        f"argument: newsarchive show {crawl.archive} 00000000x"
    )
    assert f"no article '00000000x' in {crawl.archive}" in old_show.stderr
    old_wacz = newsarchive("wacz", "--archive", str(crawl.archive), record_id,
                           "-o", str(tmp_path / "old.wacz"))
    new_wacz = newsarchive("wacz", str(crawl.archive), record_id,
                           "-o", str(tmp_path / "new.wacz"))
    assert old_wacz.returncode == new_wacz.returncode == 0, old_wacz.stderr
    assert old_wacz.stderr.count("\n") == 1 and "--archive is deprecated" in old_wacz.stderr
    assert new_wacz.stderr == ""
    assert (tmp_path / "old.wacz").stat().st_size > 0
    both = newsarchive("wacz", str(tmp_path), record_id, "--archive", str(crawl.archive))
    assert both.returncode == 2 and "give the archive once" in both.stderr
    # One argument is the article: the archive is ./archive (here: none)
    alone = newsarchive("show", str(crawl.archive), cwd=tmp_path)
    assert alone.returncode == 2
    assert alone.stderr == "newsarchive: error: archive archive does not exist\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("running: ")]
    assert len(lines) == 1, stdout
    return lines[0].removeprefix("running: ")


@pytest.mark.e2e
def test_demo_twice_revisits_and_its_printed_command_works_typed(tmp_path):
    """The second demo into the same archive finds every article unchanged; the command
    the demo prints, typed into a shell while the sample site serves, crawls again."""
    port = _free_port()
    # the registry the demo writes for a port other than 8000 goes to the temp folder
    temp = {"TMPDIR": str(tmp_path)}
    first = newsarchive("demo", "--port", str(port), cwd=tmp_path, env=temp)
    assert first.returncode == 0, first.stderr[-3000:]
    # Only the summary on the terminal: Scrapy's log is in the file the demo names.
    assert first.stderr == ""
    assert "[scrapy" not in first.stdout and "Dumping Scrapy stats" not in first.stdout
    assert len(first.stdout.splitlines()) < 30, first.stdout
    log = re.search(r"^crawl log: (.+)$", first.stdout, re.M).group(1)
    assert "Dumping Scrapy stats" in (tmp_path / log).read_text()
    archive = tmp_path / "archive"
    manifests = sorted((archive / "crawls").glob("*.json"))
    assert len(manifests) == 1
    first_counts = load_manifest(archive)["counts"]
    articles = first_counts["articles"]
    assert articles >= 33 and first_counts["articles_by_kind"]["new"] == articles
    assert f"this run: {articles} new, 0 changed, 0 unchanged (revisits)" in first.stdout

    second = newsarchive("demo", "--archive", "archive", "--port", str(port), cwd=tmp_path,
                         env=temp)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "--archive is deprecated" in second.stderr
    latest = sorted((archive / "crawls").glob("*.json"))[-1]
    import json

    kinds = json.loads(latest.read_text())["counts"]["articles_by_kind"]
    assert kinds == {"new": 0, "changed": 0, "unchanged": articles}
    assert f"this run: 0 new, 0 changed, {articles} unchanged (revisits)" in second.stdout

    # Exactly the printed command, in a shell, from the same folder, against the site
    # served as `newsarchive sample-site` serves it.
    typed = _running_line(second.stdout)
    assert typed.startswith("SCRAPY_SETTINGS_MODULE=newsarchive.settings scrapy crawl news ")
    assert f" NEWSARCHIVE_SITES=newsarchive-demo/sites-{port}.toml " in typed
    env = {**os.environ, "PYTHONPATH": str(ROOT), **temp}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    site = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "sample-site", "--port", str(port)],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert site.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        shell = subprocess.run(["bash", "-c", typed], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)
    finally:
        site.terminate()
        site.wait(timeout=10)
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert "unknown site" not in shell.stderr
    third = json.loads(sorted((archive / "crawls").glob("*.json"))[-1].read_text())
    assert len(list((archive / "crawls").glob("*.json"))) == 3
    assert third["crawl"]["site"] == "sample-gazette"
    assert third["counts"]["articles_by_kind"]["unchanged"] == articles


def test_the_shipped_registry_names_the_sample_sites_default_port():
    """`newsarchive sample-site` with its defaults is what the printed command crawls."""
    from newsarchive.discovery.sites import load_registry
    from newsarchive.tools.demo import DEFAULT_PORT, REGISTRY, SITE_NAME

    site = load_registry(REGISTRY)[SITE_NAME]
    assert site.start_urls == (f"http://127.0.0.1:{DEFAULT_PORT}/",)
    from newsarchive.cli.sample_site import command

    assert next(p for p in command.params if p.name == "port").default == DEFAULT_PORT


def test_a_crawl_logs_a_status_line_and_ends_with_a_summary(sample_site, tmp_path):
    archive = tmp_path / "archive"
    # 54 pages at 0.1 s apart take at least 5 s: several 1-second status lines.
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", "NEWSARCHIVE_STATUS_INTERVAL=1",
        "-s", "DOWNLOAD_DELAY=0.1",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    log = process.stderr
    status = re.findall(
        r"\[newsarchive\.crawl\.status\] INFO: status: (\d+) pages \((\d+)/min\), "
        r"(\d+) articles \((\d+) new, (\d+) changed, (\d+) unchanged\), errors: (\d+)$",
        log, re.M,
    )
    assert len(status) >= 2, log[-3000:]
    pages = [int(s[0]) for s in status]
    assert pages == sorted(pages) and pages[-1] > 0
    # Scrapy's own logging is all still there
    assert "[scrapy.extensions.logstats] INFO: Crawled" in log
    assert "Dumping Scrapy stats" in log
    manifest = load_manifest(archive)
    counts = manifest["counts"]
    end = log[log.index("Dumping Scrapy stats"):]
    lines = [line.split("INFO: ", 1)[1] for line in end.splitlines()
             if "[newsarchive.crawl.extension] INFO: " in line]
    assert lines[0] == f"crawl {manifest['crawl_id']} done: ok"
    assert lines[1] == (
        f"  articles: {counts['articles']} new, 0 changed, 0 unchanged (revisits); "
        f"{counts['articles']} with text"
    )
    assert lines[2].startswith(f"  pages: {counts['responses']} fetched, ")
    assert re.fullmatch(r"  stored: [\d.]+ KB in 1 WARC file\(s\) and 3 other file\(s\); "
                        r"[\d.]+ KB downloaded", lines[3]), lines[3]
    assert lines[4] == f"  archive: {archive} (manifest crawls/{manifest['crawl_id']}.json)"
    assert lines[5].startswith("  run summary: ") and Path(lines[5].split(": ", 1)[1]).is_file()


@pytest.mark.e2e
@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_a_wrong_status_interval_stops_the_crawl_at_once(value, tmp_path):
    process = scrapy_crawl(
        "-a", "url=http://127.0.0.1:9/", "-s", f"NEWSARCHIVE_ARCHIVE={tmp_path / 'a'}",
        "-s", f"NEWSARCHIVE_STATUS_INTERVAL={value}",
    )
    assert process.returncode == 2
    assert process.stderr.startswith("newsarchive: error: NEWSARCHIVE_STATUS_INTERVAL must")
    assert process.stderr.count("\n") == 1
