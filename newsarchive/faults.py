"""Fault injection for the crash tests: die at a named point, as `kill -9` would.

Some points of a crawl are too brief to hit from outside with a signal (between the
last file stored and the manifest). With ``NEWSARCHIVE_FAULT=<point>`` in the
environment the crawl SIGKILLs itself there. Unset, this does nothing.
"""

from __future__ import annotations

import os
import signal


def point(name: str) -> None:
    if os.environ.get("NEWSARCHIVE_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
