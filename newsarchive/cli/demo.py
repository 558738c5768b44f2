"""`newsarchive demo`."""

from __future__ import annotations

import sys

import click

from newsarchive.cli.options import Command, optional_archive, settle


@click.command("demo", cls=Command)
@optional_archive
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
    help="Port of the sample site (a busy one falls back to a free port; 0 = any).",
)
@click.option(
    "--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                     case_sensitive=False),
    default="INFO", show_default=True, help="Scrapy log level (the log goes to a file).",
)
def command(archive: str | None, archive_option: str | None, port: int, log_level: str) -> None:
    """Crawl the bundled sample news site into ARCHIVE and show what was archived.

    Serves the sample site on 127.0.0.1:PORT, runs the real `scrapy crawl news`
    against it (the command is printed; its log goes to a file it names), then prints
    the crawl's summary. Run it twice: the second run is an incremental crawl that
    finds the same articles unchanged.
    """
    from newsarchive.tools.demo import run_demo

    archive, _ = settle(archive, archive_option)
    sys.exit(run_demo(archive, log_level.upper(), port))
