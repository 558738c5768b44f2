"""Shared fixtures: the sample news site on a free loopback port, and a real crawl of it."""

from __future__ import annotations

import pytest

from newsarchive.sample_site import SampleSite
from tests.helpers import Crawl, load_manifest, scrapy_crawl


@pytest.fixture(scope="session")
def sample_site():
    with SampleSite() as site:
        yield site


@pytest.fixture(scope="session")
def crawl(sample_site, tmp_path_factory) -> Crawl:
    """One full crawl of the sample site, shared by the tests that only read its output."""
    archive = tmp_path_factory.mktemp("archive")
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return Crawl(archive, process, load_manifest(archive))


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real S3 endpoint (moto server) on 127.0.0.1, with this process's AWS_* set to it."""
    from tests.s3server import S3Endpoint, restore_env

    endpoint = S3Endpoint(tmp_path_factory.mktemp("aws"))
    endpoint.start()
    old = endpoint.apply_env()
    yield endpoint
    restore_env(old)
    endpoint.stop()


@pytest.fixture(scope="session", params=["folder", "s3"])
def archive_crawl(request, sample_site, tmp_path_factory):
    """The same full crawl into a folder and into a bucket on a real S3 endpoint."""
    import json

    from newsarchive.storage import open_store
    from tests.helpers import StoredCrawl

    tmp = tmp_path_factory.mktemp(f"crawl-{request.param}")
    env = None
    if request.param == "folder":
        uri = str(tmp / "archive")
    else:
        s3 = request.getfixturevalue("s3")
        uri = f"s3://{s3.new_bucket()}/news"
        env = s3.env()
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={uri}",
        "-s", f"NEWSARCHIVE_SPOOL={tmp / 'spool'}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2",
        env=env,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    store = open_store(uri)
    (key,) = [k for k in store.list("crawls/") if k.endswith(".json")]
    return StoredCrawl(uri, process, json.loads(store.read_bytes(key)), tmp / "cache")
