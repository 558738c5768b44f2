"""`newsarchive reextract`: new text records for an old crawl from its WARC files alone."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.tools.reextract import _fastwarc_responses, _warcio_responses, reextract
from tests.helpers import Crawl, text_records


def newsarchive(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", *args],
        capture_output=True, text=True, timeout=300,
    )


def records(archive: Path, manifest: dict) -> list[dict]:
    return text_records(archive, manifest)


def manifests(archive: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (archive / "crawls").glob("*.json")}


@pytest.fixture
def archive(crawl: Crawl, tmp_path: Path) -> Path:
    """A private copy of the session crawl's archive (the fixture is shared read-only)."""
    copy = tmp_path / "archive"
    shutil.copytree(crawl.archive, copy, ignore=shutil.ignore_patterns(".spool"))
    return copy


def test_reextract_writes_a_new_crawl_and_keeps_the_old(crawl: Crawl, archive: Path) -> None:
    old_id = crawl.manifest["crawl_id"]
    before = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}

    result = newsarchive("reextract", str(archive), "--crawl", old_id, "--workers", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"re-extracted crawl {old_id} as crawl " in result.stdout

    for path, data in before.items():  # nothing of the old crawl changed
        assert path.read_bytes() == data, path
    found = manifests(archive)
    assert len(found) == 2
    new_id = next(i for i in found if i != old_id)
    new = found[new_id]
    assert new["crawl"]["reextract_of"] == old_id
    assert new["crawl"]["warc_files"] == sorted(
        f["key"] for f in crawl.manifest["files"] if f["kind"] == "warc"
    )
    assert {f["kind"] for f in new["files"]} == {"text"}  # WARCs are referenced, not copied
    assert all(f["key"].rsplit("/", 1)[-1].startswith(new_id) for f in new["files"])

    old_records = {r["id"]: r for r in records(archive, crawl.manifest)}
    new_records = {r["id"]: r for r in records(archive, new)}
    assert new["counts"]["articles"] == len(new_records) == len(old_records) >= 33
    assert new_records.keys() == old_records.keys()
    for record_id, record in new_records.items():
        old = old_records[record_id]
        assert record["crawl_id"] == new_id
        assert record["warc"] == old["warc"]  # provenance: the original response record
        for key in ("url", "canonical_url", "site", "fetched_at", "discovery", "http_status"):
            assert record[key] == old[key], key
        assert record["text"] == old["text"]  # same extractor, same WARC bytes
        assert set(record["quality"]) >= {"short_body", "likely_paywall", "likely_truncated"}


def test_new_records_point_at_the_archived_bytes(archive: Path) -> None:
    outcome = reextract(str(archive), workers=1)
    new = manifests(archive)[outcome.crawl_id]
    for record in records(archive, new)[:5]:
        warc = record["warc"]
        with open(archive / warc["file"], "rb") as f:
            f.seek(warc["offset"])
            member = f.read(warc["length"])
        entry = next(ArchiveIterator(io.BytesIO(member)))
        assert entry.rec_headers.get_header("WARC-Record-ID") == warc["record_id"]
        assert entry.rec_headers.get_header("WARC-Target-URI") == record["url"]


def test_pages_without_old_records_are_found_by_classification(
    crawl: Crawl, archive: Path
) -> None:
    # A crawl that archived the same WARC files but kept no text (WARC-only archiving).
    warc_only = {**crawl.manifest, "crawl_id": "20000101T000000Z-000000"}
    warc_only["files"] = [f for f in crawl.manifest["files"] if f["kind"] != "text"]
    (archive / "crawls" / "20000101T000000Z-000000.json").write_text(json.dumps(warc_only))

    outcome = reextract(str(archive), "20000101T000000Z-000000", workers=1)
    assert outcome.previous_articles == 0
    assert outcome.articles == crawl.manifest["counts"]["articles"]
    new = manifests(archive)[outcome.crawl_id]
    assert {r["discovery"] for r in records(archive, new)} == {"link"}  # not known any more

    # a re-extraction of a re-extraction reads the WARC files of the original crawl
    again = reextract(str(archive), outcome.crawl_id, workers=1)
    assert again.articles == outcome.articles
    assert manifests(archive)[again.crawl_id]["crawl"]["warc_crawl"] == "20000101T000000Z-000000"


def test_warc_readers_agree(crawl: Crawl) -> None:
    for path in crawl.files("warc"):
        key = path.relative_to(crawl.archive).as_posix()
        with open(path, "rb") as a, open(path, "rb") as b:
            fast = list(_fastwarc_responses(a, key, path.stat().st_size))
            slow = list(_warcio_responses(b, key))
        assert fast == slow
        assert any(r.content_type == "text/html" and b"<html" in r.body for r in fast)


def test_errors_are_one_line(tmp_path: Path, archive: Path) -> None:
    result = newsarchive("reextract", str(tmp_path / "empty"))
    assert result.returncode == 2
    assert result.stderr.startswith("newsarchive: error: no complete crawl")
    assert not (tmp_path / "empty").exists()  # nothing created by a run that cannot start
    result = newsarchive("reextract", str(archive), "--crawl", "nosuch")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"newsarchive: error: no manifest for crawl 'nosuch' in {archive}"
    )


def test_the_site_entry_of_the_crawl_is_used(tmp_path: Path) -> None:
    from newsarchive.tools.reextract import Response, _is_candidate, _site_entry
    from newsarchive.warc.writer import RecordLocation

    registry = tmp_path / "sites.toml"
    registry.write_text(
        '[[site]]\nname = "gazette"\nstart_urls = ["https://gazette.test/"]\n'
        'article_patterns = ["/story/"]\ndeny_patterns = ["/live/"]\n'
        'drop_selectors = ["div.promo"]\nlanguage = "de"\n'
    )
    entry = _site_entry(str(registry), "gazette")
    assert entry is not None and entry.drop_selectors == ("div.promo",)
    assert _site_entry(str(registry), "127-0-0-1-8080") is None
    assert _site_entry(str(tmp_path / "missing.toml"), "gazette") is None  # logged, not fatal

    def page(url: str) -> Response:
        location = RecordLocation("warc/x.warc.gz", 0, 1, "<urn:uuid:x>", None, "")
        return Response(location, url, 200, "text/html", "utf-8", b"<html><p>x</p></html>")

    assert _is_candidate(page("https://gazette.test/story/42"), {}, entry)
    assert not _is_candidate(page("https://gazette.test/story/live/42"), {}, entry)
    assert not _is_candidate(page("https://gazette.test/about"), {}, entry)


def test_each_capture_counts_once_after_two_reextracts(crawl: Crawl, archive: Path,
                                                         tmp_path: Path) -> None:
    from newsarchive.corpus import Corpus

    old_id = crawl.manifest["crawl_id"]
    articles = crawl.manifest["counts"]["articles"]
    for _ in range(2):
        result = newsarchive("reextract", str(archive), "--crawl", old_id, "--workers", "2")
        assert result.returncode == 0, result.stderr[-3000:]
    assert len(manifests(archive)) == 3

    stats = json.loads(newsarchive("stats", str(archive), "--json").stdout)
    assert stats["articles"] == articles
    assert stats["crawl_counts"]["articles"] == articles
    assert stats["crawl_counts"]["requests"] == crawl.manifest["counts"]["requests"]
    every = json.loads(newsarchive("stats", str(archive), "--json", "--all-extractions").stdout)
    assert every["articles"] == 3 * articles

    out = tmp_path / "out"
    exported = newsarchive("export", str(archive), "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(x) for x in (out / "corpus.jsonl").read_text().splitlines()]
    assert len(lines) == articles
    newest = max(manifests(archive))  # crawl ids sort by time
    assert {r["crawl_id"] for r in lines} == {newest}

    assert Corpus(str(archive)).count() == articles
    assert Corpus(str(archive), all_extractions=True).count() == 3 * articles

    url = lines[0]["url"]
    shown = newsarchive("show", str(archive), url)
    assert shown.returncode == 0, shown.stderr
    assert "other captures of this URL" not in shown.stdout
    by_old_id = newsarchive("show", str(archive), "--json", lines[0]["id"])
    assert json.loads(by_old_id.stdout)["crawl_id"] == newest


def _damage(warc: Path, how: str) -> None:
    data = warc.read_bytes()
    if how == "truncated":
        warc.write_bytes(data[: len(data) // 2])
    else:  # one flipped byte in the middle of a gzip member
        middle = len(data) // 2
        warc.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])


@pytest.mark.parametrize("how", ["truncated", "flipped-byte"])
def test_a_damaged_warc_is_one_line_and_nothing_is_written(archive: Path, how: str) -> None:
    """A damaged source WARC gave a traceback (flipped byte) or an exit 0 with the texts
    after the damage silently missing (cut short); either way a journal was left that the
    next run "recovered" as a crawl with no files."""
    (warc,) = archive.glob("warc/*/*.warc.gz")
    _damage(warc, how)
    before = sorted(p.name for p in (archive / "crawls").iterdir())
    result = newsarchive("reextract", str(archive), "--workers", "1")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert warc.name in result.stderr and "newsarchive verify" in result.stderr
    assert sorted(p.name for p in (archive / "crawls").iterdir()) == before
    assert not list(archive.glob(".spool/journal/*"))
    assert not list(archive.glob("text/**/*.jsonl.gz"))[1:]  # only the crawl's own shard


KILL_AFTER = """
import os, signal, sys
from newsarchive.tools.reextract import reextract
seen = 0
def progress(response):
    global seen
    seen += 1
    if seen == 20:  # mid-run: pages extracted, the shard still open in the spool
        os.kill(os.getpid(), signal.SIGKILL)
reextract(sys.argv[1], workers=1, progress=progress)
"""


def test_a_killed_reextract_is_recovered_with_its_texts(crawl: Crawl, archive: Path) -> None:
    """Recovery kept a text record only if its WARC record was in the same crawl, so a
    killed (or SIGTERMed) re-extraction, whose texts cite the source crawl's WARC files,
    came back as a "crashed, recovered" crawl with no file at all."""
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER, str(archive)], capture_output=True, timeout=120
    )
    assert killed.returncode == -9
    (journal,) = archive.glob(".spool/journal/*.jsonl")
    result = newsarchive("reextract", str(archive), "--crawl", crawl.manifest["crawl_id"],
                         "--workers", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    recovered = manifests(archive)[journal.stem]
    assert recovered["crawl"]["finish_reason"] == "crashed, recovered"
    texts = records(archive, recovered)
    assert len(texts) >= 10 and recovered["crawl"]["recovered_text_dropped"] == 0
    source_warcs = {f["key"] for f in crawl.manifest["files"] if f["kind"] == "warc"}
    assert {t["warc"]["file"] for t in texts} <= source_warcs
    assert newsarchive("verify", str(archive)).returncode == 0


def test_the_extractor_mode_is_passed_through_and_recorded(crawl: Crawl, archive: Path) -> None:
    """The crawl's records say the default mode made them; `reextract --extractor fast`
    makes records that say fast, and an unknown mode is refused before anything runs."""
    modes = {r["extractor"]["options"]["mode"] for r in records(archive, crawl.manifest)}
    assert modes == {"accurate"}
    result = newsarchive("reextract", str(archive), "--extractor", "fast", "--workers", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    new = next(m for i, m in manifests(archive).items() if i != crawl.manifest["crawl_id"])
    assert new["settings"]["extractor"] == "fast"
    new_records = records(archive, new)
    assert new_records and {r["extractor"]["options"]["mode"] for r in new_records} == {"fast"}
    assert {r["extractor"]["options"]["fallback_below"] for r in new_records} == {None}
    refused = newsarchive("reextract", str(archive), "--extractor", "thorough")
    assert refused.returncode == 2 and "thorough" in refused.stderr
