"""Fault injection for the crash tests: die at a named point, as `kill -9` would.

Some points of a crawl are too brief to hit from outside with a signal (between the
last file stored and the manifest). With ``NEWSARCHIVE_FAULT=<point>`` in the
environment the crawl SIGKILLs itself there; with ``<point>:stall`` it hangs there
instead, as a store that never answers would (the stop tests). Unset, this does
nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def point(name: str) -> None:
    fault = os.environ.get("NEWSARCHIVE_FAULT")
    if fault == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault == f"{name}:stall":
        print(f"newsarchive: fault: stalling at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)
