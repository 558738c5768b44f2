"""A ``Refresh`` HTTP header is followed like a meta refresh, in a real crawl.

Browsers follow ``Refresh: 0; url=…`` as they follow ``<meta http-equiv=refresh>``;
Scrapy reads only the element, so a page that moved this way lost its target without a
count. Its bad targets and refreshes to self are counted as for the element.
"""

from __future__ import annotations

import pytest

from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.hostile_server import HostileServer, response
from tests.newsserver import article_html, index_html

HTML = ("Content-Type", "text/html; charset=utf-8")
STUB = b"<html><body><p>Moved.</p></body></html>"
TARGET = "/2024/03/15/refreshed-story"
QUOTED = "/2024/03/15/quoted refresh-story"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refresh-header")
    with HostileServer(max_requests=50) as server:
        url = server.url
        server.script("/robots.txt", response(404))
        refreshes = {"/moved": "0; url=" + TARGET, "/quoted": f"1;URL='{QUOTED}'",
                     "/self": "0; url=/self", "/bad": "0; url=http://[::1/",
                     "/slow": "99999; url=/2024/03/15/never-story"}
        for path, value in refreshes.items():
            server.script(path, response(200, [HTML, ("Refresh", value)], STUB))
        for path in (TARGET, QUOTED.replace(" ", "%20")):
            server.script(path, response(200, [HTML], article_html(path[12:], url(path))))
        server.script("/", response(200, [HTML], index_html([url(p) for p in refreshes])))
        archive = tmp / "archive"
        process = scrapy_crawl("-a", f"url={url('/')}", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
                               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0",
                               "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1", timeout=120)
        manifest = load_manifest(archive)
        return server, process, manifest, {r["url"] for r in text_records(archive, manifest)}


def test_refresh_header_target_is_followed(crawled):
    server, process, _, texts = crawled
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr
    assert texts == {server.url(TARGET), server.url(QUOTED.replace(" ", "%20"))}
    assert "/2024/03/15/never-story" not in server.paths()  # a delay is no redirect


def test_refresh_header_to_self_or_bad_url_is_counted(crawled):
    _, _, manifest, _ = crawled
    skipped = manifest["counts"]["skipped"]
    assert skipped.get("refresh-to-self") == 1 and skipped.get("bad-url") == 1, skipped
