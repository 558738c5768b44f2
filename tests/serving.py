"""A socketserver run in a daemon thread, as a context manager: the plumbing the test
servers (newsserver, hostile_server) share, and a static folder served with byte ranges."""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import socketserver
import threading
from pathlib import Path
from typing import Any, Self


class ServedInBackground:
    """Subclasses set ``self._server`` (a socketserver) before start()."""

    _server: socketserver.BaseServer

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler answers every GET with the whole file and ignores
    ``Range``; ReplayWeb.page reads a WACZ by ranges (its zip directory, then each
    record), so single ranges are answered with 206 and ``Content-Range`` here.
    Multipart ranges (``bytes=0-1,5-9``) get the whole file, as HTTP allows."""

    requested: list[tuple[str, str | None]]  # set per server: (path, Range), in order

    def send_head(self) -> io.BufferedIOBase | None:
        self.requested.append((self.path, self.headers.get("Range")))
        asked = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        path = self.translate_path(self.path)
        if not asked or asked[0] == "bytes=-" or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        if asked[1]:
            start, end = int(asked[1]), min(int(asked[2] or size - 1), size - 1)
        else:  # the last N bytes
            start, end = max(0, size - int(asked[2])), size - 1
        if start > end:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test reads `requested`, not stderr


class StaticFiles(ServedInBackground):
    """A folder served on 127.0.0.1 (a free port) with byte ranges; ``requested`` lists
    the paths asked for with their ``Range`` header, if any."""

    def __init__(self, folder: Path) -> None:
        self.requested: list[tuple[str, str | None]] = []
        handler = type("Handler", (_RangeHandler,), {"requested": self.requested})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
