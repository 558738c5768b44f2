"""The crawl benchmark's site: real news pages under many URLs, on a fast local server.

Why: crawl throughput has to be measured on real pages (their size and markup decide
the cost of parsing, compressing and extracting), in numbers a real crawl reaches, from
a server fast enough never to be the bottleneck. The benchmark set has 181 pages, so
each is served under many distinct URLs; only index pages and the 181 page files are
written to disk, and the server maps every article URL onto its page file.

Layout (depth 0, 1, 2 from the root; crawl with ``DEPTH_LIMIT=2``):

- ``/robots.txt`` allows everything;
- ``/`` links the index pages ``/i/<k>.html``, each linking up to 100 articles;
- ``/a/<i>/2024/01/15/<id>.html`` is page ``<id>`` of the set (``i`` = 0…N-1). The date
  path makes every page an article by its URL (12 of the 181 do not say so in their
  markup). The served copies have their ``<link rel=canonical>`` and ``og:url`` removed,
  or the crawl would rightly treat the copies as one article.
- page requisites: what the pages embed (8,051 distinct URLs on 620 real hosts, 48 per
  page at the median) is served by a second server on ``127.0.0.2`` standing for all of
  those hosts: the crawl's requisite requests are sent there by
  ``crawl_runs.LocalRequisites`` (nothing leaves the machine), each URL to a file of
  its own, of a size by kind (``REQUISITE_SIZES``), made once from the URL's hash.
  Copies of a page share its requisites, as articles of one site share theirs.

Servers: nginx (Debian's ``nginx-light`` will do) with a generated configuration, or,
when nginx is not installed, an aiohttp server in its own process (slower: it takes a
share of the 2 cores that nginx barely touches).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LINKS_PER_INDEX = 100
ARTICLE_PATH = "/a/{i}/2024/01/15/{id}.html"
_ARTICLE_RE = r"^/a/\d+/\d{4}/\d{2}/\d{2}/([0-9a-f]+\.html)$"
_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)
_OG_URL = re.compile(rb"<meta\b[^>]*\bproperty\s*=\s*[\"']?og:url\b[^>]*>", re.IGNORECASE)


# Bytes per requisite by kind: small next to real ones (images are often 50-200 KB),
# so the benchmark weighs the crawl's per-request cost rather than the disk's.
REQUISITE_SIZES = {"image": 12_000, "script": 20_000, "stylesheet": 12_000,
                   "font": 16_000, "icon": 2_000, "iframe": 6_000}
CDN_HOST = "127.0.0.2"


def requisite_key(url: str) -> str:
    """The CDN file name of a requisite URL: its hash, with the page copy's index and the
    site's port taken out (copies of a page share its requisites)."""
    url = re.sub(r"^http://127\.0\.0\.1:\d+/", "http://site/", url)
    url = re.sub(r"^(http://site/a/)\d+/", r"\g<1>0/", url)
    return hashlib.sha1(url.encode()).hexdigest()[:24]


def write_requisites(root: Path, pages: dict[str, bytes]) -> int:
    """One file per distinct requisite of the pages under ``root/r/``; their count."""
    from parsel import Selector

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's
    from newsarchive.discovery.requisites import html_requisites

    (root / "r").mkdir(parents=True, exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    written = set()
    for page_id, body in pages.items():
        base = f"http://site{ARTICLE_PATH.format(i=0, id=page_id)}"
        try:
            found = html_requisites(Selector(text=body.decode("utf-8", "replace")), base)
        except ValueError:
            continue
        for requisite in found:
            key = requisite_key(requisite.url)
            if key in written:
                continue
            written.add(key)
            size = REQUISITE_SIZES.get(requisite.kind, 8_000)
            seed = hashlib.sha256(key.encode()).digest()
            (root / "r" / key).write_bytes((seed * (size // len(seed) + 1))[:size])
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
    return len(written)


def load_pages(data: Path) -> dict[str, bytes]:
    """The benchmark set's pages by id, decompressed, canonical URL markers removed."""
    files = sorted((data / "html").glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no pages in {data / 'html'} (expected *.html.gz)")
    pages = {}
    for path in files:
        body = gzip.decompress(path.read_bytes())
        pages[path.name.split(".", 1)[0]] = _OG_URL.sub(b"", _CANONICAL.sub(b"", body))
    return pages


def page_sequence(pages: dict[str, bytes], count: int) -> list[tuple[str, bytes]]:
    """(path, body) of the ``count`` article pages, in the order of their URLs."""
    ids = sorted(pages)
    return [(ARTICLE_PATH.format(i=i, id=ids[i % len(ids)]), pages[ids[i % len(ids)]])
            for i in range(count)]


def _html(title: str, links: list[str]) -> bytes:
    items = "\n".join(f'<li><a href="{href}">{href.rsplit("/", 1)[-1]}</a></li>'
                      for href in links)
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head>\n<body><h1>{title}</h1><ul>\n{items}\n"
            f"</ul></body></html>\n").encode()


def write_site(root: Path, pages: dict[str, bytes], count: int) -> None:
    """The root, index pages, robots.txt and the page files (not one file per URL)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "p").mkdir(parents=True)
    (root / "i").mkdir()
    for page_id, body in pages.items():
        (root / "p" / f"{page_id}.html").write_bytes(body)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    ids = sorted(pages)
    paths = [ARTICLE_PATH.format(i=i, id=ids[i % len(ids)]) for i in range(count)]
    indexes = []
    for k, start in enumerate(range(0, count, LINKS_PER_INDEX)):
        (root / "i" / f"{k}.html").write_bytes(
            _html(f"Index {k}", paths[start:start + LINKS_PER_INDEX]))
        indexes.append(f"/i/{k}.html")
    (root / "index.html").write_bytes(_html("Benchmark news", indexes))
    # nginx workers run as an unprivileged user when started by root: let them read it
    # (the caller makes the folders above it readable too).
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        location /a/ {{ rewrite "{article_re}" /p/$1 break; }}
    }}
    server {{
        listen {cdn_host}:{cdn_port};
        root {cdn_root};
    }}
}}
"""


@dataclass
class Server:
    """A running local server: its base URL, kind and process (and the requisites'
    server, nginx only)."""

    base: str
    kind: str
    process: subprocess.Popen
    cdn: str = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT if self.kind == "nginx" else signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the local server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the local server did not start listening")


def start_server(root: Path, work: Path, kind: str = "auto") -> Server:
    """Serve ``root`` on 127.0.0.1 with nginx (or aiohttp); ``kind``: auto, nginx, aiohttp."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                       else None)
    if kind == "nginx" and not nginx:
        raise SystemExit("nginx not found (Debian: apt-get install nginx-light)")
    port = free_port()
    cdn_port = free_port()
    if kind in ("auto", "nginx") and nginx:
        conf = work / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(work=work, port=port, root=root,
                                           article_re=_ARTICLE_RE, cdn_host=CDN_HOST,
                                           cdn_port=cdn_port, cdn_root=work / "cdn"))
        process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        kind = "nginx"
    else:
        process = subprocess.Popen([sys.executable, __file__, str(root), str(port)])
        kind = "aiohttp"
    _wait_listening(port, process)
    cdn = f"http://{CDN_HOST}:{cdn_port}" if kind == "nginx" else ""
    return Server(f"http://127.0.0.1:{port}", kind, process, cdn)


def _serve_aiohttp(root: Path, port: int) -> None:
    """The fallback server: the same URLs as the nginx configuration, from memory."""
    from aiohttp import web

    files = {"/" if p.name == "index.html" and p.parent == root else
             "/" + p.relative_to(root).as_posix(): p.read_bytes()
             for p in root.rglob("*") if p.is_file()}
    article = re.compile(_ARTICLE_RE)

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if match := article.match(path):
            path = f"/p/{match.group(1)}"
        body = files.get(path)
        if body is None:
            return web.Response(status=404, text="not found")
        kind = "text/plain" if path.endswith(".txt") else "text/html"
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    _serve_aiohttp(Path(sys.argv[1]), int(sys.argv[2]))
