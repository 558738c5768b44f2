"""A tiny static news server on 127.0.0.1, for crawl tests the sample site cannot serve.

The bundled sample site is a realistic site; this one is a purpose-built stage: each
test says exactly which paths exist (an Atom feed, a sitemap index, a robots.txt with
Crawl-delay, a page that always answers 503…) and then reads the server's request log
to see what the crawler asked for, with which headers, and when.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.serving import ServedInBackground

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """What the server answers for one path."""

    status: int = 200
    content_type: str = HTML
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it; ``at`` is time.monotonic() on arrival."""

    path: str  # path and query, as sent
    headers: dict[str, str]
    at: float


class NewsServer(ServedInBackground):
    """Serves ``pages`` (path → Page or (status, content type, body, headers)).

    A path with a query is looked up as sent, then without its query; anything else
    is a 404. ``statuses(path, [503, 200])`` overrides the status of successive
    answers (the last one repeats); ``on_request(path, fn)`` calls fn on each hit.
    """

    def __init__(self, pages: dict[str, Page | tuple] | None = None) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, Page] = {}
        self._statuses: dict[str, list[int]] = {}
        self._hooks: dict[str, Callable[[], None]] = {}
        self._hits: list[Hit] = []
        self._served: dict[str, int] = {}
        for path, page in (pages or {}).items():
            self.set(path, page)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # --- configuration ---------------------------------------------------------------

    def set(self, path: str, page: Page | tuple) -> None:
        if not isinstance(page, Page):
            status, content_type, body, *rest = page
            page = Page(status, content_type, body, dict(rest[0]) if rest else {})
        with self._lock:
            self._pages[path] = page

    def statuses(self, path: str, sequence: Iterable[int]) -> None:
        with self._lock:
            self._statuses[path] = list(sequence)
            self._served[path] = 0

    def on_request(self, path: str, hook: Callable[[], None]) -> None:
        with self._lock:
            self._hooks[path] = hook

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- the request log -------------------------------------------------------------

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def clear_log(self) -> None:
        with self._lock:
            self._hits.clear()

    # --- serving ---------------------------------------------------------------------

    def _answer(self, raw_path: str, headers: dict[str, str]) -> tuple[Page, Callable | None]:
        path = urlsplit(raw_path).path
        with self._lock:
            self._hits.append(Hit(raw_path, headers, time.monotonic()))
            key = raw_path if raw_path in self._pages else path
            page = self._pages.get(key, Page(404, TEXT, b"not found\n"))
            sequence = self._statuses.get(key)
            if sequence:
                n = self._served[key]
                self._served[key] = n + 1
                page = Page(sequence[min(n, len(sequence) - 1)], page.content_type,
                            page.body, page.headers)
            return page, self._hooks.get(key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                page, hook = server._answer(self.path, dict(self.headers.items()))
                if hook is not None:
                    hook()
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(page.body)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler



# --- content helpers -----------------------------------------------------------------

_SUBJECTS = (
    "The regional council", "A spokesperson for the ministry", "Local residents",
    "The harbour authority", "Several opposition members", "The university's researchers",
    "Emergency services", "The transport committee", "Farmers in the valley",
    "The city's mayor", "Union representatives", "Independent auditors",
)
_VERBS = (
    "said on Tuesday that", "confirmed late on Wednesday that", "argued in a statement that",
    "told reporters after the meeting that", "warned in a written reply that",
    "explained during a public hearing that",
)
_CLAUSES = (
    "the new bus lines will open next spring despite rising construction costs",
    "the budget for road repairs has been spent faster than anyone expected",
    "water levels in the northern reservoir remain well below the seasonal average",
    "the hospital extension needs another review before building work can resume",
    "ticket prices for the ferry crossing will stay the same for at least a year",
    "the school district plans to hire forty additional teachers by the autumn",
    "a dispute over fishing quotas could delay the agreement for several months",
    "the old railway bridge will be closed for inspection during the coming weekend",
    "more than two thousand households applied for the heating subsidy this winter",
    "the market square will be redesigned after a long consultation with shop owners",
)


def paragraphs(seed: str, count: int = 4, sentences: int = 3) -> list[str]:
    """Plain English news prose, different for every seed (40+ words a paragraph)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        parts = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_CLAUSES)}."
            for _ in range(sentences)
        ]
        parts.append(f"This is part {i + 1} of the report filed as {seed.replace('-', ' ')}.")
        out.append(" ".join(parts))
    return out


def article_html(
    title: str,
    canonical: str,
    published: str = "2024-03-15T09:00:00+00:00",
    body: Iterable[str] | None = None,
    links: Iterable[str] = (),
    lang: str = "en",
) -> bytes:
    """A plain article page: og:type article, a canonical link, 4+ long paragraphs."""
    text = list(body) if body is not None else paragraphs(title)
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in text)
    anchors = "\n".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>' for u in links)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="canonical" href="{escape(canonical)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="{published}">
</head><body>
<header><a href="/">Home</a></header>
<main><article>
<h1>{escape(title)}</h1>
<p class="byline">By Ada Reporter, <time datetime="{published}">{published[:10]}</time></p>
{paras}
</article></main>
<footer><ul>{anchors}</ul></footer>
</body></html>
""".encode()


def index_html(links: Iterable[str], title: str = "Front page") -> bytes:
    """A section or front page: a heading and a list of links, nothing to extract."""
    anchors = "\n".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>' for u in links)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body><h1>{escape(title)}</h1><ul>{anchors}</ul></body></html>\n"
    ).encode()


def atom_feed(entries: Iterable[tuple[str, str]], title: str = "News") -> bytes:
    """An Atom feed of (url, updated ISO date) entries."""
    items = "".join(
        f'<entry><title>{escape(url)}</title><id>{escape(url)}</id>'
        f'<link rel="alternate" type="text/html" href="{escape(url)}"/>'
        f"<updated>{date}</updated></entry>"
        for url, date in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title>'
        f"<updated>2024-03-15T09:00:00Z</updated>{items}</feed>"
    ).encode()


def rss_feed(entries: Iterable[tuple[str, str]], title: str = "News") -> bytes:
    """An RSS 2.0 feed of (url, RFC 822 date) items."""
    items = "".join(
        f"<item><title>{escape(url)}</title><link>{escape(url)}</link>"
        f"<pubDate>{date}</pubDate></item>"
        for url, date in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title>{items}</channel></rss>"
    ).encode()


def sitemap_index(urls: Iterable[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{escape(u)}</loc></sitemap>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}'
        "</sitemapindex>"
    ).encode()


def urlset(urls: Iterable[str]) -> bytes:
    items = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'
    ).encode()


def news_sitemap(entries: Iterable[tuple[str, str]], publication: str = "Test News") -> bytes:
    """A Google News sitemap of (url, news:publication_date) entries."""
    items = "".join(
        f"<url><loc>{escape(url)}</loc><news:news><news:publication>"
        f"<news:name>{escape(publication)}</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{date}</news:publication_date>"
        f"<news:title>{escape(url)}</news:title></news:news></url>"
        for url, date in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{items}</urlset>"
    ).encode()


def registry(path: Path, name: str, **fields: list[str] | str | float) -> str:
    """Write a one-site registry file (TOML) and return its path as a string."""
    lines = ["[[site]]", f"name = {json.dumps(name)}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
