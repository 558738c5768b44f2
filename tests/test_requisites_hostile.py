"""Page requisites from servers nobody here wrote: a CDN that never answers, a reset
connection, a redirect to itself, a stylesheet that imports itself, garbage served as CSS, a
body far over the size limit. The crawl ends in bounded time, the article is archived
with its text, every requisite is archived once or counted as failed, and nothing is
asked twice or outside HTTP."""

from __future__ import annotations

from html import escape

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import load_manifest, scrapy_crawl, text_records, warc_records
from tests.hostile_server import RESET, HostileServer, Pause, response
from tests.newsserver import index_html, paragraphs

pytestmark = pytest.mark.e2e  # real crawls and servers

HTML = ("Content-Type", "text/html; charset=utf-8")
CSS = ("Content-Type", "text/css")
STORY = "/2024/03/15/council-story"
MAX_SIZE = 100_000


def _article(cdn: str) -> bytes:
    head = (
        '<link rel="stylesheet" href="/loop.css">'
        f'<link rel="stylesheet" href="{cdn}/never.css">'
        '<script src="/redirect.js"></script>'
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs("Council votes"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta property="og:type" content="article"><title>Council votes</title>'
        f"{head}</head><body><article><h1>Council votes</h1>"
        '<img src="/reset.png" alt=""><img src="/huge.jpg" alt="">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">'
        f"{body}</article></body></html>"
    ).encode()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    archive = tmp_path_factory.mktemp("hostile-requisites") / "archive"
    with HostileServer(max_requests=60, deadline=20) as server, \
            HostileServer("127.0.0.2", max_requests=20, deadline=20) as cdn:
        server.script("/", response(200, [HTML], index_html([STORY])))
        server.script(STORY, response(200, [HTML], _article(cdn.url("").rstrip("/"))))
        server.script("/loop.css", response(200, [CSS], (
            b"@import url(/loop.css);\n@import '/garbage.css';\n"
            b".a { background: url('javascript:alert(1)') }\n"
            b".b { background: url(data:image/png;base64,AAAA) }\n")))
        server.script("/garbage.css", response(200, [CSS], bytes(range(256)) * 8))
        server.script("/reset.png", RESET)
        server.script("/redirect.js", response(302, [("Location", "/redirect.js")]))
        server.script("/huge.jpg", [
            response(200, [("Content-Type", "image/jpeg"), ("Content-Length", "50000000")]),
            b"\xff" * (3 * MAX_SIZE),
        ])
        cdn.script("/never.css", Pause(15))
        process = scrapy_crawl(
            "-a", f"url={server.url('/')}", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1",
            "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_TIMEOUT=3",
            "-s", f"NEWSARCHIVE_REQUISITES_MAX_SIZE={MAX_SIZE}",
            # the failing requisites are the point here, not the crawl's error rate
            "-s", "NEWSARCHIVE_MAX_ERROR_RATE=1", timeout=120,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        assert "Traceback" not in process.stderr, process.stderr[-3000:]
        yield archive, load_manifest(archive), server.paths(), cdn.paths()


def _responses(archive, manifest) -> dict[str, object]:
    found = {}
    for entry in manifest["files"]:
        if entry["kind"] == "warc":
            with open(archive / entry["key"], "rb") as f:
                for record in ArchiveIterator(f):
                    if record.rec_type == "response":
                        url = record.rec_headers.get_header("WARC-Target-URI")
                        found[url.rsplit("/", 1)[-1]] = (
                            record.rec_headers, record.content_stream().read())
    return found


def test_the_article_is_archived_with_its_text(crawled):
    archive, manifest, _, _ = crawled
    assert [r["url"].endswith(STORY) for r in text_records(archive, manifest)] == [True]


def test_each_requisite_is_asked_for_once_and_only_over_http(crawled):
    _, _, paths, cdn_paths = crawled
    for path in ("/loop.css", "/garbage.css", "/reset.png", "/huge.jpg"):
        assert paths.count(path) == 1, (path, paths)
    assert paths.count("/redirect.js") == 1
    assert cdn_paths.count("/never.css") == 1
    assert not any("javascript" in p or "data:" in p for p in paths)


def test_what_answered_is_archived_and_what_did_not_is_counted(crawled):
    archive, manifest, _, _ = crawled
    responses = _responses(archive, manifest)
    assert "garbage.css" in responses  # archived as received, not read
    headers, body = responses["huge.jpg"]
    assert headers.get_header("WARC-Truncated") == "length" and len(body) <= MAX_SIZE
    # a redirect to itself: the 302 is what the server gave, and it is archived; the
    # loop ends there (the same URL again is a duplicate request, counted)
    headers, _ = responses["redirect.js"]
    assert headers.get_header("WARC-Type") == "response"
    assert manifest["counts"]["duplicate_requests"] >= 1
    # the CDN that never answered (timeout) and the reset connection (no-response)
    failed = manifest["counts"]["requisites"]["failed"]
    assert failed == {"timeout": 1, "no-response": 1}, failed
    assert manifest["counts"]["requisites"]["responses"] == 4  # loop, garbage, huge, 302


def test_every_archived_requisite_names_the_page_that_needed_it(crawled):
    # The redirect and the truncated image too, which never reach the spider: the
    # metadata record is written with the response, concurrent to it.
    archive, manifest, _, _ = crawled
    records = warc_records(archive, manifest)
    named = {r["url"].rsplit("/", 1)[-1]: r["headers"].get_header("WARC-Record-ID")
             for r in records if r["type"] == "response"}
    about: dict[str, list[dict[str, str]]] = {}
    for r in records:
        if r["type"] == "metadata":
            about.setdefault(r["headers"].get_header("WARC-Concurrent-To"), []).append(
                dict(r["fields"]))
    story = next(url for url in named if STORY.endswith(url))
    for name in ("loop.css", "garbage.css", "huge.jpg", "redirect.js"):
        [fields] = about[named[name]]
        assert fields["discovery"] == "requisite", (name, fields)
        assert fields["via"].endswith(STORY), (name, fields)
    assert about[named["garbage.css"]][0]["embedded-in"].endswith("/loop.css")
    assert "via" not in about[named[story]][0]  # the page's own record names no page
