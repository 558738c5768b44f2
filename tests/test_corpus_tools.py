"""`newsarchive stats` and `show`, exact dedupe across two real crawls, partition pruning,
and dedupe figures on a synthetic archive."""

from __future__ import annotations

import gzip
import json
import os
import pty
import shutil
import struct
import subprocess
import sys

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.corpus import synthetic
from newsarchive.corpus.dedupe import DedupeOptions
from newsarchive.corpus.export import plan_dedupe
from newsarchive.corpus.filters import Filter
from newsarchive.corpus.reader import Archive
from newsarchive.storage import open_store
from tests.helpers import ROOT, scrapy_crawl, text_records


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def archived(archive_crawl) -> list[dict]:
    records = []
    for key in archive_crawl.keys("text"):
        records += [json.loads(x) for x in gzip.decompress(archive_crawl.read(key)).splitlines()]
    return records


def test_stats_table_json_and_plot(archive_crawl, tmp_path):
    records = archived(archive_crawl)
    counts = archive_crawl.manifest["counts"]
    table = run("stats", archive_crawl.uri)
    assert table.exit_code == 0, table.output
    site = records[0]["site"]
    assert f"{len(records)} articles from 1 crawl(s)" in table.output
    assert any(line.split() == [site, str(len(records))] for line in table.output.splitlines())
    for reason, n in counts["discarded"].items():
        assert any(line.split() == ["discarded:", reason, str(n)]
                   for line in table.output.splitlines())

    plot = tmp_path / "days.png"
    result = run("stats", archive_crawl.uri, "--json", "--plot", str(plot), "--lang", "de")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["articles"] == 6 and figures["per_language"] == {"de": 6}
    assert sum(figures["per_day"][site].values()) == 6
    assert figures["crawl_counts"]["discarded"] == counts["discarded"]
    assert figures["crawl_counts"]["robots_forbidden"] == counts["robots_forbidden"]
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 500)


def test_show_by_id_and_url_with_warc_provenance_and_raw_response(archive_crawl):
    record = next(r for r in archived(archive_crawl) if r["language"] == "fr")
    shown = run("show", archive_crawl.uri, record["id"][:8])
    assert shown.exit_code == 0, shown.output
    assert record["title"] in shown.output
    assert f"WARC-Record-ID: {record['warc']['record_id']}" in shown.output
    assert f"WARC-Target-URI: {record['url']}" in shown.output
    assert "payload digest matches the archived body" in shown.output
    by_url = run("show", archive_crawl.uri, "--json", record["url"])
    assert json.loads(by_url.output) == record

    raw = run("show", archive_crawl.uri, "--raw", record["id"])
    assert raw.exit_code == 0
    assert raw.stdout_bytes.startswith(b"HTTP/1.1 200 OK\r\n")
    head, _, body = raw.stdout_bytes.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head  # as received: the site gzips its pages
    assert gzip.decompress(body).startswith(b"<")
    decoded = run("show", archive_crawl.uri, "--raw", "--decode", record["id"])
    assert record["title"].encode() in decoded.stdout_bytes.partition(b"\r\n\r\n")[2]


def _show_on_a_terminal(archive: str, *args: str) -> tuple[int, bytes]:
    """`newsarchive show` with its stdout on a real pseudo-terminal, as a person runs it."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.cli", "show", archive, *args],
        stdout=terminal, stderr=subprocess.STDOUT, cwd=ROOT,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(60), output


def test_show_raw_refuses_compressed_bytes_on_a_terminal(crawl):
    record = text_records(crawl.archive, crawl.manifest)[0]
    status, output = _show_on_a_terminal(str(crawl.archive), "--raw", record["id"])
    assert status == 2, output
    assert b"\x1f\x8b" not in output and b"add --decode" in output
    status, output = _show_on_a_terminal(str(crawl.archive), "--raw", "--decode", record["id"])
    assert status == 0, output
    assert record["title"].encode() in output


@pytest.fixture
def two_crawls(archive_crawl, sample_site, tmp_path_factory):
    """A copy of the folder crawl plus a second, full (not incremental) crawl into it:
    every article archived twice with the same text."""
    first = archive_crawl
    root = tmp_path_factory.mktemp("two-crawls")
    archive = root / "archive"
    shutil.copytree(first.uri, archive)
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", f"NEWSARCHIVE_SPOOL={root / 'spool'}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2",
        "-s", "NEWSARCHIVE_INCREMENTAL=false",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return archive, first


@pytest.mark.parametrize("archive_crawl", ["folder"], indirect=True)
def test_exact_dedupe_across_two_crawls_keeps_the_first_capture(
    archive_crawl, two_crawls, tmp_path
):
    archive, first = two_crawls
    crawl_ids = Archive(str(archive)).crawl_ids()
    assert len(crawl_ids) == 2 and crawl_ids[0] == first.manifest["crawl_id"]
    out = tmp_path / "exact"
    result = run("export", str(archive), "-o", str(out), "--dedupe", "exact")
    assert result.exit_code == 0, result.output
    kept = [json.loads(x) for x in (out / "corpus.jsonl").read_text().splitlines()]
    originals = archived(first)
    assert len(kept) == len(originals)
    assert {r["crawl_id"] for r in kept} == {crawl_ids[0]}  # same dates: earliest fetch wins
    card = json.loads((out / "datacard.json").read_text())
    assert card["counts"]["read"] == 2 * len(originals)
    assert card["dedupe"]["dropped_exact"] == len(originals)
    assert card["dedupe"]["duplicate_groups"] == len(originals)
    assert [c["crawl_id"] for c in card["crawls"]] == crawl_ids

    near = tmp_path / "near"
    assert run("export", str(archive), "-o", str(near), "--dedupe", "near").exit_code == 0
    assert len((near / "corpus.jsonl").read_text().splitlines()) == len(originals) - 1

    second = tmp_path / "second"
    assert run("export", str(archive), "-o", str(second), "--crawl", crawl_ids[1]).exit_code == 0
    rows = [json.loads(x) for x in (second / "corpus.jsonl").read_text().splitlines()]
    assert {r["crawl_id"] for r in rows} == {crawl_ids[1]} and len(rows) == len(originals)

    stats = json.loads(run("stats", str(archive), "--json").output)
    assert stats["articles"] == 2 * len(originals) and stats["crawls"] == crawl_ids


class CountingStore:
    """A store that remembers which keys were read (to see partition pruning)."""

    def __init__(self, store):
        self._store = store
        self.uri = store.uri
        self.read: list[str] = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def read_bytes(self, key):
        self.read.append(key)
        return self._store.read_bytes(key)


@pytest.fixture(scope="module")
def small_synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    built = synthetic.build(root, 3000, sites=2, days=3, shard_records=400, copy_share=0.02)
    return root, built


def test_only_the_partitions_a_filter_needs_are_read(small_synthetic):
    root, _ = small_synthetic
    store = CountingStore(open_store(str(root)))
    archive = Archive(store)
    texts = [k for k in store.list("text/")]
    days = sorted({k.split("/")[2] for k in texts})
    assert len(days) == 3

    records = list(archive.records(Filter.build(site="site0")))
    read = [k for k in store.read if k.startswith("text/")]
    assert read and all("/site=site0/" in k for k in read)
    assert len(read) == len([k for k in texts if "/site=site0/" in k])
    assert {r["site"] for r in records} == {"site0"}

    store.read.clear()
    day = days[1].removeprefix("date=")
    records = list(archive.records(Filter.build(since=day, until=day, date_field="fetched")))
    read = [k for k in store.read if k.startswith("text/")]
    assert read and all(f"/date={day}/" in k for k in read)
    assert records and all(r["fetched_at"].startswith(day) for r in records)

    store.read.clear()
    list(archive.records(Filter.build(since=day, until=day)))  # published: no pruning
    assert sorted(k for k in store.read if k.startswith("text/")) == sorted(texts)
    # However small the read-ahead budget, every shard is still read, once, in order.
    store.read.clear()
    assert sum(1 for _ in Archive(store, workers=2, prefetch_bytes=1).records()) == 3000
    assert [k for k in store.read if k.startswith("text/")] == [s.key for s in archive.shards()]


def test_dedupe_figures_on_a_synthetic_archive(small_synthetic, tmp_path):
    root, built = small_synthetic
    archive = Archive(str(root))
    shards = archive.shards()
    exact = plan_dedupe(archive, Filter(), shards, DedupeOptions(mode="exact"), tmp_path)
    assert exact.seen == 3000
    assert exact.exact_dropped == built.exact_copies
    near = plan_dedupe(archive, Filter(), shards, DedupeOptions(mode="near"), tmp_path)
    assert near.exact_dropped == built.exact_copies
    assert near.near_dropped == built.near_copies
    # Every kept record is an original or the first copy: no two kept texts are copies.
    assert int((~near.drop).sum()) == 3000 - built.exact_copies - built.near_copies


@pytest.mark.e2e
def test_export_command_shows_progress_and_a_summary(small_synthetic, tmp_path):
    root, _ = small_synthetic
    out = tmp_path / "out"
    process = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "export", str(root), "-o", str(out),
         "--format", "parquet", "--dedupe", "exact", "--progress"],
        capture_output=True, text=True, timeout=120,
    )
    assert process.returncode == 0, process.stderr
    assert "dedupe (exact)" in process.stderr and "export" in process.stderr
    assert "rec/s" in process.stderr and "3.00k/3.00k" in process.stderr
    assert process.stdout.startswith("exported ")
    assert "records/s" in process.stdout


def test_plot_format_follows_the_extension_and_options_are_typed(crawl, tmp_path):
    magic = {"svg": b"<?xml", "pdf": b"%PDF-"}
    for ext, head in magic.items():
        path = tmp_path / f"plot.{ext}"
        result = run("stats", str(crawl.archive), "--plot", str(path))
        assert result.exit_code == 0, result.output
        assert path.read_bytes().startswith(head)
    jpg = CliRunner().invoke(main, ["stats", str(crawl.archive), "--plot", str(tmp_path / "p.jpg")])
    assert jpg.exit_code == 2 and "name a .png, .svg, .pdf file" in jpg.output
    assert not (tmp_path / "p.jpg").exists()
    words = CliRunner().invoke(main, ["stats", str(crawl.archive), "--min-words", "many"])
    assert words.exit_code == 2 and "'many' is not a valid integer" in words.output
    assert "--min-words N" in run("export", "--help").output


def test_show_of_a_url_without_its_scheme_says_so(crawl):
    record = text_records(crawl.archive, crawl.manifest)[0]
    bare = record["url"].split("://", 1)[1]
    result = CliRunner().invoke(main, ["show", str(crawl.archive), bare])
    assert result.exit_code == 2
    assert f"a URL needs its scheme: https://{bare}" in result.output
