"""`newsarchive demo`."""

from __future__ import annotations

import sys

import click


@click.command("demo")
@click.option(
    "--archive", default="./archive", show_default=True,
    help="Archive folder (or file:// URI) to write into.",
)
@click.option("--log-level", default="INFO", show_default=True, help="Scrapy log level.")
def command(archive: str, log_level: str) -> None:
    """Crawl the bundled sample news site into ARCHIVE and show what was archived.

    Starts the sample site on 127.0.0.1 (a free port), runs the real
    `scrapy crawl news` against it, then prints the archived files and counts.
    """
    from newsarchive.tools.demo import run_demo

    sys.exit(run_demo(archive, log_level))
