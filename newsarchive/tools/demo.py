"""`newsarchive demo`: crawl the bundled sample site with the real `scrapy crawl news`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from newsarchive.archive import layout
from newsarchive.archive.summary import load_manifest, render
from newsarchive.sample_site import SampleSite
from newsarchive.storage import open_store

SITE_NAME = "sample-gazette"


def registry_entry(base_url: str) -> str:
    """A one-site registry for the sample site: its port changes, its name does not."""
    return (
        "[[site]]\n"
        f'name = "{SITE_NAME}"\n'
        f'start_urls = ["{base_url}/"]\n'
        f'feeds = ["{base_url}/feed.xml"]\n'
        f'sitemaps = ["{base_url}/sitemap.xml"]\n'
    )


def crawl_command(registry: Path, archive: str, crawl_id: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"site={SITE_NAME}",
        "-s", f"NEWSARCHIVE_SITES={registry}",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", f"NEWSARCHIVE_CRAWL_ID={crawl_id}",
        *extra,
    ]


def scrapy_env() -> dict[str, str]:
    """Run the project's settings even outside the source tree (no scrapy.cfg there)."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsarchive.settings"}


def run_demo(archive: str, log_level: str = "INFO") -> int:
    crawl_id = layout.new_crawl_id()
    with SampleSite() as site, tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "sites.toml"
        registry.write_text(registry_entry(site.base_url), encoding="utf-8")
        print(f"sample news site serving on {site.base_url}/", flush=True)
        command = crawl_command(registry, archive, crawl_id, "-s", f"LOG_LEVEL={log_level}")
        print(f"running: scrapy crawl news -a site={SITE_NAME} (Scrapy's log follows)", flush=True)
        status = subprocess.call(command, env=scrapy_env())
    if status != 0:
        print(f"newsarchive demo: the crawl failed (exit status {status})", file=sys.stderr)
        return status
    store = open_store(archive)
    print()
    print(render(store, load_manifest(store, crawl_id)))
    return 0
