"""The Sample Gazette: a live multilingual news site on 127.0.0.1 for crawler tests.

``SampleSite`` owns the content, which can change while the server runs (for
incremental-crawl tests), and the routing; ``handler.py`` speaks HTTP. Each instance is
its own server on its own port, so tests never share state through globals.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from . import assets, oddities, traps
from .article import LANGUAGES, Article
from .content import load_articles, load_boilerplate, load_locales, load_reference, static_root
from .feeds import robots_txt, rss, sitemap
from .handler import HTML, Response, SampleServer
from .layout import SECTIONS
from .pages import (
    LEGAL_PAGES,
    OLD_STORY_PATH,
    PRIVATE_MEMO_PATH,
    Theme,
    article_page,
    home_page,
    memo_page,
    not_found_page,
    section_page,
    section_path,
    simple_page,
    teaser_target,
)

SITE_EPOCH = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
_SECTION_URL = re.compile(r"/section/([a-z]+)/(?:page/([0-9]+)/)?")
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
    ".js": "text/javascript; charset=utf-8", ".woff2": "font/woff2",
}


class SampleSite:
    """A news site served over real HTTP; see the package docstring for the URL map."""

    BROKEN_PATHS: dict[str, str] = dict(oddities.BROKEN_PATHS)
    SECTIONS: tuple[str, ...] = SECTIONS
    LANGUAGES: tuple[str, ...] = LANGUAGES
    PRIVATE_PATH = PRIVATE_MEMO_PATH
    REDIRECT_PATH = OLD_STORY_PATH
    REMOVED_PATH = oddities.REMOVED_PATH
    PDF_PATH = oddities.PDF_PATH
    TRAPS_PATH = traps.INDEX_PATH  # hostile pages; linked from nowhere else (traps.py)
    TRAP_PATHS: dict[str, str] = dict(traps.PATHS)
    REDIRECT_TARGET_SLUG = "river-towns-demand-faster-flood-reconstruction-funds"
    PAGE_SIZE = 5
    FEED_SIZE = 20
    HOME_SIZE = 8

    def __init__(self, cdn_host: str | None = "127.0.0.2") -> None:
        """``cdn_host``: the loopback address of the second host the pages take their
        lead pictures from (a CDN); None or unavailable: a second port on the site's
        own address."""
        self._cdn_host = cdn_host
        self._cdn_server: SampleServer | None = None
        self._cdn_base: str | None = None
        self._lock = threading.RLock()
        self._strings = load_boilerplate()
        self._theme = Theme(self._strings, load_locales())
        reference = load_reference(self._strings["en"]["read_more"])
        self._reference_slug = reference.slug
        self._articles: dict[str, Article] = {}
        for article in [*load_articles(), reference]:
            self._check_new(article)
            self._articles[article.slug] = article
        self._mutated_at: datetime | None = None
        self._static = {
            f"/static/{node.name}": (node.read_bytes(), _STATIC_TYPES[ext])
            for node in static_root().iterdir()
            for ext in _STATIC_TYPES
            if node.name.endswith(ext)
        }
        self.requests: list[tuple[str, str]] = []
        # /.well-known/tdmrep.json (W3C TDMRep) when set: a list of {location, tdm-reservation,
        # tdm-policy} rules; unset, the site states nothing there (404)
        self.tdmrep: list[dict[str, object]] | None = None
        self.cdn_requests: list[tuple[str, str]] = []
        self.cdn_robots: bytes = assets.CDN_ROBOTS  # tests may make the CDN refuse crawlers
        self._trap_hits: dict[str, int] = {}
        self._server: SampleServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread, bound to ``host`` only; returns the base URL."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError(f"sample site already running at {self._base_url}")
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            server = SampleServer((host, port), self._respond, self._record, family)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"sample-site-{server.server_address[1]}", daemon=True,
            )
            thread.start()
            shown = f"[{host}]" if ":" in host else host
            self._server, self._thread = server, thread
            self._base_url = f"http://{shown}:{server.server_address[1]}"
            self._start_cdn(host, family)
            return self._base_url

    def _start_cdn(self, host: str, family: int) -> None:
        """The image host: its own address when the system lets us bind it (Linux
        routes all of 127.0.0.0/8 to loopback), else another port beside the site."""
        server = None
        if self._cdn_host and family == socket.AF_INET:
            try:
                server = SampleServer((self._cdn_host, 0), self._respond_cdn, self._record_cdn,
                                      socket.AF_INET)
                cdn_host = self._cdn_host
            except OSError:
                server = None
        if server is None:
            server = SampleServer((host, 0), self._respond_cdn, self._record_cdn, family)
            cdn_host = f"[{host}]" if ":" in host else host
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"sample-cdn-{server.server_address[1]}", daemon=True,
        ).start()
        self._cdn_server = server
        self._cdn_base = f"http://{cdn_host}:{server.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        """Base URL of the image host standing for a CDN (another loopback host)."""
        if self._cdn_base is None:
            raise RuntimeError("sample site is not running; call start() first")
        return self._cdn_base

    def _record_cdn(self, method: str, path: str) -> None:
        with self._lock:
            self.cdn_requests.append((method, path))

    def _respond_cdn(self, path: str, base: str) -> Response:
        if path == "/robots.txt":
            return Response(body=self.cdn_robots, content_type="text/plain; charset=utf-8",
                            last_modified=SITE_EPOCH)
        found = assets.cdn_response(path)
        if found is None:
            return Response(404, b"not found\n", "text/plain; charset=utf-8", validators=False)
        body, content_type = found
        return Response(body=body, content_type=content_type, last_modified=SITE_EPOCH,
                        headers={"Access-Control-Allow-Origin": "*",
                                 "Cache-Control": "public, max-age=31536000"})

    def stop(self) -> None:
        """Stop serving and close the socket and open keep-alive connections; idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = self._base_url = None
            cdn, self._cdn_server, self._cdn_base = self._cdn_server, None, None
        if cdn is not None:
            cdn.shutdown()
            cdn.drop_connections()
            cdn.server_close()
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SampleSite:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("sample site is not running; call start() first")
        return self._base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- content --------------------------------------------------------------------

    @property
    def articles(self) -> list[Article]:
        """Every published article, newest publication first."""
        with self._lock:
            return sorted(self._articles.values(), key=lambda a: (a.published, a.slug),
                          reverse=True)

    def article(self, slug: str) -> Article:
        with self._lock:
            return self._articles[slug]

    @property
    def reference_article(self) -> Article:
        """The article laid out from the real reference text (has ``expected_body``)."""
        return self.article(self._reference_slug)

    def article_urls(self) -> list[str]:
        return [self.base_url + a.path for a in self.articles]

    def boilerplate(self, lang: str) -> list[str]:
        """The template's UI strings in ``lang``, each a whole element's text.

        None of them occurs inside a bundled article's title or body (a test keeps it so),
        so "no boilerplate string is a substring of the extracted text" is a fair check.
        Short ones (nav labels such as "Sport") may still occur in articles you add.
        """
        if lang not in self._strings:
            raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
        return list(dict.fromkeys(self._strings[lang].values()))

    def page_boilerplate(self, article: Article) -> list[str]:
        """Everything on ``article``'s page that is not its body: template strings, the
        inline "Read more:" teaser line and the article's own promo lines."""
        read_more = self._strings[article.lang]["read_more"]
        if article.teaser is not None:
            teaser_text = article.teaser[0]
        else:
            target = teaser_target(article, self.articles)
            teaser_text = target.title if target else ""
        lines = self.boilerplate(article.lang)
        if teaser_text:
            lines.append(f"{read_more} {teaser_text}")
        return lines + [ln for ln in article.inline_boilerplate if ln not in lines]

    def add_article(self, article: Article) -> None:
        """Publish ``article`` now: it appears in feed, sitemap, home and section pages."""
        with self._lock:
            self._check_new(article)
            self._articles[article.slug] = article
            self._mutated_at = self._stamp()

    def edit_article(self, slug: str, **changes: Any) -> Article:
        """Replace fields of a published article (e.g. ``paragraphs=[...]``).

        ``modified`` defaults to a stamp later than anything on the site, so ETag,
        Last-Modified, the feed and the sitemap all change. ``slug`` and ``published``
        define the URL and cannot change.
        """
        if {"slug", "published"} & changes.keys():
            raise ValueError("edit_article cannot change slug or published (they define the URL)")
        with self._lock:
            if slug not in self._articles:
                raise KeyError(f"no article with slug {slug!r}")
            old = self._articles[slug]
            stamp = self._stamp()
            changes.setdefault("modified", stamp)
            if "paragraphs" in changes and old.expected_body is not None:
                changes.setdefault("expected_body", tuple(changes["paragraphs"]))
            new = replace(old, **changes)
            if new.section not in SECTIONS:
                raise ValueError(f"unknown section {new.section!r}; expected one of {SECTIONS}")
            self._articles[slug] = new
            self._mutated_at = stamp
            return new

    def _check_new(self, article: Article) -> None:
        if article.section not in SECTIONS:
            raise ValueError(f"{article.slug}: section {article.section!r} not in {SECTIONS}")
        if article.slug in self._articles:
            raise ValueError(f"duplicate article slug {article.slug!r}")
        if article.path in (*oddities.BROKEN_PATHS.values(), oddities.REMOVED_PATH):
            raise ValueError(f"{article.path} is reserved for a broken or removed page")

    def _stamp(self) -> datetime:
        """Now, but strictly after every date already on the site (clock may lag content)."""
        floor = max([a.updated for a in self._articles.values()] + [SITE_EPOCH])
        if self._mutated_at is not None:
            floor = max(floor, self._mutated_at)
        later = floor.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        return max(datetime.now(UTC).replace(microsecond=0), later)

    # -- HTTP -----------------------------------------------------------------------

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def _respond(self, path: str, base: str) -> Response:
        if path.startswith(traps.PREFIX):
            with self._lock:
                hit = self._trap_hits[path] = self._trap_hits.get(path, 0) + 1
            trap = traps.respond(path, hit)
            if trap is not None:
                return trap
        with self._lock:
            articles = sorted(self._articles.values(), key=lambda a: (a.published, a.slug),
                              reverse=True)
            mutated = self._mutated_at
        theme = self._theme

        def newest(items: list[Article]) -> datetime:
            return max([a.updated for a in items] + ([mutated] if mutated else [SITE_EPOCH]))

        def html(page: str, last_modified: datetime, status: int = 200) -> Response:
            return Response(status, page.encode("utf-8"), HTML, last_modified, compressible=True)

        by_path = {a.path: a for a in articles}
        if path in by_path:
            article = by_path[path]
            page = html(article_page(theme, base, article, articles, self._cdn_base),
                        article.updated)
            page.headers.update(dict(article.headers))
            return page
        if path == "/.well-known/tdmrep.json" and self.tdmrep is not None:
            return Response(body=json.dumps(self.tdmrep).encode(),
                            content_type="application/json", last_modified=SITE_EPOCH)
        if path == "/":
            also = [(oddities.BROKEN_TITLES[k], p) for k, p in oddities.BROKEN_PATHS.items()]
            page = home_page(theme, base, articles[: self.HOME_SIZE], articles, also)
            return html(page, newest(articles))
        match = _SECTION_URL.fullmatch(path)
        if match and match.group(1) in SECTIONS and match.group(2) != "1":
            section, number = match.group(1), int(match.group(2) or 1)
            items = [a for a in articles if a.section == section]
            pages = max(1, math.ceil(len(items) / self.PAGE_SIZE))
            if 1 <= number <= pages:
                chunk = items[(number - 1) * self.PAGE_SIZE: number * self.PAGE_SIZE]
                page = section_page(theme, base, section, number, pages, chunk)
                return html(page, newest(items))
        if path == "/robots.txt":
            return Response(body=robots_txt(base), content_type="text/plain; charset=utf-8",
                            last_modified=SITE_EPOCH)
        if path == "/feed.xml":
            recent = sorted(articles, key=lambda a: (a.updated, a.slug), reverse=True)
            items = recent[: self.FEED_SIZE]
            return Response(body=rss(base, items, newest(items)),
                            content_type="application/rss+xml",
                            last_modified=newest(items), chunked=True)
        if path == "/sitemap.xml":
            pages = [("/", newest(articles))] + [
                (section_path(s), newest([a for a in articles if a.section == s]))
                for s in SECTIONS
            ]
            return Response(body=sitemap(base, pages, articles), content_type="application/xml",
                            last_modified=newest(articles))
        if path == self.REDIRECT_PATH:
            slug = self.REDIRECT_TARGET_SLUG
            target = next((a for a in articles if a.slug == slug), articles[0])
            location = base + target.path
            body = f'<!doctype html><title>Moved</title><a href="{location}">Moved</a>\n'
            return Response(301, body.encode(), headers={"Location": location},
                            validators=False)
        return self._fixed(path, theme) or html(not_found_page(theme), SITE_EPOCH, 404)

    def _fixed(self, path: str, theme: Theme) -> Response | None:
        """Pages that do not depend on the articles: odd pages, files, legal, intranet."""
        when = oddities.ODDITIES_DATE
        broken = oddities.BROKEN_PATHS
        if path == broken["broken_html"]:
            return Response(body=oddities.broken_html(), last_modified=when, compressible=True)
        if path == broken["binary"]:
            return Response(body=oddities.binary_body(), last_modified=when)
        if path == broken["empty"]:
            return Response(body=b"", last_modified=when)
        if path == self.PDF_PATH:
            return Response(body=oddities.annual_report_pdf(), content_type="application/pdf",
                            last_modified=when)
        if path.startswith("/assets/hero/"):  # the lead pictures again, for og:image
            found = assets.cdn_response(path)
            if found is not None:
                return Response(body=found[0], content_type=found[1], last_modified=SITE_EPOCH)
        if path in self._static:
            data, content_type = self._static[path]
            return Response(body=data, content_type=content_type, last_modified=SITE_EPOCH)
        if path == self.PRIVATE_PATH:
            return Response(body=memo_page(theme).encode(), last_modified=SITE_EPOCH,
                            compressible=True)
        if path in LEGAL_PAGES:
            title, text = LEGAL_PAGES[path]
            page = simple_page(theme, title, text)
            return Response(body=page.encode(), last_modified=SITE_EPOCH, compressible=True)
        return None


def serve_forever(
    host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] | None = None
) -> None:
    """Run a sample site until interrupted (used by ``newsarchive sample-site``); the
    KeyboardInterrupt goes on to the caller, which owns the exit status."""
    site = SampleSite()
    base = site.start(host, port)
    try:
        if on_ready is not None:
            on_ready(base)
        while True:
            time.sleep(3600)
    finally:
        site.stop()
