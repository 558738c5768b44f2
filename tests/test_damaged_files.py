"""One damaged file costs only its own crawl: manifests, state snapshots, journals.

Parsers of what the archive and the spool hold get arbitrary bytes (hypothesis) and
may raise nothing but the project's own errors; the readers (incremental state,
export/stats, summary, verify, upload-pending, recovery) skip and name the damage.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.archive import layout
from newsarchive.archive.manifest import DamagedManifest, FileEntry, build_manifest, dumps, parse
from newsarchive.archive.pending import complete_pending
from newsarchive.archive.recovery import Journal, journal_path, parse_journal, recover_crawl
from newsarchive.archive.state import ArticleState, SiteState, parse_snapshot, state_key
from newsarchive.cli import main
from newsarchive.corpus.reader import Archive
from newsarchive.errors import ConfigError, StorageError
from newsarchive.storage import sha256_file
from newsarchive.storage.folder import FolderStore
from newsarchive.tools.verify import verify_archive
from tests.helpers import ROOT, scrapy_crawl

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# Documents shaped almost like a manifest, so the checks past "is it JSON" are reached.
near_manifests = st.fixed_dictionaries(
    {"format": st.sampled_from(["newsarchive-manifest/1", "other"]),
     "crawl_id": st.sampled_from(["c1", "c2"])},
    optional={
        "files": st.lists(
            st.dictionaries(
                st.sampled_from(["key", "kind", "size", "sha256", "records"]), json_values
            ),
            max_size=3,
        ) | json_values,
        "crawl": json_values, "counts": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
       | near_manifests.map(lambda v: json.dumps(v).encode()))
def test_manifest_parsing_raises_only_damaged_manifest(data):
    try:
        doc = parse(data, "c1")
    except DamagedManifest as e:
        assert e.crawl_id == "c1" and "\n" not in str(e)
        return
    assert doc["crawl_id"] == "c1"
    for entry in doc["files"]:
        FileEntry(**entry)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.lists(json_values, max_size=4).map(
    lambda rows: gzip.compress(b"\n".join(json.dumps(r).encode() for r in rows))
))
def test_state_snapshot_parsing_raises_only_storage_error(data):
    try:
        entries = parse_snapshot(data)
    except StorageError:
        return
    for key, state in entries.items():
        assert isinstance(key, str) and isinstance(state.url, str)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.lists(json_values, max_size=4).map(
    lambda rows: b"\n".join(json.dumps(r).encode() for r in rows)
))
def test_journal_parsing_never_raises(data):
    for entry in parse_journal(data):
        assert isinstance(entry.key, str) and isinstance(entry.size, int)


# --- an archive with one good and one damaged crawl, without crawling -------------------

def _put_crawl(store: FolderStore, tmp, crawl_id: str, site: str = "gazette") -> None:
    state = SiteState(site)
    state.put("k", ArticleState(url=f"https://n.example/{crawl_id}", fetched_at="t",
                                record_id="<r>", payload_digest="d"))
    snapshot = tmp / f"{crawl_id}.jsonl.gz"
    state.write(snapshot)
    key = state_key(site, crawl_id)
    entry = FileEntry(key, "state", snapshot.stat().st_size, sha256_file(snapshot), 1)
    store.put_file(snapshot, key, entry.sha256)
    doc = build_manifest(crawl_id=crawl_id, crawl={}, files=[entry], counts={}, settings={})
    store.put_bytes(layout.manifest_key(crawl_id), dumps(doc))


@pytest.fixture
def damaged(tmp_path):
    """c1 good, c2 newer with its manifest cut in the middle."""
    store = FolderStore(tmp_path / "archive")
    _put_crawl(store, tmp_path, "c1")
    _put_crawl(store, tmp_path, "c2")
    path = tmp_path / "archive" / "crawls" / "c2.json"
    path.write_bytes(path.read_bytes()[:150])
    return store


def test_state_skips_a_damaged_manifest_and_uses_the_older_crawl(damaged, caplog):
    state = SiteState.load(damaged, "gazette")
    assert state.get("k").url == "https://n.example/c1"
    assert "crawl c2: manifest is damaged" in caplog.text


def test_state_skips_a_damaged_snapshot(tmp_path, caplog):
    store = FolderStore(tmp_path / "archive")
    _put_crawl(store, tmp_path, "c1")
    _put_crawl(store, tmp_path, "c2")
    path = tmp_path / "archive" / state_key("gazette", "c2")
    path.write_bytes(path.read_bytes()[:20])
    assert SiteState.load(store, "gazette").get("k").url == "https://n.example/c1"
    assert "is damaged or unreadable" in caplog.text


def test_readers_skip_a_damaged_crawl_and_name_it(damaged):
    archive = Archive(damaged)
    assert archive.crawl_ids() == ["c1"]
    assert list(archive.damaged) == ["c2"]
    from newsarchive.corpus.filters import Filter

    with pytest.raises(StorageError, match="crawl c2: manifest is damaged"):
        archive.shards(Filter.build(crawl=["c2"]))


def test_verify_reports_a_damaged_manifest_as_one_problem(damaged):
    report = verify_archive(damaged)
    assert not report.ok and report.problem_count == 1
    assert report.orphans == []  # its state file is counted with it, not an orphan
    (line,) = [x for x in report.render().splitlines() if "is damaged" in x]
    assert "crawls/c2.json is damaged" in line and "1 stored file(s)" in line


def test_summary_shows_the_latest_readable_crawl_and_names_the_damaged_one(damaged):
    result = CliRunner().invoke(main, ["summary", damaged.uri])
    assert result.exit_code == 0, result.output
    assert "crawl c1" in result.stdout
    assert "crawl c2: manifest is damaged" in result.stderr
    named = CliRunner().invoke(main, ["summary", damaged.uri, "c2"])
    assert named.exit_code == 2 and "Traceback" not in named.output
    assert named.stderr.count("\n") == 1 and "crawl c2: manifest is damaged" in named.stderr


def test_a_damaged_pending_manifest_is_set_aside(tmp_path):
    store = FolderStore(tmp_path / "archive")
    spool = tmp_path / "spool"
    (spool / "crawls").mkdir(parents=True)
    (spool / "crawls" / "c9.json").write_bytes(b'{"format": "newsarchive-manifest/1", "cra')
    report = complete_pending(store, spool)
    assert report.damaged == ["c9"] and report.completed == []
    assert (spool / "crawls" / "c9.json.damaged").exists()
    assert not (spool / "crawls" / "c9.json").exists()


def test_recovery_of_a_crawl_whose_manifest_landed_only_removes_its_journal(tmp_path):
    store = FolderStore(tmp_path / "archive")
    _put_crawl(store, tmp_path, "c1")
    spool = tmp_path / "spool"
    key = state_key("gazette", "c1")
    local = spool / key
    local.parent.mkdir(parents=True)
    local.write_bytes(store.read_bytes(key))  # a copy the kill left behind
    journal = Journal(spool, "c1")
    journal.add(FileEntry(key, "state", local.stat().st_size, sha256_file(local), 1))
    journal.close(remove=False)
    before = store.read_bytes("crawls/c1.json")
    recover_crawl(store, spool, journal_path(spool, "c1"))
    assert store.read_bytes("crawls/c1.json") == before
    assert not journal_path(spool, "c1").exists() and not local.exists()


def test_a_journal_held_by_a_live_crawl_is_a_one_line_config_error(tmp_path):
    first = Journal(tmp_path, "same-id")
    try:
        with pytest.raises(ConfigError, match="crawl same-id is already running"):
            Journal(tmp_path, "same-id")
    finally:
        first.close(remove=True)


# --- the real thing: a crawl, and the commands, with one damaged manifest ---------------

def test_later_crawls_and_other_crawls_readers_survive_a_damaged_manifest(
    crawl, sample_site, tmp_path
):
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    (good,) = [p.stem for p in (archive / "crawls").glob("*.json")]
    # A newer crawl whose manifest was cut mid-write by something outside newsarchive.
    bad = "29991231T000000Z-dead00"
    (archive / "crawls" / f"{bad}.json").write_bytes(
        (archive / "crawls" / f"{good}.json").read_bytes()[:300]
    )
    later = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
    )
    assert later.returncode == 0, later.stderr[-3000:]
    assert f"crawl {bad}: manifest is damaged" in later.stderr
    assert "Traceback" not in later.stderr

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsarchive.cli", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    out = tmp_path / "out"
    export = cli("export", str(archive), "-o", str(out), "--crawl", good)
    assert export.returncode == 0, export.stderr
    assert f"crawl {bad} skipped" in export.stderr
    assert len((out / "corpus.jsonl").read_text().splitlines()) == crawl.manifest["counts"][
        "articles"
    ]
    stats = cli("stats", str(archive), "--json")
    assert stats.returncode == 0, stats.stderr
    assert bad not in json.loads(stats.stdout)["crawls"]
    summary = cli("summary", str(archive))
    assert summary.returncode == 0 and "Traceback" not in summary.stderr
    assert f"crawl {bad}: manifest is damaged" in summary.stderr
    verify = cli("verify", str(archive))
    assert verify.returncode == 1
    assert [line for line in verify.stdout.splitlines() if "is damaged" in line] != []
    assert "1 problem(s)" in verify.stdout


@pytest.mark.parametrize("cut", [b"", b"\x1f\x8b\x08", b"not gzip at all"])
def test_summary_names_a_damaged_text_shard_instead_of_aborting(crawl, tmp_path, cut):
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    (shard,) = [f["key"] for f in crawl.manifest["files"] if f["kind"] == "text"]
    data = (archive / shard).read_bytes()
    (archive / shard).write_bytes(cut or data[: len(data) // 3])
    result = CliRunner().invoke(main, ["summary", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Aborted" not in result.output and result.exception is None
    (line,) = [x for x in result.stdout.splitlines() if "damaged text shard" in x]
    assert shard in line and "newsarchive verify" in line


@pytest.mark.parametrize("damage", ["missing", "cut-short", "not-gzip", "not-json"])
@pytest.mark.parametrize("command", ["wacz", "reextract"])
def test_a_missing_or_damaged_text_shard_is_one_line_for_wacz_and_reextract(
    crawl, tmp_path, damage, command
):
    """Both read the crawl's text shards and raised FileNotFoundError, EOFError,
    BadGzipFile or JSONDecodeError as a traceback (exit 1)."""
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    (shard,) = [f["key"] for f in crawl.manifest["files"] if f["kind"] == "text"]
    path = archive / shard
    data = path.read_bytes()
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes({"cut-short": data[: len(data) // 3], "not-gzip": b"not gzip",
                          "not-json": gzip.compress(b"{\"id\": 1}\nnot json\n")}[damage])
    crawl_id = crawl.manifest["crawl_id"]
    args = {"wacz": ["wacz", str(archive), "-o", str(tmp_path / "c.wacz"),
                     crawl_id],
            "reextract": ["reextract", str(archive), "--crawl", crawl_id, "--workers", "1"]}
    result = CliRunner().invoke(main, args[command])
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, (OSError, EOFError, ValueError))
    (line,) = result.output.splitlines()
    assert line.startswith("newsarchive: error:") and shard in line
    assert sorted(p.stem for p in (archive / "crawls").iterdir()) == [crawl_id]
    assert not (tmp_path / "c.wacz").exists()
    assert not list(archive.glob(".spool/journal/*"))


def test_stray_entries_in_the_spool_do_not_stop_later_crawls(crawl, sample_site, tmp_path):
    """A folder named like a journal gave every later crawl an IsADirectoryError
    traceback (exit 1); a file `journal/bad name.jsonl` or `crawls/bad name.json` (a
    copy made by hand, an editor's backup) exit 3 before any request, "refusing unsafe
    archive key". Only entries named like a crawl id are a crawl's; others stay as
    they are."""
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    spool = tmp_path / "spool"
    strays = [spool / "journal" / "bad name.jsonl", spool / "crawls" / "bad name.json",
              spool / "journal" / "-x.jsonl"]
    folders = [spool / "journal" / "folder.jsonl", spool / "crawls" / "folder.json"]
    for folder in folders:
        folder.mkdir(parents=True)
    for stray in strays:
        stray.write_bytes((archive / "crawls" / f"{crawl.manifest['crawl_id']}.json")
                          .read_bytes())
    later = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", f"NEWSARCHIVE_SPOOL={spool}", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
    )
    assert later.returncode == 0, later.stderr[-3000:]
    assert "Traceback" not in later.stderr
    assert len(list((archive / "crawls").glob("*.json"))) == 2
    assert all(p.exists() for p in strays + folders)


def test_show_finds_an_article_past_another_crawls_damaged_shard(crawl, tmp_path):
    """show searched every shard and refused at the first damaged one: one bad shard of
    an old crawl made every article of the archive unshowable."""
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    (shard,) = [f["key"] for f in crawl.manifest["files"] if f["kind"] == "text"]
    good = json.loads(gzip.decompress((archive / shard).read_bytes()).splitlines()[0])
    # A second crawl holding that shard's records; then the first crawl's shard is cut.
    other = "29991231T000000Z-0ther0"
    copy = shard.replace(crawl.manifest["crawl_id"], other)
    shutil.copy(archive / shard, archive / copy)
    doc = json.loads((archive / "crawls" / f"{crawl.manifest['crawl_id']}.json").read_text())
    doc["crawl_id"] = other
    doc["files"] = [dict(f, key=copy) for f in doc["files"] if f["kind"] == "text"]
    (archive / "crawls" / f"{other}.json").write_text(json.dumps(doc))
    (archive / shard).write_bytes(b"cut")
    result = CliRunner().invoke(main, ["show", str(archive), "--json",
                                       good["id"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == good["id"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: warning:") and shard in line
    missing = CliRunner().invoke(main, ["show", str(archive), "00000000"])
    assert missing.exit_code == 2
    assert "no article '00000000'" in missing.stderr and shard in missing.stderr


def test_wacz_of_a_crawl_without_texts_whose_index_is_gone_is_one_line(crawl, tmp_path):
    """Its page list comes from the CDXJ index: a deleted index was a traceback."""
    archive = tmp_path / "archive"
    shutil.copytree(crawl.archive, archive, ignore=shutil.ignore_patterns(".spool"))
    crawl_id = crawl.manifest["crawl_id"]
    path = archive / "crawls" / f"{crawl_id}.json"
    doc = json.loads(path.read_text())
    doc["files"] = [f for f in doc["files"] if f["kind"] != "text"]
    path.write_text(json.dumps(doc))
    (index,) = [f["key"] for f in doc["files"] if f["kind"] == "cdxj"]
    (archive / index).unlink()
    result = CliRunner().invoke(main, ["wacz", str(archive), "-o",
                                       str(tmp_path / "c.wacz"), crawl_id])
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith("newsarchive: error: cannot read") and index in line
    assert list(tmp_path.glob("*wacz*")) == []
