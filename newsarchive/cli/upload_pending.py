"""`newsarchive upload-pending`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsarchive.cli.options import Command, archive_argument


@click.command("upload-pending", cls=Command)
@archive_argument
@click.option(
    "--spool", type=click.Path(file_okay=False, path_type=Path),
    help="Spool folder the crawls used (NEWSARCHIVE_SPOOL); default: the crawl's default.",
)
def command(archive: str, spool: Path | None) -> None:
    """Store files that earlier crawls left in the spool, then their manifests.

    A crawl whose storage failed (endpoint down, credentials expired) keeps its files
    and manifest in the spool and exits with status 3; this finishes it. The next
    crawl into the same archive does the same before it starts. Exit status 3 when
    the storage still fails (the files stay in the spool), as a crawl's.
    """
    from newsarchive.archive.pending import complete_pending
    from newsarchive.archive.session import default_spool
    from newsarchive.crawl.outcome import STORAGE_FAILED
    from newsarchive.errors import StorageError
    from newsarchive.storage import open_store

    store = open_store(archive)
    root = getattr(store, "root", None)  # a folder archive: a mistyped path is not "empty"
    if spool is None and root is not None and not root.exists():
        raise StorageError(f"archive {store.uri} does not exist")
    spool = spool or default_spool(archive, store)
    if not spool.is_dir():
        click.echo(f"nothing pending: no spool folder at {spool}")
        return
    try:
        report = complete_pending(store, spool)
    except StorageError as e:
        # The storage is still failing: the status a crawl gives for the same failure,
        # so a scheduler can tell "try again later" from a wrong argument (2).
        click.echo(f"newsarchive: error: {e}; the files stay in {spool}", err=True)
        sys.exit(STORAGE_FAILED)
    for crawl_id in report.completed:
        click.echo(f"completed crawl {crawl_id} in {store.uri}")
    for crawl_id in report.incomplete:
        click.echo(
            f"crawl {crawl_id} cannot be completed (a file it lists is gone); its manifest "
            f"and journal are set aside with the suffix .incomplete in {spool}",
            err=True,
        )
    for crawl_id in report.damaged:
        click.echo(
            f"crawl {crawl_id}: its manifest in the spool is damaged; set aside as "
            f"crawls/{crawl_id}.json.damaged (a journal left beside it lets the next "
            "crawl recover it)",
            err=True,
        )
    click.echo(
        f"{len(report.completed)} crawl(s) completed, {report.uploaded} file(s) stored"
    )
    if report.leftovers:
        click.echo(
            f"{len(report.leftovers)} file(s) in {spool} belong to no manifest "
            "(an interrupted crawl); they were left alone",
            err=True,
        )
