"""URL keys, incremental state snapshots and exit outcomes, without a crawl."""

from __future__ import annotations

from newsarchive.archive.manifest import FileEntry, build_manifest, dumps
from newsarchive.archive.state import ArticleState, SiteState, state_key
from newsarchive.crawl.outcome import NO_ARTICLES, OK, STORAGE_FAILED, TOO_MANY_ERRORS, judge
from newsarchive.discovery.urls import article_key, strip_tracking
from newsarchive.storage import sha256_file
from newsarchive.storage.folder import FolderStore


def test_tracking_parameters_and_fragments_go():
    url = "https://News.example:443/a/story?id=7&utm_source=tw&utm_medium=x&fbclid=Z#c"
    assert strip_tracking(url) == "https://News.example:443/a/story?id=7"
    assert article_key(url) == article_key("https://news.example/a/story?id=7&gclid=1")
    assert article_key("https://n.example/a?b=2&a=1") == article_key("https://n.example/a?a=1&b=2")
    assert article_key("https://n.example/a?id=1") != article_key("https://n.example/a?id=2")


def test_state_is_taken_only_from_complete_crawls(tmp_path):
    store = FolderStore(tmp_path / "archive")
    state = SiteState("gazette")
    state.put("k", ArticleState(url="u", fetched_at="t", record_id="<r>", payload_digest="d",
                                content_hash="h", version=1, etag='"e"'))
    snapshot = tmp_path / "snap.jsonl.gz"
    assert state.write(snapshot) == 1
    key = state_key("gazette", "c1")
    store.put_bytes(key, snapshot.read_bytes())
    assert SiteState.load(store, "gazette").entries == {}  # no manifest lists it yet
    entry = FileEntry(key, "state", snapshot.stat().st_size, sha256_file(snapshot), 1)
    doc = build_manifest(crawl_id="c1", crawl={}, files=[entry], counts={}, settings={})
    store.put_bytes("crawls/c1.json", dumps(doc))
    loaded = SiteState.load(store, "gazette")
    assert loaded.get("k") == state.get("k")
    assert SiteState.load(store, "other").entries == {}


def test_exit_outcomes():
    ok = {"downloader/request_count": 10, "newsarchive/articles/new": 3}
    assert judge(ok, 0.2).status == OK
    assert judge({**ok, "newsarchive/storage_errors": 1}, 0.2).status == STORAGE_FAILED
    errors = {**ok, "downloader/response_status_count/503": 4}
    outcome = judge(errors, 0.2)
    assert outcome.status == TOO_MANY_ERRORS and "40%" in outcome.reasons[0]
    empty = {"downloader/request_count": 3, "newsarchive/feeds_ok": 1}
    assert judge(empty, 0.2).status == NO_ARTICLES
    # Whatever the feeds did: a crawl that archived no article page failed.
    assert judge({"downloader/request_count": 3}, 0.2).status == NO_ARTICLES
    # WARC-only archiving: article pages were found even though no text was made.
    warc_only = {**empty, "newsarchive/article_pages": 4}
    assert judge(warc_only, 0.2).status == OK


def test_no_article_is_judged_only_by_whoever_closes_the_crawl():
    from newsarchive.crawl.outcome import NO_ARTICLES, OK, judge

    stats = {"downloader/request_count": 3}
    assert judge(stats, 0.2).status == NO_ARTICLES
    # A worker of a shared crawl that others still run: their articles are not known yet.
    assert judge(stats, 0.2, crawl_complete=False).status == OK
