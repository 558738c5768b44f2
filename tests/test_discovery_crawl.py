"""Discovery and politeness through real crawls of purpose-built sites (tests/newsserver).

Two crawls serve every test here. The discovery site reaches each article by exactly
one route — an Atom feed, a sitemap index over a Google News sitemap, a sitemap named
only by robots.txt (gzipped), links decorated with tracking parameters or pointing at a
non-canonical copy — so a record's presence proves its route works. The polite site
has robots.txt Crawl-delay and Disallow, and no contact is configured.
"""

from __future__ import annotations

import gzip
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive import __version__
from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.newsserver import (
    ATOM,
    TEXT,
    XML,
    NewsServer,
    article_html,
    atom_feed,
    index_html,
    news_sitemap,
    registry,
    sitemap_index,
    urlset,
)

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1")
CONTACT = "https://archive.example/contact"
SINCE = "2024-03-10"

ATOM_ARTICLES = {  # in the Atom feed, updated after SINCE
    "/atom/2024/03/15/atom-first-story": "2024-03-15T07:30:00Z",
    "/atom/2024/03/16/atom-second-story": "2024-03-16T07:30:00+01:00",
}
FRESH = {  # in the news sitemap, published on or after SINCE
    "/sm/fresh-harbour-story": "2024-03-15T08:00:00+00:00",
    "/sm/fresh-council-story": "2024-03-10",
}
STALE = {  # in the news sitemap, published before SINCE: never fetched
    "/sm/stale-bridge-story": "2024-03-01T12:00:00Z",
    "/sm/stale-ferry-story": "2024-02-20",
}
ROBOTS_ONLY = "/hidden/robots-only-story"
UNDATED_OLD = "/hidden/undated-old-story"  # no date in its sitemap; the page says February
ORIGINAL = "/2024/03/15/dedupe-story-original"
COPY = "/amp/dedupe-story"  # same story, canonical link to ORIGINAL


class CrawlResult:
    """One finished crawl: the server it ran against and everything it left behind."""

    def __init__(self, server: NewsServer, archive: Path, process) -> None:
        self.server = server
        self.archive = archive
        self.process = process
        self.manifest = load_manifest(archive)

    def texts(self) -> list[dict]:
        return text_records(self.archive, self.manifest)

    def by_url(self) -> dict[str, dict]:
        return {r["url"]: r for r in self.texts()}

    def warc(self) -> list:
        records = []
        for f in self.manifest["files"]:
            if f["kind"] == "warc":
                with open(self.archive / f["key"], "rb") as fh:
                    for r in ArchiveIterator(fh):
                        body = r.content_stream().read() if r.rec_type == "metadata" else b""
                        records.append((r.rec_type, r.rec_headers, body))
        return records

    def stat(self, name: str) -> float | None:
        """A value from the stats Scrapy dumps to the log at the end of the crawl."""
        match = re.search(rf"'{re.escape(name)}': ([0-9.]+)", self.process.stderr)
        return float(match.group(1)) if match else None


def _crawl(server: NewsServer, tmp: Path, *extra: str) -> CrawlResult:
    archive = tmp / "archive"
    process = scrapy_crawl(
        "-a", "site=stage", "-s", f"NEWSARCHIVE_SITES={tmp / 'sites.toml'}",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}", *extra,
        env={"GITHUB_STEP_SUMMARY": None},
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return CrawlResult(server, archive, process)


# --- the discovery site --------------------------------------------------------------

def _discovery_site(server: NewsServer) -> None:
    url = server.url
    server.set("/robots.txt", (200, TEXT, (
        f"User-agent: *\nAllow: /\nSitemap: {url('/robots-sitemap.xml.gz')}\n"
    ).encode()))
    # The front page links to nothing but the three spellings of one story.
    server.set("/", (200, "text/html", index_html([
        f"{ORIGINAL}?utm_source=x&utm_medium=social", f"{ORIGINAL}?fbclid=y", COPY, "/about",
    ])))
    server.set("/about", (200, "text/html", index_html([], "About us")))
    server.set("/atom.xml", (200, ATOM, atom_feed(
        [(url(p), d) for p, d in ATOM_ARTICLES.items()]
    )))
    server.set("/sitemap-index.xml", (200, XML, sitemap_index([url("/sitemaps/news.xml")])))
    server.set("/sitemaps/news.xml", (200, XML, news_sitemap(
        [(url(p), d) for p, d in {**FRESH, **STALE}.items()]
    )))
    # Gzipped, as robots.txt sitemaps often are: a file, not a Content-Encoding.
    hidden = gzip.compress(urlset([url(ROBOTS_ONLY), url(UNDATED_OLD)]))
    server.set("/robots-sitemap.xml.gz", (200, "application/x-gzip", hidden))
    dated = {**ATOM_ARTICLES, **FRESH, **STALE}
    dated |= {ROBOTS_ONLY: "2024-03-12", UNDATED_OLD: "2024-02-01"}
    for path, day in dated.items():
        published = f"{day[:10]}T06:00:00+00:00"  # what the page itself says
        title = path.rsplit("/", 1)[-1].replace("-", " ").capitalize()
        server.set(path, (200, "text/html", article_html(title, url(path), published)))
    story = article_html("Dedupe story original", url(ORIGINAL), "2024-03-15T09:00:00+00:00")
    server.set(ORIGINAL, (200, "text/html", story))
    server.set(COPY, (200, "text/html", story))


def test_atom_feed_entries_are_archived_as_feed_discoveries(discovered):
    records = discovered.by_url()
    for path in ATOM_ARTICLES:
        record = records[discovered.server.url(path)]
        assert record["discovery"] == "feed"
        assert record["language"] == "en" and record["word_count"] > 100


def test_sitemap_index_leads_to_news_sitemap_articles(discovered):
    paths = discovered.server.paths()
    assert paths.index("/sitemap-index.xml") < paths.index("/sitemaps/news.xml")
    records = discovered.by_url()
    for path in FRESH:
        assert records[discovered.server.url(path)]["discovery"] == "sitemap"


def test_since_skips_dated_entries_before_fetching_and_discards_old_pages(discovered):
    paths = discovered.server.paths()
    assert not set(STALE) & set(paths)  # never requested
    assert discovered.stat("newsarchive/skipped/too-old") == len(STALE)
    # An entry without a date is fetched; its page says February, so no text record.
    assert UNDATED_OLD in paths
    assert discovered.server.url(UNDATED_OLD) not in discovered.by_url()
    assert discovered.manifest["counts"]["discarded"].get("too-old") == 1


def test_robots_sitemap_line_is_the_only_way_to_an_article(discovered):
    paths = discovered.server.paths()
    assert paths.index("/robots.txt") < paths.index("/robots-sitemap.xml.gz")
    record = discovered.by_url()[discovered.server.url(ROBOTS_ONLY)]
    assert record["discovery"] == "sitemap"


def test_tracking_parameters_and_canonical_copies_give_one_record(discovered):
    url = discovered.server.url
    assert not [p for p in discovered.server.paths() if "utm_" in p or "fbclid" in p]
    assert discovered.server.paths().count(ORIGINAL) == 1
    same_story = [r for r in discovered.texts() if r["canonical_url"] == url(ORIGINAL)]
    assert len(same_story) == 1
    assert same_story[0]["url"] in (url(ORIGINAL), url(COPY))
    expected = {url(p) for p in (*ATOM_ARTICLES, *FRESH, ROBOTS_ONLY)}
    assert {r["url"] for r in discovered.texts()} - {url(ORIGINAL), url(COPY)} == expected
    assert discovered.manifest["counts"]["articles"] == len(expected) + 1


def test_warc_keeps_every_source_and_how_each_page_was_found(discovered):
    url = discovered.server.url
    responses = {
        h.get_header("WARC-Target-URI") for kind, h, _ in discovered.warc() if kind == "response"
    }
    sources = ("/robots.txt", "/atom.xml", "/sitemap-index.xml", "/sitemaps/news.xml",
               "/robots-sitemap.xml.gz")
    assert {url(p) for p in sources} <= responses
    found = {
        h.get_header("WARC-Target-URI"): re.search(rb"discovery: (\w+)", body).group(1)
        for kind, h, body in discovered.warc() if kind == "metadata"
    }
    assert found[url(next(iter(ATOM_ARTICLES)))] == b"feed"
    assert found[url(ROBOTS_ONLY)] == b"sitemap"


def test_contact_user_agent_on_every_request(discovered):
    agents = {hit.headers.get("User-Agent") for hit in discovered.server.hits}
    assert agents == {f"newsarchive/{__version__} (+{CONTACT})"}
    assert "NEWSARCHIVE_CONTACT is not set" not in discovered.process.stderr


# --- the polite site: Crawl-delay, Disallow, no contact -------------------------------

# Enough articles that, without the fix in CrawlDelayMiddleware, AutoThrottle halved the
# delay for requests already queued and the last gaps fell well under a second.
POLITE = ("/", *(f"/2024/03/15/polite-story-{n}" for n in ("one", "two", "three", "four")))
SECRET = "/private/2024/03/15/secret-story"


def _polite_site(server: NewsServer) -> None:
    robots = b"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n"
    server.set("/robots.txt", (200, TEXT, robots))
    server.set("/", (200, "text/html", index_html([*POLITE[1:], SECRET])))
    for path in (*POLITE[1:], SECRET):
        server.set(path, (200, "text/html", article_html(path[-20:], server.url(path))))


@pytest.fixture(scope="module")
def crawls(tmp_path_factory) -> dict[str, CrawlResult]:
    """Both crawls at once (the polite one mostly waits), each against its own server."""
    tmp = tmp_path_factory.mktemp("discovery")
    (tmp / "stage").mkdir()
    (tmp / "polite").mkdir()
    with NewsServer() as stage, NewsServer() as polite, ThreadPoolExecutor(2) as pool:
        _discovery_site(stage)
        registry(
            tmp / "stage" / "sites.toml", "stage", start_urls=[stage.url("/")],
            feeds=[stage.url("/atom.xml")], sitemaps=[stage.url("/sitemap-index.xml")],
        )
        _polite_site(polite)
        registry(tmp / "polite" / "sites.toml", "stage", start_urls=[polite.url("/")])
        jobs = {
            "discovered": pool.submit(
                _crawl, stage, tmp / "stage", "-a", f"since={SINCE}",
                "-s", f"NEWSARCHIVE_CONTACT={CONTACT}", *FAST,
            ),
            # AutoThrottle stays on (the default): Crawl-delay must hold against it too.
            "polite": pool.submit(
                _crawl, polite, tmp / "polite", "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1"
            ),
        }
        yield {name: job.result() for name, job in jobs.items()}


@pytest.fixture(scope="module")
def discovered(crawls) -> CrawlResult:
    return crawls["discovered"]


@pytest.fixture(scope="module")
def polite(crawls) -> CrawlResult:
    return crawls["polite"]


def test_robots_disallowed_path_is_never_requested(polite):
    assert SECRET not in polite.server.paths()
    assert polite.manifest["counts"]["robots_forbidden"] == 1
    assert polite.server.url(SECRET) not in polite.by_url()


def test_crawl_delay_spaces_requests_to_the_host(polite):
    hits = [h for h in polite.server.hits if h.path != "/robots.txt"]
    # the site-wide rights file is asked for once, and spaced like every other request
    assert [h.path for h in hits].count("/.well-known/tdmrep.json") == 1
    assert sorted(h.path for h in hits if h.path != "/.well-known/tdmrep.json") == sorted(
        POLITE)
    gaps = [b.at - a.at for a, b in zip(hits, hits[1:], strict=False)]
    # Crawl-delay is 1 s; the gaps are as the server saw them, so allow for a request
    # that reached it late: none much shorter, and together at least ~1 s each.
    assert min(gaps) >= 0.8 and sum(gaps) >= 0.95 * len(gaps), gaps
    netloc = polite.server.base_url.removeprefix("http://")
    assert polite.stat(f"newsarchive/crawl_delay/{netloc}") == 1
    assert len(polite.by_url()) == len(POLITE) - 1


def test_without_contact_the_crawl_warns_and_says_so_in_the_user_agent(polite):
    assert "NEWSARCHIVE_CONTACT is not set" in polite.process.stderr
    agents = {hit.headers.get("User-Agent") for hit in polite.server.hits}
    assert agents == {f"newsarchive/{__version__} (news archiving crawler; no contact given)"}
