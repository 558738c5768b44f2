"""`newsarchive summary`."""

from __future__ import annotations

import click

from newsarchive.cli.options import Argument, Command, archive_argument


@click.command("summary", cls=Command)
@archive_argument
@click.argument("crawl_id", cls=Argument, required=False, metavar="[CRAWL_ID]",
                help="The crawl to show (default: the latest complete one).")
def command(archive: str, crawl_id: str | None) -> None:
    """Show what a crawl archived (default: the latest complete crawl in ARCHIVE).

    Crawls whose manifest is damaged are named, one line each on stderr.
    """
    from newsarchive.archive.summary import damaged_crawls, load_manifest, render
    from newsarchive.storage import open_store

    store = open_store(archive)
    click.echo(render(store, load_manifest(store, crawl_id)))
    for error in damaged_crawls(store):
        click.echo(f"newsarchive: warning: {error}; skipped", err=True)
