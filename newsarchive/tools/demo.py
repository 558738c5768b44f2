"""`newsarchive demo`: crawl the bundled sample site with the real `scrapy crawl news`.

The demo should teach what a scheduled crawl does, so a second run into the same
archive must find the first run's articles again: the sample site is served on a fixed
port (8000, as `newsarchive sample-site`) and described by a registry shipped beside it
(sample_site/sites.toml), so its URLs, and with them the archive's state, stay the same
from run to run. The command it prints is the command it runs, and works typed in
another terminal while `newsarchive sample-site` serves. Scrapy's log goes to a file;
the terminal gets the summary.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.summary import crawl_ids, load_manifest, render
from newsarchive.sample_site import SampleSite
from newsarchive.storage import open_store

SITE_NAME = "sample-gazette"
DEFAULT_PORT = 8000  # `newsarchive sample-site`'s default: the registry's URLs name it
REGISTRY = Path(__file__).resolve().parent.parent / "sample_site" / "sites.toml"


def registry_entry(base_url: str) -> str:
    """A one-site registry for the sample site served at ``base_url``."""
    return (
        "[[site]]\n"
        f'name = "{SITE_NAME}"\n'
        f'start_urls = ["{base_url}/"]\n'
        f'feeds = ["{base_url}/feed.xml"]\n'
        f'sitemaps = ["{base_url}/sitemap.xml"]\n'
    )


def crawl_args(registry: Path | str, archive: str, *extra: str) -> list[str]:
    """`scrapy crawl news …` for the sample site, without the program name."""
    return [
        "crawl", "news", "-a", f"site={SITE_NAME}",
        "-s", f"NEWSARCHIVE_SITES={registry}",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        *extra,
    ]


def scrapy_env() -> dict[str, str]:
    """Run the project's settings even outside the source tree (no scrapy.cfg there)."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsarchive.settings"}


def shown_command(args: list[str]) -> str:
    """The command line to print: what a person types to run the same crawl.

    Outside a Scrapy project folder Scrapy needs SCRAPY_SETTINGS_MODULE to find the
    project's settings, so the line carries it then.
    """
    from scrapy.utils.conf import closest_scrapy_cfg

    prefix = "" if closest_scrapy_cfg() else "SCRAPY_SETTINGS_MODULE=newsarchive.settings "
    return prefix + shlex.join(["scrapy", *args])


def _shown_path(path: Path) -> str:
    """Relative to the current folder when inside it (shorter to read and to type)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _start(site: SampleSite, port: int) -> tuple[str, Path]:
    """Serve on ``port``, or on a free one when it is taken; returns the base URL and
    the registry that names it (the shipped one for port 8000, else one written for
    this port, kept so that the printed command works later too)."""
    try:
        base = site.start(port=port)
    except OSError as e:
        if port == 0:
            raise
        base = site.start(port=0)
        print(
            f"newsarchive demo: port {port} is busy ({e.strerror or e}); serving on "
            f"{base} instead. Its URLs differ from the usual ones, so this run finds "
            "every article new.",
            file=sys.stderr,
        )
    served = int(base.rsplit(":", 1)[1])
    if served == DEFAULT_PORT:
        return base, REGISTRY
    folder = Path(tempfile.gettempdir()) / "newsarchive-demo"
    folder.mkdir(exist_ok=True)
    registry = folder / f"sites-{served}.toml"
    registry.write_text(registry_entry(base), encoding="utf-8")
    return base, registry


def _log_path(archive: str) -> Path:
    """The crawl log: beside the run summaries in the archive's spool."""
    from newsarchive.archive.session import default_spool

    spool = default_spool(archive, open_store(archive))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = spool / "summaries" / f"demo-{stamp}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def headline(manifest: dict) -> str:
    """One line on what this run found, in the words of an incremental crawl."""
    kinds = {"new": 0, "changed": 0, "unchanged": 0,
             **manifest.get("counts", {}).get("articles_by_kind", {})}
    return (
        f"{kinds['new']} new, {kinds['changed']} changed, "
        f"{kinds['unchanged']} unchanged (revisits)"
    )


def run_demo(archive: str, log_level: str = "INFO", port: int = DEFAULT_PORT) -> int:
    store = open_store(archive)
    before = set(crawl_ids(store))
    log = _log_path(archive)
    site = SampleSite()
    base, registry = _start(site, port)
    try:
        print(f"sample news site serving on {base}/", flush=True)
        extra = [] if log_level == "INFO" else ["-L", log_level]
        args = crawl_args(_shown_path(registry), archive, *extra)
        print(f"running: {shown_command(args)}", flush=True)
        print(f"crawl log: {_shown_path(log)}", flush=True)
        with open(log, "ab") as out:
            status = subprocess.call(
                [sys.executable, "-m", "scrapy", *args], env=scrapy_env(),
                stdout=out, stderr=subprocess.STDOUT,
            )
    finally:
        site.stop()
    new = sorted(set(crawl_ids(store)) - before)
    if status != 0 or not new:
        print(
            f"newsarchive demo: the crawl failed (exit status {status}); its log: {log}",
            file=sys.stderr,
        )
        return status or 1
    manifest = load_manifest(store, new[-1])
    print()
    print(render(store, manifest))
    print()
    print(f"this run: {headline(manifest)}")
    if len(before) == 0:
        print("run `newsarchive demo` again: the next crawl asks only for what changed "
              "and stores a revisit record for each unchanged article")
    return 0
