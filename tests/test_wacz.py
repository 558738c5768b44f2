"""`newsarchive wacz`: a WACZ package of a crawl, read back and checked."""

from __future__ import annotations

import gzip
import hashlib
import json
import signal
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from newsarchive.archive.summary import text_records
from newsarchive.cli import main
from newsarchive.storage import open_store
from newsarchive.warc import cdxj


@pytest.fixture(scope="module")
def package(crawl, tmp_path_factory):
    out = tmp_path_factory.mktemp("wacz") / "crawl.wacz"
    result = CliRunner().invoke(
        main, ["wacz", str(crawl.archive), crawl.manifest["crawl_id"], "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    return out


def test_the_package_validates_its_own_hashes(package):
    with zipfile.ZipFile(package) as z:
        datapackage = z.read("datapackage.json")
        digest = json.loads(z.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(datapackage).hexdigest()
        doc = json.loads(datapackage)
        assert doc["wacz_version"] == "1.1.1"
        listed = {r["path"]: r for r in doc["resources"]}
        members = set(z.namelist()) - {"datapackage.json", "datapackage-digest.json"}
        assert set(listed) == members
        for path, resource in listed.items():
            data = z.read(path)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), path
            assert resource["bytes"] == len(data)
        for info in z.infolist():  # WARCs stored, not deflated: replay reads byte ranges
            if info.filename.startswith("archive/"):
                assert info.compress_type == zipfile.ZIP_STORED


def test_the_warcs_are_the_archived_bytes(crawl, package):
    with zipfile.ZipFile(package) as z:
        for path in crawl.files("warc"):
            assert z.read(f"archive/{path.name}") == path.read_bytes()


def test_every_article_is_a_page_and_in_the_index(crawl, package):
    with zipfile.ZipFile(package) as z:
        header, *pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()]
        index = cdxj.parse_index(gzip.decompress(z.read("indexes/index.cdx.gz")).decode())
    assert header["format"] == "json-pages-1.0"
    records = list(text_records(open_store(str(crawl.archive)), crawl.manifest))
    assert records
    by_url = {p["url"]: p for p in pages}
    for record in records:
        page = by_url[record["url"]]
        assert page["title"] == record["title"]
        assert page["ts"] == record["fetched_at"].split(".")[0].removesuffix("Z") + "Z"
    for page in pages:
        found = [e for e in cdxj.lookup(index, page["url"]) if e.fields.get("status") == "200"]
        assert found, page["url"]


def test_py_wacz_validates_it(package):
    result = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(package)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_unknown_crawl(crawl, tmp_path):
    result = CliRunner().invoke(
        main, ["wacz", str(crawl.archive), "nosuch", "-o", str(tmp_path / "x.wacz")]
    )
    assert result.exit_code == 2
    assert "no manifest for crawl 'nosuch'" in result.output
    assert not (tmp_path / "x.wacz").exists()


def test_package_from_a_folder_or_a_bucket(archive_crawl, tmp_path):
    from newsarchive.tools.wacz import build_wacz

    result = build_wacz(
        archive_crawl.store, archive_crawl.manifest["crawl_id"], tmp_path / "c.wacz"
    )
    assert result.pages == archive_crawl.manifest["counts"]["articles"]
    assert result.warcs == len(archive_crawl.keys("warc"))


SIGNAL_WHILE_PACKING = """
import os, signal, sys, time
import newsarchive.tools.wacz
def packing(args):  # the WARC files are copied into the work folder by now
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(30)
newsarchive.tools.wacz._run_py_wacz = packing
from newsarchive.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_while_packing_leaves_no_work_folder(crawl, tmp_path, signame):
    """SIGTERM (CI's `timeout`) or SIGHUP ended wacz where it stood: its work folder,
    with copies of every WARC file, stayed beside the output for good."""
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", SIGNAL_WHILE_PACKING, signame, "wacz",
         str(crawl.archive), "-o", str(out / "c.wacz"), crawl.manifest["crawl_id"]],
        capture_output=True, text=True, timeout=120,
    )
    signum = getattr(signal, signame)
    assert result.returncode == 128 + signum, result.stderr[-2000:]
    assert result.stderr == f"newsarchive: stopped by {signame}\n"
    assert list(out.iterdir()) == []
