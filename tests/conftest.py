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
