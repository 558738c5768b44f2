"""`newsarchive demo`: crawl the bundled sample site with the real `scrapy crawl news`."""

from __future__ import annotations

import os
import subprocess
import sys

from newsarchive import layout
from newsarchive.sample_site import SampleSite
from newsarchive.storage import open_store
from newsarchive.summary import load_manifest, render


def crawl_command(start_url: str, archive: str, crawl_id: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"url={start_url}",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", f"NEWSARCHIVE_CRAWL_ID={crawl_id}",
        *extra,
    ]


def scrapy_env() -> dict[str, str]:
    """Run the project's settings even outside the source tree (no scrapy.cfg there)."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsarchive.settings"}


def run_demo(archive: str, log_level: str = "INFO") -> int:
    crawl_id = layout.new_crawl_id()
    with SampleSite() as site:
        print(f"sample news site serving on {site.base_url}/", flush=True)
        command = crawl_command(
            f"{site.base_url}/", archive, crawl_id, "-s", f"LOG_LEVEL={log_level}"
        )
        print("running: scrapy crawl news -a url=... (full log below)", flush=True)
        status = subprocess.call(command, env=scrapy_env())
    if status != 0:
        print(f"newsarchive demo: the crawl failed (exit status {status})", file=sys.stderr)
        return status
    store = open_store(archive)
    print()
    print(render(store, load_manifest(store, crawl_id)))
    return 0
