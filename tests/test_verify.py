"""`newsarchive verify`: a clean crawl passes; damaged copies of it are caught."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.storage import open_store
from newsarchive.tools.verify import verify_archive


def run(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


@pytest.fixture
def copy(crawl, tmp_path) -> Path:
    """A copy of the shared crawl's archive, to damage."""
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".*"))
    return archive


def key_of(crawl, kind: str) -> str:
    return next(e["key"] for e in crawl.manifest["files"] if e["kind"] == kind)


def test_a_clean_crawl_passes(crawl):
    result = run(str(crawl.archive), crawl.manifest["crawl_id"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("all good")
    for entry in crawl.manifest["files"]:
        assert f"ok   {entry['key']}" in result.output
    assert "digests pass" in result.output


def test_one_flipped_byte_is_caught(crawl, copy):
    key = key_of(crawl, "warc")
    path = copy / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = run(str(copy))
    assert result.exit_code == 1, result.output
    assert f"FAIL {key}" in result.output
    assert "sha256" in result.output and "the manifest says" in result.output


def test_a_missing_file_and_an_orphan_are_reported(crawl, copy):
    missing = key_of(crawl, "text")
    (copy / missing).unlink()
    orphan = copy / "warc" / "20200101T000000Z-abcdef" / "left-behind.warc.gz"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"from a crash")
    result = run(str(copy))
    assert result.exit_code == 1, result.output
    assert f"FAIL {missing}" in result.output
    assert "missing: listed in the manifest but not stored" in result.output
    assert "orphans (stored, but no manifest lists them): 1" in result.output
    assert "warc/20200101T000000Z-abcdef/left-behind.warc.gz" in result.output
    # Asked about one crawl, orphans of other crawls are not its business.
    assert "left-behind" not in run(str(copy), crawl.manifest["crawl_id"]).output


def _relist(archive: Path, crawl, key: str) -> None:
    """Make the manifest agree with a rewritten file, so only deeper checks can tell."""
    manifest_path = archive / "crawls" / f"{crawl.manifest['crawl_id']}.json"
    manifest = json.loads(manifest_path.read_text())
    data = (archive / key).read_bytes()
    for entry in manifest["files"]:
        if entry["key"] == key:
            entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_a_record_whose_body_no_longer_matches_its_digest(crawl, copy):
    """A well-formed gzip member with one changed body byte: only the digest knows."""
    key = key_of(crawl, "warc")
    data = (copy / key).read_bytes()
    members, rest = [], data
    while rest:
        inflater = zlib.decompressobj(zlib.MAX_WBITS + 16)
        members.append(inflater.decompress(rest))
        rest = inflater.unused_data
    target = next(i for i, m in enumerate(members) if b"WARC-Type: response" in m)
    member = members[target]
    members[target] = member[:-10] + bytes([member[-10] ^ 0x01]) + member[-9:]
    # Recompressed, so the members' lengths (and the index's offsets) change as well.
    (copy / key).write_bytes(b"".join(gzip.compress(m, mtime=0) for m in members))
    _relist(copy, crawl, key)
    report = verify_archive(open_store(str(copy)))
    assert not report.ok
    bad = {f.key: f for c in report.crawls for f in c.files if f.problems}
    assert set(bad) <= {key, key.removesuffix(".warc.gz") + ".cdxj"}  # offsets moved too
    bad = bad[key]
    assert any("payload digest failed" in p or "block digest failed" in p for p in bad.problems)
    assert "1 failed digest checks" in bad.detail


def test_an_index_that_points_elsewhere(crawl, copy):
    key = key_of(crawl, "cdxj")
    lines = (copy / key).read_text().splitlines(keepends=True)
    first = json.loads(lines[0].split(" ", 2)[2])
    first["offset"] = str(int(first["offset"]) + 1)
    urlkey, ts, _ = lines[0].split(" ", 2)
    lines[0] = f"{urlkey} {ts} {json.dumps(first)}\n"
    (copy / key).write_text("".join(lines))
    _relist(copy, crawl, key)
    result = run(str(copy))
    assert result.exit_code == 1
    assert f"FAIL {key}" in result.output
    assert "where the WARC has no such record" in result.output
    assert "record(s) of the WARC not in the index" in result.output


def test_unknown_crawl_is_a_usage_error(crawl):
    result = run(str(crawl.archive), "nosuchcrawl")
    assert result.exit_code == 2
    assert "no manifest for crawl 'nosuchcrawl'" in result.output


def test_verify_reads_through_the_store_on_a_bucket_too(archive_crawl):
    report = verify_archive(archive_crawl.store, archive_crawl.manifest["crawl_id"])
    assert report.ok, report.render()
    assert {f.key for c in report.crawls for f in c.files} == {
        e["key"] for e in archive_crawl.manifest["files"]
    }


def test_a_path_that_is_no_archive_is_an_error_not_all_good(tmp_path):
    missing = run(str(tmp_path / "no" / "such"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    other = run(str(folder))
    assert other.exit_code == 2 and "is not a newsarchive archive" in other.output
    for result in (missing, other):
        assert "all good" not in result.output and result.output.count("\n") == 1


def test_damaged_gzip_data_is_one_problem_not_stray_lines_and_a_false_index_report(
    crawl, copy
):
    """warcio prints a damaged gzip member's zlib error to stderr (once per read), skips
    to the next member and goes on: verify said "digests pass", left the error lines on
    stderr and reported every index line past the damage (26 problems for one byte)."""
    key = key_of(crawl, "warc")
    path = copy / key
    index = (copy / key_of(crawl, "cdxj")).read_text().splitlines()
    record = json.loads(index[len(index) // 2].split(" ", 2)[2])
    data = bytearray(path.read_bytes())
    data[int(record["offset"]) + int(record["length"]) // 2] ^= 0xFF  # inside its deflate data
    path.write_bytes(bytes(data))
    result = run(str(copy))
    assert result.exit_code == 1, result.output
    assert "Error -3" not in result.stderr
    (line,) = [x for x in result.output.splitlines() if f"FAIL {key}" in x]
    assert "digests pass" not in line, result.output
    # zlib may stop at the bad member ("damaged gzip data") or warcio may read garbage
    # as the next record ("unreadable after N records"): either way, one damaged file.
    assert "damaged" in line, result.output
    assert "where the WARC has no such record" not in result.output
    problems = int(result.output.rstrip().rsplit(": ", 1)[1].split()[0])
    assert problems <= 4, result.output
