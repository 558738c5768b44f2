"""Background work must never keep a stopped process alive, nor outlive it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from newsarchive.archive.background import DaemonExecutor
from tests.helpers import ROOT


def test_daemon_executor_returns_results_and_errors():
    pool = DaemonExecutor(2, thread_name_prefix="test")
    assert pool.submit(sum, [1, 2, 3]).result(10) == 6
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(10)
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(sum, [])


@pytest.mark.e2e
def test_a_stuck_task_does_not_keep_python_from_exiting():
    # As after a forced stop: an upload hangs and nobody shuts the pool down.
    # (A ThreadPoolExecutor here makes Python's exit wait for ever.)
    code = (
        "import threading\n"
        "from newsarchive.archive.background import DaemonExecutor\n"
        "pool = DaemonExecutor(2, thread_name_prefix='stuck')\n"
        "pool.submit(threading.Event().wait)\n"
        "pool.submit(threading.Event().wait)\n"
        "pool.submit(print, 'queued')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.e2e
def test_extraction_workers_end_with_the_crawl_process():
    # The crawl process dies as kill -9 would end it; its extraction workers, which
    # also ignore SIGINT/SIGTERM, must not stay behind waiting for work.
    code = (
        "import os, sys\n"
        "from newsarchive.crawl.pool import WorkerPool\n"
        "pool = WorkerPool(2)\n"
        "pool.warm_up()\n"
        "pids = [p.pid for p in pool._executor._processes.values()]\n"
        "print(' '.join(map(str, pids)), flush=True)\n"
        "os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 60  # generous: the workers look every 0.5 s
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        time.sleep(0.1)
    assert not alive, f"workers {alive} outlived their crawl process"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waits for init to reap it: gone for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


