"""A socketserver run in a daemon thread, as a context manager: the plumbing the test
servers (newsserver, hostile_server) share."""

from __future__ import annotations

import socketserver
import threading
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
