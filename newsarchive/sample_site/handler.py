"""HTTP/1.1 plumbing of the sample site: validators, 304s, gzip, chunked framing.

Routing lives in ``site.py``; this module only turns a ``Response`` into bytes on the
wire the way a production server would, so that crawlers meet keep-alive, compressed
bodies, chunked transfer and conditional requests against a real socket.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HTML = "text/html; charset=utf-8"
GZIP_MIN_BYTES = 1024
CHUNK_SIZE = 1024
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass
class Response:
    """What the site answers; the handler adds framing, validators and encoding."""

    status: int = 200
    body: bytes = b""
    content_type: str = HTML
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True
    compressible: bool = False
    chunked: bool = False
    # Set by hostile pages (traps.py) that misbehave below HTTP: they get the socket
    # and write status, headers and body themselves; the connection closes afterwards.
    raw: Callable[[socket.socket], None] | None = None


Responder = Callable[[str, str], Response]  # (path without query, base URL) -> Response
Recorder = Callable[[str, str], None]  # (method, path with query)


class SampleServer(ThreadingHTTPServer):
    """Threaded server that can also cut open keep-alive connections when stopped."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], responder: Responder, recorder: Recorder, family: int
    ) -> None:
        self.address_family = family
        self.responder = responder
        self.recorder = recorder
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SampleHandler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def drop_connections(self) -> None:
        with self._connections_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up (or ``stop()`` cutting them off) is routine, not an error."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _accepts_gzip(header: str | None) -> bool:
    """True if Accept-Encoding lists gzip (or ``*``) with a non-zero quality."""
    for part in (header or "").split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        if coding.lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        return quality > 0
    return False


class SampleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SampleGazette/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections give up their thread eventually
    server: SampleServer

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request logging; the site keeps ``requests`` instead."""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        self.server.recorder("POST", self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"Method Not Allowed\n"
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _base(self) -> str:
        host = (self.headers.get("Host") or "").strip()
        if not _HOST.fullmatch(host):
            address = self.server.server_address
            host = f"{address[0]}:{address[1]}"
        return f"http://{host}"

    def _serve(self, head: bool) -> None:
        self.server.recorder(self.command, self.path)
        try:
            response = self.server.responder(urlsplit(self.path).path or "/", self._base())
        except Exception:  # a page bug must not kill the connection silently
            response = Response(500, b"Internal Server Error\n", "text/plain; charset=utf-8",
                                validators=False)
        if response.raw is not None:
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client hung up, or the trap did
                response.raw(self.connection)
            return
        try:
            self._send(response, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, r: Response, head: bool) -> None:
        body, encoding = r.body, None
        big_html = r.compressible and len(body) > GZIP_MIN_BYTES
        if big_html and _accepts_gzip(self.headers.get("Accept-Encoding")):
            encoding = "gzip"
        headers = dict(r.headers)
        if big_html:
            headers["Vary"] = "Accept-Encoding"
        if r.status == 200 and r.validators:
            digest = hashlib.sha256(body).hexdigest()[:32]
            headers["ETag"] = f'"{digest}-gzip"' if encoding else f'"{digest}"'
            if r.last_modified is not None:
                when = r.last_modified.astimezone(UTC)
                headers["Last-Modified"] = format_datetime(when, usegmt=True)
            if self._not_modified(digest, r.last_modified):
                self.send_response(304)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                return
        if encoding:
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = encoding
        chunked = r.chunked and self.request_version == "HTTP/1.1"
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        if chunked:
            for start in range(0, len(body), CHUNK_SIZE):
                piece = body[start:start + CHUNK_SIZE]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def _not_modified(self, digest: str, last_modified: datetime | None) -> bool:
        """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since; weak comparison."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
            return "*" in tags or bool(tags & {f'"{digest}"', f'"{digest}-gzip"'})
        ims = self.headers.get("If-Modified-Since")
        if ims and last_modified is not None:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                return False
            return last_modified.replace(microsecond=0) <= since
        return False
