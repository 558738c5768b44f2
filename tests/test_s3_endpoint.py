"""The storage contract against an S3 endpoint: moto by default, or yours.

Set NEWSARCHIVE_TEST_S3_ENDPOINT, NEWSARCHIVE_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY to run these same tests against MinIO, Ceph, R2, AWS…; without
them they run against the moto server the test session starts on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import pytest

from newsarchive.errors import StorageError
from newsarchive.storage.s3 import S3Options, S3Store
from tests.helpers import scrapy_crawl


@pytest.fixture(scope="module")
def target(request):
    """(store URI prefix, environment for subprocesses, S3Options)."""
    endpoint = os.environ.get("NEWSARCHIVE_TEST_S3_ENDPOINT")
    run = uuid.uuid4().hex[:8]
    if endpoint:
        bucket = os.environ["NEWSARCHIVE_TEST_S3_BUCKET"]
        return f"s3://{bucket}/newsarchive-tests/{run}", {}, S3Options(endpoint_url=endpoint)
    s3 = request.getfixturevalue("s3")
    return f"s3://{s3.new_bucket()}/{run}", s3.env(), S3Options()


def test_round_trip_and_no_overwrite(target, tmp_path):
    uri, _, options = target
    store = S3Store.from_uri(uri, options)
    store.check_writable()
    data = b"x" * 1000
    local = tmp_path / "f"
    local.write_bytes(data)
    store.put_file(local, "text/site=a/date=2026-01-01/c-00001.jsonl.gz",
                   hashlib.sha256(data).hexdigest())
    assert store.read_bytes("text/site=a/date=2026-01-01/c-00001.jsonl.gz") == data
    assert store.exists("text/site=a/date=2026-01-01/c-00001.jsonl.gz")
    assert not store.exists("text/none")
    local.write_bytes(b"y")
    with pytest.raises(StorageError):
        store.put_file(local, "text/site=a/date=2026-01-01/c-00001.jsonl.gz",
                       hashlib.sha256(b"y").hexdigest())


def test_a_crawl_lands_whole(target, sample_site, tmp_path):
    uri, env, options = target
    extra = []
    if options.endpoint_url:
        extra = ["-s", f"NEWSARCHIVE_S3_ENDPOINT_URL={options.endpoint_url}"]
    result = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/section/science/", "-s", "DEPTH_LIMIT=1",
        "-s", f"NEWSARCHIVE_ARCHIVE={uri}", "-s", f"NEWSARCHIVE_SPOOL={tmp_path}", *extra,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    store = S3Store.from_uri(uri, options)
    (key,) = [k for k in store.list("crawls/") if k.endswith(".json")]
    manifest = json.loads(store.read_bytes(key))
    assert manifest["counts"]["articles"] >= 3
    for entry in manifest["files"]:
        assert hashlib.sha256(store.read_bytes(entry["key"])).hexdigest() == entry["sha256"]
