"""A raw-socket HTTP server on 127.0.0.1 that answers each path with bytes a test scripts.

http.server cannot send what a hostile or broken server sends (two Content-Length
headers, a raw UTF-8 Location, a bad status line, a broken chunk, a body that stops
mid-way, no status line at all), so this one writes exactly the bytes it is given::

    with HostileServer() as server:
        server.script("/cafe", response(301, [("Location", b"/caf\\xc3\\xa9")]))
        server.script("/slow", b"HTTP/1.1 200 OK\\r\\n", Pause(2), b"Content-Length: 0\\r\\n\\r\\n")
        server.script("/robots.txt", [response(503), response(200, body=b"...")])
        ... crawl server.url("/cafe") ...
        assert server.paths() == ["/robots.txt", "/cafe", ...]

A script is a list of steps: bytes to send, ``Pause(seconds)``, ``RESET`` (close with a
TCP reset). After the last step the connection is closed (no keep-alive), so a body
without a length ends there. ``script(path, [a, b])`` with a list answers the first hit
with ``a`` and every later one with ``b``. Unscripted paths get a 404.

Bounded, so a test cannot hang on it: every connection is closed after ``deadline``
seconds (pauses included), and after ``max_requests`` requests every new connection is
closed at once. Bind another loopback address (``host="127.0.0.2"``) to get a second
host for cross-host cases.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.serving import ServedInBackground

Header = tuple[str | bytes, str | bytes]


@dataclass(frozen=True)
class Pause:
    seconds: float


class _Reset:
    def __repr__(self) -> str:
        return "RESET"


RESET = _Reset()
Step = bytes | Pause | _Reset


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def response(
    status: int = 200,
    headers: Iterable[Header] = (),
    body: bytes = b"",
    *,
    reason: str | bytes | None = None,
    length: bool = True,
    protocol: bytes = b"HTTP/1.1",
) -> bytes:
    """The raw bytes of one response; ``Content-Length`` is added unless ``length`` is
    False or the headers already carry one (any spelling)."""
    from http import HTTPStatus

    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    lines = [protocol + b" " + str(status).encode() + b" " + _b(reason)]
    pairs = [(_b(k), _b(v)) for k, v in headers]
    if length and not any(k.lower() == b"content-length" for k, _ in pairs):
        pairs.append((b"Content-Length", str(len(body)).encode()))
    lines += [k + b": " + v for k, v in pairs]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Hit:
    """One request as received: its path (as sent) and its raw head."""

    path: str
    head: bytes
    at: float


class HostileServer(ServedInBackground):
    def __init__(
        self, host: str = "127.0.0.1", *, max_requests: int = 1000, deadline: float = 20.0
    ) -> None:
        self.max_requests = max_requests
        self.deadline = deadline
        self._scripts: dict[str, list[list[Step]]] = {}
        self._served: dict[str, int] = {}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        class TCPServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = TCPServer((host, 0), Handler)
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------------------

    def script(self, path: str, *steps: Step | Sequence[Step | bytes]) -> None:
        """What ``path`` answers: steps, or one list of answers (one per hit, last repeats)."""
        if len(steps) == 1 and isinstance(steps[0], list):
            answers = [[a] if isinstance(a, bytes | Pause | _Reset) else list(a)
                       for a in steps[0]]
        else:
            answers = [list(steps)]  # type: ignore[arg-type]
        with self._lock:
            self._scripts[path] = answers
            self._served[path] = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    # --- serving ---------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        end = time.monotonic() + self.deadline
        sock.settimeout(self.deadline)
        with self._lock:
            over = len(self._hits) >= self.max_requests
        if over:
            return
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
        except OSError:
            return
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        path = parts[1].decode("latin-1") if len(parts) > 1 else ""
        with self._lock:
            self._hits.append(Hit(path, head, time.monotonic()))
            key = path if path in self._scripts else path.split("?")[0]
            answers = self._scripts.get(key)
            if answers is None:
                steps: list[Step] = [response(404, [("Content-Type", "text/plain")], b"no\n")]
            else:
                n = self._served[key]
                self._served[key] = n + 1
                steps = answers[min(n, len(answers) - 1)]
        try:
            for step in steps:
                if isinstance(step, Pause):
                    time.sleep(max(0.0, min(step.seconds, end - time.monotonic())))
                elif isinstance(step, _Reset):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()  # before socketserver's own shutdown would send a FIN
                    return
                else:
                    sock.sendall(step)
                if time.monotonic() >= end:
                    return
        except OSError:
            return

