"""Storage that fails for real: a read-only archive, a full spool, a file in the way, a
bucket that goes away; a kill after the manifest landed; two crawls with one id.

Every case ends with one line naming what failed and the promised exit status (2, 3
or 6), no traceback, no temporary file left, and an archive that the next run (or
`newsarchive upload-pending`) completes. Read-only and full filesystems are real:
small tmpfs mounts (root only; skipped elsewhere unless CI=true).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.errors import StorageError
from newsarchive.storage.folder import FolderStore
from tests.faults.test_crash import Scenario
from tests.helpers import ROOT, scrapy_crawl, unavailable


class Tmpfs:
    """A tmpfs of a given size mounted on a folder; can turn read-only or grow."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True)
        self._mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))

    @staticmethod
    def _mount(*args: str) -> None:
        subprocess.run(["mount", *args], check=True, capture_output=True)

    def remount(self, options: str) -> None:
        # A file being copied in at that instant makes "ro" busy: try again a little.
        for _ in range(100):
            try:
                return self._mount("-o", f"remount,{options}", str(self.path))
            except subprocess.CalledProcessError:
                time.sleep(0.02)
        self._mount("-o", f"remount,{options}", str(self.path))

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def tmpfs(tmp_path) -> Iterator:
    mounted: list[Tmpfs] = []

    def make(name: str, size: str) -> Tmpfs:
        try:
            fs = Tmpfs(tmp_path / name, size)
        except (OSError, subprocess.CalledProcessError) as e:
            unavailable(f"cannot mount a tmpfs here (needs root): {e}")
        mounted.append(fs)
        return fs

    yield make
    for fs in mounted:
        fs.unmount()


def _temporaries(*roots: Path) -> list[Path]:
    return [
        p for root in roots for p in root.rglob("*")
        if p.name.endswith(".tmp") or p.name.startswith(".write-check-")
    ]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


def test_folder_store_turns_a_read_only_archive_into_one_line(tmpfs, tmp_path):
    fs = tmpfs("ro", "1m")
    store = FolderStore(fs.path / "archive")
    store.put_bytes("crawls/a.json", b"{}")
    fs.remount("ro")
    local = tmp_path / "x.warc.gz"
    local.write_bytes(b"data")
    with pytest.raises(StorageError, match="cannot store warc/c/x.warc.gz .*Read-only"):
        store.put_file(local, "warc/c/x.warc.gz", "0" * 64)
    with pytest.raises(StorageError, match="Read-only"):
        store.put_bytes("crawls/b.json", b"{}")
    assert local.exists()  # what could not be stored stays where it was
    with pytest.raises(StorageError, match="not writable"):
        store.check_writable()


def test_folder_store_full_disk_leaves_no_temporary_file(tmpfs, tmp_path):
    fs = tmpfs("full", "64k")
    store = FolderStore(fs.path / "archive")
    with pytest.raises(StorageError, match="No space left"):
        store.put_bytes("crawls/big.json", b"x" * 200_000)
    assert _temporaries(fs.path) == [] and not store.exists("crawls/big.json")


def test_archive_turned_read_only_mid_crawl(tmpfs, tmp_path, sample_site):
    fs = tmpfs("archive-fs", "50m")
    scenario = Scenario(tmp_path, sample_site, str(fs.path / "archive"))
    process = scenario.start("-s", "DOWNLOAD_DELAY=0.1")
    deadline = time.monotonic() + 60
    while not list((fs.path / "archive").glob("warc/*/*.warc.gz")):
        assert process.poll() is None and time.monotonic() < deadline, "no file stored"
        time.sleep(0.02)
    fs.remount("ro")
    stderr = process.communicate(timeout=300)[1]
    assert process.returncode == 3, stderr[-3000:]
    assert "Traceback" not in stderr
    assert any("is not complete in the archive" in line for line in _error_lines(stderr))
    assert not (fs.path / "archive" / "crawls").exists()
    assert len(list((scenario.spool / "crawls").glob("*.json"))) == 1  # waits there
    assert _temporaries(fs.path, scenario.spool) == []
    upload = [sys.executable, "-m", "newsarchive.cli", "upload-pending", scenario.archive,
              "--spool", str(scenario.spool)]
    still = subprocess.run(upload, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert still.returncode == 3, still.stderr  # still read-only: storage failed, as a crawl
    assert "Traceback" not in still.stderr
    (line,) = still.stderr.splitlines()
    assert line.startswith("newsarchive: error: cannot store") and "Read-only" in line
    assert len(list((scenario.spool / "crawls").glob("*.json"))) == 1
    fs.remount("rw")
    finish = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "upload-pending", scenario.archive,
         "--spool", str(scenario.spool)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert finish.returncode == 0, finish.stderr
    scenario.check()


def test_full_spool_stops_with_spool_full_and_the_next_run_recovers(
    tmpfs, tmp_path, sample_site
):
    fs = tmpfs("spool-fs", "200k")
    scenario = Scenario(tmp_path, sample_site, str(tmp_path / "archive"))
    scenario.spool = fs.path / "spool"
    scenario.args[scenario.args.index(f"NEWSARCHIVE_SPOOL={tmp_path / 'spool'}")] = (
        f"NEWSARCHIVE_SPOOL={scenario.spool}"
    )
    first = scrapy_crawl(*scenario.args, "-s", "NEWSARCHIVE_WARC_MAX_SIZE=10000000")
    assert first.returncode == 6, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    assert "No space left on device" in first.stderr and "spool_full" in first.stderr
    assert _temporaries(scenario.spool) == []
    fs.remount("size=50m")
    scenario.rerun()
    scenario.check()
    assert _temporaries(scenario.spool, tmp_path / "archive") == []


def test_a_file_where_the_crawls_folder_should_be(tmp_path, sample_site):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "crawls").write_text("not a folder")
    result = scrapy_crawl("-a", f"url={sample_site.base_url}/",
                          "-s", f"NEWSARCHIVE_ARCHIVE={archive}")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"newsarchive: error: archive folder {archive}: {archive / 'crawls'} is not a folder"
    )
    assert _temporaries(archive) == [] and sorted(p.name for p in archive.iterdir()) == [
        "crawls"
    ]


def test_bucket_removed_mid_crawl(s3, tmp_path, sample_site):
    bucket = s3.new_bucket()
    scenario = Scenario(tmp_path, sample_site, f"s3://{bucket}/news", env=s3.env())
    process = scenario.start("-s", "DOWNLOAD_DELAY=0.1")
    client = s3.client()
    deadline = time.monotonic() + 60
    while not any(k.startswith("news/warc/") for k in s3.objects(bucket)):
        assert process.poll() is None and time.monotonic() < deadline, "nothing uploaded"
        time.sleep(0.05)
    # The crawl keeps uploading while the bucket is emptied: empty it until it can go.
    for _ in range(50):
        for key in s3.objects(bucket):
            client.delete_object(Bucket=bucket, Key=key)
        try:
            client.delete_bucket(Bucket=bucket)
            break
        except client.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "BucketNotEmpty", e
    else:
        raise AssertionError(f"bucket {bucket} could not be removed")
    stderr = process.communicate(timeout=300)[1]
    assert process.returncode == 3, stderr[-3000:]
    assert "Traceback" not in stderr
    assert f"bucket '{bucket}' does not exist" in stderr
    assert len(list((scenario.spool / "crawls").glob("*.json"))) == 1
    # The files stored before were deleted with the bucket: that crawl can never be
    # whole. The next crawl says so in one line, sets it aside and goes on.
    client.create_bucket(Bucket=bucket)
    rerun = scrapy_crawl(*scenario.args, env=scenario.env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    (line,) = [x for x in _error_lines(rerun.stderr) if "cannot be completed" in x]
    assert "is neither in the spool nor in" in line
    assert len(list((scenario.spool / "crawls").glob("*.json.incomplete"))) == 1
    assert len([k for k in s3.objects(bucket) if k.startswith("news/crawls/")]) == 1


def test_kill_after_the_manifest_landed(tmp_path, sample_site):
    scenario = Scenario(tmp_path, sample_site, str(tmp_path / "archive"))
    process = scenario.start(env={"NEWSARCHIVE_FAULT": "after-manifest"})
    process.wait(120)
    assert process.returncode == -signal.SIGKILL
    assert len(list(Path(scenario.archive, "crawls").glob("*.json"))) == 1
    assert list((scenario.spool / "journal").glob("*.jsonl"))  # the stale journal
    rerun = scrapy_crawl(*scenario.args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "was already complete" in rerun.stderr
    manifests = scenario.check()
    assert len(manifests) == 2
    assert not any(m["crawl"].get("finish_reason") == "crashed, recovered" for m in manifests)


def test_two_crawls_with_one_crawl_id(tmp_path, sample_site):
    scenario = Scenario(tmp_path, sample_site, str(tmp_path / "archive"))
    same = ("-s", "NEWSARCHIVE_CRAWL_ID=nightly-1")
    first = scenario.start(*same, "-s", "DOWNLOAD_DELAY=0.1")
    deadline = time.monotonic() + 60
    while not (scenario.spool / "journal" / "nightly-1.jsonl").exists():
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    second = scrapy_crawl(*scenario.args, *same)
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        "newsarchive: error: crawl nightly-1 is already running in another process (its "
        f"journal {scenario.spool / 'journal' / 'nightly-1.jsonl'} is locked): wait for it "
        "to end, or set another NEWSARCHIVE_CRAWL_ID"
    ]
    stderr = first.communicate(timeout=300)[1]
    assert first.returncode == 0, stderr[-3000:]
    (manifest,) = scenario.check()
    assert manifest["crawl_id"] == "nightly-1"


@pytest.mark.parametrize("command", ["export-jsonl", "export-csv", "export-parquet", "wacz"])
def test_a_full_disk_under_export_and_wacz_is_one_line(tmpfs, crawl, command):
    """ENOSPC while writing the output was a traceback (exit 1) for every format."""
    fs = tmpfs("out-fs", "40k")
    out = fs.path / "out"
    if command == "wacz":
        args = ["wacz", str(crawl.archive), "-o", str(fs.path / "c.wacz"),
                crawl.manifest["crawl_id"]]
    else:
        args = ["export", str(crawl.archive), "-o", str(out), "--format",
                command.removeprefix("export-")]
    result = subprocess.run([sys.executable, "-m", "newsarchive.cli", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: error:") and "No space left on device" in line
    assert str(fs.path) in line  # names what could not be written
    assert not (fs.path / "c.wacz").exists()
    assert not list(fs.path.glob("newsarchive-wacz-*"))
    if command != "wacz":  # the export stays marked unfinished: a rerun starts it again
        assert '"complete"' not in (out / ".export-state.json").read_text()
